// Delta ADS end to end: the real sluice (ads_config.api_type DELTA_GRPC) as
// an edge node of the real sluice-control on a file registry. The tests
// share one pair of processes and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { startControl, startEdge, freePort, until, nodeStream, nodeSynced } from './lib/control.mjs';

let control;
let sluice;
let a;
let b;
let c;
let gatewayPort;

function registry(instances) {
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
zone_weights: { z2: 0 }
`;
}

const node = () => nodeStream(control, 'edge-d');
const allSynced = () => nodeSynced(control, 'edge-d');
async function metric(name) {
  const text = (await control.get('/metrics')).body;
  const m = text.match(new RegExp(`^sluice_control_${name} (\\d+)$`, 'm'));
  assert.ok(m, name);
  return Number(m[1]);
}
const get = () => request({ port: gatewayPort, path: '/' });

before(async () => {
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  c = await startBackend({ name: 'c' });
  gatewayPort = await freePort();
  control = await startControl(registry([{ port: a.port, zone: 'z1' }, { port: b.port, zone: 'z2' }]),
    { args: ['--debounce', '20ms'] });
  sluice = await startEdge([control.xdsPort], { id: 'edge-d', api: 'DELTA_GRPC' });
  await until(allSynced);
});

after(async () => {
  await sluice?.stop();
  await control?.stop();
  await a?.close();
  await b?.close();
  await c?.close();
});

test('a delta node is configured wholly by sluice-control and traffic flows', { timeout: 20_000 }, async () => {
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  const n = await node();
  assert.equal(n.protocol, 'delta');
  for (const [type, t] of Object.entries(n.types)) {
    assert.equal(t.state, 'SYNCED', type);
    assert.equal(t.acked_version, t.current_version, type);
  }
  assert.deepEqual(n.types.endpoint.names, ['echo.z1', 'echo.z2']);
  // The same content hash a SotW node shows for the same resources.
  const snapshot = (await control.get('/v1/snapshot/edge-d')).body;
  assert.equal(n.types.endpoint.acked_version, snapshot.endpoint.version);
  assert.equal(n.types.listener.acked_version, snapshot.listener.version);
  assert.equal(await metric('connected_delta_proxies'), 1);
  assert.equal(await metric('xds_nacks_total'), 0);
});

test('an instance added to the registry arrives as a delta of one resource', { timeout: 20_000 }, async () => {
  const before = (await node()).types;
  const sent = await metric('xds_resources_sent_total');
  const pushes = await metric('xds_pushes_total');
  control.writeRegistry(registry([{ port: a.port, zone: 'z1' }, { port: c.port, zone: 'z1' }, { port: b.port, zone: 'z2' }]));
  await until(async () => (await node()).types.endpoint.acked_version !== before.endpoint.acked_version);
  await until(allSynced);
  assert.equal(await metric('xds_resources_sent_total') - sent, 1, 'only echo.z1');
  assert.equal(await metric('xds_pushes_total') - pushes, 1);
  assert.equal(await metric('xds_removals_sent_total'), 0);
  const after = (await node()).types;
  for (const type of ['cluster', 'listener', 'route', 'runtime']) assert.equal(after[type].acked_version, before[type].acked_version, type);
  const seen = new Set();
  await until(async () => { seen.add((await get()).headers['x-backend']); return seen.has('c'); });
});

test('a restarted control plane re-sends nothing the proxy already has', { timeout: 30_000 }, async () => {
  const versions = (await node()).types;
  const text = registry([{ port: a.port, zone: 'z1' }, { port: c.port, zone: 'z1' }, { port: b.port, zone: 'z2' }]);
  const port = control.xdsPort;
  await control.stop();
  assert.equal((await get()).status, 200, 'the last good config keeps serving');
  control = await startControl(text, { xdsPort: port, args: ['--debounce', '20ms'] });
  await until(allSynced);
  const after = (await node()).types;
  for (const type of Object.keys(versions)) assert.equal(after[type].acked_version, versions[type].acked_version, type);
  assert.equal(await metric('xds_resources_sent_total'), 0, 'initial_resource_versions matched: nothing re-sent');
  assert.equal((await get()).status, 200);
});

test('a removed service goes last and the proxy ends with exactly the registry', { timeout: 20_000 }, async () => {
  const before = await metric('xds_removals_sent_total');
  const versions = (await node()).types;
  control.writeRegistry(registry([{ port: a.port, zone: 'z1' }]));
  await until(async () => (await node()).types.endpoint.acked_version !== versions.endpoint.acked_version);
  await until(allSynced);
  const n = await node();
  assert.equal(n.types.endpoint.acked_version, (await control.get('/v1/snapshot/edge-d')).body.endpoint.version);
  assert.equal(await metric('xds_removals_sent_total'), before, 'an emptied zone is an update, not a removal');
  for (let i = 0; i < 10; i++) assert.equal((await get()).headers['x-backend'], 'a');
});
