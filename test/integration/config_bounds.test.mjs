// The config-input bounds (docs/HARDENING.md, "Config-input bounds and admin
// output") against the real binary: a 2.4 KB YAML alias bomb in an LDS file is
// rejected at once with the limit named, while the previous listeners keep
// serving, admin answers and memory stays small; `--mode validate` on a
// bootstrap holding one exits 1 as quickly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SLUICE, startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let backend;
let dir;

before(async () => {
  backend = await startBackend({ name: 'web' });
  dir = mkdtempSync(join(tmpdir(), 'sluice-bounds-'));
});

after(async () => {
  await backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Eight levels of anchors under `indent`, each a list of ten aliases to the
// level before: 10^9 scalars once expanded, from about 2 KB of text.
function aliasBomb(indent) {
  let out = `${indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
  for (let level = 1; level <= 8; level++) {
    const aliases = Array.from({ length: 10 }, () => `*l${level - 1}`).join(', ');
    out += `${indent}l${level}: &l${level} [${aliases}]\n`;
  }
  return out;
}

const kListenerType = 'type.googleapis.com/envoy.config.listener.v3.Listener';

// The same bomb in flow style, with longer scalars: {level0: &level0 [...], ...}.
function flowBomb() {
  const levels = [`level0: &level0 [${Array.from({ length: 10 }, () => `"${'ha-'.repeat(24)}"`).join(', ')}]`];
  for (let level = 1; level <= 8; level++) {
    const aliases = Array.from({ length: 10 }, () => `*level${level - 1}`).join(', ');
    levels.push(`level${level}: &level${level} [${aliases}]`);
  }
  return `{${levels.join(',\n  ')}}`;
}

// One listener 'ingress' to the backend, as a YAML DiscoveryResponse; its
// `metadata` is the YAML text `metadata` when given.
function ldsYaml(version, metadata) {
  const listener = httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) });
  let body = JSON.stringify({ ...listener, '@type': kListenerType, ...(metadata ? { metadata: '@METADATA@' } : {}) });
  if (metadata) body = body.replace('"@METADATA@"', metadata);
  return `version_info: "${version}"\nresources:\n- ${body}\n`;
}

function publish(file, text) {
  const tmp = join(dir, `.${file}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, file));
}

async function admin(s, path) {
  return request({ port: Number(s.admin.split(':')[1]), path });
}

test('an alias bomb in an LDS file is rejected at once; the old listener serves, admin answers, RSS stays small', async () => {
  publish('lds.yaml', ldsYaml('1'));
  const s = await startSluice({
    static_resources: { clusters: [staticCluster('web', [backend.port])] },
    dynamic_resources: { lds_config: { path_config_source: { path: join(dir, 'lds.yaml') } } },
  });
  let passed = false;
  try {
    await s.refreshListeners();
    assert.equal(report((await request({ port: s.port() })).body).name, 'web');

    // The same listener with an alias bomb as its metadata (flow style, 2.4 KB).
    const bombFile = ldsYaml('2', `{filter_metadata: {bomb: ${flowBomb()}}}`);
    const size = Buffer.byteLength(bombFile);
    assert.ok(size > 2000 && size < 3000, `the bomb is ${size} bytes`);

    const rejected = s.waitForLog(/LDS update rejected, keeping the previous configuration: .*\n.*/);
    const started = Date.now();
    publish('lds.yaml', bombFile);
    // A deadline only for the failure case (the unbounded parser takes the
    // process down or stalls it): the rejection is awaited as a log line.
    let deadline;
    const [line] = await Promise.race([rejected, new Promise((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`no rejection after 20 s:\n${s.stderr.slice(-2000)}`)), 20000);
    })]).finally(() => clearTimeout(deadline));
    const took = Date.now() - started;
    assert.match(line, /lds\.yaml: config exceeds 1000000 nodes added by expanding YAML aliases/);
    assert.ok(took < 2000, `rejected after ${took} ms`);

    // Admin is reachable, counts the rejection, and the old listener serves.
    const stats = JSON.parse((await admin(s, '/stats?format=json')).body).stats;
    const counter = stats.find((x) => x.name === 'listener_manager.lds.update_rejected');
    assert.equal(counter?.value, 1);
    assert.equal(report((await request({ port: s.port() })).body).name, 'web');
    const { rss, hwm } = s.memory();
    assert.ok(hwm < 200 * 1024, `peak RSS ${hwm} KiB (now ${rss} KiB)`);
    passed = true;
  } finally {
    await s.stop(passed ? 'SIGTERM' : 'SIGKILL');  // a stalled main thread handles no SIGTERM
  }
});

test('--mode validate on a bootstrap with an alias bomb exits 1 at once, naming the limit', () => {
  const file = join(dir, 'bomb-bootstrap.yaml');
  writeFileSync(file, [
    'node:',
    '  id: n1',
    '  metadata:',
    aliasBomb('    '),
  ].join('\n'));
  const started = Date.now();
  const run = spawnSync(SLUICE, ['--mode', 'validate', '-c', file], { encoding: 'utf8', timeout: 30000 });
  const took = Date.now() - started;
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /bomb-bootstrap\.yaml: config exceeds 1000000 nodes added by expanding YAML aliases/);
  assert.ok(took < 2000, `validate took ${took} ms`);
});

test('--mode validate on 100,000 nested JSON lists exits 1 naming the depth limit', () => {
  const file = join(dir, 'deep.json');
  writeFileSync(file, '['.repeat(100000) + ']'.repeat(100000));
  const run = spawnSync(SLUICE, ['--mode', 'validate', '-c', file], { encoding: 'utf8', timeout: 30000 });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /deep\.json: config nests deeper than 128 levels/);
});
