// A terminal chat client: node example/client.mjs <url> <token>
// Sends the token in the Authorization header, as a server-side client does.
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node example/client.mjs <ws-url> <token>');
  process.exit(2);
}

const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
socket.on('unexpected-response', (_request, response) => {
  console.error(`refused: HTTP ${response.statusCode} ${response.headers['www-authenticate'] ?? ''}`);
  process.exit(1);
});
socket.on('open', () => {
  console.log('connected; type a line to say it');
  socket.send(JSON.stringify({ event: 'whoami' }));
  createInterface({ input: process.stdin })
    .on('line', (text) => socket.send(JSON.stringify({ event: 'say', data: text })))
    // End of input (Ctrl-D, or a pipe that is done): leave the chat, which ends the process.
    .on('close', () => socket.close(1000, 'bye'));
});
socket.on('message', (data) => console.log(data.toString()));
socket.on('close', (code, reason) => {
  console.log(`closed: ${code} ${reason}`);
  process.exit(0);
});
socket.on('error', (error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
