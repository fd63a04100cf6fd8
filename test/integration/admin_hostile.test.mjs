// Admin output stays valid JSON whatever a client or a file put in: runtime
// keys and values that are not UTF-8 are refused with 400, /runtime answers
// afterwards, a disk layer with raw bytes prints as UTF-8 JSON, and names with
// quotes, backslashes, control characters and emoji come back intact from
// every JSON endpoint. Bytes are checked as received (a strict UTF-8 decode),
// not through Node's lenient string decoding.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';

let backend;
let root;

before(async () => {
  backend = await startBackend({ name: 'web' });
  root = mkdtempSync(join(tmpdir(), 'sluice-hostile-'));
});

after(async () => {
  await backend?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

// One admin request; resolves { status, bytes (Buffer) }.
function adminRaw(s, path, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: Number(s.admin.split(':')[1]), path, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// The answer as JSON, failing unless it is 200 and strictly UTF-8.
async function adminJson(s, path) {
  const res = await adminRaw(s, path);
  assert.equal(res.status, 200, `${path}: ${res.bytes.toString('latin1')}`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(res.bytes);
  return JSON.parse(text);
}

test('runtime keys and values that are not UTF-8 are refused with 400 and /runtime still answers', async () => {
  const s = await startSluice({ layered_runtime: { layers: [{ name: 'admin', admin_layer: {} }] } });
  try {
    for (const query of ['%FF%FE=1', 'k=%C3', 'k=%ED%A0%80', '%C0%AF=1', 'ok=1&bad%FF=2']) {
      const res = await adminRaw(s, `/runtime_modify?${query}`, 'POST');
      assert.equal(res.status, 400, `${query}: ${res.bytes.toString('latin1')}`);
      assert.match(res.bytes.toString('utf8'), /not valid UTF-8/);
      assert.ok(new TextDecoder('utf-8', { fatal: true }).decode(res.bytes), 'the 400 text is UTF-8 too');
    }
    // Valid UTF-8 beyond ASCII is a fine key and value.
    assert.equal((await adminRaw(s, `/runtime_modify?${encodeURIComponent('ключ')}=${encodeURIComponent('é€')}`, 'POST')).status, 200);
    const runtime = await adminJson(s, '/runtime');
    assert.deepEqual(Object.keys(runtime.entries), ['ключ']);
    assert.equal(runtime.entries['ключ'].final_value, 'é€');
  } finally {
    await s.stop();
  }
});

test('a disk layer with raw bytes in a file name and a value prints /runtime as UTF-8 JSON', async () => {
  const tree = join(root, 'v1', 'sluice');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'plain'), 'ok\n');
  writeFileSync(Buffer.concat([Buffer.from(`${tree}/`), Buffer.from([0x6b, 0xff])]), 'x\n');  // key "k\xff"
  writeFileSync(join(tree, 'bytes'), Buffer.from([0x76, 0xc3, 0x0a]));  // value "v\xc3"
  symlinkSync(join(root, 'v1'), join(root, 'current'));
  const s = await startSluice({
    layered_runtime: { layers: [{ name: 'disk', disk_layer: { symlink_root: join(root, 'current'), subdirectory: 'sluice' } }] },
  });
  try {
    const runtime = await adminJson(s, '/runtime');
    assert.equal(runtime.entries.plain.final_value, 'ok');
    assert.equal(runtime.entries.bytes.final_value, 'v\ufffd');
    assert.equal(runtime.entries['k\ufffd'].final_value, 'x');
  } finally {
    await s.stop();
  }
});

test('names with quotes, backslashes, control characters and emoji stay intact in every JSON endpoint', async () => {
  const odd = 'we"b\\\u0001😀é';
  const s = await startSluice({
    node: { id: `node-${odd}`, cluster: odd },
    static_resources: {
      listeners: [httpListener({
        name: `in-${odd}`,
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: odd } }]),
      })],
      clusters: [staticCluster(odd, [backend.port])],
    },
  });
  try {
    const clusters = await adminJson(s, '/clusters?format=json');
    assert.ok(clusters.cluster_statuses.some((c) => c.name === odd));
    const stats = (await adminJson(s, '/stats?format=json')).stats;
    assert.ok(stats.some((x) => x.name?.includes('😀')), 'a stat named after the cluster');
    const dump = JSON.stringify(await adminJson(s, '/config_dump'));
    assert.ok(dump.includes(JSON.stringify(odd).slice(1, -1)));
    assert.equal((await adminJson(s, '/server_info')).node.id, `node-${odd}`);
    const listeners = (await adminJson(s, '/listeners?format=json')).listener_statuses;
    assert.equal(listeners[0].name, `in-${odd}`);
  } finally {
    await s.stop();
  }
});
