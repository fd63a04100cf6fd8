// sluice-control end to end: the real sluice-control on a file registry and
// the real sluice as an edge node (--service-cluster edge) whose bootstrap
// holds only the ADS cluster and the RTDS layer. Everything else — listener,
// routes, clusters, endpoints, zone weights — comes from the registry. The
// tests share one pair of processes and run in order, each building on the
// last state.
import { test, before, after } from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { startControl, startEdge, freePort, until, nodeStream, nodeSynced } from './lib/control.mjs';

let control;
let sluice;
let a;
let b;
let gatewayPort;

function registry({ instances, weights = '{}' }) {
  return `zones: [z1, z2]
services:
  - name: echo
    instances:
${instances.map((i) => `      - { address: 127.0.0.1, port: ${i.port}, zone: ${i.zone} }`).join('\n')}
gateways:
  - name: edge
    port: ${gatewayPort}
    address: 127.0.0.1
    virtual_hosts:
      - domains: ["*"]
        routes: [ { prefix: "/", service: echo } ]
zone_weights: ${weights}
`;
}

const node = () => nodeStream(control, 'edge-1');
const allSynced = () => nodeSynced(control, 'edge-1');
function get(agent = false) {
  return request({ port: gatewayPort, path: '/', agent });
}

before(async () => {
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  gatewayPort = await freePort();
  control = await startControl(registry({ instances: [{ port: a.port, zone: 'z1' }] }), { args: ['--debounce', '20ms'] });
  sluice = await startEdge([control.xdsPort]);
  await until(allSynced);
});

after(async () => {
  await sluice?.stop();
  await control?.stop();
  await a?.close();
  await b?.close();
});

test('traffic flows to the registry\'s backends through the gateway it defines', { timeout: 20_000 }, async () => {
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  const listeners = await sluice.refreshListeners();
  assert.deepEqual(listeners.map((l) => l.name), ['edge']);
});

test('/v1/nodes shows the sluice node SYNCED for every type', { timeout: 20_000 }, async () => {
  const { status, body } = await control.get('/v1/nodes');
  assert.equal(status, 200);
  assert.equal(body.nodes.length, 1);
  const n = body.nodes[0];
  assert.equal(n.id, 'edge-1');
  assert.equal(n.cluster, 'edge');
  assert.equal(n.zone, 'z1');
  assert.deepEqual(Object.keys(n.types).sort(), ['cluster', 'endpoint', 'listener', 'route', 'runtime']);
  for (const [type, t] of Object.entries(n.types)) {
    assert.equal(t.state, 'SYNCED', type);
    assert.equal(t.acked_version, t.sent_version, type);
    assert.match(t.sent_version, /^[0-9a-f]{16}$/, type);
  }
  assert.deepEqual(n.types.endpoint.names, ['echo.z1', 'echo.z2']);
  // What the node gets, by name, with each resource's own version.
  const snapshot = (await control.get('/v1/snapshot/edge-1')).body;
  assert.equal(snapshot.node_cluster, 'edge');
  assert.deepEqual(snapshot.cluster.resources.map((r) => r.name), ['echo.z1', 'echo.z2']);
  assert.deepEqual(snapshot.endpoint.resources.map((r) => r.name), ['echo.z1', 'echo.z2']);
  assert.equal(snapshot.endpoint.version, n.types.endpoint.acked_version);
  assert.equal((await control.get('/v1/nodes/nobody')).status, 404);
});

