// A scripted load reporting service (envoy.service.load_stats.v3
// LoadReportingService.StreamLoadStats): keeps every request of every
// stream; the test answers a stream when it chooses (stream.respond).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
const definition = protoLoader.loadSync(['envoy/service/load_stats/v3/lrs.proto'],
  { includeDirs, keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true });
const service = grpc.loadPackageDefinition(definition).envoy.service.load_stats.v3.LoadReportingService.service;

// A Duration message's seconds, as a number.
export const seconds = (d) => Number(d?.seconds ?? 0) + Number(d?.nanos ?? 0) / 1e9;

export class LrsServer {
  constructor() {
    this.streams = [];  // each: { requests: [{ at, message }], respond(response), ended }
    this.waiters = [];
  }

  wake() { this.waiters = this.waiters.filter((w) => !w()); }

  async start(port = 0) {
    this.server = new grpc.Server();
    this.server.addService(service, {
      StreamLoadStats: (call) => {
        const stream = { requests: [], ended: false, respond: (r) => call.write(r) };
        this.streams.push(stream);
        call.on('data', (m) => { stream.requests.push({ at: Date.now(), message: m }); this.wake(); });
        call.on('end', () => { stream.ended = true; call.end(); this.wake(); });
        call.on('error', () => { stream.ended = true; this.wake(); });
      },
    });
    this.port = await new Promise((resolve, reject) => {
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    return this.port;
  }

  // Resolves once `check()` is true, re-checked at every message.
  until(check) {
    return new Promise((resolve) => {
      const w = () => { if (!check()) return false; resolve(); return true; };
      if (!w()) this.waiters.push(w);
    });
  }

  stop() { this.server.forceShutdown(); }
}
