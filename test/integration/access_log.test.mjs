// Access logs: real requests through sluice, each stream's line read back from
// the file (JSON, parsed field by field) or from sluice's stdout (Envoy's
// default text format); filters; SIGUSR1 reopens a renamed file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { WebSocket } from 'ws';
import { SLUICE, startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-access-log-'));
const allLog = join(dir, 'all.log');
const errorLog = join(dir, 'errors.log');
const slowLog = join(dir, 'slow.log');
let backend;
let sluice;
let stdout = '';

const jsonFormat = {
  start: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  code: '%RESPONSE_CODE%',
  flags: '%RESPONSE_FLAGS%',
  details: '%RESPONSE_CODE_DETAILS%',
  received: '%BYTES_RECEIVED%',
  sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  request_duration: '%REQUEST_DURATION%',
  response_duration: '%RESPONSE_DURATION%',
  upstream: { host: '%UPSTREAM_HOST%', cluster: '%UPSTREAM_CLUSTER%', local: '%UPSTREAM_LOCAL_ADDRESS%',
    failure: '%UPSTREAM_TRANSPORT_FAILURE_REASON%' },
  downstream: { remote: '%DOWNSTREAM_REMOTE_ADDRESS%', local: '%DOWNSTREAM_LOCAL_ADDRESS%' },
  route: '%ROUTE_NAME%',
  connection: '%CONNECTION_ID%',
  hostname: '%HOSTNAME%',
  id: '%REQ(X-TEST-ID)%',
  backend: '%RESP(X-BACKEND)%',
};

function fileLog(path, extra = {}) {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path,
      ...extra,
    },
  };
}

// A port nothing listens on.
async function closedPort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

// Polls `read()` every 20 ms until `done(value)`; fails after 5 s.
async function waitFor(read, done, what) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lines(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
}

// The JSON line of the request sent with x-test-id: `id`.
async function lineFor(id, path = allLog) {
  const found = await waitFor(() => lines(path).map((l) => JSON.parse(l)).find((l) => l.id === id),
    (l) => l !== undefined, `the line of ${id} in ${path}`);
  return found;
}

before(async () => {
  backend = await startBackend({ name: 'web', websocket: true });
  const refused = await closedPort();
  sluice = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([
          { name: 'ok-route', match: { prefix: '/ok' }, route: { cluster: 'web' } },
          { name: 'slow-route', match: { prefix: '/delay' }, route: { cluster: 'web', timeout: '0.3s' } },
          { match: { prefix: '/uh' }, route: { cluster: 'nowhere' } },
          { match: { prefix: '/uf' }, route: { cluster: 'refused' } },
          { match: { prefix: '/ws' }, route: { cluster: 'web' } },
          { match: { prefix: '/direct' }, direct_response: { status: 204 } },
        ]),
        hcm: {
          upgrade_configs: [{ upgrade_type: 'websocket' }],
          access_log: [
            fileLog(allLog, { log_format: { json_format: jsonFormat } }),
            {
              ...fileLog(errorLog, { log_format: { json_format: { code: '%RESPONSE_CODE%', id: '%REQ(X-TEST-ID)%' } } }),
              filter: { status_code_filter: { comparison: { op: 'GE', value: { default_value: 500, runtime_key: 'k' } } } },
            },
            {
              ...fileLog(slowLog, { log_format: { json_format: { ms: '%DURATION%', id: '%REQ(X-TEST-ID)%' } } }),
              filter: { duration_filter: { comparison: { op: 'GE', value: { default_value: 200, runtime_key: 'k' } } } },
            },
            {
              name: 'envoy.access_loggers.stdout',
              typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' },
            },
          ],
        },
      })],
      clusters: [
        staticCluster('web', [backend.port]),
        staticCluster('refused', [refused]),
        {
          name: 'nowhere', type: 'STRICT_DNS', connect_timeout: '1s',
          load_assignment: { cluster_name: 'nowhere', endpoints: [{ lb_endpoints: [{ endpoint: { address: {
            socket_address: { address: 'no-such-host.invalid', port_value: 80 } } } }] }] },
        },
      ],
    },
  });
  sluice.child.stdout.setEncoding('utf8');
  sluice.child.stdout.on('data', (c) => { stdout += c; });
});

