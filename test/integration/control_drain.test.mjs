// Zone drains (issue 15, points 1 and 2) with the real binaries:
// sluice-control on a file registry with three zones of one backend each,
// and a real sluice edge node configured by it. Drains through the REST API
// and the CLI, the state file, SIGKILL mid-drain and the resume, the
// guard's capacity refusal and --force, and its pause on the remaining
// zones' error rate (reported over LRS by a scripted client).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { CONTROL, startControl, startEdge, freePort, until, nodeSynced } from './lib/control.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
const { LoadReportingService } = grpc.loadPackageDefinition(protoLoader.loadSync(['envoy/service/load_stats/v3/lrs.proto'],
  { includeDirs, keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })).envoy.service.load_stats.v3;

let control;
let sluice;
const backends = {};
let gatewayPort;
let xdsPort;
let stateDir;
let stateFile;
let registryText;

const ZONES = ['z1', 'z2', 'z3'];

function registry() {
  return `zones: [${ZONES.join(', ')}]
services:
  - name: echo
    instances:
${ZONES.map((z) => `      - { address: 127.0.0.1, port: ${backends[z].port}, zone: ${z} }`).join('\n')}
gateways:
  - name: edge
    port: ${gatewayPort}
    address: 127.0.0.1
    virtual_hosts:
      - domains: ["*"]
        routes: [ { prefix: "/", service: echo } ]
`;
}

const ARGS = () => ['--debounce', '10ms', '--state-file', stateFile, '--load-reporting-interval', '100ms',
  '--guard-min-requests', '10'];

async function zone(name) {
  return (await control.get('/v1/zones')).body.zones.find((z) => z.zone === name);
}

async function drain(name, action, body) {
  return control.call('POST', `/v1/zones/${name}/${action}`, body);
}

// Which zone answers each of `n` requests through the edge.
async function spread(n = 90) {
  const counts = { z1: 0, z2: 0, z3: 0 };
  for (let i = 0; i < n; i++) {
    const res = await request({ port: gatewayPort, path: '/', agent: false });
    assert.equal(res.status, 200);
    counts[res.headers['x-backend']] += 1;
  }
  return counts;
}

// Waits until sluice's runtime holds `weight` for `zone` (the RTDS push landed).
async function proxyWeight(name, weight) {
  await until(async () => {
    const res = await request({ port: Number(sluice.admin.split(':')[1]), path: '/runtime' });
    const entries = JSON.parse(res.body).entries ?? {};
    const key = Object.keys(entries).find((k) => k.endsWith(`echo.${name}`));
    const value = key === undefined ? undefined : Number(entries[key].final_value);
    return value === weight;
  }, `sluice's runtime weight of ${name} at ${weight}`);
}

before(async () => {
  for (const z of ZONES) backends[z] = await startBackend({ name: z });
  gatewayPort = await freePort();
  xdsPort = await freePort();
  stateDir = mkdtempSync(join(tmpdir(), 'sluice-drain-it-'));
  stateFile = join(stateDir, 'drains.json');
  registryText = registry();
  control = await startControl(registryText, { args: ARGS(), xdsPort });
  sluice = await startEdge([xdsPort]);
  await until(() => nodeSynced(control, 'edge-1'), 'the edge node SYNCED');
});

after(async () => {
  await sluice?.stop();
  await control?.stop();
  for (const b of Object.values(backends)) await b.close();
  rmSync(stateDir, { recursive: true, force: true });
});

test('/v1/zones before any drain: every zone idle at the registry\'s weight', { timeout: 20_000 }, async () => {
  const { status, body } = await control.get('/v1/zones');
  assert.equal(status, 200);
  assert.deepEqual(body.zones.map((z) => [z.zone, z.weight, z.registry_weight, z.state, z.weight_source]),
    [['z1', 100, 100, 'idle', 'registry'], ['z2', 100, 100, 'idle', 'registry'], ['z3', 100, 100, 'idle', 'registry']]);
  assert.deepEqual(body.guard, { max_load_factor: 1.5, max_error_rate: 0.05, min_requests: 10, rollback_steps: 2 });
  assert.equal(body.drain_store.store, `file:${stateFile}`);
  const counts = await spread();
  for (const z of ZONES) assert.ok(counts[z] > 0, `${z} gets traffic: ${JSON.stringify(counts)}`);
});

