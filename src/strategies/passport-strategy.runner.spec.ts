import { expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import type { Strategy } from 'passport';
import { runPassportStrategy } from './passport-strategy.runner.js';

const request = { url: '/', headers: {} } as IncomingMessage;

/** The per-attempt methods passport adds (success, fail, error, pass). */
type Attempt = Record<string, (...args: unknown[]) => void>;

function strategy(authenticate: (this: Attempt, request: IncomingMessage) => void): Strategy {
  return { name: 'test', authenticate } as Strategy;
}

test('success, fail and error become outcomes', async () => {
  expect(await runPassportStrategy(strategy(function () { this.success({ id: 1 }, { exp: 5 }); }), request)).toEqual({
    kind: 'success',
    user: { id: 1 },
    info: { exp: 5 },
  });
  expect(await runPassportStrategy(strategy(function () { this.fail('Basic realm="x"', 401); }), request)).toEqual({
    kind: 'fail',
    challenge: 'Basic realm="x"',
  });
  const error = new Error('boom');
  expect(await runPassportStrategy(strategy(function () { this.error(error); }), request)).toEqual({ kind: 'error', error });
});

test('pass() is no decision: a failure', async () => {
  expect(await runPassportStrategy(strategy(function () { this.pass(); }), request)).toEqual({ kind: 'fail' });
});

test('a strategy that throws or redirects is an error (a handshake cannot follow a redirect)', async () => {
  const thrown = await runPassportStrategy(strategy(() => { throw new Error('sync'); }), request);
  expect(thrown).toMatchObject({ kind: 'error', error: new Error('sync') });
  const redirected = await runPassportStrategy(strategy(function () { this.redirect('/login'); }), request);
  expect(redirected).toMatchObject({ kind: 'error' });
  expect(String((redirected as { error: Error }).error.message)).toContain('redirects');
});

test('each attempt runs on its own copy: the registered strategy is not touched', async () => {
  const shared = strategy(function () { this.success('x'); });
  await runPassportStrategy(shared, request);
  expect(Object.keys(shared)).toEqual(['name', 'authenticate']);
});
