// sluice-control on a real three-member etcd cluster: two replicas of the
// real sluice-control on the same prefix, and the real sluice as an edge node
// (--service-cluster edge) whose bootstrap holds only the ADS cluster (both
// replicas) and the RTDS layer. The tests share the processes and run in
// order, each building on the last state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { spawnSync } from 'node:child_process';
import { startControl, startEdge, freePort, until, nodeSynced, CONTROL } from './lib/control.mjs';
import { startEtcdCluster } from './lib/etcd.mjs';
import { startLoad } from './lib/load.mjs';

const P = '/sluice-it';
let etcd;
let replicas = [];
let sluice;
let a;
let b;
let c;
let gatewayPort;

const echo = (instances) => ({ protocol: 'http1', instances });
const inst = (port, zone) => ({ address: '127.0.0.1', port, zone });
const get = () => request({ port: gatewayPort, path: '/' });
const load = () => startLoad(() => get());

// The replica the edge node streams from, and the other one.
async function connected() {
  for (const r of replicas) {
    if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
    if (await nodeSynced(r, 'edge-1')) return r;
  }
  return undefined;
}
async function synced() { return (await connected()) !== undefined; }
async function store(r) { return (await r.get('/v1/registry')).body; }
const validate = () => spawnSync(CONTROL, ['validate', '--registry', `etcd://${etcd.endpoints()}${P}`], { encoding: 'utf8' });

before(async () => {
  [a, b, c] = await Promise.all([startBackend({ name: 'a' }), startBackend({ name: 'b' }), startBackend({ name: 'c' })]);
  gatewayPort = await freePort();
  etcd = await startEtcdCluster(3);
  await etcd.put(`${P}/zones`, ['z1', 'z2']);
  await etcd.put(`${P}/services/echo`, echo([inst(a.port, 'z1')]));
  await etcd.put(`${P}/gateways/edge`, {
    port: gatewayPort, address: '127.0.0.1',
    virtual_hosts: [{ domains: ['*'], routes: [{ prefix: '/', service: 'echo' }] }],
  });
  // Each replica lists the members in another order: they watch different ones.
  replicas = await Promise.all([[0, 1, 2], [1, 2, 0]].map((order) =>
    startControl({ spec: `etcd://${etcd.endpoints(order)}${P}` }, { args: ['--debounce', '20ms'] })));
  sluice = await startEdge(replicas.map((r) => r.xdsPort));
  await until(synced, 'the edge node SYNCED');
});

after(async () => {
  await sluice?.stop();
  for (const r of replicas) await r.stop();
  await etcd?.stop();
  await Promise.all([a, b, c].map((x) => x?.close()));
});

test('traffic flows to the backends the etcd registry names; both replicas watch it', { timeout: 20_000 }, async () => {
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  for (const r of replicas) {
    const s = await store(r);
    assert.equal(s.store.state, 'watching');
    assert.equal(s.store.full_reads, 1);
    assert.deepEqual(s.registry.services[0].instances.map((i) => i.port), [a.port]);
  }
  const v = validate();
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /: valid \(2 zones, 1 services, 1 gateways\)/);
  // Different members: the replicas' order of the list is followed.
  assert.notEqual((await store(replicas[0])).store.member, (await store(replicas[1])).store.member);
});