test('a drain steps a zone to its target, saves every step, and traffic leaves the zone', { timeout: 30_000 }, async () => {
  const res = await drain('z3', 'drain', { to: 0, step: 25, every: '50ms' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.zone, 'z3');
  assert.equal(res.body.target, 0);
  assert.equal(res.body.from, 100);
  assert.equal(res.body.guard.state, 'ok');
  // 3 equal zones, one drained: the other two take 1.5 times their share.
  assert.equal(res.body.guard.load_factor, 1.5);
  await until(async () => (await zone('z3')).state === 'done', 'z3 drained');
  const z3 = await zone('z3');
  assert.equal(z3.weight, 0);
  assert.equal(z3.drain.steps, 4);
  assert.equal(z3.weight_source, 'drain');
  const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
  assert.equal(saved.drains.z3.weight, 0);
  assert.equal(saved.drains.z3.state, 'done');
  await proxyWeight('z3', 0);
  const counts = await spread();
  assert.equal(counts.z3, 0, JSON.stringify(counts));
  const metrics = (await control.get('/metrics')).body;
  assert.match(metrics, /^sluice_control_zone_weight\{zone="z3"\} 0$/m);
  assert.match(metrics, /^sluice_control_drain_steps_total 4$/m);
  assert.match(metrics, /^sluice_control_drains_completed_total 1$/m);
});

test('the guard refuses to drain a second of three zones; --force overrides it, logged and counted', { timeout: 30_000 }, async () => {
  const refused = await drain('z2', 'drain', { to: 0, step: 50, every: '50ms' });
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /refused by the guard: service 'echo': zone z1 would take 100% of the traffic with 33% of the healthy instance weight \(1\/3\): load factor 3\.00, over the limit 1\.50/);
  assert.equal(refused.body.guard.state, 'refused');
  assert.equal((await zone('z2')).state, 'idle');
  assert.match(control.stderr, /zone z2: drain to 0 refused by the guard/);
  // Half of z2 is within the limit: z1 takes 100/150 of the traffic with a third of the capacity = 2.0, still over.
  assert.equal((await drain('z2', 'drain', { to: 50 })).status, 409);
  const forced = await drain('z2', 'drain', { to: 50, step: 50, every: '50ms', force: true });
  assert.equal(forced.status, 200);
  assert.equal(forced.body.forced, true);
  assert.equal(forced.body.guard.state, 'forced');
  assert.match(control.stderr, /zone z2: drain to 50 forced over the guard/);
  await until(async () => (await zone('z2')).weight === 50);
  const metrics = (await control.get('/metrics')).body;
  assert.match(metrics, /^sluice_control_drain_guard_refusals_total 2$/m);
  assert.match(metrics, /^sluice_control_drain_guard_forced_total 1$/m);
  // Undrains are never refused; back at the registry's weight the record goes.
  for (const z of ['z2', 'z3']) {
    const back = await drain(z, 'undrain', { step: 50, every: '20ms' });
    assert.equal(back.status, 200, JSON.stringify(back.body));
  }
  await until(async () => (await zone('z2')).state === 'idle' && (await zone('z3')).state === 'idle', 'both undrained');
  assert.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { drains: {} });
  await proxyWeight('z3', 100);
});

test('abort stops a drain where it is; resume goes on from there', { timeout: 30_000 }, async () => {
  const started = await drain('z1', 'drain', { to: 0, step: 10, every: '1m' });
  assert.equal(started.status, 200);
  // The first step is taken at once; the next one is a minute away.
  await until(async () => (await zone('z1')).weight === 90);
  assert.equal((await zone('z1')).state, 'draining');
  const aborted = await drain('z1', 'abort');
  assert.equal(aborted.status, 200);
  assert.equal(aborted.body.state, 'aborted');
  assert.equal(aborted.body.weight, 90);
  assert.equal((await drain('z1', 'abort')).status, 409);
  const resumed = await drain('z1', 'resume');
  assert.equal(resumed.status, 200);
  await until(async () => (await zone('z1')).weight === 80);
  assert.equal((await zone('z1')).state, 'draining');
  assert.equal((await drain('z1', 'abort')).status, 200);
  assert.equal((await drain('z1', 'undrain', { step: 100, every: '10ms' })).status, 200);
  await until(async () => (await zone('z1')).state === 'idle');
});

