// Signals, pipes and port ownership (issue 11, defects 1, 2 and 9): SIGHUP is
// logged and eaten, a log sink whose reader went away costs lines but never
// the process (SIGPIPE is ignored), and a second sluice cannot share the
// ports of a running one (docs/HARDENING.md section 5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SLUICE, startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let backend;

before(async () => {
  backend = await startBackend({ name: 'web' });
});

after(async () => {
  await backend?.close();
});

function listener({ name = 'ingress', port = 0 } = {}) {
  const l = httpListener({ name, routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) });
  l.address.socket_address.port_value = port;
  return l;
}

function bootstrap({ listeners = [listener()], adminPort = 0, accessLog } = {}) {
  if (accessLog) {
    for (const l of listeners) {
      l.filter_chains[0].filters[0].typed_config.access_log = [{
        name: 'envoy.access_loggers.file',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: accessLog,
        },
      }];
    }
  }
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: { listeners, clusters: [staticCluster('web', [backend.port])] },
  };
}

function adminPort(s) { return Number(s.admin.split(':')[1]); }

// Counter `name` from admin /stats (JSON) of the admin at `port`.
async function stat(port, name) {
  const res = await request({ port, path: '/stats?format=json' });
  return JSON.parse(res.body).stats.find((e) => e.name === name)?.value;
}

// Resolves once counter `name` is at least `min` (asks again after each answer).
async function statReaches(port, name, min) {
  for (;;) {
    const value = await stat(port, name);
    if (value >= min) return value;
    await new Promise((r) => setImmediate(r));
  }
}

function mkfifo(path) {
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
}

// Opens the read end of FIFO `path` without waiting for a writer; 'data' on the
// returned socket as lines arrive; destroy() makes the reader leave.
function fifoReader(path) {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: true, writable: false });
  socket.text = '';
  socket.setEncoding('utf8');
  socket.on('data', (c) => { socket.text += c; });
  socket.on('error', () => {});
  return socket;
}

// Resolves once `reader` has received text matching `pattern`.
function readerMatches(reader, pattern) {
  return new Promise((resolve) => {
    const check = () => {
      if (!pattern.test(reader.text)) return;
      reader.off('data', check);
      resolve(reader.text);
    };
    reader.on('data', check);
    check();
  });
}

