// sluice-control's web UI (/ui/) in headless Chromium (Debian's chromium,
// driven by the pinned playwright-core), against the real sluice-control,
// a real sluice edge node it configures and real backends. Each page loads
// and shows live data; the proxy page reaches sluice's admin through
// sluice-control. Screenshots go to $SLUICE_ARTIFACTS/ui (default
// build/<flavour>/artifacts/ui). Also: the static serving (content types,
// no traversal, a missing UI directory) and the admin proxy's refusals; a
// zone drain started from the zones page moves the traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { startBackend } from './lib/backend.mjs';
import { request, raw } from './lib/http.mjs';
import { CONTROL, startControl, startEdge, freePort, until, nodeSynced } from './lib/control.mjs';

const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.env.SLUICE_ARTIFACTS ?? join(dirname(CONTROL), '..', 'artifacts'), 'ui');

let control;
let edge;
let a;
let b;
let gatewayPort;
let browser;
let page;

function registry(instances) {
  return `zones: [z1, z2]
services:
  - name: echo
    instances:
${instances.map((i) => `      - { address: 127.0.0.1, port: ${i.port}, zone: ${i.zone}${i.health ? `, health: ${i.health}` : ''} }`).join('\n')}
gateways:
  - name: edge
    port: ${gatewayPort}
    address: 127.0.0.1
    virtual_hosts:
      - domains: ["*"]
        routes: [ { prefix: "/", service: echo } ]
`;
}

const base = () => `http://127.0.0.1:${control.httpPort}`;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const adminPort = (sluice) => Number(sluice.admin.split(':')[1]);

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/install-deps.sh installs Debian's chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  gatewayPort = await freePort();
  control = await startControl(registry([{ port: a.port, zone: 'z1' }]), { args: ['--debounce', '20ms'] });
  edge = await startEdge([control.xdsPort]);
  await until(() => nodeSynced(control, 'edge-1'), 'edge-1 SYNCED');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  await edge?.stop();
  await control?.stop();
  await a?.close();
  await b?.close();
});

