// Test peers other than HTTP backends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

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
