// Real @grpc/grpc-js servers of the tiny Echo service (echo.proto), each
// answering Who with its name, on 127.0.0.1 port 0.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const definition = protoLoader.loadSync(join(dirname(fileURLToPath(import.meta.url)), 'echo.proto'), { keepCase: true });
export const Echo = grpc.loadPackageDefinition(definition).sluice.test.Echo;

export async function startEchoServer(name) {
  const server = new grpc.Server();
  let calls = 0;
  server.addService(Echo.service, {
    Who: (_call, callback) => { ++calls; callback(null, { name }); },
  });
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    name,
    port,
    get calls() { return calls; },
    // At once: an xds channel's closed client may keep its subchannels a while.
    close: () => { server.forceShutdown(); },
  };
}