test('PUT registers an instance, served under load with no failed request; DELETE deregisters', { timeout: 30_000 }, async () => {
  const r = await connected();
  const l = load();
  await until(() => l.count('a') > 0, 'traffic to a');
  const put = await r.call('PUT', `/v1/services/echo/instances/127.0.0.1:${b.port}`, { zone: 'z2', weight: 1, health: 'healthy', metadata: { version: 'v2' } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await until(() => l.count('b') > 20, 'traffic to b');
  const seen = await l.stop();
  assert.equal(seen.failed, 0);
  const value = JSON.parse(await etcd.get(`${P}/services/echo`));
  assert.deepEqual(value.instances.map((i) => i.port), [a.port, b.port]);
  assert.equal(value.instances[1].metadata.version, 'v2');
  // Validated before the write: the error's path, and nothing written.
  const bad = await r.call('PUT', `/v1/services/echo/instances/127.0.0.1:${c.port}`, { zone: 'z9', weight: 0 });
  assert.equal(bad.status, 400);
  assert.ok(bad.body.errors.includes(`${P}/services/echo: instances[2].zone: 'z9' is not one of zones`), JSON.stringify(bad.body));
  assert.ok(bad.body.errors.some((e) => e.startsWith(`${P}/services/echo: instances[2].weight: must be 1..1000000`)));
  assert.equal((await r.call('PUT', '/v1/services/nope/instances/127.0.0.1:1', { zone: 'z1' })).status, 404);
  assert.equal((await r.call('DELETE', '/v1/services/echo/instances/127.0.0.1:1')).status, 404);
  assert.equal(JSON.parse(await etcd.get(`${P}/services/echo`)).instances.length, 2);
  // Register and deregister c: each comes back through the watch.
  assert.equal((await r.call('PUT', `/v1/services/echo/instances/127.0.0.1:${c.port}`, { zone: 'z1' })).status, 200);
  await until(async () => (await store(r)).registry.services[0].instances.length === 3, 'c registered');
  assert.equal((await r.call('DELETE', `/v1/services/echo/instances/127.0.0.1:${c.port}`)).status, 200);
  await until(async () => (await store(r)).registry.services[0].instances.length === 2, 'c deregistered');
});

test('both replicas give the edge node the same versions: /v1/diff says equal', { timeout: 20_000 }, async () => {
  const [r0, r1] = replicas;
  await until(async () => (await store(r0)).version === (await store(r1)).version, 'the same registry on both');
  const here = await connected();
  const peer = here === r0 ? r1 : r0;
  const { status, body } = await here.get(`/v1/diff?peer=http://127.0.0.1:${peer.httpPort}`);
  assert.equal(status, 200);
  assert.equal(body.equal, true, JSON.stringify(body, null, 1));
  assert.equal(body.nodes.length, 1);
  assert.equal(body.nodes[0].node, 'edge-1');
  assert.deepEqual(Object.keys(body.nodes[0].types).sort(), ['cluster', 'endpoint', 'listener', 'route', 'runtime']);
  for (const t of Object.values(body.nodes[0].types)) assert.equal(t.equal, true);
  // A peer serving something else: the differing resources, both versions.
  const other = await startControl(`zones: [z1, z2]
services:
  - name: echo
    instances: [ { address: 127.0.0.1, port: ${a.port}, zone: z1 } ]
gateways:
  - { name: edge, port: ${gatewayPort}, address: 127.0.0.1, virtual_hosts: [ { domains: ["*"], routes: [ { prefix: "/", service: echo } ] } ] }
`);
  try {
    const d = (await here.get(`/v1/diff?peer=http://127.0.0.1:${other.httpPort}`)).body;
    assert.equal(d.equal, false);
    const e = d.nodes[0].types.endpoint;
    assert.equal(e.equal, false);
    assert.deepEqual(e.differ.map((x) => x.name), ['echo.z2']);
    assert.notEqual(e.differ[0].version, e.differ[0].peer_version);
    assert.equal(d.nodes[0].types.cluster.equal, true);
  } finally {
    await other.stop();
  }
  assert.equal((await here.get('/v1/diff?peer=nowhere')).status, 400);
});

test('a bad key is rejected, naming key and path; the old config keeps serving', { timeout: 20_000 }, async () => {
  const r = await connected();
  const before = await store(r);
  await etcd.put(`${P}/services/echo`, echo([inst(a.port, 'z1'), inst(70000, 'z3')]));
  await until(async () => (await store(r)).rejected > before.rejected, 'the rejection');
  const s = await store(r);
  assert.match(s.last_error, new RegExp(`${P}/services/echo: instances\\[1\\]\\.port: must be 1\\.\\.65535`));
  assert.match(s.last_error, new RegExp(`${P}/services/echo: instances\\[1\\]\\.zone: 'z3' is not one of zones`));
  assert.equal(s.version, before.version);
  const v = validate();
  assert.equal(v.status, 1);
  assert.match(v.stderr, new RegExp(`${P}/services/echo: instances\\[1\\]\\.port: must be 1\\.\\.65535`));
  for (let i = 0; i < 10; i++) assert.equal((await get()).status, 200);
  const metrics = (await r.get('/metrics')).body;
  assert.match(metrics, /^sluice_control_registry_updates_rejected_total [1-9]/m);
  assert.match(metrics, /^sluice_control_registry_store_up 1$/m);
  await etcd.put(`${P}/services/echo`, echo([inst(a.port, 'z1'), inst(b.port, 'z2')]));
  await until(async () => (await store(r)).last_error === '', 'the good value again');
});

test('one etcd member killed, a compaction while the replica was away: it resumes, re-reads, still serves', { timeout: 30_000 }, async () => {
  const r = await connected();
  const s = (await store(r)).store;
  const member = etcd.members.findIndex((m) => `127.0.0.1:${m.clientPort}` === s.member);
  assert.ok(member >= 0, s.member);
  const l = load();
  // Stopped, the replica cannot see its member go nor read the changes; the
  // compaction removes the revisions it would resume from.
  r.child.kill('SIGSTOP');
  await etcd.kill(member);
  await etcd.put(`${P}/services/echo`, echo([inst(a.port, 'z1'), inst(b.port, 'z2'), inst(c.port, 'z1')]));
  const revision = await etcd.put(`${P}/state/note`, 'compaction marker');
  await etcd.compact(revision);
  r.child.kill('SIGCONT');
  await until(() => l.count('c') > 20, 'traffic to c', 20_000);
  const seen = await l.stop();
  assert.equal(seen.failed, 0);
  const after = (await store(r)).store;
  assert.equal(after.state, 'watching');
  assert.notEqual(after.member, s.member);
  assert.ok(after.reconnects >= 1);
  assert.equal(after.compactions, 1);
  assert.equal(after.full_reads, 2);
  assert.ok(after.revision >= revision);
});

test('the edge node moves to the other replica (the first killed) and resyncs with no failed request', { timeout: 30_000 }, async () => {
  const first = await connected();
  const other = replicas.find((r) => r !== first);
  await until(async () => (await store(other)).version === (await store(first)).version, 'both replicas on the same registry');
  const versions = (await first.get('/v1/nodes/edge-1')).body.streams[0].types;
  const l = load();
  await until(() => l.count('a') > 10, 'traffic');
  await first.kill();
  await until(async () => (await connected()) === other, 'the node SYNCED on the other replica');
  await until(() => l.count('a') > 200, 'more traffic');
  const seen = await l.stop();
  assert.equal(seen.failed, 0);
  const moved = (await other.get('/v1/nodes/edge-1')).body.streams[0].types;
  // Same content, same versions on any replica: nothing to re-apply.
  for (const type of Object.keys(versions)) assert.equal(moved[type].acked_version, versions[type].acked_version, type);
});

test('etcd unreachable: the last good registry keeps serving and the status says so', { timeout: 30_000 }, async () => {
  const r = await connected();
  const before = await store(r);
  for (let i = 0; i < etcd.members.length; i++) await etcd.kill(i);
  await until(async () => (await store(r)).store.state === 'unreachable', 'state unreachable');
  const s = await store(r);
  assert.equal(s.version, before.version);
  assert.notEqual(s.store.last_error, '');
  assert.match((await r.get('/metrics')).body, /^sluice_control_registry_store_up 0$/m);
  for (let i = 0; i < 10; i++) assert.equal((await get()).status, 200);
  const write = await r.call('PUT', `/v1/services/echo/instances/127.0.0.1:${c.port}`, { zone: 'z2' });
  assert.equal(write.status, 503);
});
