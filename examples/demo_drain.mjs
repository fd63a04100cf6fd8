// The demo's drain (scripts/run.sh): follows a zone's weight at
// sluice-control and, at each step, sends requests through the edge and
// prints each zone's share of them. Ends when the zone reaches the target.
// Usage: node examples/demo_drain.mjs CONTROL_URL GATEWAY_URL ZONE TARGET
import http from 'node:http';

const [control, gateway, zone, target] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true });

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

const backendZone = new Map();
const zonesOf = async () => JSON.parse((await get(`${control}/v1/zones`)).body).zones;
for (const z of JSON.parse((await get(`${control}/v1/registry`)).body).registry.services.flatMap((s) => s.instances)) {
  backendZone.set(`backend-${z.port}`, z.zone);
}

let last;
for (;;) {
  const z = (await zonesOf()).find((x) => x.zone === zone);
  if (z.weight !== last) {
    last = z.weight;
    const counts = {};
    let failed = 0;
    for (let i = 0; i < 100; i++) {
      const res = await get(gateway);
      if (res.status !== 200) failed++;
      const where = backendZone.get(res.headers['x-backend']) ?? '?';
      counts[where] = (counts[where] ?? 0) + 1;
    }
    const shares = Object.entries(counts).sort().map(([k, v]) => `${k} ${String(v).padStart(3)}%`).join('  ');
    console.log(`${zone} at weight ${String(z.weight).padStart(3)} (${z.state}): ${shares}${failed ? `  failed ${failed}` : ''}`);
    if (z.weight === Number(target)) break;
  }
  await new Promise((r) => setTimeout(r, 20));
}
agent.destroy();
