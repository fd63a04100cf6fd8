// A scripted gRPC access-log service (envoy.service.accesslog.v3
// AccessLogService.StreamAccessLogs): keeps every message of every stream.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
const definition = protoLoader.loadSync(['envoy/service/accesslog/v3/als.proto'],
  { includeDirs, keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true });
const service = grpc.loadPackageDefinition(definition).envoy.service.accesslog.v3.AccessLogService.service;

export class AlsServer {
  constructor() {
    this.streams = [];  // each: { messages: [...] }
    this.waiters = [];
  }

  // Every HTTP entry received so far, in order.
  get entries() { return this.streams.flatMap((s) => s.messages.flatMap((m) => m.http_logs?.log_entry ?? [])); }

  async start(port = 0) {
    this.server = new grpc.Server();
    this.server.addService(service, {
      StreamAccessLogs: (call, callback) => {
        const stream = { messages: [] };
        this.streams.push(stream);
        call.on('data', (m) => {
          stream.messages.push(m);
          this.waiters = this.waiters.filter((w) => !w());
        });
        call.on('end', () => callback(null, {}));
        call.on('error', () => {});
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
