// Upstream failures as the client sees them: Envoy's status codes and texts
// before the response started, a cut connection after it started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SLUICE, startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { raw, request } from './lib/http.mjs';
import { blackHole } from './lib/peers.mjs';

// A name that never resolves (RFC 6761 reserves .invalid).
const unresolvable = { address: 'no-such-host.invalid', port_value: 80 };
const kBeforeHeaders = 'upstream connect error or disconnect/reset before headers. reset reason: ';

// A TCP upstream that runs `onRequest(socket, head)` once a request head has
// arrived. Its server emits 'request-head'; `onClose` (settable) runs when a
// connection closes.
async function rawUpstream(onRequest) {
  const sockets = new Set();
  const upstream = { onClose: () => {} };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      upstream.onClose();
    });
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      server.emit('request-head', head);
      onRequest(socket, head);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(upstream, {
    server,
    port: server.address().port,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(r);
    }),
  });
}

const upstreams = {};
let sluice;

// The bootstrap: one route prefix per upstream behaviour.
function bootstrap() {
  return {
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([
          { match: { prefix: '/nowhere' }, route: { cluster: 'nowhere' } },
          { match: { prefix: '/garbage' }, route: { cluster: 'garbage' } },
          { match: { prefix: '/hangup' }, route: { cluster: 'hangup' } },
          { match: { prefix: '/cut-length' }, route: { cluster: 'cut_length' } },
          { match: { prefix: '/cut-chunked' }, route: { cluster: 'cut_chunked' } },
          { match: { prefix: '/bad-chunk' }, route: { cluster: 'bad_chunk' } },
        ]),
      })],
      clusters: [
        {
          name: 'nowhere',
          type: 'STRICT_DNS',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'nowhere',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: unresolvable } } }] }],
          },
        },
        staticCluster('garbage', [upstreams.garbage.port]),
        staticCluster('hangup', [upstreams.hangup.port]),
        staticCluster('cut_length', [upstreams.cutLength.port]),
        staticCluster('cut_chunked', [upstreams.cutChunked.port]),
        staticCluster('bad_chunk', [upstreams.badChunk.port]),
      ],
    },
  };
}

before(async () => {
  upstreams.garbage = await rawUpstream((socket) => socket.write('this is not HTTP at all\r\n\r\n'));
  upstreams.hangup = await rawUpstream((socket) => socket.end());
  upstreams.cutLength = await rawUpstream((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
    socket.write('a'.repeat(1000), () => socket.resetAndDestroy());
  });
  upstreams.cutChunked = await rawUpstream((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    socket.write('400\r\n' + 'b'.repeat(1024) + '\r\n', () => socket.resetAndDestroy());
  });
  upstreams.badChunk = await rawUpstream((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
  });
  sluice = await startSluice(bootstrap());
});

after(async () => {
  if (sluice) assert.equal(await sluice.stop(), 0);
  for (const u of Object.values(upstreams)) await u.close();
});

