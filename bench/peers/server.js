// The bench protocol (bench/README.md) on Node's `ws`, written the way a
// Node user would write a fan-out server, so that bench/run.sh can measure
// switchboard-bench-server against it on the same workloads:
//
//   GET /health                  200, body "ok"
//   GET /topics/:key/subscribe   WebSocket: every payload published to key, as text
//   GET /publish                 WebSocket: each text message "key payload" publishes payload
//
// usage: node server.js --port P   (127.0.0.1 only; prints port=N once listening)
'use strict';

const http = require('node:http');
const { WebSocketServer } = require('ws');

function parsePort(argv) {
  const at = argv.indexOf('--port');
  const port = at >= 0 ? Number(argv[at + 1]) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node server.js --port P');
    process.exit(2);
  }
  return port;
}

// key -> Set of subscriber sockets; a key with no subscriber is removed.
const topics = new Map();

function subscribe(ws, key) {
  let subscribers = topics.get(key);
  if (!subscribers) {
    subscribers = new Set();
    topics.set(key, subscribers);
  }
  subscribers.add(ws);
  ws.on('error', () => {}); // a reset peer is an ordinary end here
  ws.on('close', () => {
    subscribers.delete(ws);
    if (subscribers.size === 0 && topics.get(key) === subscribers) {
      topics.delete(key);
    }
  });
}

function publisher(ws) {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.close(1003, 'expected text "key payload"');
      return;
    }
    const space = data.indexOf(0x20);
    if (space <= 0) {
      ws.close(1008, 'expected "key payload"');
      return;
    }
    const subscribers = topics.get(data.toString('utf8', 0, space));
    if (!subscribers) {
      return;
    }
    // One Buffer view shared by every send; ws frames it per subscriber.
    const payload = data.subarray(space + 1);
    for (const subscriber of subscribers) {
      subscriber.send(payload, { binary: false });
    }
  });
}

const port = parsePort(process.argv);
const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '2' });
    res.end('ok');
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
});

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {});
  const path = req.url.split('?')[0];
  const topic = /^\/topics\/([^/]+)\/subscribe$/.exec(path);
  if (topic) {
    const key = decodeURIComponent(topic[1]);
    wss.handleUpgrade(req, socket, head, (ws) => subscribe(ws, key));
  } else if (path === '/publish') {
    wss.handleUpgrade(req, socket, head, publisher);
  } else {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`port=${server.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