test('bad drain requests get a clear error and change nothing', { timeout: 20_000 }, async () => {
  const cases = [
    [['z9', 'drain', { to: 0 }], 404, /zone 'z9' is not in the registry/],
    [['z1', 'drain', {}], 400, /to: required/],
    [['z1', 'drain', { to: 101 }], 400, /to: expected an integer from 0 to 100/],
    [['z1', 'drain', { to: 0, step: 0 }], 400, /step: at least 1/],
    [['z1', 'drain', { to: 0, every: 'soon' }], 400, /every: expected a positive duration/],
    [['z1', 'drain', { to: 0, every: 5 }], 400, /every: expected a duration string/],
    [['z1', 'drain', { to: 0, speed: 'fast' }], 400, /unknown field 'speed'/],
    [['z1', 'drain', { to: 0, force: 'yes' }], 400, /force: expected true or false/],
    [['z1', 'undrain', { to: 50 }], 400, /undrain always goes to 100/],
    [['z1', 'explode', {}], 404, /unknown action 'explode'/],
    [['z1', 'resume', {}], 409, /no paused or aborted drain/],
  ];
  for (const [[z, action, body], status, message] of cases) {
    const res = await drain(z, action, body);
    assert.equal(res.status, status, `${z}/${action} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error, message);
  }
  const notJson = await request({ port: control.httpPort, path: '/v1/zones/z1/drain', method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': 3 }, body: '{x:' });
  assert.equal(notJson.status, 400);
  const get = await control.call('GET', '/v1/zones/z1/drain');
  assert.equal(get.status, 405);
  for (const z of ZONES) assert.equal((await zone(z)).state, 'idle');
});

test('the CLI: drain, status, abort without a zone, undrain; errors exit 1', { timeout: 30_000 }, async () => {
  const url = `http://127.0.0.1:${control.httpPort}`;
  const started = await run(CONTROL, ['drain', 'z2', '--to', '0', '--step', '5', '--every', '1m', '--control', url]);
  assert.match(started.stdout, /zone z2: draining at weight 100, target 0, step 5 every 60000ms/);
  await until(async () => (await zone('z2')).weight === 95);
  const status = await run(CONTROL, ['status', '--control', url]);
  assert.match(status.stdout, /^ZONE +WEIGHT +TARGET +STATE/m);
  assert.match(status.stdout, /^z2 +95 +0 +draining +5 +60000ms/m);
  assert.match(status.stdout, /^z1 +100 +100 +idle/m);
  const aborted = await run(CONTROL, ['abort', '--control', url]);
  assert.match(aborted.stdout, /zone z2: aborted at weight 95/);
  const undrained = await run(CONTROL, ['undrain', 'z2', '--step', '100', '--every', '10ms', '--control', url]);
  assert.match(undrained.stdout, /zone z2: draining at weight 95, target 100/);
  await until(async () => (await zone('z2')).state === 'idle');
  await assert.rejects(run(CONTROL, ['drain', 'z9', '--to', '0', '--control', url]),
    (e) => e.code === 1 && /zone 'z9' is not in the registry/.test(e.stderr));
  await assert.rejects(run(CONTROL, ['drain', 'z1', '--control', url]),
    (e) => e.code === 1 && /drain needs --to PERCENT/.test(e.stderr));
  await assert.rejects(run(CONTROL, ['status', '--control', 'http://127.0.0.1:1']),
    (e) => e.code === 1 && /127\.0\.0\.1:1/.test(e.stderr));
});

test('the guard pauses a drain and rolls back when the remaining zones fail (LRS)', { timeout: 30_000 }, async () => {
  const client = new LoadReportingService(`127.0.0.1:${xdsPort}`, grpc.credentials.createInsecure());
  const call = client.StreamLoadStats();
  try {
    call.write({ node: { id: 'lrs-probe', client_features: ['envoy.lrs.supports_send_all_clusters'] } });
    await once(call, 'data');
    // Slow enough that a busy machine cannot finish it before the reports land.
    const started = await drain('z3', 'drain', { to: 0, step: 5, every: '300ms' });
    assert.equal(started.status, 200);
    await until(async () => (await zone('z3')).weight <= 90, 'z3 two steps down');
    // Reports in z1 and z2 with 20% errors: over the 5% limit. Sent again every
    // 100 ms (each report replaces the last), as a proxy would, until the pause.
    const stat = (z) => ({ locality: { zone: z }, total_issued_requests: '50', total_successful_requests: '40',
      total_error_requests: '10', total_requests_in_progress: '0' });
    const report = () => call.write({ cluster_stats: [{ cluster_name: 'echo.z1', load_report_interval: { seconds: 1 },
      upstream_locality_stats: [stat('z1')] }, { cluster_name: 'echo.z2', load_report_interval: { seconds: 1 },
      upstream_locality_stats: [stat('z2')] }] });
    report();
    const reporting = setInterval(report, 100);
    try {
      await until(async () => (await zone('z3')).state === 'paused', 'the guard pauses the drain');
    } finally {
      clearInterval(reporting);
    }
    const z3 = await zone('z3');
    assert.equal(z3.guard.state, 'paused');
    assert.equal(z3.guard.requests, 100);
    assert.equal(z3.guard.errors, 20);
    assert.match(z3.guard.reason, /error rate 20\.00% in the remaining zones \(20 of 100 requests\), over the limit 5\.00%; weight rolled back from (\d+) to (\d+)/);
    const [, from, to] = z3.guard.reason.match(/rolled back from (\d+) to (\d+)/).map(Number);
    assert.equal(to, Math.min(100, from + 10));
    assert.equal(z3.weight, to);
    // Paused: no more steps.
    const metrics = (await control.get('/metrics')).body;
    assert.match(metrics, /^sluice_control_drain_guard_pauses_total 1$/m);
    assert.match(metrics, /^sluice_control_drain_guard_rollbacks_total 2$/m);
    assert.match(metrics, /^sluice_control_zone_draining\{zone="z3"\} 2$/m);
    assert.match(control.stderr, /zone z3: drain paused by the guard at weight \d+, rolled back to \d+/);
    // Resumed: only reports after the resume count; the old bad one does not.
    assert.equal((await drain('z3', 'resume')).status, 200);
    await until(async () => (await zone('z3')).weight < to, 'steps again after the resume');
    assert.equal((await drain('z3', 'abort')).status, 200);
    assert.equal((await drain('z3', 'undrain', { step: 100, every: '10ms' })).status, 200);
    await until(async () => (await zone('z3')).state === 'idle');
  } finally {
    call.end();
    client.close();
  }
});

test('killed mid-drain: the proxy keeps the last weights; restarted, the drain resumes from the state file', { timeout: 40_000 }, async () => {
  assert.equal((await drain('z2', 'drain', { to: 0, step: 5, every: '100ms' })).status, 200);
  await until(async () => (await zone('z2')).weight <= 80, 'z2 part way');
  await control.kill();
  const killedAt = JSON.parse(readFileSync(stateFile, 'utf8')).drains.z2;
  assert.equal(killedAt.state, 'draining');
  assert.ok(killedAt.weight > 0 && killedAt.weight <= 80, JSON.stringify(killedAt));
  // No control plane: sluice serves on with what it had, z2 included.
  const counts = await spread(60);
  assert.ok(counts.z1 > 0 && counts.z3 > 0, JSON.stringify(counts));
  control = await startControl(registryText, { args: ARGS(), xdsPort });
  assert.ok(control.stderr.includes(`zone z2: drain restored from file:${stateFile}: draining at weight ${killedAt.weight}`),
    control.stderr);
  await until(async () => (await zone('z2')).state === 'done', 'the resumed drain completes');
  assert.ok((await zone('z2')).drain.steps > killedAt.steps);
  await until(() => nodeSynced(control, 'edge-1'), 'the edge node back and SYNCED');
  await proxyWeight('z2', 0);
  assert.equal((await spread(60)).z2, 0);
  assert.equal((await drain('z2', 'undrain', { step: 100, every: '10ms' })).status, 200);
  await until(async () => (await zone('z2')).state === 'idle');
});

test('an unreadable state file stops sluice-control at start with the reason', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-drain-bad-'));
  try {
    const bad = join(dir, 'state.json');
    writeFileSync(bad, '{"drains": {"z1": {"weight": 300}}}');
    await assert.rejects(startControl(registryText, { args: ['--state-file', bad] }),
      /zone drains: .*state\.json: drains\.z1: weights are 0\.\.100/);
    writeFileSync(bad, 'not json');
    await assert.rejects(startControl(registryText, { args: ['--state-file', bad] }), /state\.json: not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
