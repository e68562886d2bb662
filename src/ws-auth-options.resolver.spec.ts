import { describe, expect, jest, test } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import type { WsAuthModuleOptions } from './ws-auth-module-options.interface.js';
import { resolveWsAuthOptions } from './ws-auth-options.resolver.js';

const jwt = { secret: 'x'.repeat(32), algorithms: ['HS256' as const] };
const session = () => {};

describe('resolveWsAuthOptions', () => {
  test('applies the defaults', () => {
    const settings = resolveWsAuthOptions({ jwt });
    expect(settings).toMatchObject({
      strategies: ['jwt'],
      allowAnyOrigin: false,
      handshakeTimeoutMs: 10_000,
      closeOnExpiry: true,
      maxConnectionsPerUser: Infinity,
    });
    expect(settings.origins).toBeUndefined();
    expect(settings.userId({ id: 7 })).toBe('7');
    expect(settings.userId({ sub: 'alice' })).toBe('alice');
    expect(settings.rolesOf({ roles: ['admin'] })).toEqual(['admin']);
    expect(settings.rolesOf({})).toEqual([]);
  });

  test('the default userId explains what to do for a user without id or sub', () => {
    expect(() => resolveWsAuthOptions({ jwt }).userId({ name: 'x' })).toThrow(/Set the userId option/);
  });

  test.each<[string, WsAuthModuleOptions, RegExp]>([
    ['strategies that are not names', { jwt, strategies: [''] }, /strategies must be an array of strategy names/],
    ['a guard that is not a CanActivate', { jwt, guards: [class NotAGuard {}] as never }, /guards: NotAGuard is not a guard \(no canActivate method\)/],
    ['a guard list that is not an array', { jwt, guards: {} as never }, /guards must be an array of guards/],
    ['a strategy twice', { jwt, strategies: ['jwt', 'jwt'] }, /names a strategy twice/],
    ['a zero timeout', { jwt, handshakeTimeoutMs: 0 }, /handshakeTimeoutMs must be a positive whole number/],
    ['a huge timeout', { jwt, handshakeTimeoutMs: 2 ** 31 }, /handshakeTimeoutMs must be at most/],
    ['a fractional limit', { jwt, maxConnectionsPerUser: 1.5 }, /maxConnectionsPerUser/],
    ['a resolveUser that is no function', { jwt, resolveUser: 'x' as never }, /resolveUser must be a function/],
    ['session without origins', { strategies: ['session'], session }, /Cross-Site WebSocket Hijacking.*allowedOrigins/],
    ['a JWT cookie without origins', { jwt: { ...jwt, cookie: 'access_token' } }, /jwt\.cookie authenticates by cookie/],
    ['a bad origin', { jwt, allowedOrigins: ['*'] }, /allowedOrigins\[0\]/],
  ])('refuses %s', (_case, options, message) => {
    expect(() => resolveWsAuthOptions(options)).toThrow(WsAuthConfigurationError);
    expect(() => resolveWsAuthOptions(options)).toThrow(message);
  });

  test('failedHandshakes and trustProxy: off by default, true takes the defaults', () => {
    expect(resolveWsAuthOptions({ jwt })).toMatchObject({ trustedProxies: 0 });
    expect(resolveWsAuthOptions({ jwt }).failedHandshakes).toBeUndefined();
    expect(resolveWsAuthOptions({ jwt, failedHandshakes: true, trustProxy: true })).toMatchObject({
      failedHandshakes: { limit: 20, windowMs: 60_000, maxAddresses: 10_000 },
      trustedProxies: 1,
    });
    expect(resolveWsAuthOptions({ jwt, failedHandshakes: { limit: 5 }, trustProxy: 2 })).toMatchObject({
      failedHandshakes: { limit: 5, windowMs: 60_000 },
      trustedProxies: 2,
    });
  });

  test.each<[string, WsAuthModuleOptions, RegExp]>([
    ['a zero limit', { jwt, failedHandshakes: { limit: 0 } }, /failedHandshakes\.limit must be a positive whole number/],
    ['a fractional window', { jwt, failedHandshakes: { windowSeconds: 0.5 } }, /failedHandshakes\.windowSeconds/],
    ['a string', { jwt, failedHandshakes: 'yes' as never }, /failedHandshakes must be true or \{ limit, windowSeconds \}/],
    ['a bad trustProxy', { jwt, trustProxy: 'loopback' as never }, /trustProxy must be true/],
  ])('refuses %s', (_case, options, message) => {
    expect(() => resolveWsAuthOptions(options)).toThrow(message);
  });

  test("the app's rolesOf must return an array of names: anything else holds no role, and the error is logged once", () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
    try {
      const { rolesOf } = resolveWsAuthOptions({ jwt, rolesOf: ((user: { role: string }) => user.role) as never });
      expect(rolesOf({ role: 'sysadmin' })).toEqual([]);
      expect(rolesOf({ role: 'sysadmin' })).toEqual([]);
      expect(resolveWsAuthOptions({ jwt, rolesOf: () => ['a', 1] as never }).rolesOf({})).toEqual([]);
      expect(resolveWsAuthOptions({ jwt, rolesOf: () => ['a'] }).rolesOf({})).toEqual(['a']);
      expect(resolveWsAuthOptions({ jwt }).rolesOf({ roles: 'admin' })).toEqual([]);
      expect(logged.mock.calls.map(([line]) => String(line).slice(0, 60))).toEqual([
        'the rolesOf option returned a string, not an array of role n',
        'the rolesOf option returned an array with a non-string entry',
      ]);
    } finally {
      logged.mockRestore();
    }
  });

  test('the default userId takes strings, safe integers and ids with a string form; not plain objects or arrays', () => {
    const { userId } = resolveWsAuthOptions({ jwt });
    expect(userId({ id: 42 })).toBe('42');
    expect(userId({ id: { toString: () => '64b0c0ffee' } })).toBe('64b0c0ffee');
    expect(() => userId({ id: { a: 1 } })).toThrow(/does not name one user/);
    expect(() => userId({ sub: ['a'] })).toThrow(/does not name one user/);
    expect(() => userId({ id: 1.5 })).toThrow(/does not name one user/);
  });

  test('cookie authentication runs with an allow-list, or with the opt-out spelled out', () => {
    expect(resolveWsAuthOptions({ session, allowedOrigins: ['https://app.example.com'] }).origins).toBeDefined();
    expect(resolveWsAuthOptions({ session, allowAnyOrigin: true }).allowAnyOrigin).toBe(true);
  });
});
