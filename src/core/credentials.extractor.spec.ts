import { describe, expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { isTokenProtocol, readCredentials } from './credentials.extractor.js';
import { HandshakeRejection } from './ws-auth.exceptions.js';

function upgrade(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers } as unknown as IncomingMessage;
}


describe('readCredentials', () => {
  test.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
    ['Bearer', ''],
  ])('reads the token of Authorization: %s (scheme case-insensitive)', (authorization, token) => {
    expect(readCredentials(upgrade('/chat', { authorization }))).toEqual({ source: 'header', token, presented: true });
  });

  test('Basic is not a token, but it is credentials', () => {
    expect(readCredentials(upgrade('/chat', { authorization: 'Basic YWxpY2U6cHc=' }))).toEqual({ presented: true });
  });

  test('reads ?token=', () => {
    expect(readCredentials(upgrade('/chat?room=1&token=abc'))).toEqual({ source: 'query', token: 'abc', presented: true });
  });

  test('ignores look-alike parameters', () => {
    expect(readCredentials(upgrade('/chat?access_token=abc&tokens=x'))).toEqual({ presented: false });
  });

  test('reads a bearer.<token> subprotocol entry among app protocols', () => {
    const request = upgrade('/chat', { 'sec-websocket-protocol': 'chat, bearer.abc.def, v2' });
    expect(readCredentials(request)).toEqual({ source: 'protocol', token: 'abc.def', presented: true });
  });

  test('reads the cookie only when nothing else was sent', () => {
    const cookie = 'theme=dark; access_token=from%20cookie; other=1';
    expect(readCredentials(upgrade('/chat', { cookie }), 'access_token')).toEqual({
      source: 'cookie',
      token: 'from cookie',
      presented: true,
    });
    expect(readCredentials(upgrade('/chat?token=q', { cookie }), 'access_token')).toMatchObject({ source: 'query' });
    expect(readCredentials(upgrade('/chat', { cookie }))).toEqual({ presented: false });
  });

  test('finds nothing in a bare request', () => {
    expect(readCredentials(upgrade('/chat'))).toEqual({ presented: false });
  });

  test.each([
    ['a repeated query token', upgrade('/chat?token=a&token=b')],
    ['two token subprotocols', upgrade('/chat', { 'sec-websocket-protocol': 'bearer.a, bearer.b' })],
    ['a token in two places', upgrade('/chat?token=a', { authorization: 'Bearer a' })],
    ['header and subprotocol', upgrade('/chat', { authorization: 'Bearer a', 'sec-websocket-protocol': 'bearer.a' })],
  ])('answers 400 to %s, without the token in the message', (_case, request) => {
    const { malformed, token } = readCredentials(request);
    expect(token).toBeUndefined();
    expect(malformed).toBeInstanceOf(HandshakeRejection);
    expect(malformed!.status).toBe(400);
    expect(malformed!.headers['WWW-Authenticate']).toBe('Bearer error="invalid_request"');
    expect(malformed!.body).not.toMatch(/\b(a|b)\b"/);
  });

  test("takes Socket.IO's auth.token, with or without a Bearer scheme", () => {
    expect(readCredentials(upgrade('/socket.io/'), undefined, 'abc')).toEqual({ source: 'auth', token: 'abc', presented: true });
    expect(readCredentials(upgrade('/socket.io/'), undefined, 'Bearer abc')).toMatchObject({ source: 'auth', token: 'abc' });
    expect(readCredentials(upgrade('/socket.io/'), undefined, undefined)).toEqual({ presented: false });
  });

  test('auth.token wins over the cookie, and is malformed beside another token or when not a string', () => {
    const cookie = 'access_token=c';
    expect(readCredentials(upgrade('/socket.io/', { cookie }), 'access_token', 'a')).toMatchObject({ source: 'auth', token: 'a' });
    expect(readCredentials(upgrade('/socket.io/?token=q'), undefined, 'a').malformed?.status).toBe(400);
    expect(readCredentials(upgrade('/socket.io/', { authorization: 'Bearer h' }), undefined, 'a').malformed?.status).toBe(400);
    expect(readCredentials(upgrade('/socket.io/'), undefined, { token: 'a' }).malformed?.message).toBe('auth.token must be a string.');
  });
});

describe('isTokenProtocol', () => {
  test.each([
    ['bearer.abc', true],
    ['Bearer.abc', true],
    ['bearer.', true],
    ['bearer', false],
    ['chat', false],
    ['xbearer.abc', false],
  ])('%s → %s', (protocol, expected) => {
    expect(isTokenProtocol(protocol)).toBe(expected);
  });
});
