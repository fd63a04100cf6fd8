// sluice against HAProxy, nginx and a direct connection (issue 5). Run through
// bench/run.sh (`make bench`), which installs the tools and builds sluice.
//
// Every process runs on 127.0.0.1 with ports picked at run time. Each
// measurement is taken in rounds that alternate the targets (A B C A B C ...),
// so drift of a shared machine hits all alike; the table shows medians.
//
// Environment:
//   BENCH_SECONDS          seconds per measurement (default 10)
//   BENCH_ROUNDS           rounds (default 3)
//   BENCH_WS_CONNECTIONS   idle WebSockets for (f) (default 5000)
//   BENCH_TARGETS          comma list from direct,sluice,haproxy,nginx (default: all)
//   BENCH_PHASES           comma list from acd,b,f (default: all); b needs HAProxy's a figure,
//                          else it runs at half of the first target's
//   BENCH_OUT              where the markdown goes (default bench/RESULTS.md; "-" for stdout only)
//   BENCH_NOTE             a line to print under the title (e.g. what else ran on the machine)
//   SLUICE_BINARY          default build/release/src/sluice
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { backendNginx, haproxyCfg, nginxProxyConf, sluiceYaml } from './lib/configs.mjs';
import {
  commandOutput, cpuSeconds, freePort, processTree, run, startServer, stopServer, waitForPort,
} from './lib/procs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const WS_CONNECTIONS = Number(env.BENCH_WS_CONNECTIONS ?? 5000);
const TARGETS = (env.BENCH_TARGETS ?? 'direct,sluice,haproxy,nginx').split(',').filter(Boolean);
const OUT = env.BENCH_OUT ?? join(here, 'RESULTS.md');
const SLUICE = env.SLUICE_BINARY ?? join(repo, 'build/release/src/sluice');
const PROXIES = TARGETS.filter((t) => t !== 'direct');
const PHASES = (env.BENCH_PHASES ?? 'acd,b,f').split(',');
const WRK_LUA = join(here, 'lib/wrk_report.lua');

const work = mkdtempSync(join(os.tmpdir(), 'sluice-bench-'));
chmodSync(work, 0o755);  // nginx's workers run as nobody when started by root
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// --- the processes -------------------------------------------------------

function nginxPrefix(name) {
  const prefix = join(work, name);
  for (const d of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'www']) {
    mkdirSync(join(prefix, d), { recursive: true });
  }
  return prefix;
}

async function startBackend() {
  const prefix = nginxPrefix('backend');
  writeFileSync(join(prefix, 'www/16k'), Buffer.alloc(16 * 1024, 'x'));
  writeFileSync(join(prefix, 'www/1m'), Buffer.alloc(1024 * 1024, 'y'));
  const port = await freePort();
  writeFileSync(join(prefix, 'nginx.conf'), backendNginx({ prefix, port }));
  const child = startServer('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')]);
  await waitForPort(port, 'backend nginx', child);
  return { child, port };
}

async function startWsBackend() {
  const child = startServer(process.execPath, [join(here, 'lib/ws_backend.mjs')]);
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`ws backend exited ${code}: ${child.stderrText}`)));
  });
  return { child, port };
}

async function startProxy(name, upstreams) {
  const port = await freePort();
  const settings = { port, ...upstreams };
  let child;
  if (name === 'sluice') {
    const file = join(work, 'sluice.yaml');
    writeFileSync(file, sluiceYaml(settings));
    child = startServer(SLUICE, ['-c', file, '--concurrency', '1', '--log-level', 'warning']);
  } else if (name === 'haproxy') {
    const file = join(work, 'haproxy.cfg');
    writeFileSync(file, haproxyCfg(settings));
    child = startServer('haproxy', ['-db', '-f', file]);
  } else if (name === 'nginx') {
    const prefix = nginxPrefix('nginx-proxy');
    writeFileSync(join(prefix, 'nginx.conf'), nginxProxyConf({ prefix, ...settings }));
    child = startServer('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')]);
  } else {
    throw new Error(`unknown target ${name}`);
  }
  try {
    await waitForPort(port, name, child);
  } catch (e) {
    throw new Error(`${e.message}\n${child.stderrText}`);
  }
  return { name, child, port, pids: () => processTree(child.pid) };
}

// --- the load generators ---------------------------------------------------