test('/ui/ serves the files with their content types; /ui redirects to /ui/', async () => {
  const index = await request({ port: control.httpPort, path: '/ui/' });
  assert.equal(index.status, 200);
  assert.match(index.headers['content-type'], /^text\/html/);
  assert.equal(index.headers['cache-control'], 'no-cache');
  assert.match(index.body, /<script type="module" src="app.js">/);
  for (const [file, type] of [['app.js', /^text\/javascript/], ['chart.js', /^text\/javascript/], ['style.css', /^text\/css/], ['index.html', /^text\/html/]]) {
    const res = await request({ port: control.httpPort, path: `/ui/${file}` });
    assert.equal(res.status, 200, file);
    assert.match(res.headers['content-type'], type, file);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }
  const bare = await request({ port: control.httpPort, path: '/ui' });
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.location, '/ui/');
  const post = await request({ port: control.httpPort, path: '/ui/app.js', method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal((await request({ port: control.httpPort, path: '/ui/nothing.js' })).status, 404);
});

test('/ui/ answers no path outside its files (.., %2e%2e, %2f, absolute)', async () => {
  // Raw bytes: an HTTP client would normalise the dots away before sending.
  for (const target of ['/ui/../../../../etc/passwd', '/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/ui/..%2f..%2f..%2fetc%2fpasswd',
    '/ui/%2fetc%2fpasswd', '/ui//etc/passwd', '/ui/./index.html', '/ui/../src/control/ui_assets.cc', '/ui/%00index.html']) {
    const reply = await raw(control.httpPort, `GET ${target} HTTP/1.1\r\nhost: x\r\n\r\n`);
    const status = Number(reply.split(' ')[1]);
    assert.ok(status === 404 || status === 400, `${target}: ${reply.split('\r\n')[0]}`);
    assert.doesNotMatch(reply, /root:|#include/, target);
  }
});

test('without its UI directory sluice-control serves the rest and /ui/ says why (logged once)', async () => {
  const other = await startControl(registry([{ port: a.port, zone: 'z1' }]), { args: ['--ui-dir', '/nonexistent/ui'] });
  try {
    const ui = await request({ port: other.httpPort, path: '/ui/' });
    assert.equal(ui.status, 404);
    assert.match(ui.body, /web UI is not installed: '\/nonexistent\/ui' is not a directory.*--ui-dir/);
    assert.equal((await request({ port: other.httpPort, path: '/ui/app.js' })).status, 404);
    assert.equal((await other.get('/v1/registry')).status, 200);
    assert.equal(other.stderr.match(/no web UI/g)?.length, 1, other.stderr);
  } finally {
    await other.stop();
  }
});

test('the admin proxy refuses what it does not forward, with JSON errors', async () => {
  const call = async (method, path) => {
    const res = await request({ port: control.httpPort, path, method });
    assert.match(res.headers['content-type'], /^application\/json/, path);
    return { status: res.status, error: JSON.parse(res.body).error };
  };
  let r = await call('GET', '/v1/nodes/edge-1/admin/quitquitquit');
  assert.equal(r.status, 404);
  assert.match(r.error, /only config_dump, stats, clusters/);
  r = await call('POST', '/v1/nodes/edge-1/admin/quitquitquit');
  assert.equal(r.status, 404);
  r = await call('GET', '/v1/nodes/edge-1/admin/runtime_modify?x=1');
  assert.equal(r.status, 404);
  r = await call('POST', '/v1/nodes/edge-1/admin/stats');
  assert.equal(r.status, 405);
  r = await call('GET', '/v1/nodes/edge-1/admin/config_dump/../quitquitquit');
  assert.equal(r.status, 404);
  r = await call('POST', '/v1/nodes/edge-1/admin/logging?level=loud');
  assert.equal(r.status, 400);
  assert.match(r.error, /level 'loud'/);
  r = await call('POST', '/v1/nodes/edge-1/admin/logging?level=info%26paths%3Dx');
  assert.equal(r.status, 400);
  r = await call('GET', '/v1/nodes/nobody/admin/stats');
  assert.equal(r.status, 404);
  assert.match(r.error, /node 'nobody' is not connected/);
  // The status API under the same prefix still answers.
  assert.equal((await control.get('/v1/nodes/edge-1')).status, 200);
});

test('the admin proxy uses only the address the node advertises: wildcard, dead and silent ones fail clearly', async () => {
  const silent = net.createServer(() => {}); // accepts, never answers
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const dead = await freePort();
  const nodes = [
    ['edge-wild', '0.0.0.0:9901', 409, /wildcard admin address/],
    ['edge-dead', `127.0.0.1:${dead}`, 502, /connect 127\.0\.0\.1:\d+: Connection refused/],
    ['edge-silent', `127.0.0.1:${silent.address().port}`, 504, /timed out/],
  ];
  const sluices = [];
  try {
    for (const [id, address] of nodes) {
      sluices.push(await startEdge([control.xdsPort], { id, node: { metadata: { 'sluice.admin_address': address } } }));
    }
    for (const [id] of nodes) await until(() => nodeSynced(control, id), `${id} SYNCED`);
    for (const [id, address, status, error] of nodes) {
      const res = await request({ port: control.httpPort, path: `/v1/nodes/${id}/admin/stats` });
      assert.equal(res.status, status, `${id}: ${res.body}`);
      const body = JSON.parse(res.body);
      assert.match(body.error, error, id);
      assert.equal(body.admin_address, address);
    }
    const metrics = (await control.get('/metrics')).body;
    const value = (name) => Number(metrics.match(new RegExp(`^sluice_control_${name} (\\d+)$`, 'm'))?.[1]);
    assert.ok(value('node_admin_refused_total') >= 1, metrics);
    assert.ok(value('node_admin_failures_total') >= 1, metrics);
    assert.ok(value('node_admin_timeouts_total') >= 1, metrics);
  } finally {
    for (const s of sluices) await s.stop();
    silent.close();
  }
});

test('sluice advertises its bound admin address in its node metadata', async () => {
  assert.equal((await control.get('/v1/nodes/edge-1')).body.streams[0].admin_address, edge.admin);
  const res = await request({ port: control.httpPort, path: '/v1/nodes/edge-1/admin/stats' });
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /^server\.live: 1$/m);
  assert.match((await control.get('/metrics')).body, /^sluice_control_node_admin_forwarded_total [1-9]\d*$/m);
});

test('services page: instances per zone with health, and a new instance appears without a reload', async () => {
  await page.goto(`${base()}/ui/#/services`);
  await page.locator(`tr[data-instance="127.0.0.1:${a.port}"]`).waitFor();
  assert.match(await page.locator('section[data-service="echo"]').innerText(), /z1\s+127\.0\.0\.1:\d+\s+1\s+healthy/);
  assert.match(await page.locator('tr[data-zone="z2"]').innerText(), /no instances/);
  control.writeRegistry(registry([{ port: a.port, zone: 'z1' }, { port: b.port, zone: 'z2', health: 'degraded' }]));
  const row = page.locator(`tr[data-instance="127.0.0.1:${b.port}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /z2.*degraded/s);
  await shot('services');
});

test('proxies page: the edge node with its sync state per type and versions', async () => {
  await page.goto(`${base()}/ui/#/proxies`);
  const row = page.locator('tr[data-node="edge-1"]');
  await row.waitFor();
  await until(async () => (await row.locator('td[data-type] .badge.ok').count()) >= 4, 'four SYNCED types in the row');
  const text = await row.innerText();
  assert.match(text, /edge-1\s+edge\s+z1\s+edge \(sluice\)/);
  assert.match(text, /SYNCED/);
  assert.match(text, /acked [0-9a-f]/);
  assert.match(text, new RegExp(`admin ${edge.admin.replace(/\./g, '\\.')}`));
  await shot('proxies');
});

test('proxy page: config dump and stats through sluice-control; the log level set there reaches sluice', async () => {
  await page.goto(`${base()}/ui/#/proxy/edge-1`);
  await page.locator('#config-dump', { hasText: 'type.googleapis.com/envoy.admin.v3' }).waitFor();
  assert.match(await page.locator('#config-dump').innerText(), /"name": "echo\.z1"/);
  await page.locator('#stats', { hasText: 'server.live: 1' }).waitFor();
  await page.locator('#clusters', { hasText: 'echo.z1::' }).waitFor();
  const levels = async () => (await request({ port: adminPort(edge), path: '/logging' })).body;
  assert.doesNotMatch(await levels(), /: debug$/m);
  await page.selectOption('#log-level', 'debug');
  await page.click('#log-level-form button[type=submit]');
  await page.locator('#log-level-result', { hasText: 'log level set to debug' }).waitFor();
  const after = await levels();
  assert.match(after, /^\s*admin: debug$/m);
  assert.doesNotMatch(after, /: (info|trace|warning)$/m);
  await page.locator('#stats-filter').fill('server.');
  await page.locator('#stats', { hasText: 'server.live' }).waitFor();
  assert.doesNotMatch(await page.locator('#stats').innerText(), /^cluster\./m);
  await shot('proxy');
  await page.selectOption('#log-level', 'info');
  await page.click('#log-level-form button[type=submit]');
  await page.locator('#log-level-result', { hasText: 'log level set to info' }).waitFor();
});

test('snapshot page: what the node gets now, and the diff against a replica', async () => {
  await page.goto(`${base()}/ui/#/snapshot/edge-1`);
  await page.locator('#snapshot details[data-type="cluster"]', { hasText: 'echo.z2' }).waitFor();
  assert.match(await page.locator('#snapshot').innerText(), /node edge-1 · edge · cluster edge/);
  // A replica on the same registry: equal; one on another: different.
  const same = await startControl(control.registryPath ? (await import('node:fs')).readFileSync(control.registryPath, 'utf8') : '');
  const other = await startControl(registry([{ port: a.port, zone: 'z1' }]));
  try {
    await page.fill('#peer-url', `http://127.0.0.1:${same.httpPort}`);
    await page.click('#diff-form button[type=submit]');
    await page.locator('#diff', { hasText: 'EQUAL' }).waitFor();
    assert.match(await page.locator('#diff tr[data-node="edge-1"]').innerText(), /equal/);
    await page.fill('#peer-url', `http://127.0.0.1:${other.httpPort}`);
    await page.click('#diff-form button[type=submit]');
    await page.locator('#diff', { hasText: 'DIFFERENT' }).waitFor();
    assert.match(await page.locator('#diff tr[data-node="edge-1"]').innerText(), /differ.*echo\.z2/s);
    await shot('snapshot');
  } finally {
    await same.stop();
    await other.stop();
  }
});

test('zones page: weights per zone and a live SVG chart of the share of traffic', async () => {
  await page.goto(`${base()}/ui/#/zones`);
  await page.locator('#zones tr[data-zone="z2"]').waitFor();
  assert.match(await page.locator('#zones tr[data-zone="z1"]').innerText(), /^z1\s+100/);
  // Polled: the chart gains points (one per second) for each zone.
  await page.locator('#share-chart polyline[data-series="z1"]').waitFor({ state: 'attached' });
  const points = async () => (await page.locator('#share-chart polyline[data-series="z1"]').getAttribute('points')).split(' ').length;
  const first = await points();
  await until(async () => (await points()) > first, 'a second point on the chart', 5000);
  assert.deepEqual(await page.locator('#drain-zone option').allInnerTexts(), ['z1', 'z2']);
  await shot('zones');
});

// Requests through the edge's gateway: how many each backend answered.
async function spread(n) {
  const counts = {};
  for (let i = 0; i < n; i++) {
    const res = await request({ port: gatewayPort, path: '/' });
    assert.equal(res.status, 200);
    const name = res.headers['x-backend'];
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

test('zones page: a drain started from the UI moves the traffic off the zone, and undrain brings it back', { timeout: 60_000 }, async () => {
  const before = await spread(40);
  assert.ok(before.a > 0 && before.b > 0, JSON.stringify(before));
  await page.goto(`${base()}/ui/#/zones`);
  await page.locator('#zones tr[data-zone="z2"]').waitFor();
  await page.selectOption('#drain-zone', 'z2');
  await page.fill('#drain-to', '0');
  await page.fill('#drain-step', '50');
  await page.fill('#drain-every', '300ms');
  // Two equal zones: the guard refuses to leave one with all the traffic, and the page says why.
  await page.click('#drain-start');
  await page.locator('#zone-result.error', { hasText: 'refused by the guard' }).waitFor();
  await page.check('#drain-force');
  await page.click('#drain-start');
  await page.locator('#zone-result', { hasText: 'drain z2: draining' }).waitFor();
  const z2 = page.locator('#zones tr[data-zone="z2"]');
  await z2.locator('td[data-field="state"]', { hasText: 'done' }).waitFor();
  assert.equal(await z2.locator('td[data-field="weight"]').innerText(), '0');
  // The weights reach sluice over RTDS: then every request goes to z1's backend.
  await until(async () => (await spread(20)).b === undefined, 'no request to z2 after the drain');
  assert.deepEqual(await spread(40), { a: 40 });
  // The chart follows: z2's share ends at 0% (the plot's bottom, y 194), z1's at 100% (y 24).
  await until(async () => (await page.locator('#share-chart polyline[data-series="z2"]').getAttribute('points')).endsWith(',194.0'),
    'z2 at 0% on the chart', 5000);
  assert.match(await page.locator('#share-chart polyline[data-series="z1"]').getAttribute('points'), /,24\.0$/);
  await shot('zones-drained');
  await page.uncheck('#drain-force');
  await page.click('#drain-undrain');
  await page.locator('#zone-result', { hasText: 'undrain z2: draining' }).waitFor();
  await z2.locator('td[data-field="weight"]', { hasText: '100' }).waitFor();
  await until(async () => (await spread(20)).b > 0, 'requests to z2 again after the undrain');
});

test('screenshots are kept as artifacts', () => {
  for (const name of ['services', 'proxies', 'proxy', 'snapshot', 'zones', 'zones-drained']) {
    assert.ok(existsSync(join(ARTIFACTS, `${name}.png`)), name);
  }
});
