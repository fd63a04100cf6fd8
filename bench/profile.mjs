// Per-request costs of sluice that do not depend on the machine's load, to
// optimise the request path with on a shared machine. Usage (after
// scripts/build.sh release sluice):
//
//   node bench/profile.mjs [callgrind|strace] [/|/16k]
//
// callgrind (the default): instructions per request, counted by valgrind.
// strace: system calls per request, by name.
// Runs sluice (one worker) twice, serving N1 and N2 keep-alive requests from
// h2load over 10 connections to an nginx backend, and prints the difference
// divided by N2 - N1, so start-up and shut-down cancel out. The callgrind
// profile of the larger run is kept (its path is printed) for
// callgrind_annotate. PROFILE_REQUESTS=N1,N2 overrides the counts.
// PROFILE_CLUSTER_EXTRA='outlier_detection: {}' adds that line to sluice's
// clusters (the cost of a cluster feature on the request path).
// PROFILE_YAML_EXTRA is appended to sluice's YAML as it is (after its
// clusters: more clusters, then top-level fields such as cluster_manager).
// PROFILE_TARGET=haproxy measures HAProxy instead (one thread, the config of
// bench.mjs), for reference.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { backendNginx, haproxyCfg, sluiceYaml } from './lib/configs.mjs';
import { freePort, processTree, run, startServer, stopServer, waitForPort } from './lib/procs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const SLUICE = process.env.SLUICE_BINARY ?? join(repo, 'build/release/src/sluice');
const [n1, n2] = (process.env.PROFILE_REQUESTS ?? '2000,12000').split(',').map(Number);
const mode = process.argv[2] ?? 'callgrind';
const path = process.argv[3] ?? '/';
const target = process.env.PROFILE_TARGET ?? 'sluice';
if (!['callgrind', 'strace'].includes(mode) || !['sluice', 'haproxy'].includes(target)) {
  console.error('usage: [PROFILE_TARGET=sluice|haproxy] node bench/profile.mjs [callgrind|strace] [/|/16k]');
  process.exit(2);
}

const work = mkdtempSync(join(os.tmpdir(), 'sluice-profile-'));
chmodSync(work, 0o755);  // nginx's workers run as nobody when started by root
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

async function startBackend() {
  const prefix = join(work, 'backend');
  for (const d of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'www']) {
    mkdirSync(join(prefix, d), { recursive: true });
  }
  writeFileSync(join(prefix, 'www/16k'), Buffer.alloc(16 * 1024, 'x'));
  const port = await freePort();
  writeFileSync(join(prefix, 'nginx.conf'), backendNginx({ prefix, port }));
  const child = startServer('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')]);
  await waitForPort(port, 'backend nginx', child);
  return { child, port };
}

// One sluice run serving `requests` requests: {counts: {name: n}, out: file}.
async function measure(backendPort, requests) {
  const port = await freePort();
  const config = join(work, target === 'haproxy' ? 'haproxy.cfg' : 'sluice.yaml');
  const settings = { port, backendPort, wsPort: backendPort, clusterExtra: process.env.PROFILE_CLUSTER_EXTRA ?? '' };
  writeFileSync(config, target === 'haproxy' ? haproxyCfg(settings) : sluiceYaml(settings) + (process.env.PROFILE_YAML_EXTRA ?? ''));
  const command = target === 'haproxy' ? ['haproxy', '-db', '-f', config]
                                       : [SLUICE, '-c', config, '--concurrency', '1', '--log-level', 'warning'];
  const out = join(work, `${mode}.out.${requests}`);
  const wrapper = mode === 'callgrind' ? ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`]
                                       : ['strace', '-f', '-c', '-U', 'calls,name', '-o', out];
  const child = startServer(wrapper[0], [...wrapper.slice(1), ...command]);
  await waitForPort(port, `${target} under ${mode}`, child, 120_000);
  await run('h2load', ['--h1', '-c10', '-t1', `-n${requests}`, `http://127.0.0.1:${port}${path}`]);
  // strace writes its summary when its tracee ends: stop the proxy, not strace.
  if (mode === 'strace') process.kill(processTree(child.pid)[1], 'SIGTERM');
  await stopServer(child);
  const text = readFileSync(out, 'utf8');
  const counts = {};
  if (mode === 'callgrind') {
    const totals = /^(?:totals|summary): (\d+)/m.exec(text);
    if (!totals) throw new Error(`no totals in ${out}`);
    counts.instructions = Number(totals[1]);
  } else {
    for (const m of text.matchAll(/^\s*(\d+)\s+([a-z_0-9]+)\s*$/gm)) counts[m[2]] = Number(m[1]);
  }
  return { counts, out };
}

const backend = await startBackend();
try {
  const a = await measure(backend.port, n1);
  const b = await measure(backend.port, n2);
  const perRequest = (name) => ((b.counts[name] ?? 0) - (a.counts[name] ?? 0)) / (n2 - n1);
  if (mode === 'callgrind') {
    const kept = join(os.tmpdir(), 'sluice-callgrind.out');
    copyFileSync(b.out, kept);
    console.log(`${path}: ${Math.round(perRequest('instructions'))} instructions per request ` +
                `(${n1} requests: ${a.counts.instructions}, ${n2}: ${b.counts.instructions}); ` +
                `profile of the larger run: ${kept}`);
  } else {
    const names = Object.keys(b.counts).filter((n) => n !== 'total' && perRequest(n) >= 0.01);
    names.sort((x, y) => perRequest(y) - perRequest(x));
    console.log(`${path}: ${perRequest('total').toFixed(2)} system calls per request: ` +
                names.map((n) => `${n} ${perRequest(n).toFixed(2)}`).join(', '));
  }
} finally {
  await stopServer(backend.child);
}
process.exit(0);
