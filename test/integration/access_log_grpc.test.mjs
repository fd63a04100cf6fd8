// envoy.access_loggers.http_grpc against the real binary: a scripted
// AccessLogService (lib/als_server.mjs) receives the entries; they are
// checked field by field (a flush every 20 ms below the default 16 KiB:
// buffer_flush_interval sends them; buffer_size_bytes has its own test). The
// service dying costs log entries (counted), never a request; it comes back
// and the entries flow again on a new stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, routes, staticCluster, SLUICE } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { AlsServer } from './lib/als_server.mjs';

let als;
let backend;
let sluice;

function alsLog(extra = {}) {
  return {
    name: 'envoy.access_loggers.http_grpc',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig',
      common_config: {
        log_name: 'edge-log',
        transport_api_version: 'V3',
        grpc_service: { envoy_grpc: { cluster_name: 'als' } },
        buffer_flush_interval: '0.02s',
        ...extra,
      },
      additional_request_headers_to_log: ['X-Extra'],
      additional_response_headers_to_log: ['x-backend'],
    },
  };
}
function bootstrap(alsPort, log = alsLog()) {
  return {
    node: { id: 'edge-7', cluster: 'edge' },
    static_resources: {
      listeners: [httpListener({
        name: 'ingress',
        routeConfig: routes([{ name: 'all', match: { prefix: '/' }, route: { cluster: 'web' } }]),
        hcm: { access_log: [log] },
      })],
      clusters: [staticCluster('web', [backend.port]), staticCluster('als', [alsPort], { http2_protocol_options: {} })],
    },
  };
}
async function until(check) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}
const get = (path, headers = {}) => request({ port: sluice.port('ingress'), path, headers });

before(async () => {
  backend = await startBackend({ name: 'b1' });
  als = new AlsServer();
  await als.start();
  sluice = await startSluice(bootstrap(als.port));
});

after(async () => {
  await sluice?.stop();
  als?.stop();
  await backend?.close();
});

test('each request is an HTTPAccessLogEntry on the service, field by field', { timeout: 20_000 }, async () => {
  const res = await get('/hello?x=1', { 'x-extra': 'yes', 'user-agent': 'als-test', 'x-request-id': 'rid-1' });
  assert.equal(res.status, 200);
  await als.until(() => als.entries.length >= 1);
  const [first] = als.streams[0].messages;
  assert.equal(first.identifier.log_name, 'edge-log');
  assert.equal(first.identifier.node.id, 'edge-7');
  assert.equal(first.identifier.node.user_agent_name, 'sluice');
  const e = als.entries[0];
  assert.equal(e.protocol_version, 'HTTP11');
  assert.equal(e.request.request_method, 'GET');
  assert.equal(e.request.scheme, 'http');
  assert.equal(e.request.path, '/hello?x=1');
  assert.equal(e.request.authority, `127.0.0.1:${sluice.port('ingress')}`);
  assert.equal(e.request.user_agent, 'als-test');
  assert.equal(e.request.request_id, 'rid-1');
  assert.deepEqual(e.request.request_headers, { 'x-extra': 'yes' });
  assert.ok(e.request.request_headers_bytes > 0);
  assert.equal(e.response.response_code.value, 200);
  assert.equal(e.response.response_code_details, 'via_upstream');
  assert.deepEqual(e.response.response_headers, { 'x-backend': 'b1' });
  const c = e.common_properties;
  assert.equal(c.upstream_cluster, 'web');
  assert.equal(c.route_name, 'all');
  assert.equal(c.downstream_remote_address.socket_address.address, '127.0.0.1');
  assert.equal(c.downstream_local_address.socket_address.port_value, sluice.port('ingress'));
  assert.equal(c.upstream_remote_address.socket_address.port_value, backend.port);
  assert.ok(c.upstream_local_address.socket_address.port_value > 0);
  assert.ok(Math.abs(Number(c.start_time.seconds) * 1000 - Date.now()) < 60_000);
  assert.ok(c.time_to_last_downstream_tx_byte !== undefined);
  assert.equal(c.response_flags, undefined, 'no flag on a good request');
});

