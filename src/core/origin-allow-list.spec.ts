import { describe, expect, test } from '@jest/globals';
import { OriginAllowList } from './origin-allow-list.js';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';

describe('OriginAllowList', () => {
  const list = OriginAllowList.parse(['https://app.example.com', 'http://localhost:3000/', 'HTTPS://Admin.Example.com:8443']);

  test.each([
    ['https://app.example.com', true],
    ['http://localhost:3000', true],
    ['https://admin.example.com:8443', true],
    ['https://APP.example.com', true],
    [undefined, true],
    ['null', false],
    ['http://app.example.com', false],
    ['https://app.example.com:444', false],
    ['https://app.example.com.evil.com', false],
    ['https://evil-app.example.com', false],
    ['https://app.example.co', false],
    ['https://app.example.com/', false],
    ['', false],
  ])('%s allowed: %s', (origin, allowed) => {
    expect(list.allows(origin)).toBe(allowed);
  });

  test.each([
    ['*', /no wildcards/],
    ['https://*.example.com', /no wildcards/],
    ['app.example.com', /not a URL/],
    ['https://app.example.com/path', /not a bare origin/],
    ['https://user:pw@app.example.com', /not a bare origin/],
    ['https://app.example.com?x=1', /not a bare origin/],
    ['null', /not a URL/],
  ])('refuses %s at start-up', (entry, message) => {
    expect(() => OriginAllowList.parse([entry])).toThrow(WsAuthConfigurationError);
    expect(() => OriginAllowList.parse([entry])).toThrow(message);
  });

  test('names the entry at fault', () => {
    expect(() => OriginAllowList.parse(['https://ok.example.com', 'nope'])).toThrow(/allowedOrigins\[1\]/);
  });
});
