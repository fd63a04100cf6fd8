// The application log and /logging: levels changed through the admin API
// take effect at once in what the real binary writes; Envoy's --log-format,
// --log-path and --component-log-level at startup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SLUICE, startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let backend;
let sluice;

function bootstrap() {
  return {
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ name: 'to-web', match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('web', [backend.port])],
    },
  };
}

function logging(s, query = '', method = 'POST') {
  return request({ port: Number(s.admin.split(':')[1]), path: `/logging${query}`, method });
}

// name -> level, from GET /logging.
async function levels(s) {
  const res = await logging(s, '', 'GET');
  assert.equal(res.status, 200);
  assert.match(res.body, /^active loggers:\n/);
  return Object.fromEntries([...res.body.matchAll(/^ {2}(\w+): (\w+)$/gm)].map((m) => [m[1], m[2]]));
}

// Everything a request could have logged is in the log once this returns:
// the worker queued its lines before it answered, and the main thread queues
// the marker (an admin info line) after that, on the same single writer.
async function logSettled(s) {
  const marker = s.waitForLog(/change log level: name='runtime' level='info'/);
  assert.equal((await logging(s, '?runtime=info')).status, 200);
  await marker;
}

before(async () => {
  backend = await startBackend({ name: 'web' });
  sluice = await startSluice(bootstrap());
});

after(async () => {
  await backend?.close();
  if (sluice) assert.equal(await sluice.stop(), 0);
});

test('log-level changes observed in the log output', async () => {
  // At info (Envoy's default) a request writes no debug line.
  assert.equal((await request({ port: sluice.port(), path: '/quiet-before' })).status, 200);
  await logSettled(sluice);
  assert.doesNotMatch(sluice.stderr, /quiet-before/);
  assert.doesNotMatch(sluice.stderr, /\]\[debug\]\[/);

  // One component to debug: its lines appear for the next request.
  let res = await logging(sluice, '?router=debug');
  assert.equal(res.status, 200);
  assert.match(res.body, /^ {2}router: debug$/m);
  assert.match(res.body, /^ {2}connection: info$/m);
  const routed = sluice.waitForLog(/\]\[debug\]\[router\] \[src\/proxy\/downstream_connection\.cc:\d+\] \[C\d+\] GET \/loud 127\.0\.0\.1:\d+: route 'to-web'/);
  assert.equal((await request({ port: sluice.port(), path: '/loud' })).status, 200);
  await routed;

  // All of them: connection and pool lines too.
  res = await logging(sluice, '?level=debug');
  assert.equal(res.status, 200);
  assert.deepEqual(new Set(Object.values(await levels(sluice))), new Set(['debug']));
  // pool at trace: the worker may reuse the connection /loud left idle (a trace line).
  assert.equal((await logging(sluice, '?pool=trace')).status, 200);
  const accepted = sluice.waitForLog(/\[debug\]\[connection\] .*\[C\d+\] new connection from 127\.0\.0\.1:\d+ on listener 'ingress'/);
  const pooled = sluice.waitForLog(/\[(debug|trace)\]\[pool\] .*(new|reusing) connection to 127\.0\.0\.1:\d+ \(cluster 'web'\)/);
  const closed = sluice.waitForLog(/\[debug\]\[connection\] .*\[C\d+\] closing connection/);
  assert.equal((await request({ port: sluice.port(), path: '/all-debug' })).status, 200);
  await Promise.all([accepted, pooled, closed]);

  // Back to info: the lines stop at once.
  assert.equal((await logging(sluice, '?level=info')).status, 200);
  assert.equal((await request({ port: sluice.port(), path: '/quiet-after' })).status, 200);
  await logSettled(sluice);
  assert.doesNotMatch(sluice.stderr, /quiet-after/);
});

test('GET /logging lists every component with its level', async () => {
  const res = await logging(sluice, '', 'GET');
  assert.match(res.headers['content-type'], /^text\/plain/);
  assert.deepEqual(Object.keys(await levels(sluice)),
    ['admin', 'config', 'connection', 'dns', 'http', 'main', 'pool', 'router', 'runtime', 'upstream']);
  // POST without a query lists too, as Envoy's does.
  assert.equal((await logging(sluice, '')).body, res.body);
});

test('POST /logging?paths= sets several components, each by name', async () => {
  const res = await logging(sluice, '?paths=http:trace,upstream:warning');
  assert.equal(res.status, 200);
  const now = await levels(sluice);
  assert.equal(now.http, 'trace');
  assert.equal(now.upstream, 'warning');
  assert.equal(now.main, 'info');
  await logging(sluice, '?level=info');
});

