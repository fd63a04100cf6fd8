// A WebSocket echo server for the idle-WebSocket benchmark (f): listens on
// 127.0.0.1, port 0, and prints its port on stdout. Runs until killed.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('listening', () => process.stdout.write(`${wss.address().port}\n`));
wss.on('connection', (ws) => {
  ws.on('message', (data, binary) => ws.send(data, { binary }));
  ws.on('error', () => {});
});
