// The ADS server of bench/xds_eds.mjs: test/integration/lib/ads_server.mjs
// (the scripted state-of-the-world server of the integration tests) with what
// a benchmark needs on top of it:
// - each response's write is timed: `sent` maps a nonce to performance.now()
//   when grpc-js reports the message written to the socket (the write
//   callback), and `wrote` to the time just before the write;
// - the EDS answer picks the requested names through a Set (the test
//   server's Array.includes is quadratic: 10^8 steps at 10,000 clusters);
// - sendResources() writes a response of a chosen subset of a type's
//   resources (legal for EDS in the state of the world: only LDS and CDS
//   responses must hold every resource), without changing the state.
import { performance } from 'node:perf_hooks';

import { AdsServer, TYPE } from '../../test/integration/lib/ads_server.mjs';

export { TYPE, any } from '../../test/integration/lib/ads_server.mjs';

export class EdsBenchAdsServer extends AdsServer {
  constructor() {
    super();
    this.wrote = new Map();  // nonce -> performance.now() before the write
    this.sent = new Map();   // nonce -> performance.now() once written
  }

  send(stream, typeUrl, names) {
    const { version, resources } = this.state.get(typeUrl);
    const wanted = typeUrl === TYPE.endpoint ? resources.filter(((set) => (r) => set.has(r.name))(new Set(names)))
                                             : resources;
    stream.answered.set(typeUrl, names.join(','));
    return this.write(stream, typeUrl, version, wanted);
  }

  write(stream, typeUrl, version, resources) {
    const nonce = String(++this.nonce);
    this.responses.push({ type_url: typeUrl, version_info: version, nonce, after: this.requests.length });
    this.wrote.set(nonce, performance.now());
    stream.call.write({ type_url: typeUrl, version_info: version, nonce, resources: resources.map((r) => r.any) },
      () => this.sent.set(nonce, performance.now()));
    return nonce;
  }

  // Writes `resources` of `typeUrl` at `version` to the one open ADS stream
  // (the state is the caller's to keep); returns the nonce.
  sendResources(typeUrl, version, resources) {
    const [stream] = [...this.streams];
    if (!stream) throw new Error('no ADS stream open');
    return this.write(stream, typeUrl, version, resources);
  }

  // The time `nonce` was written to the socket (awaits the write callback).
  async sentAt(nonce) {
    while (!this.sent.has(nonce)) await new Promise((r) => setImmediate(r));
    return this.sent.get(nonce);
  }
}