after(async () => {
  if (sluice) assert.equal(await sluice.stop(), 0);
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a proxied 200 names its upstream host and cluster', async () => {
  const res = await request({ port: sluice.port(), path: '/ok/a?x=1', method: 'POST', body: 'hello',
    headers: { 'x-test-id': 'ok' } });
  assert.equal(res.status, 200);
  const l = await lineFor('ok');
  assert.match(l.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(l.method, 'POST');
  assert.equal(l.path, '/ok/a?x=1');
  assert.equal(l.protocol, 'HTTP/1.1');
  assert.equal(l.code, 200);
  assert.equal(l.flags, '-');
  assert.equal(l.details, 'via_upstream');
  assert.equal(l.received, 5);
  assert.equal(l.sent, Buffer.byteLength(res.body));
  assert.equal(typeof l.duration, 'number');
  assert.ok(l.request_duration <= l.duration);
  assert.ok(l.response_duration <= l.duration);
  assert.equal(l.upstream.host, `127.0.0.1:${backend.port}`);
  assert.equal(l.upstream.cluster, 'web');
  assert.match(l.upstream.local, /^127\.0\.0\.1:\d+$/);
  assert.equal(l.upstream.failure, null);
  assert.match(l.downstream.remote, /^127\.0\.0\.1:\d+$/);
  assert.equal(l.downstream.local, `127.0.0.1:${sluice.port()}`);
  assert.equal(l.route, 'ok-route');
  assert.equal(typeof l.connection, 'number');
  assert.ok(l.hostname.length > 0);
  assert.equal(l.backend, 'web');
});

test('404 NR when no route matches', async () => {
  const res = await request({ port: sluice.port(), path: '/none', headers: { 'x-test-id': 'nr' } });
  assert.equal(res.status, 404);
  const l = await lineFor('nr');
  assert.equal(l.code, 404);
  assert.equal(l.flags, 'NR');
  assert.equal(l.details, 'route_not_found');
  assert.equal(l.route, null);
  assert.equal(l.upstream.host, null);
  assert.equal(l.response_duration, null);
});

test('503 UH when the cluster has no hosts', async () => {
  const res = await request({ port: sluice.port(), path: '/uh', headers: { 'x-test-id': 'uh' } });
  assert.equal(res.status, 503);
  const l = await lineFor('uh');
  assert.equal(l.code, 503);
  assert.equal(l.flags, 'UH');
  assert.equal(l.upstream.cluster, 'nowhere');
  assert.equal(l.upstream.host, null);
});

test('503 UF when the upstream refuses the connection', async () => {
  const res = await request({ port: sluice.port(), path: '/uf', headers: { 'x-test-id': 'uf' } });
  assert.equal(res.status, 503);
  const l = await lineFor('uf');
  assert.equal(l.code, 503);
  assert.equal(l.flags, 'UF');
  assert.equal(l.upstream.failure, 'delayed_connect_error:_Connection_refused');
  assert.equal(l.upstream.local, null);
  assert.equal(l.sent, Buffer.byteLength(res.body));
});

test('504 UT when the route timeout fires, and the duration filter keeps slow lines', async () => {
  const res = await request({ port: sluice.port(), path: '/delay/2000', headers: { 'x-test-id': 'ut' } });
  assert.equal(res.status, 504);
  const l = await lineFor('ut');
  assert.equal(l.code, 504);
  assert.equal(l.flags, 'UT');
  assert.equal(l.details, 'upstream_response_timeout');
  assert.ok(l.duration >= 290, `duration ${l.duration}`);
  const slow = await lineFor('ut', slowLog);
  assert.ok(slow.ms >= 200);
});

test('DC when the client leaves before the response', async () => {
  const socket = net.connect(sluice.port(), '127.0.0.1');
  await once(socket, 'connect');
  const arrived = once(backend.events, 'request');
  socket.write('GET /delay/250 HTTP/1.1\r\nhost: x\r\nx-test-id: dc\r\n\r\n');
  await arrived;
  socket.destroy();
  const l = await lineFor('dc');
  assert.equal(l.flags, 'DC');
  assert.equal(l.code, 0);
  assert.equal(l.upstream.host, `127.0.0.1:${backend.port}`);
});

test('a WebSocket tunnel is logged once, when it closes', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${sluice.port()}/ws`, { headers: { 'x-test-id': 'ws' } });
  await once(ws, 'open');
  ws.send('ping!');
  const [echoed] = await once(ws, 'message');
  assert.equal(echoed.toString(), 'ping!');
  assert.equal(lines(allLog).map((x) => JSON.parse(x)).find((x) => x.id === 'ws'), undefined);
  ws.close();
  const l = await lineFor('ws');
  assert.equal(l.code, 101);
  assert.equal(l.upstream.cluster, 'web');
  assert.ok(l.received > 0 && l.sent > 0, `bytes ${l.received}/${l.sent}`);
});

test('the status code filter keeps only 5xx lines', async () => {
  await request({ port: sluice.port(), path: '/direct', headers: { 'x-test-id': 'direct' } });
  const direct = await lineFor('direct');
  assert.equal(direct.code, 204);
  await lineFor('uf', errorLog);
  const codes = lines(errorLog).map((x) => JSON.parse(x).code);
  assert.ok(codes.length > 0);
  for (const c of codes) assert.ok(c >= 500, `code ${c} in the error log`);
});

test('stdout carries Envoy\'s default text format', async () => {
  await request({ port: sluice.port(), path: '/ok/text', headers: { 'user-agent': 'agent/1', 'x-request-id': 'rid-1' } });
  const line = await waitFor(() => stdout.split('\n').find((l) => l.includes('/ok/text')), (l) => l !== undefined,
    'the stdout line');
  const m = line.match(/^\[(\S+)\] "GET \/ok\/text HTTP\/1\.1" 200 - 0 (\d+) (\d+) (\d+) "-" "agent\/1" "rid-1" "127\.0\.0\.1:\d+" "127\.0\.0\.1:(\d+)"$/);
  assert.ok(m, line);
  assert.match(m[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(Number(m[5]), backend.port);
});

test('SIGUSR1 reopens the file after logrotate renamed it', async () => {
  await request({ port: sluice.port(), path: '/ok/before', headers: { 'x-test-id': 'before' } });
  await lineFor('before');
  renameSync(allLog, `${allLog}.1`);
  process.kill(sluice.pid, 'SIGUSR1');
  await waitFor(() => existsSync(allLog), (e) => e, 'the reopened file');
  await request({ port: sluice.port(), path: '/ok/after', headers: { 'x-test-id': 'after' } });
  const l = await lineFor('after');
  assert.equal(l.code, 200);
  assert.ok(!lines(`${allLog}.1`).some((x) => JSON.parse(x).id === 'after'));
  assert.ok(lines(`${allLog}.1`).some((x) => JSON.parse(x).id === 'before'));
});

test('--mode validate rejects an unknown operator, naming the field', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{ match: { prefix: '/' }, direct_response: { status: 200 } }]),
        hcm: { access_log: [fileLog(join(dir, 'never.log'), { log_format: { text_format_source: {
          inline_string: '%RESPONSE_CODE% %NOT_AN_OPERATOR%\n' } } })] },
      })],
    },
  }));
  const run = spawnSync(SLUICE, ['--mode', 'validate', '-c', file], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr,
    /access_log\[0\]\.typed_config\.log_format\.text_format_source\.inline_string: unknown command operator %NOT_AN_OPERATOR%/);
  assert.equal(existsSync(join(dir, 'never.log')), false);
});
