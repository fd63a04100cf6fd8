// Small clients for tests: one HTTP request with Node's http module (its own
// parser, independent of sluice's), and a raw TCP exchange for exact bytes.
import http from 'node:http';
import net from 'node:net';

// Resolves { status, headers, body (string), rawHeaders } for one request.
export function request({ port, path = '/', method = 'GET', headers = {}, body, agent = false, host = '127.0.0.1' }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders,
        trailers: res.trailers, body: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Sends `bytes` on a fresh connection; resolves everything received until the
// server closes the connection (or `until` returns true for the data so far).
export function raw(port, bytes, { until, halfClose = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('connect', () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
    socket.on('data', (c) => {
      chunks.push(c);
      if (until && until(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e) => (chunks.length ? finish() : reject(e)));
  });
}

// The body of a raw HTTP/1.1 response (after the head), chunked or not.
export function rawBody(response) {
  const at = response.indexOf('\r\n\r\n');
  const head = response.slice(0, at).toLowerCase();
  let rest = response.slice(at + 4);
  if (!head.includes('transfer-encoding: chunked')) return rest;
  let body = '';
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (!size) return body;
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}
