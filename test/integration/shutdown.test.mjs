// Graceful shutdown: SIGTERM stops accepting, lets in-flight requests finish,
// closes WebSocket tunnels at once, and exits 0; --drain-time-s bounds how
// long that may take.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let backend;

before(async () => {
  backend = await startBackend({ name: 'web' });
});

after(async () => {
  await backend?.close();
});

function start(args = []) {
  return startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('web', [backend.port])],
    },
  }, { args });
}

// Resolves once sluice's log matches `pattern` (its stderr is collected into
// s.stderr by a listener registered before this one).
function logged(s, pattern) {
  return new Promise((resolve, reject) => {
    const settle = () => {
      s.child.stderr.off('data', onData);
      s.child.off('exit', onExit);
      if (pattern.test(s.stderr)) resolve();
      else reject(new Error(`sluice exited before logging ${pattern}`));
    };
    const onData = () => { if (pattern.test(s.stderr)) settle(); };
    const onExit = settle;
    s.child.stderr.on('data', onData);
    s.child.on('exit', onExit);
    onData();
  });
}

// Resolves 'refused' or 'accepted' for one connection attempt.
function tryConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : e.code));
  });
}

// The backend has the request (so it is in flight through sluice).
const arrived = () => once(backend.events, 'request');

test('SIGTERM lets an in-flight request finish with 200, then exits 0', async () => {
  const s = await start();
  const inFlight = arrived();
  const pending = request({ port: s.port(), path: '/delay/500' });
  await inFlight;
  const exited = s.stop(); // SIGTERM
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers.connection, 'close'); // draining: the client is told not to reuse
  assert.equal(await exited, 0);
});

test('SIGTERM closes the listeners: new connections are refused while a request drains', async () => {
  const s = await start();
  const port = s.port();
  const inFlight = arrived();
  const pending = request({ port, path: '/delay/1500' });
  await inFlight;
  const shuttingDown = logged(s, /shutting down/);
  const exited = once(s.child, 'exit');
  s.child.kill('SIGTERM');
  await shuttingDown;
  // The workers close their listening sockets right after the log line;
  // allow them up to a second.
  let outcome;
  for (let i = 0; i < 50; ++i) {
    outcome = await tryConnect(port);
    if (outcome === 'refused') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(outcome, 'refused');
  assert.equal((await pending).status, 200); // the old request is unaffected
  // Drained, sluice exits by itself (a second SIGTERM could land after its
  // handler is gone and kill it).
  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  rmSync(s.dir, { recursive: true, force: true });
});

test('SIGTERM closes idle keep-alive client connections at once', async () => {
  const s = await start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const idle = once(agent, 'free'); // the agent parks the connection, idle
    const res = await request({ port: s.port(), path: '/status/204', agent });
    assert.equal(res.status, 204);
    const [socket] = await idle;
    const closed = once(socket, 'close');
    const exited = s.stop();
    await closed;
    assert.equal(await exited, 0);
  } finally {
    agent.destroy();
  }
});

test('--drain-time-s 1 bounds the drain: exits 0 within seconds with a 5 s request in flight', async (t) => {
  const s = await start(['--drain-time-s', '1']);
  const inFlight = arrived();
  const pending = request({ port: s.port(), path: '/delay/5000' }).then((r) => r, (e) => e);
  await inFlight;
  const begin = process.hrtime.bigint();
  const code = await s.stop();
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  t.diagnostic(`exit after SIGTERM with --drain-time-s 1: ${seconds.toFixed(2)} s`);
  assert.equal(code, 0);
  assert.ok(seconds >= 0.9, `exited after ${seconds} s, before the drain time`);
  assert.ok(seconds < 4, `exited after ${seconds} s`);
  // The cut request did not get a response.
  const outcome = await pending;
  assert.ok(outcome instanceof Error, `got a response: ${outcome.status}`);
});

test('--drain-time-s cuts an open WebSocket tunnel and still exits 0', async () => {
  const ws = await startBackend({ name: 'ws', websocket: true });
  try {
    const s = await startSluice({
      static_resources: {
        listeners: [httpListener({
          routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'ws' } }]),
          hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }] },
        })],
        clusters: [staticCluster('ws', [ws.port])],
      },
    }, { args: ['--drain-time-s', '1'] });
    const { WebSocket } = await import('ws');
    const client = new WebSocket(`ws://127.0.0.1:${s.port()}/`);
    await once(client, 'open');
    client.send('still here');
    await once(client, 'message');
    const closed = once(client, 'close');
    assert.equal(await s.stop(), 0);
    await closed;
  } finally {
    await ws.close();
  }
});

test('SIGTERM closes an open WebSocket tunnel at once while a request in flight still finishes', async () => {
  const ws = await startBackend({ name: 'ws', websocket: true });
  try {
    // The default --drain-time-s (600 s): the exit must not wait for it.
    const s = await startSluice({
      static_resources: {
        listeners: [httpListener({
          routeConfig: routes([
            { match: { prefix: '/delay' }, route: { cluster: 'web' } },
            { match: { prefix: '/' }, route: { cluster: 'ws' } },
          ]),
          hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }] },
        })],
        clusters: [staticCluster('ws', [ws.port]), staticCluster('web', [backend.port])],
      },
    });
    const { WebSocket } = await import('ws');
    const client = new WebSocket(`ws://127.0.0.1:${s.port()}/`);
    await once(client, 'open');
    client.send('still here');
    await once(client, 'message');
    const inFlight = arrived();
    const pending = request({ port: s.port(), path: '/delay/300' });
    await inFlight;
    const closed = once(client, 'close');
    const exited = s.stop();
    await closed;  // before the request's response: the tunnel was not waited for
    assert.equal((await pending).status, 200);
    assert.equal(await exited, 0);
  } finally {
    await ws.close();
  }
});
