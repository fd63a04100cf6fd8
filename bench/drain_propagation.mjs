// Zone-drain step propagation (issue 15, point 5's benchmark): sluice-control
// on a file registry with three zones, two real sluice edges, a drain of z3 on
// the default schedule (1% every 2 s). For every step: the time from the
// control plane showing the new weight (GET /v1/zones, polled every 2 ms) to
// each proxy's runtime holding it (GET /runtime on its admin, polled every
// 2 ms). Prints p50 / p99 / max over steps x proxies; goal p99 < 1 s.
// Usage: SLUICE_BINARY=build/release/src/sluice node bench/drain_propagation.mjs [steps=30] [every=2s]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../test/integration/lib/backend.mjs';
import { request } from '../test/integration/lib/http.mjs';
import { startControl, startEdge, freePort, until, nodeSynced, zoneRegistry } from '../test/integration/lib/control.mjs';

const steps = Number(process.argv[2] ?? 30);
const every = process.argv[3] ?? '2s';
const dir = mkdtempSync(join(tmpdir(), 'sluice-drain-bench-'));
const backends = [];
for (const z of ['z1', 'z2', 'z3']) backends.push(Object.assign(await startBackend({ name: z }), { zone: z }));
const gateways = [await freePort(), await freePort()];
const registry = zoneRegistry(['z1', 'z2', 'z3'], backends, gateways);
const control = await startControl(registry, { args: ['--state-file', join(dir, 'state.json')] });
const edges = [];
for (const i of [1, 2]) edges.push(await startEdge([control.xdsPort], { id: `edge-${i}`, cluster: `edge${i}` }));
for (const i of [1, 2]) await until(() => nodeSynced(control, `edge-${i}`), 'edges SYNCED');

const weightAt = async () => (await control.get('/v1/zones')).body.zones.find((z) => z.zone === 'z3').weight;
async function proxyWeight(edge) {
  const res = await request({ port: Number(edge.admin.split(':')[1]), path: '/runtime' });
  const entries = JSON.parse(res.body).entries ?? {};
  const key = Object.keys(entries).find((k) => k.endsWith('echo.z3'));
  return key === undefined ? 100 : Number(entries[key].final_value);
}
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const delays = [];
const res = await control.call('POST', '/v1/zones/z3/drain', { to: 100 - steps, step: 1, every });
if (res.status !== 200) throw new Error(JSON.stringify(res.body));
let last = 100;
while (last > 100 - steps) {
  let w;
  while ((w = await weightAt()) === last) await pause(2);
  const seen = performance.now();
  last = w;
  await Promise.all(edges.map(async (e) => {
    while ((await proxyWeight(e)) > w) await pause(2);
    delays.push(performance.now() - seen);
  }));
}
delays.sort((a, b) => a - b);
const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))].toFixed(1);
console.log(`drain steps: ${steps} x 2 proxies, every ${every}: control -> proxy runtime p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${delays.at(-1).toFixed(1)} ms`);
for (const e of edges) await e.stop();
await control.stop();
for (const b of backends) await b.close();
rmSync(dir, { recursive: true, force: true });
