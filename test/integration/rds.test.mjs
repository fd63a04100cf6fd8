// RDS from a file (issue 12: warming and route-table swaps). A listener whose
// route configuration has not arrived warms and is not served; when it
// arrives the listener starts; later versions swap the table under the
// listener's open connections without draining them; a bad version is
// rejected by name and the previous table kept; initial_fetch_timeout lets a
// listener start with no routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startSluice, httpListener, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-rds-'));
let backend;

before(async () => { backend = await startBackend({ name: 'web' }); });
after(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

// Route configuration `name` answering every request from `web` with x-routes: <tag>.
function routeConfig(name, tag, regex = '/.*') {
  return {
    '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
    name,
    virtual_hosts: [{
      name: 'all', domains: ['*'],
      routes: [{ match: { safe_regex: { regex } }, route: { cluster: 'web' } }],
      response_headers_to_add: [{ header: { key: 'x-routes', value: tag } }],
    }],
  };
}

function publish(file, resources, version) {
  const tmp = join(dir, `.${file}.tmp`);
  writeFileSync(tmp, JSON.stringify({ version_info: version, resources }));
  renameSync(tmp, join(dir, file));
}

// Listener 'ingress' whose connection manager takes route configuration `name` from `file`.
function rdsListener(file, name, timeout) {
  const config_source = { path_config_source: { path: join(dir, file) }, ...(timeout ? { initial_fetch_timeout: timeout } : {}) };
  // No routeConfig: JSON leaves the undefined route_config out.
  return httpListener({ hcm: { rds: { route_config_name: name, config_source } } });
}

async function start(file, name, timeout) {
  return startSluice({
    static_resources: { listeners: [rdsListener(file, name, timeout)], clusters: [staticCluster('web', [backend.port])] },
  }, { concurrency: 1 });
}

test('a listener warms until its routes arrive; later versions swap the table without draining', async () => {
  const sluice = await start('a.json', 'r1');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal(sluice.listeners.length, 0, 'a warming listener is not served');
    assert.equal(await sluice.stat('listener_manager.total_listeners_warming'), 1);

    const warmed = sluice.waitForLog(/listener 'ingress' warmed/);
    publish('a.json', [routeConfig('other', 'x'), routeConfig('r1', 'v1')], '1');
    await warmed;
    await sluice.refreshListeners();
    assert.equal(await sluice.stat('listener_manager.total_listeners_warming'), 0);
    const first = await request({ port: sluice.port(), agent });
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-routes'], 'v1');

    const applied = sluice.waitForLog(/RDS 'r1' update applied \(version '2'\)/);
    publish('a.json', [routeConfig('r1', 'v2')], '2');
    await applied;
    const second = await request({ port: sluice.port(), agent });
    assert.equal(second.headers['x-routes'], 'v2', 'the open connection uses the new table');
    assert.notEqual(second.headers.connection, 'close', 'a route swap drains nothing');

    const dump = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump' })).body);
    const routes = dump.configs.find((c) => c['@type'].endsWith('RoutesConfigDump'));
    assert.equal(routes.dynamic_route_configs.length, 1);
    assert.equal(routes.dynamic_route_configs[0].version_info, '2');
    assert.equal(routes.dynamic_route_configs[0].route_config.name, 'r1');
  } finally {
    agent.destroy();
    assert.equal(await sluice.stop(), 0);
  }
});

test('a bad route configuration is rejected by name and the previous table kept', async () => {
  publish('b.json', [routeConfig('r1', 'good')], '1');
  const sluice = await start('b.json', 'r1');
  try {
    assert.equal(sluice.listeners.length, 1, 'routes present at start: no warming');
    const rejected = sluice.waitForLog(/RDS .* update rejected, keeping the previous routes:\s*\n?.*route_config 'r1'.*invalid RE2/);
    publish('b.json', [routeConfig('r1', 'bad', '(')], '2');
    await rejected;
    const res = await request({ port: sluice.port() });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-routes'], 'good');
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('after initial_fetch_timeout a listener serves with no routes, then takes them when they come', async () => {
  const sluice = await start('c.json', 'r1', '0.5s');
  try {
    const warmed = /listener 'ingress' warmed/;
    if (!warmed.test(sluice.stderr)) await sluice.waitForLog(warmed);
    await sluice.refreshListeners();
    assert.equal((await request({ port: sluice.port() })).status, 404);
    const applied = sluice.waitForLog(/RDS 'r1' update applied/);
    publish('c.json', [routeConfig('r1', 'late')], '1');
    await applied;
    const res = await request({ port: sluice.port() });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-routes'], 'late');
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});