test('bad components and levels are refused and change nothing', async () => {
  const cases = [
    ['?bogus=debug', /error: unknown logger name 'bogus'/],
    ['?http=loud', /error: unknown logger level 'loud'/],
    ['?http=warn', /error: unknown logger level 'warn'/], // /logging takes spdlog's names, as Envoy's does
    ['?level=verbose', /error: unknown logger level 'verbose'/],
    ['?paths=http:debug,nope:debug', /error: unknown logger name 'nope'/],
    ['?paths=http', /error: empty logger name or empty logger level in 'http'/],
    ['?http=debug&router=debug', /error: invalid number of parameters/],
  ];
  for (const [query, message] of cases) {
    const res = await logging(sluice, query);
    assert.equal(res.status, 400, query);
    assert.match(res.body, message, query);
    assert.match(res.body, /usage: \/logging\?level=<level> \(change all levels\)/);
    assert.match(res.body, /levels: trace debug info warning error critical off/);
  }
  assert.deepEqual(new Set(Object.values(await levels(sluice))), new Set(['info']));
});

test('GET with a query is refused: it would change state', async () => {
  const res = await logging(sluice, '?level=debug', 'GET');
  assert.equal(res.status, 405);
  assert.match(res.body, /^Method GET not allowed, POST required/);
  assert.deepEqual(new Set(Object.values(await levels(sluice))), new Set(['info']));
});

test('dropped application-log lines are a stat', async () => {
  const res = await request({ port: Number(sluice.admin.split(':')[1]), path: '/stats?filter=application_log' });
  assert.match(res.body, /^application_log\.dropped: 0$/m);
});

test('--log-format lays out the lines with Envoy\'s flags', async () => {
  const s = await startSluice(bootstrap(), { args: ['--log-format', '%l|%n|%L|%v'] });
  try {
    assert.match(s.stderr, /^info\|main\|I\|sluice: started with 2 workers$/m);
    assert.match(s.stderr, /^info\|main\|I\|sluice: listener 'ingress' on 127\.0\.0\.1:\d+$/m);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('--component-log-level and -l at startup are honoured', async () => {
  const s = await startSluice(bootstrap(), { args: ['-l', 'warning', '--component-log-level', 'main:info,router:debug'] });
  try {
    const now = await levels(s);
    assert.equal(now.main, 'info');
    assert.equal(now.router, 'debug');
    assert.equal(now.connection, 'warning');
    const routed = s.waitForLog(/\[debug\]\[router\] .*GET \/startup-debug/);
    await request({ port: s.port(), path: '/startup-debug' });
    await routed;
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

// Resolves when `file` (in `dir`) matches `pattern`; watched before the first
// look, so no write falls between the two.
function fileMatches(dir, file, pattern, child) {
  const read = () => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pattern.test(read())) return;
      watcher.close();
      child.off('exit', onExit);
      resolve(read());
    };
    const onExit = (code) => { watcher.close(); reject(new Error(`sluice exited with ${code}`)); };
    const watcher = watch(dir, check);
    child.once('exit', onExit);
    check();
  });
}

test('--log-path writes the log to that file, not stderr; SIGUSR1 reopens it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  const log = join(dir, 'sluice.log');
  const config = join(dir, 'bootstrap.json');
  writeFileSync(config, JSON.stringify(bootstrap()));
  const child = spawn(SLUICE, ['-c', config, '--concurrency', '1', '--log-path', log],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  try {
    const first = await fileMatches(dir, log, /sluice: started with 1 workers/, child);
    assert.match(first, /^\[[-0-9: .]+\]\[\d+\]\[info\]\[main\] \[src\/server\/server\.cc:\d+\] sluice: started/m);
    // logrotate: move the file away, signal; the next lines go to a new file.
    renameSync(log, `${log}.1`);
    child.kill('SIGUSR1');
    const second = await fileMatches(dir, log, /caught SIGUSR1/, child);
    assert.doesNotMatch(second, /sluice: started/);
    assert.match(readFileSync(`${log}.1`, 'utf8'), /sluice: started/);
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    assert.equal((await exited)[0], 0);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(stderr, '');
});

test('a bad --log-format or --log-path stops sluice before it starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  const config = join(dir, 'bootstrap.json');
  writeFileSync(config, JSON.stringify(bootstrap()));
  try {
    let run = spawnSync(SLUICE, ['-c', config, '--log-format', '[%Q] %v'], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /error: --log-format has an unknown flag '%Q' at offset 1/);
    run = spawnSync(SLUICE, ['-c', config, '--log-path', join(dir, 'missing', 'x.log')], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /error: cannot open --log-path '.*missing\/x\.log': No such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
