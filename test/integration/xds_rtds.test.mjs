// RTDS (layered_runtime.layers[].rtds_layer) over ADS against the real
// binary: a runtime layer pushed by the control plane changes a weighted
// cluster split with no listener or route change (Slack's zone drain), is
// requested before CDS, and CDS waits for it, as in Envoy's init order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { AdsServer, TYPE, any, struct } from './lib/ads_server.mjs';

let ads;
let sluice;
let a;
let b;

const cluster = (name, port) => ({ name, any: any(TYPE.cluster, { ...staticCluster(name, [port]), connect_timeout: { seconds: 1 } }) });
const runtime = (name, layer) => ({ name, any: any(TYPE.runtime, { name, layer: struct(layer) }) });
function splitListener() {
  const l = httpListener({
    name: 'ingress',
    routeConfig: routes([{ match: { prefix: '/' }, route: { weighted_clusters: { runtime_key_prefix: 'split', clusters: [{ name: 'a', weight: { value: 50 } }, { name: 'b', weight: { value: 50 } }] } } }]),
  });
  return { name: 'ingress', any: any(TYPE.listener, l) };
}
function bootstrap(adsPort, rtdsExtra = {}) {
  return {
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    layered_runtime: { layers: [{ name: 'from-control-plane', rtds_layer: { name: 'drain', rtds_config: { ads: {}, resource_api_version: 'V3', ...rtdsExtra } } }] },
    static_resources: { clusters: [staticCluster('xds', [adsPort], { http2_protocol_options: {} })] },
  };
}

// Polls `check` every 5 ms until it holds; fails after `ms`.
async function until(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
async function backendsOf(n) {
  const seen = { a: 0, b: 0, failed: 0 };
  for (let i = 0; i < n; i++) {
    const res = await request({ port: sluice.port('ingress'), path: '/' });
    if (res.status === 200) seen[res.headers['x-backend']]++;
    else seen.failed++;
  }
  return seen;
}

before(async () => {
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  ads = new AdsServer();
  await ads.start();
  ads.push(TYPE.runtime, 'rt1', [runtime('drain', { split: { a: 0, b: 100 } })]);
  ads.push(TYPE.cluster, 'c1', [cluster('a', a.port), cluster('b', b.port)]);
  ads.push(TYPE.listener, 'l1', [splitListener()]);
  sluice = await startSluice(bootstrap(ads.port));
  await until(async () => (await sluice.refreshListeners()).some((l) => l.name === 'ingress'));
});

after(async () => {
  await sluice?.stop();
  ads?.stop();
  await a?.close();
  await b?.close();
});

test('RTDS is requested first, by name; CDS only once its answer is in', { timeout: 20_000 }, async () => {
  assert.equal(ads.requests[0].type_url, TYPE.runtime);
  assert.deepEqual([...ads.requests[0].resource_names], ['drain']);
  const rtdsSent = ads.responses.find((r) => r.type_url === TYPE.runtime);
  const cds = ads.requests.find((r) => r.type_url === TYPE.cluster);
  assert.ok(ads.requests.indexOf(cds) >= rtdsSent.after, 'CDS requested after the RTDS response');
  assert.equal(await sluice.stat('runtime.update_success'), 1);
});

test('the RTDS layer sets the weighted split: all traffic to b, then drained back to a, no failed request, no listener change', { timeout: 20_000 }, async () => {
  const before = await backendsOf(20);
  assert.deepEqual(before, { a: 0, b: 20, failed: 0 });
  const modified = (await sluice.stat('listener_manager.listener_modified')) ?? 0;
  const cdsUpdates = await sluice.stat('cluster_manager.cds.update_success');
  ads.push(TYPE.runtime, 'rt2', [runtime('drain', { split: { a: 100, b: 0 } })]);
  await ads.waitForRequest((r) => r.type_url === TYPE.runtime && r.version_info === 'rt2');
  const after = await backendsOf(20);
  assert.deepEqual(after, { a: 20, b: 0, failed: 0 });
  assert.equal((await sluice.stat('listener_manager.listener_modified')) ?? 0, modified);
  assert.equal(await sluice.stat('cluster_manager.cds.update_success'), cdsUpdates);
  const layers = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/runtime' })).body);
  assert.ok(layers.layers.includes('from-control-plane'));
  assert.equal(layers.entries['split.a'].final_value, '100');
});

test('a bad Runtime resource is NACKed with its path; the previous layer keeps its values', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  const nonce = ads.push(TYPE.runtime, 'rt-bad', [runtime('', { split: { a: 0, b: 100 } })]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.runtime && r.response_nonce === nonce, from);
  assert.equal(nack.version_info, 'rt2');
  assert.ok(nack.error_detail);
  assert.match(nack.error_detail.message, /resources\[0\]\.name/);
  assert.equal(await sluice.stat('runtime.update_rejected'), 1);
  assert.deepEqual(await backendsOf(10), { a: 10, b: 0, failed: 0 });
});

test('an RTDS resource the server never sends: CDS goes ahead after initial_fetch_timeout', { timeout: 20_000 }, async () => {
  const silent = new AdsServer();
  await silent.start();
  silent.push(TYPE.cluster, 'only', [cluster('a', a.port)]);
  const s = await startSluice(bootstrap(silent.port, { initial_fetch_timeout: '0.3s' }));
  try {
    const cds = await silent.waitForRequest((r) => r.type_url === TYPE.cluster);
    assert.ok(silent.requests.indexOf(cds) > 0, 'RTDS requested first');
    assert.equal(await s.stat('runtime.init_fetch_timeout'), 1);
    await until(async () => (await s.stat('cluster_manager.cds.update_success')) === 1);
  } finally {
    await s.stop();
    silent.stop();
  }
});

test('a rejected first RTDS response ends the wait as Envoy does: CDS is requested at once, even with no timeout', { timeout: 20_000 }, async () => {
  const control = new AdsServer();
  await control.start();
  control.push(TYPE.runtime, 'rt-bad', [runtime('', { split: { a: 0, b: 100 } })]);
  control.push(TYPE.cluster, 'only', [cluster('a', a.port)]);
  const s = await startSluice(bootstrap(control.port, { initial_fetch_timeout: '0s' }));
  try {
    const cds = await control.waitForRequest((r) => r.type_url === TYPE.cluster);
    await control.waitForRequest((r) => r.type_url === TYPE.runtime && r.error_detail);
    const rtds = control.responses.find((r) => r.type_url === TYPE.runtime);
    assert.ok(control.requests.indexOf(cds) >= rtds.after, 'CDS requested once the RTDS response was handled');
    assert.equal(await s.stat('runtime.update_rejected'), 1);
    assert.equal((await s.stat('runtime.init_fetch_timeout')) ?? 0, 0);
    await until(async () => (await s.stat('cluster_manager.cds.update_success')) === 1);
  } finally {
    await s.stop();
    control.stop();
  }
});
