"""A REST server written with aiohttp, for the client's tests against a peer we did not write.

Prints "port=N" once it listens on 127.0.0.1 (a free port), then serves until SIGTERM or
until its stdin closes, whichever comes first, and never longer than --lifetime seconds.
"""

import argparse
import asyncio
import signal
import sys

from aiohttp import web

peers = set()


def remember(request):
    peername = request.transport.get_extra_info("peername")
    if peername is not None:
        peers.add(peername[:2])


async def get_item(request):
    remember(request)
    item_id = int(request.match_info["id"])
    return web.json_response({"id": item_id, "name": f"item-{item_id}", "tags": ["a", "b"]})


async def create_item(request):
    remember(request)
    body = await request.json()
    body["created"] = True
    return web.json_response(body, status=201)


async def missing(request):
    remember(request)
    return web.json_response({"errors": ["no such item", "try another id"]}, status=404)


async def plain_text(request):
    remember(request)
    return web.Response(text="just words, no JSON")


async def bad_gateway(request):
    remember(request)
    return web.Response(status=502, text="<h1>upstream is down</h1>", content_type="text/html")


async def echo_path(request):
    remember(request)
    return web.json_response({"name": request.match_info["name"],
                              "query": [[k, v] for k, v in request.query.items()]})


async def chunked(request):
    remember(request)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for piece in (b'{"parts":', b'[1,2,', b'3]}'):
        await response.write(piece)
    await response.write_eof()
    return response


async def connections(request):
    remember(request)
    return web.json_response({"count": len(peers)})


async def no_content(request):
    remember(request)
    return web.Response(status=204)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()

    app = web.Application()
    app.router.add_get("/items/{id}", get_item)
    app.router.add_post("/items", create_item)
    app.router.add_get("/missing", missing)
    app.router.add_get("/text", plain_text)
    app.router.add_get("/gateway", bad_gateway)
    app.router.add_get("/files/{name}", echo_path)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/connections", connections)
    app.router.add_delete("/items/{id}", no_content)

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"port={port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(sys.stdin.fileno(), stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
    except asyncio.TimeoutError:
        pass
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
