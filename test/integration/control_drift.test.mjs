// Drift detection (issue 15, 3) against the real sluice-control on a file
// registry. Scripted ADS clients (@grpc/grpc-js and proto-loader on Envoy's
// protos from @grpc/grpc-js-xds, as control_lrs.test.mjs) subscribe to one
// EDS cluster and answer as told: one ACKs everything, one ACKs its first
// response and NACKs the rest (it keeps serving the first endpoints), one
// never answers. /v1/nodes reports `drift` per node once the ACKed endpoints
// differ from the snapshot's for longer than --drift-threshold; /metrics
// has the gauge and the counter. Then the registry watch's own check: the
// file written in place (inotify's watcher only follows renames, so it
// never sees it) is found by the periodic full read, counted and applied.
// The tests run in order, each building on the last state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startControl, until } from './lib/control.mjs';

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
const definition = protoLoader.loadSync(['envoy/service/discovery/v3/ads.proto'],
  { includeDirs, keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const { AggregatedDiscoveryService } = grpc.loadPackageDefinition(definition).envoy.service.discovery.v3;
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const THRESHOLD_MS = 300;

let control;
let ads;
const clients = [];

function registry(ports) {
  return `zones: [z1]
services:
  - name: web
    instances:
${ports.map((p) => `      - { address: 127.0.0.1, port: ${p}, zone: z1 }`).join('\n')}
`;
}

// An ADS stream of node `id` subscribed to EDS web.z1; `answer(n)` says what
// to do with the n-th response (1-based): 'ack', 'nack' or 'ignore'.
function scriptedNode(id, answer) {
  const call = ads.StreamAggregatedResources();
  const node = { id, cluster: 'callers', user_agent_name: 'drift-test' };
  const names = ['web.z1'];
  const state = { call, responses: 0, acked: '' };
  call.on('data', (r) => {
    state.responses += 1;
    const what = answer(state.responses);
    if (what === 'ack') {
      state.acked = r.version_info;
      call.write({ node, type_url: EDS, resource_names: names, version_info: r.version_info, response_nonce: r.nonce });
    } else if (what === 'nack') {
      call.write({ node, type_url: EDS, resource_names: names, version_info: state.acked, response_nonce: r.nonce,
        error_detail: { code: 3, message: 'scripted NACK' } });
    }
  });
  call.on('error', () => {});
  call.write({ node, type_url: EDS, resource_names: names });
  clients.push(state);
  return state;
}

async function drift(id) {
  const { status, body } = await control.get(`/v1/nodes/${id}`);
  return status === 200 ? body.streams[0].drift : undefined;
}

async function metric(name) {
  const m = (await control.get('/metrics')).body.match(new RegExp(`^sluice_control_${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

before(async () => {
  control = await startControl(registry([9001]), {
    args: ['--debounce', '20ms', '--drift-threshold', `${THRESHOLD_MS}ms`, '--watch-check-interval', '200ms'],
  });
  ads = new AggregatedDiscoveryService(`127.0.0.1:${control.xdsPort}`, grpc.credentials.createInsecure());
});

after(async () => {
  for (const c of clients) c.call.cancel();
  ads?.close();
  await control?.stop();
});

test('a proxy that never ACKs EDS is reported behind after the threshold; one that ACKs stays in sync', { timeout: 20_000 }, async () => {
  const connected = Date.now();
  scriptedNode('good', () => 'ack');
  scriptedNode('lagging', (n) => (n === 1 ? 'ack' : 'nack'));
  scriptedNode('silent', () => 'ignore');
  await until(async () => (await drift('silent'))?.state === 'behind', 'silent behind');
  const silent = await drift('silent');
  assert.ok(Date.now() - connected >= THRESHOLD_MS, 'not reported before the threshold');
  assert.deepEqual(silent.clusters_behind, ['web.z1']);
  assert.match(silent.behind_since, /^\d{4}-\d\d-\d\dT/);
  assert.equal(silent.clusters[0].acked_version, '');
  assert.notEqual(silent.clusters[0].current_endpoints_hash, '');
  await until(async () => (await drift('good'))?.clusters?.[0]?.acked_version !== '', 'good ACKed');
  for (const id of ['good', 'lagging']) {
    const d = await drift(id);
    assert.equal(d.state, 'in_sync', id);
    assert.deepEqual(d.clusters_behind, [], id);
    assert.equal(d.clusters[0].acked_version, d.clusters[0].current_version, id);
    assert.equal(d.clusters[0].acked_endpoints_hash, d.clusters[0].current_endpoints_hash, id);
  }
  // /v1/nodes carries the same field for every node.
  const nodes = (await control.get('/v1/nodes')).body.nodes;
  assert.deepEqual(nodes.map((n) => [n.id, n.drift.state]).sort(), [['good', 'in_sync'], ['lagging', 'in_sync'], ['silent', 'behind']]);
  assert.equal(await metric('drifted_proxies'), 1);
  assert.equal(await metric('drift_events_total'), 1);
});

test('a proxy that NACKs a registry change keeps its old endpoints and goes behind; back in sync when the registry comes back', { timeout: 20_000 }, async () => {
  const before = await drift('lagging');
  control.writeRegistry(registry([9001, 9002]));
  await until(async () => (await drift('lagging')).state === 'behind', 'lagging behind');
  const d = await drift('lagging');
  assert.deepEqual(d.clusters_behind, ['web.z1']);
  assert.equal(d.clusters[0].acked_version, before.clusters[0].acked_version, 'still what it ACKed first');
  assert.notEqual(d.clusters[0].acked_endpoints_hash, d.clusters[0].current_endpoints_hash);
  await until(async () => (await drift('good')).clusters[0].current_version === d.clusters[0].current_version, 'good on the change');
  await until(async () => (await drift('good')).clusters[0].acked_version === d.clusters[0].current_version, 'good ACKed the change');
  assert.equal((await drift('good')).state, 'in_sync');
  assert.equal(await metric('drifted_proxies'), 2);
  assert.equal(await metric('drift_events_total'), 2);
  // The registry back to what the lagging proxy serves: it is in sync again
  // (its ACKed endpoints are the snapshot's), and no new event is counted.
  control.writeRegistry(registry([9001]));
  await until(async () => (await drift('lagging')).state === 'in_sync', 'lagging in sync again');
  assert.equal(await metric('drifted_proxies'), 1);
  assert.equal(await metric('drift_events_total'), 2);
});

test('the registry watch check: a file written in place (unseen by the watcher) is found, counted and applied', { timeout: 20_000 }, async () => {
  // The renames above reached the control plane through the watcher: no mismatch so far.
  await until(async () => (await control.get('/v1/registry')).body.watch_check.checks >= 2, 'two checks');
  let reg = (await control.get('/v1/registry')).body;
  assert.equal(reg.watch_check.mismatches, 0);
  assert.equal(reg.watch_check.last_result, 'in_sync');
  assert.equal(reg.watch_check.interval_ms, 200);
  const accepted = reg.accepted;
  writeFileSync(control.registryPath, registry([9001, 9003]));
  await until(async () => (await control.get('/v1/registry')).body.watch_check.mismatches === 1, 'the mismatch');
  reg = (await control.get('/v1/registry')).body;
  assert.match(reg.watch_check.last_mismatch, /not what the watcher delivered/);
  assert.match(reg.watch_check.last_mismatch_at, /^\d{4}-/);
  await until(async () => (await control.get('/v1/registry')).body.accepted === accepted + 1, 'the full read applied');
  reg = (await control.get('/v1/registry')).body;
  assert.deepEqual(reg.registry.services[0].instances.map((i) => i.port), [9001, 9003]);
  // It reaches the proxies like any update: the ACKing one takes it.
  await until(async () => {
    const d = await drift('good');
    return d.clusters[0].acked_version === d.clusters[0].current_version && d.clusters[0].current_version !== '';
  }, 'good on the applied read');
  assert.equal(await metric('registry_watch_mismatches_total'), 1);
  assert.match(control.stderr, /watch check: the file's content/);
  // Applied once: the next checks find the file and the watched state equal.
  const checks = (await control.get('/v1/registry')).body.watch_check.checks;
  await until(async () => (await control.get('/v1/registry')).body.watch_check.checks >= checks + 2, 'two more checks');
  assert.equal((await control.get('/v1/registry')).body.watch_check.mismatches, 1);
});
