import { expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { HandshakeRejection, loggable } from './ws-auth.exceptions.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0';
const OPAQUE = 'k3y+with/slash=and space';

const QUOTED = 'k3y"quoted"value-long';

test.each([
  ['raw', TOKEN, TOKEN],
  ['percent-encoded', encodeURIComponent(OPAQUE), OPAQUE],
  ['percent-encoded, lower-case hex', encodeURIComponent(OPAQUE).toLowerCase(), OPAQUE],
  ['form-encoded', new URLSearchParams({ t: OPAQUE }).toString().slice(2), OPAQUE],
  ['JSON-escaped', JSON.stringify(QUOTED).slice(1, -1), QUOTED],
  ['the signature alone', TOKEN.split('.')[2]!, TOKEN],
  ['the payload alone', TOKEN.split('.')[1]!, TOKEN],
])('redacts a token quoted %s', (_case, form, secret) => {
  expect(loggable(new Error(`failed with ${form}!`), secret)).not.toContain(form);
});

test('a request stands for its Authorization and Cookie values, bearer. entries and ?token=', () => {
  const request = {
    url: '/chat?token=abc%2Edef%2Eghijklmnop&room=1',
    rawHeaders: ['Authorization', 'Basic dXNlcjpwYXNzd29yZA==', 'Cookie', 'lang=en; sid=s%3Asession-id-123456', 'Sec-WebSocket-Protocol', 'chat, bearer.opaque-token-1234'],
  } as unknown as IncomingMessage;
  const text = loggable(
    `url ${request.url} auth Basic dXNlcjpwYXNzd29yZA== cookie lang=en; sid=s%3Asession-id-123456 sid alone s%3Asession-id-123456 protocol bearer.opaque-token-1234 token opaque-token-1234 lang en`,
    request,
  );
  for (const secret of ['abc', 'dXNlcjpwYXNzd29yZA==', 'session-id-123456', 'opaque-token-1234']) expect(text).not.toContain(secret);
  expect(text).toContain('/chat?token=[token]&room=1');
  expect(text).toContain('lang en');
});

test('a 429 carries Retry-After', () => {
  expect(new HandshakeRejection(429, 'Too many failed handshakes', {}, 17).headers['Retry-After']).toBe('17');
});
