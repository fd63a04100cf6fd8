// The idle-WebSocket client of benchmark (f). Usage:
//   node ws_idle.mjs URL COUNT PID[,PID...]
// Warms the proxy up with a few connections, reads the proxy's RSS (the sum
// over the pids), opens COUNT WebSockets through it with one echo round trip
// on each, waits for the proxy's RSS to settle, reads it again and prints one
// JSON line: {"opened":N,"rss_before":bytes,"rss_after":bytes,"per_connection":bytes}.
// Then closes everything and exits.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

const [url, countArg, pidsArg] = process.argv.slice(2);
const count = Number(countArg);
const pids = pidsArg.split(',').map(Number);

function rss() {
  let total = 0;
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
  }
  return total;
}

// Opens one WebSocket and does one round trip on it.
function openOne() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => ws.send('ping'));
    ws.once('message', () => resolve(ws));
  });
}

async function openMany(n, parallel = 100) {
  const sockets = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + parallel); ++j) batch.push(openOne());
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function closeAll(sockets) {
  await Promise.all(sockets.map((ws) => new Promise((resolve) => {
    ws.once('close', resolve);
    ws.terminate();
  })));
}

// Warm-up: the proxy's allocator and pools see a few tunnels first.
await closeAll(await openMany(200));
await sleep(500);
const before = rss();
const sockets = await openMany(count);
// Settle: RSS is read until it stops moving (the proxy may still be freeing
// per-request state of the last upgrades).
let after = rss();
for (let i = 0; i < 20; ++i) {
  await sleep(100);
  const now = rss();
  if (now === after) break;
  after = now;
}
// Every tunnel still works after the measurement.
await Promise.all(sockets.map((ws) => new Promise((resolve, reject) => {
  ws.once('message', resolve);
  ws.once('error', reject);
  ws.send('again');
})));
console.log(JSON.stringify({ opened: sockets.length, rss_before: before, rss_after: after,
  per_connection: (after - before) / sockets.length }));
await closeAll(sockets);
process.exit(0);
