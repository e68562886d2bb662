import { describe, expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { clientAddress, FailedHandshakesLimiter } from './failed-handshakes.limiter.js';

describe('FailedHandshakesLimiter', () => {
  let now = 1_000_000;
  const limiter = (limit = 3, maxAddresses = 100) => new FailedHandshakesLimiter({ limit, windowMs: 60_000, maxAddresses }, () => now);

  test('the limit+1-th attempt in a window is the first refused, with the seconds left; then the address is served again', () => {
    const limits = limiter();
    for (let failure = 0; failure < 3; failure += 1) {
      expect(limits.retryAfter('a')).toBeUndefined();
      limits.recordFailure('a');
    }
    expect(limits.retryAfter('a')).toBe(60);
    now += 59_001;
    expect(limits.retryAfter('a')).toBe(1);
    expect(limits.retryAfter('b')).toBeUndefined();
    now += 999;
    expect(limits.retryAfter('a')).toBeUndefined();
    limits.recordFailure('a');
    expect(limits.retryAfter('a')).toBeUndefined();
  });

  test('handshakes being judged count: the limit+1-th concurrent attempt waits a second; successes free their place', () => {
    const limits = limiter();
    limits.begin('a');
    limits.begin('a');
    expect(limits.retryAfter('a')).toBeUndefined();
    limits.begin('a');
    expect(limits.retryAfter('a')).toBe(1);
    limits.settled('a', false);
    expect(limits.retryAfter('a')).toBeUndefined();
    limits.settled('a', false);
    limits.settled('a', false);
    expect(limits.size).toBe(0);
    limits.begin('a');
    limits.begin('a');
    limits.begin('a');
    limits.settled('a', true);
    limits.settled('a', true);
    limits.settled('a', true);
    expect(limits.retryAfter('a')).toBe(60);
  });

  test('memory is bounded under a flood from many addresses: ended windows go first, then the oldest', () => {
    const limits = limiter(1, 1000);
    for (let index = 0; index < 100_000; index += 1) limits.recordFailure(`10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`);
    expect(limits.size).toBe(1000);
    expect(limits.retryAfter('10.1.134.159')).toBe(60); // the last one
    expect(limits.retryAfter('10.0.0.0')).toBeUndefined(); // long evicted
    now += 60_000;
    limits.recordFailure('fresh');
    expect(limits.size).toBe(1);
  });
});

describe('clientAddress', () => {
  const request = (forwarded?: string, remoteAddress = '127.0.0.1') =>
    ({ headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded }, socket: { remoteAddress } }) as unknown as IncomingMessage;

  test('the TCP peer, unless proxies are trusted', () => {
    expect(clientAddress(request('203.0.113.1'), undefined, 0)).toBe('127.0.0.1');
    expect(clientAddress(request('203.0.113.1'), '192.0.2.1', 0)).toBe('192.0.2.1');
  });

  test('with trusted proxies, the entry the outermost one appended; what the client wrote before it does not count', () => {
    expect(clientAddress(request('6.6.6.6, 203.0.113.1'), undefined, 1)).toBe('203.0.113.1');
    expect(clientAddress(request('6.6.6.6, 203.0.113.1, 10.0.0.2'), undefined, 2)).toBe('203.0.113.1');
    expect(clientAddress(request('203.0.113.1'), undefined, 3)).toBe('203.0.113.1');
    expect(clientAddress(request('not an address'), undefined, 1)).toBe('127.0.0.1');
  });

  test('IPv4-mapped addresses are IPv4; IPv6 counts by /64', () => {
    expect(clientAddress(request(undefined, '::ffff:192.0.2.7'), undefined, 0)).toBe('192.0.2.7');
    expect(clientAddress(request(undefined, '2001:db8:1:2:aaaa::1'), undefined, 0)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(request(undefined, '2001:db8:1:2:bbbb::9'), undefined, 0)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(request(undefined, '2001:db8::1'), undefined, 0)).toBe('2001:db8:0:0::/64');
    expect(clientAddress(request(undefined, '::1'), undefined, 0)).toBe('0:0:0:0::/64');
  });
});
