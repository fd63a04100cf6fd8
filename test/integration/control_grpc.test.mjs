// sluice-control and a real proxyless gRPC client (@grpc/grpc-js-xds) on a
// file registry: one `grpc` service `echo` in two zones, served by real
// @grpc/grpc-js servers that answer with their names. The client resolves
// `xds:///echo` over sluice-control's ADS (LDS api_listener → RDS → CDS →
// EDS). grpc-js-xds reads its bootstrap once per process; node --test runs
// each file in a process of its own, so the bootstrap is this file's
// (GRPC_XDS_BOOTSTRAP_CONFIG, set before the first xds channel). The tests
// run in order, each building on the last state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startControl } from './lib/control.mjs';
import { Echo, startEchoServer } from './lib/grpc_echo.mjs';

let control;
let client;
const servers = {};

function registry(names, weights = '{}') {
  return `zones: [z1, z2]
services:
  - name: echo
    protocol: grpc
    instances:
${names.map((n) => `      - { address: 127.0.0.1, port: ${servers[n].port}, zone: ${servers[n].zone} }`).join('\n')}
zone_weights: ${weights}
`;
}

async function until(check) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function who() {
  return new Promise((resolve) => {
    client.Who({}, { deadline: Date.now() + 5000 }, (err, reply) => resolve(err ? { code: err.code, details: err.details } : reply.name));
  });
}

// Calls until `n` in a row satisfy `ok` (the client has applied the change),
// then returns the names those `n` calls reached.
async function untilCalls(ok, n = 20) {
  let run = [];
  for (;;) {
    // A call that fails at once (no route) completes without I/O: yield, so
    // the client reads the xDS update this loop waits for.
    await new Promise((r) => setImmediate(r));
    const r = await who();
    run = ok(r) ? [...run, r] : [];
    if (run.length === n) return run;
  }
}

async function grpcNode() {
  const { body } = await control.get('/v1/nodes/grpc-1');
  return body.streams?.[0];
}

// The client has ACKed what the current snapshot gives it, on every type it asks for.
async function synced() {
  const n = await grpcNode();
  return n && ['listener', 'route', 'cluster', 'endpoint'].every((t) => n.types[t].state === 'SYNCED');
}

