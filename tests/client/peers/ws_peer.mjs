// A WebSocket server written with the npm package `ws`, for the client's tests against a peer we
// did not write.
//
// Paths: /echo echoes every message with its type; /close closes at once with 4002 "node says
// bye"; /forbidden refuses the upgrade with 403 and a plain-text body; /chat picks chat.v1 when
// the client offers it.
//
// Prints "port=N" once it listens on 127.0.0.1, then serves until SIGTERM or until its stdin
// closes, and never longer than --lifetime seconds (default 120).
import http from 'node:http';
import { createRequire } from 'node:module';
import process from 'node:process';

// The package is installed in tests/node (scripts/setup.sh runs npm ci there), which is not an
// ancestor of this file: resolve it from there.
const modules = process.env.SWITCHBOARD_NODE_MODULES;
const require = createRequire(modules ? `${modules}/` : import.meta.url);
const { WebSocketServer } = require('ws');

const lifetimeIndex = process.argv.indexOf('--lifetime');
const lifetime = lifetimeIndex > 0 ? Number(process.argv[lifetimeIndex + 1]) : 120;

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not here\n');
});

const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) => (protocols.has('chat.v1') ? 'chat.v1' : false),
});

server.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  if (path === '/forbidden') {
    const body = 'forbidden by the node peer\n';
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n' +
               `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (path === '/close') {
      ws.close(4002, 'node says bye');
      return;
    }
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});

const stop = () => {
  for (const client of wss.clients) {
    client.terminate();
  }
  server.close();
  process.exit(0);
};

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port=${server.address().port}\n`);
});
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
setTimeout(stop, lifetime * 1000).unref();