async function wrk({ port, path = '/', connections, seconds = SECONDS, headers = [] }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', WRK_LUA];
  for (const h of headers) args.push('-H', h);
  args.push(`http://127.0.0.1:${port}${path}`);
  const out = await run('wrk', args);
  const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length));
  const seconds_ = r.duration_us / 1e6;
  return {
    requests: r.requests,
    rps: r.requests / seconds_,
    mibps: r.bytes / seconds_ / (1024 * 1024),
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    errors: r.connect_errors + r.read_errors + r.write_errors + r.status_errors + r.timeouts,
    errorText: `connect ${r.connect_errors}, read ${r.read_errors}, write ${r.write_errors}, ` +
               `status ${r.status_errors}, timeout ${r.timeouts}`,
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Open loop: `rate` requests/s in total over `clients` HTTP/1.1 connections.
// Also the CPU time `pids` used meanwhile.
async function paced({ port, rate, clients = 50, seconds = SECONDS, pids = [] }) {
  const logFile = join(work, 'h2load.log');
  rmSync(logFile, { force: true });
  const perClient = Math.max(1, Math.round(rate / clients));
  const cpuBefore = pids.length ? cpuSeconds(pids) : 0;
  const out = await run('h2load', ['--h1', '-t1', `-c${clients}`, `--rps=${perClient}`, `-D${seconds}`,
    '--warm-up-time=1', `--log-file=${logFile}`, `http://127.0.0.1:${port}/`]);
  const cpu = pids.length ? cpuSeconds(pids) - cpuBefore : NaN;
  const rows = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
  const ok = rows.filter((r) => r[1] === '200').map((r) => Number(r[2]) / 1000).sort((a, b) => a - b);
  const done = /requests: \d+ total, \d+ started, (\d+) done/.exec(out);
  const total = done ? Number(done[1]) : rows.length;  // the CPU covers the warm-up too
  return {
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    p999: percentile(ok, 99.9),
    achieved: ok.length / seconds,
    cpu100k: (cpu / total) * 100_000,
    errors: rows.length - ok.length,
  };
}

async function idleWebSockets(url, pids) {
  const out = await run(process.execPath, [join(here, 'lib/ws_idle.mjs'), url, String(WS_CONNECTIONS), pids.join(',')]);
  return JSON.parse(out.trim().split('\n').pop());
}

// --- the plan --------------------------------------------------------------

const results = {};  // results[scenario][target] = [per-round values]
function record(scenario, target, value) {
  results[scenario] ??= {};
  (results[scenario][target] ??= []).push(value);
}
const errors = [];

const SCENARIOS = [
  { key: 'a50', label: 'a. keep-alive, 20 B, 50 connections', args: { connections: 50 } },
  { key: 'a500', label: 'a. keep-alive, 20 B, 500 connections', args: { connections: 500 } },
  { key: 'c16k', label: 'c. 16 KiB responses, 50 connections', args: { connections: 50, path: '/16k' } },
  { key: 'c1m', label: 'c. 1 MiB responses, 10 connections', args: { connections: 10, path: '/1m' } },
  { key: 'd', label: 'd. new connection per request, 50 connections',
    args: { connections: 50, headers: ['Connection: close'] } },
];

async function main() {
  log(`targets ${TARGETS.join(' ')}; ${ROUNDS} round(s) of ${SECONDS} s; ${WS_CONNECTIONS} WebSockets`);
  const backend = await startBackend();
  const ws = await startWsBackend();
  const upstreams = { backendPort: backend.port, wsPort: ws.port };
  const ports = { direct: backend.port };
  const proxies = {};
  for (const name of PROXIES) {
    proxies[name] = await startProxy(name, upstreams);
    ports[name] = proxies[name].port;
  }
  for (const t of TARGETS) await wrk({ port: ports[t], connections: 50, seconds: 1 });  // warm-up

  // a, c, d (and g: the direct target), alternating targets in every round.
  for (let round = 1; round <= (PHASES.includes('acd') ? ROUNDS : 0); ++round) {
    for (const s of SCENARIOS) {
      for (const t of TARGETS) {
        const r = await wrk({ port: ports[t], ...s.args });
        record(s.key, t, r);
        if (r.errors) errors.push(`${s.key} ${t} round ${round}: ${r.errors} errors (${r.errorText}) in ${r.requests} requests`);
        log(`round ${round} ${s.key} ${t}: ${r.rps.toFixed(0)} req/s, ${r.mibps.toFixed(1)} MiB/s, ` +
            `p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`);
      }
    }
  }

  // b and e: a fixed offered load of half HAProxy's maximum (a, 50 connections).
  const reference = results.a50?.haproxy ?? results.a50?.[PROXIES[0]] ?? results.a50?.direct ?? [];
  const rate = Math.round(median(reference.map((r) => r.rps)) / 2);
  for (let round = 1; round <= (PHASES.includes('b') && rate > 0 ? ROUNDS : 0); ++round) {
    for (const t of TARGETS) {
      const pids = t === 'direct' ? [] : proxies[t].pids();
      const r = await paced({ port: ports[t], rate, pids });
      record('b', t, r);
      if (r.errors) errors.push(`b ${t} round ${round}: ${r.errors} failed requests`);
      log(`round ${round} b ${t}: ${r.achieved.toFixed(0)} req/s, p50 ${r.p50.toFixed(3)} ms, ` +
          `p99 ${r.p99.toFixed(3)} ms, p99.9 ${r.p999.toFixed(3)} ms, ${r.cpu100k.toFixed(2)} CPU s/100k`);
    }
  }

  // f: idle WebSockets, each proxy freshly started (no heap left from the above).
  for (const name of PROXIES) await stopServer(proxies[name].child);
  for (let round = 1; round <= (PHASES.includes('f') ? Math.max(1, Math.min(ROUNDS, 2)) : 0); ++round) {
    for (const name of PROXIES) {
      const proxy = await startProxy(name, upstreams);
      try {
        const r = await idleWebSockets(`ws://127.0.0.1:${proxy.port}/ws`, proxy.pids());
        record('f', name, r);
        log(`round ${round} f ${name}: ${r.opened} WebSockets, ${(r.per_connection / 1000).toFixed(2)} KB each`);
      } catch (e) {
        errors.push(`f ${name} round ${round}: ${e.message.split('\n')[0]}`);
        log(`f ${name}: ${e.message}`);
      }
      await stopServer(proxy.child);
    }
  }
  await stopServer(ws.child);
  await stopServer(backend.child);

  const report = render(rate);
  process.stdout.write(report);
  if (OUT !== '-') {
    writeFileSync(OUT, report);
    log(`wrote ${OUT}`);
  }
}

// --- the report ------------------------------------------------------------

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function value(scenario, target, field) {
  const list = results[scenario]?.[target];
  return list ? median(list.map((r) => r[field])) : NaN;
}

function fmt(x, digits) {
  if (!Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const ROWS = [
  { s: 'a50', f: 'rps', label: 'a. 50 conns: req/s', d: 0, up: true },
  { s: 'a50', f: 'p50', label: 'a. 50 conns: p50 ms', d: 3 },
  { s: 'a50', f: 'p99', label: 'a. 50 conns: p99 ms', d: 3 },
  { s: 'a500', f: 'rps', label: 'a. 500 conns: req/s', d: 0, up: true },
  { s: 'a500', f: 'p50', label: 'a. 500 conns: p50 ms', d: 3 },
  { s: 'a500', f: 'p99', label: 'a. 500 conns: p99 ms', d: 3 },
  { s: 'b', f: 'p50', label: 'b. paced: p50 ms', d: 3 },
  { s: 'b', f: 'p99', label: 'b. paced: p99 ms', d: 3 },
  { s: 'b', f: 'p999', label: 'b. paced: p99.9 ms', d: 3 },
  { s: 'c16k', f: 'mibps', label: 'c. 16 KiB: MiB/s', d: 0, up: true },
  { s: 'c1m', f: 'mibps', label: 'c. 1 MiB: MiB/s', d: 0, up: true },
  { s: 'd', f: 'rps', label: 'd. new connection per request: req/s', d: 0, up: true },
  { s: 'b', f: 'cpu100k', label: 'e. proxy CPU s per 100k requests', d: 2, proxyOnly: true },
  { s: 'f', f: 'per_connection', label: 'f. RSS per idle WebSocket, KB', d: 2, proxyOnly: true, scale: 1 / 1000 },
];

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? fmt(a / b, 2) : '—';
}

function render(rate) {
  const cols = TARGETS;
  const ratioCols = [];
  if (TARGETS.includes('haproxy')) {
    for (const p of PROXIES) if (p !== 'haproxy') ratioCols.push([p, 'haproxy']);
  }
  if (TARGETS.includes('direct')) for (const p of PROXIES) ratioCols.push([p, 'direct']);

  const lines = [];
  const date = new Date().toISOString().slice(0, 10);
  lines.push(`# sluice benchmark results (${date})`, '');
  lines.push('Produced by `make bench` (bench/run.sh); see docs/ARCHITECTURE.md for the method.', '');
  if (env.BENCH_NOTE) lines.push(`> ${env.BENCH_NOTE}`, '');
  lines.push(`${ROUNDS} round(s) of ${SECONDS} s per measurement, targets alternating in each round; ` +
             'medians of the rounds. Latencies in ms. Ratios: >1 means more (req/s, MiB/s) or slower ' +
             '(latency, CPU, RSS) than the reference.', '');
  const header = ['measurement', ...cols, ...ratioCols.map(([a, b]) => `${a} ÷ ${b}`)];
  lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const row of ROWS) {
    const scale = row.scale ?? 1;
    const v = Object.fromEntries(cols.map((t) => [t, value(row.s, t, row.f) * scale]));
    if (row.proxyOnly) v.direct = NaN;
    const cells = cols.map((t) => fmt(v[t], row.d));
    const ratios = ratioCols.map(([a, b]) => ratio(v[a], v[b]));
    lines.push(`| ${row.label} | ${[...cells, ...ratios].join(' | ')} |`);
  }
  lines.push('');
  lines.push(`b and e: open loop (h2load --h1 --rps) at ${fmt(rate, 0)} req/s over 50 connections, half of ` +
             'HAProxy\'s median in a (50 connections). f: ' +
             `${WS_CONNECTIONS} WebSockets through a freshly started proxy, one echo each, RSS delta / count ` +
             '(KB = 1,000 bytes).', '');

  // The budget of issue 5.
  if (TARGETS.includes('sluice') && TARGETS.includes('haproxy')) {
    const check = (ok) => (ok ? 'met' : '**not met**');
    const s = (sc, f) => value(sc, 'sluice', f);
    const h = (sc, f) => value(sc, 'haproxy', f);
    lines.push('## Budget (issue 5)', '');
    lines.push('| criterion | sluice | HAProxy | |', '| --- | ---: | ---: | --- |');
    for (const c of ['a50', 'a500']) {
      lines.push(`| ${c === 'a50' ? 'a, 50' : 'a, 500'} conns: req/s ≥ HAProxy | ${fmt(s(c, 'rps'), 0)} | ` +
                 `${fmt(h(c, 'rps'), 0)} | ${check(s(c, 'rps') >= h(c, 'rps'))} |`);
      lines.push(`| ${c === 'a50' ? 'a, 50' : 'a, 500'} conns: p99 ≤ HAProxy | ${fmt(s(c, 'p99'), 3)} | ` +
                 `${fmt(h(c, 'p99'), 3)} | ${check(s(c, 'p99') <= h(c, 'p99'))} |`);
    }
    lines.push(`| b: p99 ≤ HAProxy | ${fmt(s('b', 'p99'), 3)} | ${fmt(h('b', 'p99'), 3)} | ` +
               `${check(s('b', 'p99') <= h('b', 'p99'))} |`);
    const wsKb = s('f', 'per_connection') / 1000;
    lines.push(`| f: ≤ 2.5 KB per idle WebSocket | ${fmt(wsKb, 2)} | ${fmt(h('f', 'per_connection') / 1000, 2)} | ` +
               `${check(wsKb <= 2.5)} |`);
    lines.push('', 'Where a criterion is not met, docs/PERFORMANCE.md says what stands in the way, with figures.', '');
  }

  if (errors.length) {
    lines.push('## Errors seen', '');
    for (const e of errors) lines.push(`- ${e}`);
    lines.push('');
  }

  lines.push('## Every round', '');
  lines.push('| measurement | target | rounds |', '| --- | --- | --- |');
  for (const row of ROWS) {
    for (const t of cols) {
      const list = results[row.s]?.[t];
      if (!list || (row.proxyOnly && t === 'direct')) continue;
      const scale = row.scale ?? 1;
      lines.push(`| ${row.label} | ${t} | ${list.map((r) => fmt(r[row.f] * scale, row.d)).join(', ')} |`);
    }
  }
  lines.push('');

  const cpus = os.cpus();
  const first = (text) => text.split('\n').find(Boolean)?.trim() ?? '?';
  lines.push('## Machine', '');
  lines.push(`- ${cpus.length} cores: ${cpus[0]?.model ?? '?'}; ${fmt(os.totalmem() / 2 ** 30, 1)} GiB memory`);
  lines.push(`- kernel ${os.release()}; ${first(commandOutput('sh', ['-c', '. /etc/os-release && echo $PRETTY_NAME']))}`);
  lines.push(`- load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  lines.push(`- open-file limit: ${first(commandOutput('sh', ['-c', 'ulimit -n']))}`);
  lines.push(`- sluice ${first(commandOutput(SLUICE, ['--version']))} (${SLUICE.replace(repo + '/', '')}, ` +
             `git ${first(commandOutput('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']))}), --concurrency 1`);
  lines.push(`- ${first(commandOutput('haproxy', ['-v']))}, nbthread 1`);
  lines.push(`- ${first(commandOutput('nginx', ['-v']))}, worker_processes 1 (also the backend)`);
  lines.push(`- ${first(commandOutput('wrk', ['--version']))}; ${first(commandOutput('h2load', ['--version']))}; ` +
             `node ${process.version} (WebSocket peers, ws 8.18.3)`);
  lines.push('');
  return lines.join('\n');
}

main().then(() => process.exit(0), (e) => {
  log(e.stack ?? String(e));
  process.exit(1);
});
