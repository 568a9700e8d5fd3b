// Node's `ws` package as a client of Switchboard's server: a peer we did not
// write, with its own framing, masking and UTF-8 checks.
//   SERVER_BINARY=path/to/switchboard-test-server node --test server_peer.test.mjs
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";

let server;
let base;

before(async () => {
  server = spawn(process.env.SERVER_BINARY, [], { stdio: ["ignore", "pipe", "inherit"] });
  for await (const line of createInterface({ input: server.stdout })) {
    if (line.startsWith("port=")) {
      base = `127.0.0.1:${line.slice(5)}`;
      break;
    }
  }
});

after(async () => {
  server.kill("SIGTERM");
  await once(server, "exit");
  assert.equal(server.exitCode, 0);
});

/// Opens a socket and collects its messages as text.
function open(path, protocols) {
  const ws = new WebSocket(`ws://${base}${path}`, protocols);
  const queue = [];
  const waiting = [];
  ws.on("message", (data, binary) => {
    const item = binary ? data : data.toString();
    const next = waiting.shift();
    if (next) next(item);
    else queue.push(item);
  });
  ws.next = () => (queue.length ? Promise.resolve(queue.shift())
                                 : new Promise((resolve) => waiting.push(resolve)));
  return ws;
}

async function publish(job, body) {
  const response = await fetch(`http://${base}/jobs/${job}/publish`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 202);
}

test("subscribe, receive 42, answer 43, get 44", async () => {
  const ws = open("/jobs/7/subscribe");
  await once(ws, "open");
  assert.deepEqual(JSON.parse(await ws.next()), { type: "subscribed", job: 7 });
  await publish(7, { seq: 42 });
  assert.deepEqual(JSON.parse(await ws.next()), { seq: 42 });
  ws.send(JSON.stringify({ seq: 43 }));
  assert.deepEqual(JSON.parse(await ws.next()), { seq: 44 });
  ws.close(1000, "done");
  // The server echoes the code of a close it did not start (RFC 6455 5.5.1).
  const [code] = await once(ws, "close");
  assert.equal(code, 1000);
});

test("two subscribers on one key both get every message in order", async () => {
  const a = open("/jobs/8/subscribe");
  const b = open("/jobs/8/subscribe");
  await Promise.all([once(a, "open"), once(b, "open")]);
  await Promise.all([a.next(), b.next()]);
  for (let n = 0; n < 100; n += 1) await publish(8, { n });
  for (const ws of [a, b]) {
    for (let n = 0; n < 100; n += 1) assert.deepEqual(JSON.parse(await ws.next()), { n });
    ws.close();
  }
});

test("binary and large messages echo; pings get pongs", async () => {
  const ws = open("/ws/echo");
  await once(ws, "open");
  const blob = Buffer.alloc(60000, 7);
  ws.send(blob);
  assert.deepEqual(await ws.next(), blob);
  ws.ping("are you there");
  const [pong] = await once(ws, "pong");
  assert.equal(pong.toString(), "are you there");
  ws.close();
});

test("the server's close code and reason reach the client", async () => {
  const ws = open("/ws/echo");
  await once(ws, "open");
  ws.send("close:4001:bye now");
  const [code, reason] = await once(ws, "close");
  assert.equal(code, 4001);
  assert.equal(reason.toString(), "bye now");
});

test("subprotocol negotiation, and none offered none echoed", async () => {
  const ws = open("/ws/echo", ["chat.v3", "chat.v1"]);
  await once(ws, "open");
  assert.equal(ws.protocol, "chat.v1");
  ws.close();
  const plain = open("/ws/echo");
  await once(plain, "open");
  assert.equal(plain.protocol, "");
  plain.close();
});

test("an unknown job is refused with 404 before any upgrade", async () => {
  const ws = new WebSocket(`ws://${base}/jobs/404/subscribe`);
  const [, response] = await once(ws, "unexpected-response");
  assert.equal(response.statusCode, 404);
  response.destroy();
});
