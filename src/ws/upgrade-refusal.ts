import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HandshakeRejection } from '../core/ws-auth.exceptions.js';

/** The bytes of each refusal, built once: the core hands out the same few rejection objects. */
const responses = new WeakMap<HandshakeRejection, string>();

/**
 * Answers an upgrade request with the refusal's HTTP response and closes the
 * socket, as ws answers a refused `verifyClient` — for refusals decided before
 * the request reaches ws.
 */
export function writeUpgradeRefusal(socket: Duplex, refusal: HandshakeRejection): void {
  let response = responses.get(refusal);
  if (response === undefined) {
    const headers: Record<string, string | number> = {
      Connection: 'close',
      ...refusal.headers,
      'Content-Length': Buffer.byteLength(refusal.body),
    };
    response =
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\r\n') +
      `\r\n\r\n${refusal.body}`;
    responses.set(refusal, response);
  }
  if (socket.writable) {
    socket.once('finish', () => socket.destroy());
    socket.end(response);
  } else {
    socket.destroy();
  }
}