test('a STRICT_DNS cluster whose name resolves to nothing validates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-errors-'));
  try {
    const file = join(dir, 'bootstrap.json');
    writeFileSync(file, JSON.stringify(bootstrap()));
    const run = spawnSync(SLUICE, ['--mode', 'validate', '-c', file], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /OK/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('answers 503 no healthy upstream when a STRICT_DNS cluster resolved to nothing', async () => {
  const res = await request({ port: sluice.port(), path: '/nowhere' });
  assert.equal(res.status, 503);
  assert.equal(res.body, 'no healthy upstream');
});

test('answers 502 when the upstream sends garbage instead of a response', async () => {
  const res = await request({ port: sluice.port(), path: '/garbage' });
  assert.equal(res.status, 502);
  assert.equal(res.body, `${kBeforeHeaders}protocol error`);
});

test('answers 503 connection termination when the upstream closes before responding', async () => {
  const res = await request({ port: sluice.port(), path: '/hangup' });
  assert.equal(res.status, 503);
  assert.equal(res.body, `${kBeforeHeaders}connection termination`);
});

// GETs `path`; resolves how the response ended.
function cutResponse(path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: sluice.port(), path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('error', () => {}); // 'aborted' is the expected outcome
      res.on('close', () => resolve({ status: res.statusCode, bytes, complete: res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('closes the client connection when the upstream resets in the middle of a content-length body', async () => {
  const outcome = await cutResponse('/cut-length');
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false);
  assert.ok(outcome.bytes <= 1000, `${outcome.bytes} bytes`);
});

test('closes the client connection without a last chunk when the upstream resets in a chunked body', async () => {
  const outcome = await cutResponse('/cut-chunked');
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false); // a terminating 0-chunk would make it look complete
  // And on the wire: the chunk that arrived, then no last chunk.
  const reply = await raw(sluice.port(), 'GET /cut-chunked HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.ok(!/\r\n0\r\n\r\n$/.test(reply), 'ends with a last chunk');
});

test('closes the client connection when the upstream\'s chunked framing breaks mid-body', async () => {
  const outcome = await cutResponse('/bad-chunk');
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, false);
});

test('keeps serving after all of the above', async () => {
  for (const path of ['/garbage', '/hangup', '/cut-length', '/nowhere']) {
    await request({ port: sluice.port(), path }).catch(() => {});
  }
  const res = await request({ port: sluice.port(), path: '/nowhere' });
  assert.equal(res.status, 503);
});

// ---- the client and the upstream out of step ----

// `promise`'s value, or `late` if it takes longer than `ms`.
async function within(ms, promise, late) {
  let timer;
  const deadline = new Promise((resolve) => { timer = setTimeout(resolve, ms, late); });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test('passes on an upstream\'s early response while the request body is still being sent', async () => {
  // Answers 413 as soon as the head is in, then reads no more (the body backs up).
  let upstreamSocket;
  const early = await rawUpstream((socket) => {
    upstreamSocket = socket;
    socket.pause();
    socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!');
  });
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'early' } }]) })],
      clusters: [staticCluster('early', [early.port])],
    },
  });
  const req = http.request({
    host: '127.0.0.1', port: s.port(), path: '/upload', method: 'POST', agent: false,
    headers: { 'content-length': 256 * 1024 * 1024 },
  });
  req.on('error', () => {});
  try {
    const block = Buffer.alloc(1024 * 1024, 'z');
    const response = once(req, 'response');
    // Write until the body backs up (the upstream reads none of it).
    for (let i = 0; i < 256 && req.write(block); ++i);
    assert.equal(await within(3000, response.then(([res]) => res.statusCode), 'no response within 3 s'), 413);
  } finally {
    req.destroy();
    upstreamSocket?.destroy();
    assert.equal(await s.stop(), 0);
    await early.close();
  }
});

test('resets the upstream request when the client goes away before the response', async () => {
  const slow = await rawUpstream(() => {}); // never answers
  const closedByProxy = new Promise((resolve) => {
    slow.onClose = resolve;
  });
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'slow', timeout: '8s' } }]),
      })],
      clusters: [staticCluster('slow', [slow.port])],
    },
  });
  try {
    const client = net.connect(s.port(), '127.0.0.1');
    await once(client, 'connect');
    const upstreamGotIt = once(slow.server, 'request-head');
    client.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await upstreamGotIt;
    client.destroy(); // the client gives up
    const outcome = await within(2000, closedByProxy.then(() => 'upstream connection closed'),
      'upstream connection still open after 2 s');
    assert.equal(outcome, 'upstream connection closed');
  } finally {
    await slow.close(); // first: a stop would wait for the request to drain
    assert.equal(await s.stop(), 0);
  }
});

test('answers 503 connection timeout when the upstream does not complete the handshake within connect_timeout', async () => {
  const hole = await blackHole();
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'hole' } }]) })],
      clusters: [staticCluster('hole', [hole.port], { connect_timeout: '0.25s' })],
    },
  });
  try {
    const started = Date.now();
    const res = await request({ port: s.port(), path: '/' });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 503);
    assert.equal(res.body, `${kBeforeHeaders}connection timeout`);
    // Not before the timeout; and well before the kernel would give up
    // (SYN retries take minutes), so it is connect_timeout that ended it.
    assert.ok(elapsed >= 240, `answered after ${elapsed} ms`);
    assert.ok(elapsed < 5000, `answered after ${elapsed} ms`);
  } finally {
    assert.equal(await s.stop(), 0);
    hole.close();
  }
});
