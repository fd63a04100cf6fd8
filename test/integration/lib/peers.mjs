// Test peers other than HTTP backends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

// A peer that never completes a TCP handshake: a listener with a backlog of 0
// whose one accept-queue slot is already taken, so Linux drops every further
// SYN (the client would retransmit for minutes). A Python child, because
// Node always accepts.
export async function blackHole() {
  const script = [
    'import socket, sys',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "filler = socket.create_connection(('127.0.0.1', s.getsockname()[1]))",
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  return { port: Number(line.toString().trim()), close: () => child.stdin.end() };
}

// A raw HTTP/1.1 upstream for exact misbehaviour: every request head it reads
// (bodies are not expected) is recorded by its request line in `seen`, then
// `answer(line, socket)` writes the response or does something worse (closes,
// resets); returning false stops reading that connection.
export async function requestLinePeer(answer) {
  const seen = [];
  const server = net.createServer((socket) => {
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
      for (let end = data.indexOf('\r\n\r\n'); end >= 0; end = data.indexOf('\r\n\r\n')) {
        const line = data.slice(0, data.indexOf('\r\n'));
        data = data.slice(end + 4);
        seen.push(line);
        if (answer(line, socket) === false) return;
      }
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port, seen };
}