test('response flags and the code come through: a refused upstream is 503 with upstream_connection_failure', { timeout: 20_000 }, async () => {
  await backend.close();
  const down = await get('/gone');
  assert.equal(down.status, 503);
  await als.until(() => als.entries.some((e) => e.request.path === '/gone'));
  const e = als.entries.find((x) => x.request.path === '/gone');
  assert.equal(e.response.response_code.value, 503);
  assert.equal(e.common_properties.response_flags.upstream_connection_failure, true);
  assert.equal(e.common_properties.response_flags.no_route_found, undefined);
  backend = await startBackend({ name: 'b1', port: backend.port });
});

test('entries are batched: one message carries several, the identifier only on the first', { timeout: 20_000 }, async () => {
  const before = als.streams[0].messages.length;
  await Promise.all(Array.from({ length: 20 }, (_, i) => get(`/batch/${i}`)));
  await als.until(() => als.entries.filter((e) => e.request.path.startsWith('/batch/')).length === 20);
  const later = als.streams[0].messages.slice(before);
  assert.ok(later.length < 20, `20 entries in ${later.length} messages`);
  assert.ok(later.every((m) => m.identifier === undefined || m.identifier === null));
  assert.equal(await sluice.stat('access_logs.grpc_access_log.logs_written'), als.entries.length);
});

test('the service dies: requests are unaffected, entries dropped and counted; it returns: a new stream, identifier again', { timeout: 20_000 }, async () => {
  const port = als.port;
  als.stop();
  // What was written to the stream as it died is lost unseen (as in Envoy: a
  // client stream has no per-message answer); the next write fails, and from
  // then on entries are dropped and counted.
  let i = 0;
  await until(async () => {
    assert.equal((await get(`/while-down/${i++}`)).status, 200);
    return (await sluice.stat('access_logs.grpc_access_log.logs_dropped')) > 0;
  });
  als = new AlsServer();
  await als.start(port);
  // After the backoff (500 ms doubling) a new stream carries the entries again.
  await until(async () => {
    await get('/after');
    return als.entries.some((e) => e.request.path === '/after');
  });
  assert.equal(als.streams[0].messages[0].identifier.log_name, 'edge-log');
  assert.equal(als.streams[0].messages[0].identifier.node.id, 'edge-7');
});

test('buffer_size_bytes sends as soon as that many bytes wait; buffer_flush_interval alone would wait an hour', { timeout: 20_000 }, async () => {
  const service = new AlsServer();
  await service.start();
  const s = await startSluice(bootstrap(service.port, alsLog({ buffer_flush_interval: '3600s', buffer_size_bytes: 1 })));
  try {
    assert.equal((await request({ port: s.port('ingress'), path: '/by-size' })).status, 200);
    await service.until(() => service.entries.some((e) => e.request.path === '/by-size'));
  } finally {
    await s.stop();
    service.stop();
  }
});

function validate(config) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-als-'));
  const file = join(dir, 'bootstrap.json');
  writeFileSync(file, JSON.stringify(config));
  return spawnSync(SLUICE, ['--mode', 'validate', '-c', file], { encoding: 'utf8' });
}

test('config: a non-static cluster, V2 and an unsupported field are refused by name', () => {
  const bad = bootstrap(1, alsLog({ transport_api_version: 'AUTO', grpc_service: { envoy_grpc: { cluster_name: 'nope' } } }));
  const r = validate(bad);
  assert.equal(r.status, 1);
  assert.match(r.stderr + r.stdout, /access_log\[0\]\.typed_config\.common_config\.transport_api_version: must be V3/);
  assert.match(r.stderr + r.stdout, /common_config\.grpc_service\.envoy_grpc\.cluster_name: 'nope' is not a cluster of static_resources/);
  const unsupported = validate(bootstrap(1, alsLog({ filter_state_objects_to_log: ['x'] })));
  assert.equal(unsupported.status, 1);
  assert.match(unsupported.stderr + unsupported.stdout, /filter_state_objects_to_log/);
  assert.equal(validate(bootstrap(1)).status, 0);
});
