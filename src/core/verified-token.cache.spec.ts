import { expect, test } from '@jest/globals';
import { VerifiedTokenCache } from './verified-token.cache.js';

let now = 1_000_000_000_000;
const clock = () => now;
const seconds = () => Math.floor(now / 1000);
type Claims = { exp: number; sub?: string; roles?: string[]; [claim: string]: unknown };

test('a hit is a copy: nothing the caller does changes the cached claims', () => {
  const cache = new VerifiedTokenCache<Claims>(10, 0, clock);
  cache.set('token', { sub: 'alice', exp: seconds() + 60 });
  const first = cache.get('token')!;
  first.sub = 'mallory';
  expect(cache.get('token')).toEqual({ sub: 'alice', exp: seconds() + 60 });
});

test('an entry is gone once exp (+ tolerance) is reached, as jsonwebtoken decides', () => {
  const cache = new VerifiedTokenCache<Claims>(10, 5, clock);
  cache.set('token', { sub: 'alice', exp: seconds() + 10 });
  now += 14_000;
  expect(cache.get('token')).toBeDefined();
  now += 1_000;
  expect(cache.get('token')).toBeUndefined();
  expect(cache.size).toBe(0);
});

test('bounded: the oldest entry makes room; size 0 remembers nothing', () => {
  const cache = new VerifiedTokenCache<Claims>(2, 0, clock);
  for (const token of ['a', 'b', 'c']) cache.set(token, { sub: token, exp: seconds() + 60 });
  expect([cache.get('a'), cache.get('b')?.sub, cache.get('c')?.sub]).toEqual([undefined, 'b', 'c']);
  const off = new VerifiedTokenCache<Claims>(0, 0, clock);
  off.set('a', { sub: 'a', exp: seconds() + 60 });
  expect(off.get('a')).toBeUndefined();
});

test('bounded under churn: expired entries, tokens remembered twice and evictions never let it outgrow its size', () => {
  const cache = new VerifiedTokenCache<Claims>(3, 0, clock);
  cache.set('short', { sub: 'short', exp: seconds() + 1 });
  cache.set('a', { sub: 'a', exp: seconds() + 60 });
  cache.set('a', { sub: 'a', exp: seconds() + 60 });
  now += 1_000;
  expect(cache.get('short')).toBeUndefined(); // dropped: its slot is free
  for (const token of ['b', 'c', 'd', 'e']) cache.set(token, { sub: token, exp: seconds() + 60 });
  expect(cache.size).toBeLessThanOrEqual(3);
  expect(['c', 'd', 'e'].map((token) => cache.get(token)?.sub)).toEqual(['c', 'd', 'e']);
  expect(cache.get('a')).toBeUndefined();
});

test('only the exact token is found', () => {
  const cache = new VerifiedTokenCache<Claims>(10, 0, clock);
  cache.set('header.payload.signature', { sub: 'alice', exp: seconds() + 60 });
  expect(cache.get('header.payload.signaturf')).toBeUndefined();
  expect(cache.get('header.payload.signature ')).toBeUndefined();
});

test('a hit is a deep copy: arrays and objects in the claims are not shared between hits', () => {
  const cache = new VerifiedTokenCache<Claims>(10, 0, clock);
  const claims = { sub: 'alice', exp: seconds() + 60, roles: ['admin'], org: { teams: ['a'] } };
  cache.set('token', claims);
  claims.roles.push('changed after set');
  const first = cache.get('token') as typeof claims;
  const second = cache.get('token') as typeof claims;
  expect(first.roles).not.toBe(second.roles);
  first.roles.push('root');
  first.org.teams.push('b');
  expect(cache.get('token')).toEqual({ sub: 'alice', exp: seconds() + 60, roles: ['admin'], org: { teams: ['a'] } });
});