before(async () => {
  for (const [name, zone] of [['a1', 'z1'], ['a2', 'z1'], ['b1', 'z2'], ['b2', 'z2']]) {
    servers[name] = await startEchoServer(name);
    servers[name].zone = zone;
  }
  control = await startControl(registry(['a1', 'b1']), { args: ['--debounce', '20ms'] });
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${control.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'grpc-1', cluster: 'callers', locality: { zone: 'z1' } },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  client = new Echo('xds:///echo', grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  await control?.stop();
  for (const s of Object.values(servers)) await s.close();
});

test('calls through xds:///echo reach the instances of both zones', { timeout: 30_000 }, async () => {
  const seen = new Set();
  await until(async () => { seen.add(await who()); return seen.has('a1') && seen.has('b1'); });
  assert.deepEqual([...seen].filter((s) => typeof s !== 'string'), [], 'no call failed once the client had its config');
});

test('/v1/nodes shows the gRPC client SYNCED on LDS, RDS, CDS and EDS, with no RTDS', { timeout: 20_000 }, async () => {
  await until(synced);
  const n = await grpcNode();
  assert.equal(n.kind, 'grpc_client');
  assert.match(n.user_agent_name, /^gRPC /);
  for (const type of ['listener', 'route', 'cluster', 'endpoint']) {
    assert.equal(n.types[type].state, 'SYNCED', type);
    assert.equal(n.types[type].acked_version, n.types[type].current_version, type);
  }
  assert.deepEqual(n.types.listener.names, ['echo']);
  assert.deepEqual(n.types.route.names, ['echo']);
  assert.deepEqual(n.types.cluster.names, ['echo.z1', 'echo.z2']);
  assert.deepEqual(n.types.endpoint.names, ['echo.z1', 'echo.z2']);
  assert.equal(n.types.runtime.state, 'NOT SENT');
  const snapshot = (await control.get('/v1/snapshot/grpc-1')).body;
  assert.equal(snapshot.node_kind, 'grpc_client');
  assert.deepEqual(snapshot.listener.resources.map((r) => r.name), ['echo']);
});

test('instances added to and removed from the registry file are followed', { timeout: 30_000 }, async () => {
  control.writeRegistry(registry(['a1', 'a2', 'b1', 'b2']));
  const seen = new Set();
  await until(async () => { seen.add(await who()); return ['a1', 'a2', 'b1', 'b2'].every((s) => seen.has(s)); });
  control.writeRegistry(registry(['a2', 'b1', 'b2']));
  const run = await untilCalls((r) => typeof r === 'string' && r !== 'a1');
  assert.ok(!run.includes('a1'));
  // Round robin within a zone, the split across zones: every instance left still gets calls.
  const more = new Set(await untilCalls((r) => typeof r === 'string', 40));
  assert.deepEqual([...more].sort(), ['a2', 'b1', 'b2']);
});

test('zone weights move the calls: z2 at weight 0 sends every call to z1', { timeout: 30_000 }, async () => {
  await until(synced);
  const before = (await grpcNode()).types;
  control.writeRegistry(registry(['a2', 'b1', 'b2'], '{ z2: 0 }'));
  const run = await untilCalls((r) => r === 'a2', 40);
  assert.equal(run.length, 40);
  await until(async () => (await grpcNode()).types.route.acked_version !== before.route.acked_version && synced());
  const now = (await grpcNode()).types;
  // The weights are in the route: RDS changed, the listener did not. A zone
  // at 0 is not in the split, so the client stops asking for its cluster.
  assert.notEqual(now.route.acked_version, before.route.acked_version);
  assert.equal(now.listener.acked_version, before.listener.acked_version);
  assert.deepEqual(now.cluster.names, ['echo.z1']);
  assert.deepEqual(now.endpoint.names, ['echo.z1']);
});

test('every zone at weight 0: no route, calls fail with UNAVAILABLE; a weight back brings them back', { timeout: 30_000 }, async () => {
  control.writeRegistry(registry(['a2', 'b1', 'b2'], '{ z1: 0, z2: 0 }'));
  const run = await untilCalls((r) => typeof r === 'object', 5);
  for (const r of run) assert.equal(r.code, grpc.status.UNAVAILABLE, JSON.stringify(r));
  control.writeRegistry(registry(['a2', 'b1', 'b2'], '{ z1: 0 }'));
  const back = await untilCalls((r) => r === 'b1' || r === 'b2', 20);
  assert.deepEqual([...new Set(back)].sort(), ['b1', 'b2']);
  const metrics = (await control.get('/metrics')).body;
  assert.match(metrics, /^sluice_control_xds_nacks_total 0$/m);
});

test('a zone drain reaches the gRPC client through RDS: z2 drained sends every call to z1, undrained both again', { timeout: 30_000 }, async () => {
  control.writeRegistry(registry(['a1', 'b1']));
  await untilCalls((r) => r === 'b1', 5);
  // Two zones: the guard refuses (z1 would take all the traffic with half the capacity); forced.
  assert.equal((await control.call('POST', '/v1/zones/z2/drain', { to: 0, step: 50, every: '50ms' })).status, 409);
  const drained = await control.call('POST', '/v1/zones/z2/drain', { to: 0, step: 50, every: '50ms', force: true });
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  const run = await untilCalls((r) => r === 'a1', 40);
  assert.equal(run.length, 40);
  assert.equal((await control.call('POST', '/v1/zones/z2/undrain', { step: 100, every: '10ms' })).status, 200);
  await untilCalls((r) => r === 'b1', 5);
});