// Runs sluice on `config` (an object) expecting it to fail before it starts:
// resolves { code, stderr }; rejects if it starts serving.
async function runExpectingFailure(config, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sig-'));
  const file = join(dir, 'bootstrap.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(SLUICE, ['-c', file, '--concurrency', '2', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  try {
    return await new Promise((resolve, reject) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        if (/sluice: started/.test(stderr)) {
          child.kill('SIGKILL');
          reject(new Error(`the second sluice started:\n${stderr}`));
        }
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('SIGHUP is logged and eaten as Envoy does: the in-flight request completes and sluice keeps serving', async () => {
  const s = await startSluice(bootstrap());
  try {
    const arrived = once(backend.events, 'request');
    const inFlight = request({ port: s.port(), path: '/delay/300' });
    await arrived;
    const logged = s.waitForLog(/\[warning\]\[main\] [^\n]*caught and eating SIGHUP\. See documentation for how to hot restart\./);
    s.child.kill('SIGHUP');
    await logged;
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(report(res.body).url, '/delay/300');
    s.child.kill('SIGHUP');
    for (let i = 0; i < 5; ++i) assert.equal((await request({ port: s.port() })).status, 200);
    assert.equal(s.child.exitCode, null);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('an access log on /dev/stdout piped into a reader that exits costs lines, not the process (SIGPIPE)', async () => {
  // `sluice | head -c 10`, through a named pipe: Node's own stdio "pipes" are
  // socket pairs, which /dev/stdout cannot open.
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pipe-'));
  const fifo = join(dir, 'stdout.fifo');
  mkfifo(fifo);
  const head = spawn('head', ['-c', '10', fifo], { stdio: 'ignore' });
  const headExited = once(head, 'exit');
  const writeEnd = openSync(fifo, 'w'); // returns once head has opened its end
  let s;
  try {
    s = await startSluice(bootstrap({ accessLog: '/dev/stdout' }), { stdout: writeEnd });
  } finally {
    closeSync(writeEnd); // sluice holds the write end now; head's exit leaves no reader
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    assert.equal((await request({ port: s.port() })).status, 200);
    await headExited;
    for (let i = 0; i < 50; ++i) assert.equal((await request({ port: s.port() })).status, 200);
    assert.ok(await statReaches(adminPort(s), 'filesystem.write_failed', 1));
    assert.equal((await request({ port: s.port() })).status, 200);
    assert.equal(s.child.exitCode, null);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('an access-log FIFO whose reader left: failed writes are counted, SIGUSR1 reopens it once a reader is back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fifo-'));
  const fifo = join(dir, 'access.fifo');
  mkfifo(fifo);
  let reader = fifoReader(fifo);
  const s = await startSluice(bootstrap({ accessLog: fifo }));
  try {
    const first = readerMatches(reader, /\n/);
    assert.equal((await request({ port: s.port(), path: '/first' })).status, 200);
    assert.match(await first, /GET \/first/);
    reader.destroy();
    await once(reader, 'close');
    for (let i = 0; i < 20; ++i) assert.equal((await request({ port: s.port() })).status, 200);
    assert.ok(await statReaches(adminPort(s), 'filesystem.write_failed', 1));
    // No reader: the reopen fails at once (it must not block) and is counted.
    let reopened = s.waitForLog(/caught SIGUSR1/);
    s.child.kill('SIGUSR1');
    await reopened;
    assert.ok(await statReaches(adminPort(s), 'filesystem.reopen_failed', 1));
    assert.equal((await request({ port: s.port() })).status, 200);
    // A reader is back: SIGUSR1 reopens the FIFO and lines flow again.
    reader = fifoReader(fifo);
    reopened = s.waitForLog(/caught SIGUSR1/);
    s.child.kill('SIGUSR1');
    await reopened;
    const failedBefore = await stat(adminPort(s), 'filesystem.reopen_failed');
    const again = readerMatches(reader, /GET \/again/);
    // The reopen happens before the writer's next write: the first line after
    // the signal may still go to the old descriptor, so ask until one arrives.
    let done = false;
    again.then(() => { done = true; });
    while (!done) assert.equal((await request({ port: s.port(), path: '/again' })).status, 200);
    assert.equal(await stat(adminPort(s), 'filesystem.reopen_failed'), failedBefore);
    reader.destroy();
  } finally {
    assert.equal(await s.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-path on a FIFO whose reader left is not fatal; failed writes are counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fifo-'));
  const fifo = join(dir, 'log.fifo');
  const config = join(dir, 'bootstrap.json');
  const addressFile = join(dir, 'admin.address');
  mkfifo(fifo);
  writeFileSync(config, JSON.stringify(bootstrap()));
  const reader = fifoReader(fifo);
  const child = spawn(SLUICE, ['-c', config, '--concurrency', '1', '-l', 'debug', '--log-path', fifo,
    '--admin-address-path', addressFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = once(child, 'exit');
  try {
    await Promise.race([readerMatches(reader, /sluice: started/),
      exited.then(([code]) => { throw new Error(`sluice exited with ${code}: ${stderr}`); })]);
    const admin = Number(readFileSync(addressFile, 'utf8').trim().split(':')[1]);
    const listeners = JSON.parse((await request({ port: admin, path: '/listeners?format=json' })).body);
    const port = listeners.listener_statuses[0].local_address.socket_address.port_value;
    reader.destroy();
    await once(reader, 'close');
    // Each request logs debug lines ("new connection ..."): each write fails.
    for (let i = 0; i < 20; ++i) assert.equal((await request({ port })).status, 200);
    assert.ok(await statReaches(admin, 'filesystem.write_failed', 1));
    child.kill('SIGUSR1'); // the reopen finds no reader: counted, not blocking
    assert.ok(await statReaches(admin, 'filesystem.reopen_failed', 1));
    assert.equal((await request({ port })).status, 200);
    assert.equal(child.exitCode, null);
  } finally {
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second sluice on the same admin port exits 1 and says why; the first keeps its admin', async () => {
  const first = await startSluice(bootstrap());
  try {
    const port = adminPort(first);
    const second = await runExpectingFailure(bootstrap({ adminPort: port }));
    assert.equal(second.code, 1);
    assert.match(second.stderr,
      new RegExp(`admin cannot listen on 127\\.0\\.0\\.1:${port}: Address already in use \\(is another sluice running`));
    // Every admin call reaches the first: each sees the log level only it has.
    assert.equal((await request({ port, method: 'POST', path: '/logging?dns=critical' })).status, 200);
    for (let i = 0; i < 20; ++i) assert.match((await request({ port, path: '/logging' })).body, /dns: critical/);
    assert.equal((await request({ port: first.port() })).status, 200);
  } finally {
    assert.equal(await first.stop(), 0);
  }
});

test('a second sluice on the same listener port exits 1 naming the listener; every request reaches the first', async () => {
  const first = await startSluice(bootstrap());
  try {
    const port = first.port();
    const second = await runExpectingFailure(bootstrap({ listeners: [listener({ name: 'copy', port })] }));
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(
      `listener 'copy' cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use by another process`));
    const before = await stat(adminPort(first), 'http.ingress.downstream_rq_total');
    for (let i = 0; i < 40; ++i) assert.equal((await request({ port })).status, 200);
    assert.equal(await stat(adminPort(first), 'http.ingress.downstream_rq_total'), before + 40);
  } finally {
    assert.equal(await first.stop(), 0);
  }
});

// One request, repeated on a new connection while the port resets
// connections (a listener socket being swapped); at most 100 tries.
async function requestUntilServed(port) {
  for (let i = 0; ; ++i) {
    try {
      return await request({ port });
    } catch (e) {
      if (e.code !== 'ECONNRESET' || i >= 100) throw e;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

test('LDS: a port another process listens on is rejected and counted; the process may move its own listener on a fixed port', async () => {
  const foreign = await startSluice(bootstrap());
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lds-'));
  const lds = join(dir, 'lds.json');
  const publish = (listeners) => {
    const resources = listeners.map((l) => ({ '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...l }));
    writeFileSync(`${lds}.tmp`, JSON.stringify({ version_info: String(Date.now()), resources }));
    renameSync(`${lds}.tmp`, lds);
  };
  // A fixed port nobody holds: one the kernel chose, then released.
  const free = net.createServer().listen(0, '127.0.0.1');
  await once(free, 'listening');
  const fixed = free.address().port;
  free.close();
  await once(free, 'close');
  publish([listener({ name: 'one', port: fixed })]);
  const s = await startSluice({
    ...bootstrap({ listeners: [] }),
    dynamic_resources: { lds_config: { path_config_source: { path: lds } } },
  });
  try {
    assert.equal((await request({ port: fixed })).status, 200);
    // The listener renamed on the same port: its own port, no foreign owner.
    let applied = s.waitForLog(/LDS update applied/);
    publish([listener({ name: 'uno', port: fixed })]);
    await applied;
    // The main thread logs before the workers have swapped their sockets: a
    // connection queued on a closing socket is reset (the listener manager of
    // issue 12 will keep the socket of a listener that stays on its address).
    // Once a worker serves on the new socket, every request succeeds.
    assert.equal((await requestUntilServed(fixed)).status, 200);
    assert.equal((await request({ port: fixed })).status, 200);
    // A listener on the other sluice's port: the update is rejected, counted,
    // and the current listeners keep serving.
    const rejected = s.waitForLog(/LDS update rejected[^\n]*listener 'two' cannot listen on 127\.0\.0\.1:\d+: the address is in use by another process/);
    publish([listener({ name: 'uno', port: fixed }), listener({ name: 'two', port: foreign.port() })]);
    await rejected;
    assert.ok(await stat(adminPort(s), 'listener_manager.listener_create_failure') >= 1);
    assert.equal((await request({ port: fixed })).status, 200);
    const before = await stat(adminPort(foreign), 'http.ingress.downstream_rq_total');
    for (let i = 0; i < 20; ++i) assert.equal((await request({ port: foreign.port() })).status, 200);
    assert.equal(await stat(adminPort(foreign), 'http.ingress.downstream_rq_total'), before + 20);
  } finally {
    assert.equal(await s.stop(), 0);
    assert.equal(await foreign.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
