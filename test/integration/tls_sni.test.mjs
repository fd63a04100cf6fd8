// Filter chains chosen by the tls_inspector (the ClientHello parsed by sluice):
// server_names (exact, then the longest wildcard, then none), transport_protocol
// (TLS and plain HTTP on one port), no match, a ClientHello that never ends
// (listener_filters_timeout), and the tls_inspector.* stats. Certificates are
// made by openssl for this run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, routes } from './lib/sluice.mjs';
import { until } from './lib/control.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sni-'));
const file = (name) => join(dir, name);
let sluice;

function openssl(args) {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr}`);
}
function makeCert(name, san) {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)]);
  writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`)]);
}

// A filter chain answering `body` directly, with TLS (certificate `cert`) or plain.
function chain(body, { cert, match } = {}) {
  const c = httpListener({
    name: body,
    routeConfig: routes([{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }]),
  }).filter_chains[0];
  if (match) c.filter_chain_match = match;
  if (cert) {
    c.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: { tls_certificates: [{ certificate_chain: { filename: file(`${cert}.crt`) },
          private_key: { filename: file(`${cert}.key`) } }] },
      },
    };
  }
  return c;
}

const tlsInspector = [{ name: 'envoy.filters.listener.tls_inspector',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }];

function sniListener() {
  const l = httpListener({ name: 'sni', routeConfig: routes([]) });
  l.address.socket_address.address = '127.0.2.1';
  l.listener_filters = tlsInspector;
  l.listener_filters_timeout = '0.3s';
  l.filter_chains = [
    chain('exact', { cert: 'api', match: { server_names: ['api.example.com'], transport_protocol: 'tls' } }),
    chain('deep-wildcard', { cert: 'wild', match: { server_names: ['*.eu.example.com'] } }),
    chain('wildcard', { cert: 'wild', match: { server_names: ['*.example.com'] } }),
    chain('default-tls', { cert: 'other', match: { transport_protocol: 'tls' } }),
    chain('plain', { match: { transport_protocol: 'raw_buffer' } }),
  ];
  return l;
}

// Only example.org names: anything else has no chain.
function strictListener() {
  const l = httpListener({ name: 'strict', routeConfig: routes([]) });
  l.address.socket_address.address = '127.0.2.2';
  // No listener_filters: server_names makes sluice inject the tls_inspector, as Envoy does.
  l.filter_chains = [chain('org', { cert: 'other', match: { server_names: ['www.example.org'] } })];
  return l;
}

// continue_on_listener_filters_timeout: a client that says nothing before the
// timeout is matched as not TLS and served.
function lateListener() {
  const l = httpListener({ name: 'late', routeConfig: routes([]) });
  l.address.socket_address.address = '127.0.2.3';
  l.listener_filters = tlsInspector;
  l.listener_filters_timeout = '0.2s';
  l.continue_on_listener_filters_timeout = true;
  l.filter_chains = [
    chain('late-tls', { cert: 'other', match: { transport_protocol: 'tls' } }),
    chain('late-plain', { match: { transport_protocol: 'raw_buffer' } }),
  ];
  return l;
}

before(async () => {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=ca', '-keyout', file('ca.key'), '-out', file('ca.crt')]);
  makeCert('api', 'DNS:api.example.com');
  makeCert('wild', 'DNS:*.example.com,DNS:*.eu.example.com');
  makeCert('other', 'DNS:www.example.org,DNS:localhost');
  sluice = await startSluice({ static_resources: { listeners: [sniListener(), strictListener(), lateListener()] } });
});

