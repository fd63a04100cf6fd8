// File-based xDS (path_config_source): endpoints, clusters and listeners change
// without a reload when a file is replaced by rename, under load, without a
// failed request; a rejected file keeps the previous config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { WebSocket } from 'ws';
import { startSluice, httpListener, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-xds-'));
let a;
let b;

// Writes `resources` as a DiscoveryResponse and moves it into place (Envoy's rule).
function publish(file, resources, version = String(Date.now())) {
  const tmp = join(dir, `.${file}.tmp`);
  writeFileSync(tmp, JSON.stringify({ version_info: version, resources }));
  renameSync(tmp, join(dir, file));
}

function assignment(name, ports) {
  return {
    '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
    cluster_name: name,
    endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
  };
}

function edsCluster(name) {
  return {
    name,
    type: 'EDS',
    connect_timeout: '1s',
    eds_cluster_config: { eds_config: { path_config_source: { path: join(dir, 'eds.json') } } },
  };
}

function listenerResource(name, cluster) {
  return {
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    ...httpListener({
      name,
      routeConfig: routes([{ match: { prefix: '/' }, route: { cluster } }]),
      hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }] },
    }),
  };
}

// sluice with one EDS cluster 'web' (backend a) and listener 'one' from LDS.
async function startWithLds() {
  publish('eds.json', [assignment('web', [a.port])]);
  publish('lds.json', [listenerResource('one', 'web')]);
  const sluice = await startSluice({
    static_resources: { clusters: [edsCluster('web')] },
    dynamic_resources: { lds_config: { path_config_source: { path: join(dir, 'lds.json') } } },
  });
  await sluice.refreshListeners();
  return sluice;
}

before(async () => {
  a = await startBackend({ name: 'a', websocket: true });
  b = await startBackend({ name: 'b', websocket: true });
});

after(async () => {
  await a?.close();
  await b?.close();
});

test('an endpoint change is in use within a second, with no failed request under load', async () => {
  publish('eds.json', [assignment('web', [a.port])]);
  const sluice = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [edsCluster('web')],
    },
  });
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const seen = { a: 0, b: 0, failed: 0 };
    let switchedAt = 0;
    let firstB = 0;
    let stop = false;
    const load = async () => {
      while (!stop) {
        try {
          const res = await request({ port: sluice.port(), agent });
          if (res.status !== 200) seen.failed++;
          else {
            const name = report(res.body).name;
            seen[name]++;
            if (name === 'b' && !firstB) firstB = Date.now();
          }
        } catch {
          seen.failed++;
        }
      }
    };
    const loops = Array.from({ length: 4 }, load);
    while (seen.a < 200) await new Promise((r) => setImmediate(r));
    const applied = sluice.waitForLog(/EDS .* update applied/);
    switchedAt = Date.now();
    publish('eds.json', [assignment('web', [b.port])]);
    await applied;
    const countB = seen.b;
    while (seen.b < countB + 200) await new Promise((r) => setImmediate(r));
    stop = true;
    await Promise.all(loops);
    agent.destroy();
    assert.equal(seen.failed, 0);
    assert.ok(firstB - switchedAt < 1000, `first request to the new endpoint after ${firstB - switchedAt} ms`);
    // After the switch no request may reach the removed endpoint.
    const res = await request({ port: sluice.port() });
    assert.equal(report(res.body).name, 'b');
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('LDS adds and removes listeners; a kept listener keeps its socket and connections', async () => {
  const sluice = await startWithLds();
  try {
    const onePort = sluice.port('one');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await request({ port: onePort, agent })).status, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${onePort}/ws`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });

    let applied = sluice.waitForLog(/LDS update applied/);
    publish('lds.json', [listenerResource('one', 'web'), listenerResource('two', 'web')]);
    await applied;
    await sluice.refreshListeners();
    assert.equal(sluice.port('one'), onePort, 'the kept listener kept its port');
    assert.equal((await request({ port: sluice.port('two') })).status, 200);
    // The idle keep-alive connection and the WebSocket survived the update.
    assert.equal((await request({ port: onePort, agent })).status, 200);
    ws.send('still here');
    const [echo] = await new Promise((resolve) => ws.once('message', (...args) => resolve(args)));
    assert.equal(echo.toString(), 'still here');

    const twoPort = sluice.port('two');
    applied = sluice.waitForLog(/LDS update applied/);
    publish('lds.json', [listenerResource('one', 'web')]);
    await applied;
    await assert.rejects(request({ port: twoPort }), /ECONNREFUSED|ECONNRESET/);
    ws.close();
    agent.destroy();
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('a rejected file keeps the previous configuration and says why', async () => {
  const sluice = await startWithLds();
  try {
    const port = sluice.port('one');
    const rejected = sluice.waitForLog(/LDS update rejected[^\n]*\n[^\n]*resources\[0\]\.bogus_field/);
    publish('lds.json', [{ ...listenerResource('one', 'web'), bogus_field: 1 }]);
    await rejected;
    assert.equal((await request({ port })).status, 200);
    const edsRejected = sluice.waitForLog(/EDS .* update rejected/);
    publish('eds.json', [{ ...assignment('web', [b.port]), endpoints: 'nope' }]);
    await edsRejected;
    assert.equal(report((await request({ port })).body).name, 'a');
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('CDS adds a cluster that an LDS route then uses', async () => {
  publish('eds.json', [assignment('web', [a.port]), assignment('api', [b.port])]);
  publish('cds.json', [{ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...edsCluster('web') }]);
  publish('lds.json', [listenerResource('one', 'web')]);
  const sluice = await startSluice({
    dynamic_resources: {
      cds_config: { path_config_source: { path: join(dir, 'cds.json') } },
      lds_config: { path_config_source: { path: join(dir, 'lds.json') } },
    },
  });
  try {
    await sluice.refreshListeners();
    let applied = sluice.waitForLog(/CDS update applied/);
    publish('cds.json', ['web', 'api'].map((n) => ({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...edsCluster(n) })));
    await applied;
    applied = sluice.waitForLog(/LDS update applied/);
    publish('lds.json', [listenerResource('one', 'api')]);
    await applied;
    assert.equal(report((await request({ port: sluice.port('one') })).body).name, 'b');
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});
