// Issue 14's last conformance test: the real proxyless gRPC client
// (@grpc/grpc-js-xds) resolving xds:///echo through sluice-control on a real
// three-member etcd cluster (lib/etcd.mjs), while the member sluice-control
// talks to is killed, and then while another one hangs (SIGSTOP: it still
// accepts connections, it answers nothing — what a partitioned member looks
// like from outside). Last, the registry watch check on etcd: a watch made
// to miss one key's events (the --test-drop-watch-key hook) is caught by the
// periodic full read. The sluice edge node against a killed member is in
// control_etcd.test.mjs. grpc-js-xds reads its bootstrap once per process
// (GRPC_XDS_BOOTSTRAP_CONFIG, as control_grpc.test.mjs). The tests run in
// order, each building on the last state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startControl, until } from './lib/control.mjs';
import { startEtcdCluster } from './lib/etcd.mjs';
import { Echo, startEchoServer } from './lib/grpc_echo.mjs';

const P = '/sluice-xds';
const HIDDEN = `${P}/services/hidden`;
let etcd;
let control;
let client;
const servers = {};

const echo = (names) => ({
  protocol: 'grpc',
  instances: names.map((n) => ({ address: '127.0.0.1', port: servers[n].port, zone: 'z1' })),
});

function who() {
  return new Promise((resolve) => {
    client.Who({}, { deadline: Date.now() + 5000 }, (err, reply) => resolve(err ? { code: err.code, details: err.details } : reply.name));
  });
}

// Calls until `n` in a row satisfy `ok` (the client has applied the change).
async function untilCalls(ok, n = 20) {
  let run = [];
  for (;;) {
    await new Promise((r) => setImmediate(r));
    const r = await who();
    run = ok(r) ? [...run, r] : [];
    if (run.length === n) return run;
  }
}

// Calls one after another until stop(): how many reached each server, and the failures.
function callLoop() {
  const seen = { counts: {}, failed: [] };
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const r = await who();
      if (typeof r === 'string') seen.counts[r] = (seen.counts[r] ?? 0) + 1;
      else seen.failed.push(r);
      await new Promise((res) => setImmediate(res));
    }
  })();
  return { count: (name) => seen.counts[name] ?? 0, stop: async () => { stopped = true; await done; return seen; } };
}

async function store() { return (await control.get('/v1/registry')).body; }

before(async () => {
  for (const name of ['a1', 'a2', 'a3']) servers[name] = await startEchoServer(name);
  etcd = await startEtcdCluster(3);
  await etcd.put(`${P}/zones`, ['z1']);
  await etcd.put(`${P}/services/echo`, echo(['a1']));
  control = await startControl({ spec: `etcd://${etcd.endpoints()}${P}` }, {
    args: ['--debounce', '20ms', '--etcd-timeout', '500ms', '--watch-check-interval', '300ms', '--test-drop-watch-key', HIDDEN],
  });
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${control.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'grpc-etcd', cluster: 'callers', locality: { zone: 'z1' } },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  client = new Echo('xds:///echo', grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  await control?.stop();
  await etcd?.stop();
  for (const s of Object.values(servers)) s.close();
});

test('xds:///echo from the etcd registry: calls follow an instance added and removed through etcd', { timeout: 30_000 }, async () => {
  await untilCalls((r) => r === 'a1', 5);
  await etcd.put(`${P}/services/echo`, echo(['a1', 'a2']));
  const seen = new Set();
  await until(async () => { seen.add(await who()); return seen.has('a1') && seen.has('a2'); }, 'calls to a1 and a2');
  await etcd.put(`${P}/services/echo`, echo(['a2']));
  const run = await untilCalls((r) => r === 'a2');
  assert.equal(run.length, 20);
  assert.equal((await store()).store.state, 'watching');
});

test('the member sluice-control watches killed: calls keep succeeding, later changes still reach the client', { timeout: 30_000 }, async () => {
  const before = (await store()).store;
  const member = etcd.indexOf(before.member);
  assert.ok(member >= 0, before.member);
  const calls = callLoop();
  await until(() => calls.count('a2') > 10, 'calls before the kill');
  await etcd.kill(member);
  await until(async () => { const s = (await store()).store; return s.state === 'watching' && s.member !== before.member; },
    'watching on another member');
  await etcd.put(`${P}/services/echo`, echo(['a2', 'a3']));
  await until(() => calls.count('a3') > 20, 'calls to a3, added after the kill');
  const seen = await calls.stop();
  assert.deepEqual(seen.failed, [], 'no call failed');
  const after = (await store()).store;
  assert.ok(after.reconnects > before.reconnects);
  await etcd.restart(member);
});

test('a hung member (SIGSTOP) is detected by the probe and left: counted, shown, calls unaffected', { timeout: 30_000 }, async () => {
  const before = (await store()).store;
  const member = etcd.indexOf(before.member);
  const calls = callLoop();
  await until(() => calls.count('a3') > 10, 'calls before the stop');
  etcd.pause(member);
  await until(async () => { const s = (await store()).store; return s.state === 'watching' && s.member !== before.member; },
    'watching on another member', 10_000);
  const s = (await store()).store;
  assert.equal(s.member_timeouts, before.member_timeouts + 1);
  assert.match(s.last_error, new RegExp(`member ${before.member} did not answer a range within 500 ms .*hung or partitioned`));
  assert.match((await control.get('/metrics')).body, /^sluice_control_registry_store_member_timeouts_total 1$/m);
  assert.match(control.stderr, /hung or partitioned, leaving it/);
  // The registry still moves while that member hangs.
  await etcd.put(`${P}/services/echo`, echo(['a1', 'a3']));
  await until(() => calls.count('a1') > 20, 'calls to a1, added while the member hangs');
  const seen = await calls.stop();
  assert.deepEqual(seen.failed, [], 'no call failed');
  await untilCalls((r) => r === 'a1' || r === 'a3', 20);
  etcd.resume(member);
});

test('a watch that misses a change (test hook) is caught by the periodic full read, which is applied', { timeout: 30_000 }, async () => {
  const before = await store();
  assert.equal(before.watch_check.mismatches, 0, 'no mismatch through the kill and the hang');
  assert.ok(before.watch_check.checks >= 1);
  await etcd.put(HIDDEN, { protocol: 'http1', instances: [{ address: '127.0.0.1', port: 9009, zone: 'z1' }] });
  await until(async () => (await store()).watch_check.mismatches === 1, 'the mismatch', 10_000);
  const after = await store();
  assert.match(after.watch_check.last_mismatch, new RegExp(`differs from the watch .* in ${HIDDEN}`));
  await until(async () => (await store()).registry.services.some((s) => s.name === 'hidden'), 'the full read applied');
  assert.match(control.stderr, /test hook: dropping the watch event/);
  assert.match((await control.get('/metrics')).body, /^sluice_control_registry_watch_mismatches_total 1$/m);
  // The watch was opened again: the next change arrives through it.
  await etcd.put(`${P}/services/echo`, echo(['a2']));
  await untilCalls((r) => r === 'a2', 20);
  assert.equal((await store()).watch_check.mismatches, 1);
});
