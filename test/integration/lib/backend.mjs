// The test backend: a real HTTP/1.1 server (Node's) that reports what it
// received, so tests can assert exactly what sluice forwarded.
//
//   any path         200, JSON {method, url, headers (raw pairs), bodyLength, bodySha256, connection, name}
//   /status/NNN      that status, empty body
//   /bytes/N         N bytes of 'x', streamed with content-length
//   /chunked/N       N bytes in chunks of 1 KiB, chunked, with a trailer x-trailer: done
//   /delay/MS        answers after MS milliseconds
//   /close           answers with connection: close
//   /drain           reads the body and reports its length (same as any path)
// WebSocket upgrades (with { websocket: true }) are echoed by the `ws` package.
//
// Options: `keepAliveTimeout` (ms after a response before an idle connection is
// closed; default 60 s; timed here because Node's own adds a second to it),
// `delay` (ms added before every response, to make a slow host), `host` and
// `port` (where to listen; default 127.0.0.1 and a port the kernel picks).
// `events` emits 'request' (req) when a request arrives, 'connection-closed'
// when a client connection closes, and 'ws-close' (code, reason) when a
// WebSocket peer closes.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { WebSocketServer } from 'ws';

export async function startBackend({
  name = 'backend', websocket = false, keepAliveTimeout = 60_000, delay = 0, host = '127.0.0.1', port = 0,
} = {}) {
  let connections = 0;
  const events = new EventEmitter();
  const server = http.createServer((req, res) => {
    events.emit('request', req);
    clearTimeout(req.socket.idleTimer);
    res.on('finish', () => {
      clearTimeout(req.socket.idleTimer);
      req.socket.idleTimer = setTimeout(() => req.socket.end(), keepAliveTimeout).unref();
    });
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (c) => { hash.update(c); length += c.length; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const parts = url.pathname.split('/');
      const send = () => {
        if (parts[1] === 'status') {
          res.writeHead(Number(parts[2]), { 'x-backend': name });
          res.end();
        } else if (parts[1] === 'bytes') {
          const n = Number(parts[2]);
          res.writeHead(200, { 'content-length': n, 'x-backend': name });
          const block = Buffer.alloc(64 * 1024, 'x');
          let left = n;
          const pump = () => {
            while (left > 0) {
              const piece = left >= block.length ? block : block.subarray(0, left);
              left -= piece.length;
              if (!res.write(piece)) return res.once('drain', pump);
            }
            res.end();
          };
          pump();
        } else if (parts[1] === 'chunked') {
          const n = Number(parts[2]);
          res.writeHead(200, { 'x-backend': name, trailer: 'x-trailer' });
          const block = Buffer.alloc(1024, 'y');
          let left = n;
          const pump = () => {
            while (left > 0) {
              const piece = left >= block.length ? block : block.subarray(0, left);
              left -= piece.length;
              if (!res.write(piece)) return res.once('drain', pump);
            }
            res.addTrailers({ 'x-trailer': 'done' });
            res.end();
          };
          pump();
        } else if (parts[1] === 'close') {
          res.writeHead(200, { connection: 'close', 'content-length': 2, 'x-backend': name });
          res.end('ok');
        } else {
          const body = JSON.stringify({
            name, method: req.method, url: req.url, headers: req.rawHeaders, httpVersion: req.httpVersion,
            bodyLength: length, bodySha256: hash.digest('hex'), connection: req.socket.connectionId,
          });
          res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
          res.end(body);
        }
      };
      const wait = (parts[1] === 'delay' ? Number(parts[2]) : 0) + delay;
      if (wait > 0) setTimeout(send, wait).unref(); // a test's own sockets keep it alive
      else send();
    });
  });
  server.keepAliveTimeout = 0; // see the idle timer above
  server.on('connection', (socket) => {
    socket.connectionId = ++connections;
    socket.on('close', () => events.emit('connection-closed', socket.connectionId));
  });
  if (websocket) {
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      ws.on('message', (data, binary) => ws.send(data, { binary }));
      ws.on('close', (code, reason) => events.emit('ws-close', code, reason.toString()));
    });
  }
  server.listen(port, host);
  await once(server, 'listening');
  return {
    name,
    host,
    port: server.address().port,
    events,
    connections: () => connections,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

// Parses a backend's JSON report; header lookups are case-insensitive.
export function report(body) {
  const r = JSON.parse(body);
  r.header = (name) => {
    const values = [];
    for (let i = 0; i < r.headers.length; i += 2) {
      if (r.headers[i].toLowerCase() === name.toLowerCase()) values.push(r.headers[i + 1]);
    }
    return values.length ? values.join(',') : undefined;
  };
  return r;
}

// A backend whose behaviour the test switches at any time through `b.mode`:
// 'ok' (200), a status number, 'reset' (closes the connection without an
// answer) or 'hang' (never answers). Each answer carries x-backend: name;
// `b.answered[mode]` counts them. `b.server` is the server (to close).
export async function modeBackend(name, mode = 'ok') {
  const b = { name, mode, answered: {} };
  const server = http.createServer((req, res) => {
    const m = b.mode;
    b.answered[m] = (b.answered[m] ?? 0) + 1;
    if (m === 'hang') return;
    if (m === 'reset') return req.socket.destroy();
    const status = m === 'ok' ? 200 : Number(m);
    res.writeHead(status, { 'x-backend': name, 'content-length': 2 });
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  b.server = server;
  b.port = server.address().port;
  return b;
}
