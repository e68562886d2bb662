import { describe, expect, test } from '@jest/globals';
import { HandshakeResponse } from './handshake-execution-context.js';

describe('HandshakeResponse', () => {
  test('keeps the headers a guard sets, and drops any that could end the header line or is no token', () => {
    const response = new HandshakeResponse();
    response.header('Retry-After', 30).setHeader('X-RateLimit-Limit', '3');
    response.header('X-Evil', 'a\r\nSet-Cookie: session=stolen');
    response.header('Bad Name', 'x');
    response.header('X-Nul', 'a\0b');
    expect(response.headers).toEqual({ 'Retry-After': '30', 'X-RateLimit-Limit': '3' });
    expect(response.getHeader('Retry-After')).toBe('30');
  });

  test('a body cannot be written at a handshake: the error says what to do instead', () => {
    expect(() => new HandshakeResponse().redirect()).toThrow(/throw an HttpException .* or return false instead/);
  });
});
