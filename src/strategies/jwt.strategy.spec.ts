import { describe, expect, test } from '@jest/globals';
import jwt from 'jsonwebtoken';
import type { IncomingMessage } from 'node:http';
import { readCredentials } from '../core/credentials.extractor.js';
import { resolveJwtOptions } from './jwt-options.resolver.js';
import { JwtStrategy } from './jwt.strategy.js';
import { AuthFailure } from '../core/strategy.contract.js';

const SECRET = 'k'.repeat(32);
const settings = resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'], maxTokenBytes: 512 });
const exp = () => Math.floor(Date.now() / 1000) + 60;
const bearer = (token: string) => ({ url: '/', headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;
/** Runs the strategy the way the authenticator does: on the request and the credentials read from it. */
const run = (strategy: JwtStrategy, request: IncomingMessage) => strategy.authenticate(request, readCredentials(request));

describe('JwtStrategy', () => {
  const strategy = new JwtStrategy(settings, undefined);

  test('the user defaults to the claims', async () => {
    const outcome = await run(strategy, bearer(jwt.sign({ sub: 'a', exp: 2e9 }, SECRET)));
    expect(outcome).toMatchObject({ kind: 'success', user: { sub: 'a', exp: 2e9 }, info: { exp: 2e9 } });
  });

  test.each([
    ['a string payload', jwt.sign('just a string', SECRET), 'Token payload is not a JSON object'],
    ['no exp', jwt.sign({ sub: 'a' }, SECRET), 'Token has no exp claim'],
    ['a token over maxTokenBytes', jwt.sign({ sub: 'a', exp: exp(), pad: 'x'.repeat(600) }, SECRET), 'Token too large'],
  ])('refuses %s at the handshake and on refresh', async (_case, token, message) => {
    expect(await run(strategy, bearer(token))).toEqual({ kind: 'fail', challenge: new AuthFailure(message) });
    expect(await strategy.verify(token)).toEqual(new AuthFailure(message));
  });

  test.each([
    ['crit', jwt.sign({ sub: 'a', exp: exp() }, SECRET, { header: { alg: 'HS256', crit: ['exp'] } as never }), 'Invalid token'],
    ['a sub that is an object', jwt.sign({ sub: { id: 'a' }, exp: exp() } as never, SECRET), 'Token sub is not a non-empty string'],
    ['a sub that is a number', jwt.sign({ sub: 7, exp: exp() } as never, SECRET), 'Token sub is not a non-empty string'],
  ])('refuses %s at the handshake and on refresh', async (_case, token, message) => {
    expect(await run(strategy, bearer(token))).toEqual({ kind: 'fail', challenge: new AuthFailure(message) });
    expect(await strategy.verify(token)).toEqual(new AuthFailure(message));
  });

  test('no token: a failure that says nothing was presented', async () => {
    const outcome = await run(strategy, { url: '/', headers: {} } as IncomingMessage);
    expect(outcome).toEqual({ kind: 'fail', challenge: new AuthFailure('Authentication required', false) });
  });

  test('resolveUser gets the claims, and the request at the handshake only', async () => {
    const seen: Array<IncomingMessage | undefined> = [];
    const resolving = new JwtStrategy(settings, (claims, request) => {
      seen.push(request);
      return claims.sub === 'known' ? { id: 'known' } : null;
    });
    const request = bearer(jwt.sign({ sub: 'known', exp: exp() }, SECRET));
    expect(await run(resolving, request)).toMatchObject({ kind: 'success', user: { id: 'known' } });
    expect(await resolving.verify(jwt.sign({ sub: 'known', exp: exp() }, SECRET))).toMatchObject({ user: { id: 'known' } });
    expect(await resolving.verify(jwt.sign({ sub: 'gone', exp: exp() }, SECRET))).toEqual(new AuthFailure('Unknown user'));
    expect(seen).toEqual([request, undefined, undefined]);
  });

  test('a throwing resolveUser is an error, not a failure', async () => {
    const failing = new JwtStrategy(settings, () => {
      throw new Error('db down');
    });
    const token = jwt.sign({ sub: 'a', exp: exp() }, SECRET);
    expect(await run(failing, bearer(token))).toMatchObject({ kind: 'error', error: new Error('db down') });
    await expect(failing.verify(token)).rejects.toThrow('db down');
  });
});
