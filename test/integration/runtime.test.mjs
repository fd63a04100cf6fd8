// The layered runtime against the real binary: weighted-cluster traffic and a
// route's runtime_fraction moved by /runtime_modify and by a disk layer's
// symlink swap, the /runtime JSON, /runtime_modify's refusals, and the
// runtime.* stats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let alpha;
let beta;
let root;

before(async () => {
  alpha = await startBackend({ name: 'alpha' });
  beta = await startBackend({ name: 'beta' });
  root = mkdtempSync(join(tmpdir(), 'sluice-runtime-'));
});

after(async () => {
  await alpha?.close();
  await beta?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const kPrefix = 'routing.traffic_shift.web';

// A runtime tree for a disk layer: `values` (key -> value) as files under
// <root>/<version>/sluice, a key's dots as directories.
function writeTree(version, values) {
  const dir = join(root, version);
  for (const [key, value] of Object.entries(values)) {
    const file = join(dir, 'sluice', ...key.split('.'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${value}\n`);
  }
  return dir;
}

// Points <root>/current at `dir` atomically, as deploy tools do: a new
// symlink renamed over the old one.
function swapCurrent(dir) {
  const tmp = join(root, 'current.tmp');
  symlinkSync(dir, tmp);
  renameSync(tmp, join(root, 'current'));
}

function layers({ disk = false, admin = true, staticLayer = {} } = {}) {
  const list = [{ name: 'base', static_layer: staticLayer }];
  if (disk) list.push({ name: 'disk', disk_layer: { symlink_root: join(root, 'current'), subdirectory: 'sluice' } });
  if (admin) list.push({ name: 'admin', admin_layer: {} });
  return { layers: list };
}

async function start(routeList, runtime) {
  return startSluice({
    layered_runtime: runtime,
    static_resources: {
      listeners: [httpListener({ routeConfig: routes(routeList) })],
      clusters: [staticCluster('alpha', [alpha.port]), staticCluster('beta', [beta.port])],
    },
  });
}

const weighted = [{
  match: { prefix: '/' },
  route: {
    weighted_clusters: {
      runtime_key_prefix: kPrefix,
      clusters: [{ name: 'alpha', weight: 50 }, { name: 'beta', weight: 50 }],
    },
  },
}];

// Sends `n` requests (one connection each); returns {backend name: count}.
async function tally(s, n) {
  const counts = {};
  for (let i = 0; i < n; ++i) {
    const res = await request({ port: s.port(), path: `/r${i}` });
    assert.equal(res.status, 200, res.body);
    const { name } = JSON.parse(res.body);
    counts[name] = (counts[name] || 0) + 1;
  }
  return counts;
}

const adminPort = (s) => Number(s.admin.split(':')[1]);
const admin = (s, path, options = {}) => request({ port: adminPort(s), path, ...options });
const modify = (s, query) => admin(s, `/runtime_modify?${query}`, { method: 'POST' });
const runtimeJson = async (s) => JSON.parse((await admin(s, '/runtime')).body);

async function stats(s) {
  const res = await admin(s, '/stats?format=json');
  return Object.fromEntries(JSON.parse(res.body).stats.filter((e) => 'value' in e).map((e) => [e.name, e.value]));
}

test('a runtime change that moves weighted-cluster traffic', async (t) => {
  const s = await start(weighted, layers());
  try {
    const before = await tally(s, 40);
    t.diagnostic(`50/50: ${JSON.stringify(before)}`);
    assert.ok(before.alpha > 0 && before.beta > 0, JSON.stringify(before));

    const res = await modify(s, `${kPrefix}.alpha=0&${kPrefix}.beta=100`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, 'OK\n');
    assert.deepEqual(await tally(s, 40), { beta: 40 });

    // An empty value removes the override: the configured weights again.
    assert.equal((await modify(s, `${kPrefix}.alpha=&${kPrefix}.beta=`)).status, 200);
    const back = await tally(s, 40);
    assert.ok(back.alpha > 0 && back.beta > 0, JSON.stringify(back));
  } finally {
    await s.stop();
  }
});

test('a disk layer symlink swap moves weighted-cluster traffic', async () => {
  swapCurrent(writeTree('swap-v1', { [`${kPrefix}.alpha`]: 100, [`${kPrefix}.beta`]: 0 }));
  const s = await start(weighted, layers({ disk: true, admin: false }));
  try {
    assert.deepEqual(await tally(s, 20), { alpha: 20 });
    const applied = s.waitForLog(/runtime update applied/);
    swapCurrent(writeTree('swap-v2', { [`${kPrefix}.alpha`]: 0, [`${kPrefix}.beta`]: 100 }));
    await applied;
    const view = await runtimeJson(s);
    assert.equal(view.entries[`${kPrefix}.beta`].final_value, '100');
    assert.deepEqual(await tally(s, 20), { beta: 20 });
  } finally {
    await s.stop();
  }
});

test("a route's runtime_fraction is toggled by /runtime_modify", async () => {
  const s = await start([
    {
      match: {
        prefix: '/',
        runtime_fraction: { default_value: { numerator: 0, denominator: 'HUNDRED' }, runtime_key: 'routes.canary' },
      },
      route: { cluster: 'beta' },
    },
    { match: { prefix: '/' }, route: { cluster: 'alpha' } },
  ], layers());
  try {
    assert.deepEqual(await tally(s, 20), { alpha: 20 });
    assert.equal((await modify(s, 'routes.canary=100')).status, 200);
    assert.deepEqual(await tally(s, 20), { beta: 20 });
    assert.equal((await modify(s, 'routes.canary=')).status, 200);
    assert.deepEqual(await tally(s, 20), { alpha: 20 });
  } finally {
    await s.stop();
  }
});

test('/runtime lists the layers and every key per layer', async () => {
  swapCurrent(writeTree('json-v1', { shared: 'disk', 'only.disk': 'd' }));
  const s = await start(weighted, layers({ disk: true, staticLayer: { shared: 1, nested: { key: true } } }));
  try {
    assert.equal((await modify(s, 'shared=admin&fresh=x')).status, 200);
    const res = await admin(s, '/runtime');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /application\/json/);
    assert.deepEqual(JSON.parse(res.body), {
      layers: ['base', 'disk', 'admin'],
      entries: {
        fresh: { final_value: 'x', layer_values: ['', '', 'x'] },
        'nested.key': { final_value: 'true', layer_values: ['true', '', ''] },
        'only.disk': { final_value: 'd', layer_values: ['', 'd', ''] },
        shared: { final_value: 'admin', layer_values: ['1', 'disk', 'admin'] },
      },
    });
  } finally {
    await s.stop();
  }
});

test('/runtime_modify refuses GET, bad input and a runtime without an admin layer', async () => {
  const s = await start(weighted, layers());
  const bare = await start(weighted, layers({ admin: false }));
  try {
    const get = await admin(s, '/runtime_modify?a=1');
    assert.equal(get.status, 405);
    assert.equal((await runtimeJson(s)).entries.a, undefined);

    const empty = await modify(s, '');
    assert.equal(empty.status, 400);
    assert.match(empty.body, /usage: \/runtime_modify\?key1=value1/);
    const noValue = await modify(s, 'justakey');
    assert.equal(noValue.status, 400);
    assert.match(noValue.body, /'justakey' is not key=value/);
    const emptyKey = await modify(s, '=5');
    assert.equal(emptyKey.status, 400);
    assert.match(emptyKey.body, /must not be empty/);
    const control = await modify(s, 'a%0Ab=1');
    assert.equal(control.status, 400);
    assert.match(control.body, /control character/);

    const refused = await modify(bare, 'a=1');
    assert.equal(refused.status, 503);
    assert.match(refused.body, /No admin layer specified/);

    // Envoy also takes the pairs as form values.
    const body = 'from.form=a+b&other=%31';
    const form = await admin(s, '/runtime_modify', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
      body,
    });
    assert.equal(form.status, 200, form.body);
    const view = await runtimeJson(s);
    assert.equal(view.entries['from.form'].final_value, 'a b');
    assert.equal(view.entries.other.final_value, '1');
  } finally {
    await s.stop();
    await bare.stop();
  }
});

test('runtime.* stats count loads, keys, layers and admin overrides', async () => {
  swapCurrent(writeTree('stats-v1', { k: 1 }));
  const s = await start(weighted, layers({ disk: true, staticLayer: { a: 1 } }));
  try {
    const first = await stats(s);
    assert.equal(first['runtime.load_success'], 1);
    assert.equal(first['runtime.load_error'], 0);
    assert.equal(first['runtime.num_layers'], 3);
    assert.equal(first['runtime.num_keys'], 2);
    assert.equal(first['runtime.admin_overrides_active'], 0);
    // One disk layer: Envoy's "override directory" (a second one) is absent.
    assert.equal(first['runtime.override_dir_not_exists'], 1);
    assert.equal(first['runtime.override_dir_exists'], 0);

    assert.equal((await modify(s, 'b=2')).status, 200);
    const modified = await stats(s);
    assert.equal(modified['runtime.load_success'] - first['runtime.load_success'], 1);
    assert.equal(modified['runtime.num_keys'], 3);
    assert.equal(modified['runtime.admin_overrides_active'], 1);

    // A tree that cannot be read: load_error, and the old values stay.
    const broken = writeTree('stats-v2', { k: 2 });
    symlinkSync(join(broken, 'sluice', 'loop'), join(broken, 'sluice', 'loop'));
    const applied = s.waitForLog(/runtime update applied/);
    swapCurrent(broken);
    await applied;
    const after = await stats(s);
    assert.equal(after['runtime.load_error'] - modified['runtime.load_error'], 1);
    assert.equal(after['runtime.load_success'], modified['runtime.load_success']);
    assert.equal((await runtimeJson(s)).entries.k.final_value, '1');

    // A missing directory: the layer drops out.
    const gone = s.waitForLog(/runtime update applied/);
    swapCurrent(join(root, 'does-not-exist'));
    await gone;
    const missing = await stats(s);
    assert.equal(missing['runtime.num_layers'], 2);
    assert.deepEqual((await runtimeJson(s)).layers, ['base', 'admin']);
  } finally {
    await s.stop();
  }
});

test('an RTDS layer from a file (path_config_source) moves weighted-cluster traffic when the file is replaced', async () => {
  const file = join(root, 'rtds.json');
  const write = (version, alphaWeight, betaWeight) => {
    const resource = { '@type': 'type.googleapis.com/envoy.service.runtime.v3.Runtime', name: 'shift', layer: { routing: { traffic_shift: { web: { alpha: alphaWeight, beta: betaWeight } } } } };
    writeFileSync(`${file}.tmp`, JSON.stringify({ version_info: version, resources: [resource] }));
    renameSync(`${file}.tmp`, file);
  };
  write('1', 100, 0);
  const s = await start(weighted, { layers: [{ name: 'base', static_layer: {} }, { name: 'rtds', rtds_layer: { name: 'shift', rtds_config: { path_config_source: { path: file } } } }] });
  try {
    assert.deepEqual(await tally(s, 10), { alpha: 10 });
    const applied = s.waitForLog(/RTDS .*rtds\.json update applied \(version_info '2'\)/);
    write('2', 0, 100);
    await applied;
    assert.deepEqual(await tally(s, 10), { beta: 10 });
    const st = await stats(s);
    assert.equal(st['runtime.update_success'], 2);
    assert.equal((await runtimeJson(s)).entries[`${kPrefix}.beta`].layer_values[1], '100');
  } finally {
    await s.stop();
  }
});
