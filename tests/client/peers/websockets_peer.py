"""A WebSocket server written with the `websockets` library, for the client's tests against a
peer we did not write.

Paths: /echo echoes every message with its type; /close closes at once with 4001 "peer says
bye"; /forbidden refuses the upgrade with 403 and a plain-text body; /chat offers the
subprotocols chat.v2 and chat.v1.

Prints "port=N" once it listens on 127.0.0.1, then serves until SIGTERM or until its stdin
closes, and never longer than --lifetime seconds.
"""

import argparse
import asyncio
import http
import signal
import sys

import websockets


async def handler(ws, path):
    if path == "/close":
        await ws.close(4001, "peer says bye")
        return
    async for message in ws:
        await ws.send(message)


async def refuse(path, request_headers):
    if path == "/forbidden":
        return (http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")],
                b"forbidden by the python peer\n")
    return None


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()

    server = await websockets.serve(handler, "127.0.0.1", 0, process_request=refuse,
                                    subprotocols=["chat.v2", "chat.v1"])
    port = next(iter(server.sockets)).getsockname()[1]
    print(f"port={port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(sys.stdin.fileno(), stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
