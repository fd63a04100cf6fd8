// Backends for the demo (scripts/run.sh): one small HTTP server per port given
// on the command line, each answering with its name and what it received.
// Usage: node examples/demo_backends.mjs 10001 10002 10003
import http from 'node:http';

for (const port of process.argv.slice(2).map(Number)) {
  const name = `backend-${port}`;
  http
    .createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
        res.end(`${name} answered ${req.method} ${req.url} (x-request-id ${req.headers['x-request-id']})\n`);
      });
    })
    .listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port}`));
}
