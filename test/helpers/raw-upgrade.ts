import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface UpgradeResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends a WebSocket upgrade request by hand and reads the HTTP answer: the
 * status and headers a browser never shows. A 101 answer's socket is closed.
 */
export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<UpgradeResponse> {
  const socket = connect(port, '127.0.0.1');
  socket.write(upgradeRequest(path, headers));
  return readResponse(socket);
}

/** Sends a request written by hand (e.g. a malformed upgrade) and reads the HTTP answer. */
export function rawRequest(port: number, request: string): Promise<UpgradeResponse> {
  const socket = connect(port, '127.0.0.1');
  socket.write(request);
  return readResponse(socket);
}

export function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function readResponse(socket: Socket): Promise<UpgradeResponse> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = () => {
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) {
        reject(new Error(`no HTTP answer; got ${JSON.stringify(text)}`));
        return;
      }
      const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4) });
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      // A 101 answer keeps the socket open: stop at the end of its head.
      if (received.toString('latin1').startsWith('HTTP/1.1 101') && received.includes('\r\n\r\n')) {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', finish);
    socket.on('error', reject);
  });
}
