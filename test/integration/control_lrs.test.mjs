// sluice-control's LRS service (envoy.service.load_stats.v3.LoadReportingService,
// on --xds-listen beside ADS) with a scripted client: @grpc/grpc-js and
// proto-loader on Envoy's protos from @grpc/grpc-js-xds (the files
// lib/ads_server.mjs loads); sluice itself reports in control_lrs_edge.test.mjs. The reports
// show in GET /v1/zones and /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startControl } from './lib/control.mjs';

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
const definition = protoLoader.loadSync(['envoy/service/load_stats/v3/lrs.proto'],
  { includeDirs, keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const { LoadReportingService } = grpc.loadPackageDefinition(definition).envoy.service.load_stats.v3;

let control;
let client;

const REGISTRY = `zones: [z1, z2]
services:
  - name: echo
    protocol: grpc
    instances:
      - { address: 127.0.0.1, port: 9001, zone: z1 }
      - { address: 127.0.0.1, port: 9002, zone: z1, health: unhealthy }
      - { address: 127.0.0.1, port: 9003, zone: z2 }
  - name: web
    instances: [ { address: 127.0.0.1, port: 9004, zone: z1, health: degraded } ]
zone_weights: { z2: 40 }
`;

async function until(check) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

// An LRS stream: its first response, and a way to send reports.
async function openStream(node) {
  const call = client.StreamLoadStats();
  call.write({ node });
  const [response] = await once(call, 'data');
  return { call, response };
}

function locality(zone, { issued, successful = issued, errors = 0, inProgress = 0 }) {
  return {
    locality: { zone },
    total_issued_requests: String(issued),
    total_successful_requests: String(successful),
    total_error_requests: String(errors),
    total_requests_in_progress: String(inProgress),
  };
}

async function zone(name) {
  return (await control.get('/v1/zones')).body.zones.find((z) => z.zone === name);
}

before(async () => {
  control = await startControl(REGISTRY, { args: ['--load-reporting-interval', '250ms'] });
  client = new LoadReportingService(`127.0.0.1:${control.xdsPort}`, grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  await control?.stop();
});

test('/v1/zones before any report: weights and instances from the registry, no load', { timeout: 20_000 }, async () => {
  const { status, body } = await control.get('/v1/zones');
  assert.equal(status, 200);
  assert.equal(body.load_reporting_interval_ms, 250);
  assert.equal(body.lrs_streams, 0);
  assert.deepEqual(body.zones.map((z) => [z.zone, z.weight, z.instances, z.healthy_instances, z.reported_rps]),
    [['z1', 100, 3, 2, 0], ['z2', 40, 1, 1, 0]]);
});

test('a client that supports send_all_clusters is told so, with the interval; its reports show per zone', { timeout: 20_000 }, async () => {
  const { call, response } = await openStream({ id: 'lrs-1', user_agent_name: 'gRPC Node Pure JS',
    client_features: ['envoy.lrs.supports_send_all_clusters'] });
  assert.equal(response.send_all_clusters, true);
  assert.deepEqual(response.clusters, []);
  assert.deepEqual(response.load_reporting_interval, { seconds: '0', nanos: 250_000_000 });
  call.write({
    node: { id: 'lrs-1' },
    cluster_stats: [
      { cluster_name: 'echo.z1', load_report_interval: { seconds: 10 }, upstream_locality_stats: [locality('z1', { issued: 50 })] },
      { cluster_name: 'echo.z2', load_report_interval: { seconds: 10 },
        upstream_locality_stats: [locality('z2', { issued: 20, successful: 18, errors: 2, inProgress: 3 })] },
    ],
  });
  await until(async () => (await zone('z1')).reported_rps === 5);
  const z2 = await zone('z2');
  assert.equal(z2.reported_rps, 2);
  assert.deepEqual(z2.load, [{
    node: 'lrs-1', cluster: 'echo.z2', upstream_rq_total: 20, upstream_rq_success: 18, upstream_rq_error: 2,
    upstream_rq_active: 3, interval_seconds: 10, rps: 2, reported_at: z2.load[0].reported_at,
  }]);
  // The next report replaces the last one (the latest load, not a sum).
  call.write({ cluster_stats: [
    { cluster_name: 'echo.z1', load_report_interval: { seconds: 2 }, upstream_locality_stats: [locality('z1', { issued: 30 })] }] });
  await until(async () => (await zone('z1')).reported_rps === 15);
  const metrics = (await control.get('/metrics')).body;
  assert.match(metrics, /^sluice_control_zone_reported_rps\{zone="z1"\} 15(\.0)?$/m);
  assert.match(metrics, /^sluice_control_zone_reported_rps\{zone="z2"\} 2(\.0)?$/m);
  assert.match(metrics, /^sluice_control_zone_weight\{zone="z2"\} 40$/m);
  assert.match(metrics, /^sluice_control_zone_healthy_instances\{zone="z1"\} 2$/m);
  assert.match(metrics, /^sluice_control_lrs_streams 1$/m);
  assert.match(metrics, /^sluice_control_lrs_reports_total 2$/m);
  // A closed stream's loads are dropped: the node no longer reports.
  call.end();
  await until(async () => (await zone('z1')).reported_rps === 0);
  assert.equal((await control.get('/v1/zones')).body.lrs_streams, 0);
});

test('a client without send_all_clusters is asked for its snapshot\'s clusters', { timeout: 20_000 }, async () => {
  const edge = await openStream({ id: 'edge-1', cluster: 'edge', user_agent_name: 'envoy' });
  assert.equal(edge.response.send_all_clusters, false);
  assert.deepEqual(edge.response.clusters, ['web.z1', 'web.z2']);
  const grpcClient = await openStream({ id: 'grpc-1', user_agent_name: 'gRPC Node Pure JS' });
  assert.deepEqual(grpcClient.response.clusters, ['echo.z1', 'echo.z2']);
  edge.call.end();
  grpcClient.call.end();
  await until(async () => (await control.get('/v1/zones')).body.lrs_streams === 0);
});