after(async () => {
  if (sluice) assert.equal(await sluice.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

function curl(url, address, port, args = []) {
  const host = new URL(url).hostname;
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--cacert', file('ca.crt'), '--resolve', `${host}:${port}:${address}`, ...args, url],
      { encoding: 'utf8' }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}
const sni = (name) => curl(`https://${name}:${sluice.port('sni')}/`, '127.0.2.1', sluice.port('sni'));

test('server_names: the exact name, then the longest wildcard, then the chain without names', async () => {
  assert.equal((await sni('api.example.com')).stdout, 'exact');
  const deep = await sni('a.eu.example.com');
  assert.equal(deep.stdout, 'deep-wildcard', deep.stderr);
  // A server-name wildcard spans labels (a certificate's does not: -k).
  const deeper = await curl(`https://x.y.eu.example.com:${sluice.port('sni')}/`, '127.0.2.1', sluice.port('sni'), ['-k']);
  assert.equal(deeper.stdout, 'deep-wildcard', deeper.stderr);
  assert.equal((await sni('www.example.com')).stdout, 'wildcard');
  assert.equal((await sni('API.Example.COM')).stdout, 'exact', 'names compare ignoring case');
  // example.com is not under *.example.com; localhost matches no name: the TLS chain without names.
  const bare = await curl(`https://localhost:${sluice.port('sni')}/`, '127.0.2.1', sluice.port('sni'));
  assert.equal(bare.stdout, 'default-tls', bare.stderr);
});

test('each chain serves its own certificate', async () => {
  const res = await curl(`https://www.example.com:${sluice.port('sni')}/`, '127.0.2.1', sluice.port('sni'), ['-v']);
  assert.match(res.stderr, /subjectAltName: host "www.example.com" matched cert's "\*.example.com"/);
});

test('transport_protocol: plain HTTP on the same port takes the raw_buffer chain', async () => {
  const res = await curl(`http://127.0.2.1:${sluice.port('sni')}/`, '127.0.2.1', sluice.port('sni'));
  assert.equal(res.stdout, 'plain');
  await until(async () => (await sluice.stat('tls_inspector.tls_not_found')) >= 1, 'tls_not_found');
  assert.ok((await sluice.stat('tls_inspector.tls_found')) >= 1);
  assert.ok((await sluice.stat('tls_inspector.sni_found')) >= 1);
  assert.ok((await sluice.stat('tls_inspector.alpn_found')) >= 1);
});

test('no matching chain closes the connection and counts no_filter_chain_match', async () => {
  const port = sluice.port('strict');
  const ok = await curl(`https://www.example.org:${port}/`, '127.0.2.2', port);
  assert.equal(ok.stdout, 'org', ok.stderr);
  const refused = await curl(`https://other.example.org:${port}/`, '127.0.2.2', port);
  assert.notEqual(refused.code, 0);
  const plain = await curl(`http://127.0.2.2:${port}/`, '127.0.2.2', port);
  assert.notEqual(plain.code, 0);
  await until(async () => (await sluice.stat('listener.127.0.2.2_0.no_filter_chain_match')) === 2,
    'no_filter_chain_match = 2');
});

async function rawClose(address, port, bytes) {
  const socket = net.connect(port, address);
  await once(socket, 'connect');
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.on('close', resolve)); // a reset is a close too
  socket.resume();
  socket.write(bytes);
  await closed;
}

test('a ClientHello that never completes is closed at listener_filters_timeout, without spinning', async () => {
  const cpu = () => {
    const f = spawnSync('cat', [`/proc/${sluice.pid}/stat`], { encoding: 'utf8' }).stdout.split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks
  };
  const before = cpu();
  const start = Date.now();
  // A handshake record announcing 512 bytes, 6 of them sent.
  await rawClose('127.0.2.1', sluice.port('sni'), Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
  assert.ok(Date.now() - start >= 250, 'closed before the timeout');
  await until(async () => (await sluice.stat('listener.127.0.2.1_0.downstream_pre_cx_timeout')) === 1,
    'downstream_pre_cx_timeout');
  assert.ok(cpu() - before < 15, `sluice used ${cpu() - before} ticks waiting`);
});

test('continue_on_listener_filters_timeout: silent past the timeout, the connection is matched as not TLS and served', async () => {
  const socket = net.connect(sluice.port('late'), '127.0.2.3');
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let answer = '';
  socket.on('data', (c) => { answer += c; });
  const closed = once(socket, 'close');
  // Nothing sent until the timeout has passed (without the flag sluice closes here).
  await until(async () => (await sluice.stat('listener.127.0.2.3_0.downstream_pre_cx_timeout')) === 1,
    'downstream_pre_cx_timeout on the late listener');
  socket.write('GET / HTTP/1.1\r\nhost: late\r\nconnection: close\r\n\r\n');
  await closed;
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.ok(answer.endsWith('late-plain'), answer);
});

test('a ClientHello over 64 KiB is refused (tls_inspector.client_hello_too_large)', async () => {
  // A ClientHello header announcing 100 000 bytes.
  await rawClose('127.0.2.1', sluice.port('sni'), Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x86, 0xa0]));
  await until(async () => (await sluice.stat('tls_inspector.client_hello_too_large')) === 1, 'client_hello_too_large');
});

test('two filter chains with the same match are refused', () => {
  const l = sniListener();
  l.filter_chains.push(chain('again', { cert: 'wild', match: { server_names: ['*.example.com'] } }));
  const config = file('dup.json');
  writeFileSync(config, JSON.stringify({ static_resources: { listeners: [l] } }));
  const run = spawnSync(process.env.SLUICE_BINARY, ['--mode', 'validate', '-c', config], { encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stdout + run.stderr,
    /filter_chains\[5\]\.filter_chain_match: another filter chain has the same match \(server name '\*\.example\.com'/);
});