test('an instance added to the registry is served with no failed request under load', { timeout: 30_000 }, async () => {
  const before = (await node()).types;
  const failures = [];
  const seen = new Set();
  let running = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const worker = async (useAgent) => {
    while (running) {
      try {
        const res = await get(useAgent ? agent : false);
        if (res.status !== 200) failures.push(res.status);
        else seen.add(res.headers['x-backend']);
      } catch (e) {
        failures.push(e.message);
      }
    }
  };
  const load = [worker(true), worker(true), worker(false), worker(false)];
  await until(() => seen.has('a'));
  control.writeRegistry(registry({ instances: [{ port: a.port, zone: 'z1' }, { port: b.port, zone: 'z2' }] }));
  await until(() => seen.has('b'));
  await until(allSynced);
  running = false;
  await Promise.all(load);
  agent.destroy();
  assert.deepEqual(failures, []);
  const after = (await node()).types;
  // b's zone got an endpoint and a share: EDS, RDS and RTDS changed; CDS and LDS did not.
  assert.notEqual(after.endpoint.acked_version, before.endpoint.acked_version);
  assert.equal(after.cluster.acked_version, before.cluster.acked_version);
  assert.equal(after.listener.acked_version, before.listener.acked_version);
});

test('a drain of a zone changes the RTDS layer only and moves the traffic', { timeout: 30_000 }, async () => {
  const before = (await node()).types;
  control.writeRegistry(registry({ instances: [{ port: a.port, zone: 'z1' }, { port: b.port, zone: 'z2' }], weights: '{ z2: 0 }' }));
  await until(async () => (await node()).types.runtime.acked_version !== before.runtime.acked_version && allSynced());
  const after = (await node()).types;
  for (const type of ['cluster', 'endpoint', 'listener', 'route']) {
    assert.equal(after[type].acked_version, before[type].acked_version, type);
  }
  for (let i = 0; i < 20; i++) assert.equal((await get()).headers['x-backend'], 'a');
});

test('a bad registry edit is rejected whole and the old config keeps serving', { timeout: 20_000 }, async () => {
  const versions = (await node()).types;
  control.writeRegistry(registry({ instances: [{ port: a.port, zone: 'z1' }, { port: 0, zone: 'z3' }] }));
  await until(async () => (await control.get('/v1/registry')).body.rejected === 1);
  const { body } = await control.get('/v1/registry');
  assert.match(body.last_error, /services\[0\]\.instances\[1\]\.port: must be 1\.\.65535/);
  assert.match(body.last_error, /services\[0\]\.instances\[1\]\.zone: 'z3' is not one of zones/);
  assert.equal(body.registry.services[0].instances.length, 2);
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  assert.deepEqual((await node()).types, versions);
  const metrics = (await control.get('/metrics')).body;
  assert.match(metrics, /^sluice_control_registry_updates_rejected_total 1$/m);
  assert.match(metrics, /^sluice_control_connected_proxies 1$/m);
  assert.match(metrics, /^sluice_control_xds_nacks_total 0$/m);
});

test('the file registry is read-only: PUT and DELETE answer 501 with the reason', { timeout: 20_000 }, async () => {
  const put = await control.call('PUT', `/v1/services/echo/instances/127.0.0.1:${b.port}`, { zone: 'z2' });
  assert.equal(put.status, 501);
  assert.match(put.body.error, /read-only: edit the file/);
  assert.equal((await control.call('DELETE', `/v1/services/echo/instances/127.0.0.1:${a.port}`)).status, 501);
  assert.equal((await control.call('PUT', '/v1/services/echo/nothing')).status, 404);
  const metrics = (await control.get('/metrics')).body;
  assert.doesNotMatch(metrics, /registry_store_up 0/);
});

test('a restarted control plane resyncs the proxy, which kept serving meanwhile', { timeout: 30_000 }, async () => {
  const versions = (await node()).types;
  const text = registry({ instances: [{ port: a.port, zone: 'z1' }, { port: b.port, zone: 'z2' }], weights: '{ z2: 0 }' });
  const port = control.xdsPort;
  await control.stop();
  // The last good config keeps serving while the control plane is away.
  const res = await get();
  assert.equal(res.status, 200);
  control = await startControl(text, { xdsPort: port, args: ['--debounce', '20ms'] });
  await until(allSynced);
  // Same registry, same versions: content hashes, not counters.
  const after = (await node()).types;
  for (const type of Object.keys(versions)) assert.equal(after[type].acked_version, versions[type].acked_version, type);
  assert.equal((await get()).headers['x-backend'], 'a');
});
