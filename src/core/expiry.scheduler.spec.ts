import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { ExpiryScheduler } from './expiry.scheduler.js';

const START = Date.UTC(2026, 10, 24, 12, 0, 0);
const seconds = (ms: number) => (START + ms) / 1000;

describe('ExpiryScheduler', () => {
  let expired: string[];
  let scheduler: ExpiryScheduler<{ name: string; deadline?: number }>;

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    expired = [];
    scheduler = new ExpiryScheduler<{ name: string; deadline?: number }>((item) => expired.push(item.name));
  });
  afterEach(() => {
    scheduler.stop();
    jest.useRealTimers();
  });

  test('calls back when the deadline comes, not before', () => {
    scheduler.schedule({ name: 'a' }, seconds(2000));
    jest.advanceTimersByTime(1999);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
  });

  test('rounds a fractional deadline up to the next second', () => {
    scheduler.schedule({ name: 'a' }, seconds(1200));
    jest.advanceTimersByTime(1999);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
  });

  test('a deadline already past fires at once', () => {
    scheduler.schedule({ name: 'late' }, seconds(-5000));
    jest.advanceTimersByTime(0);
    expect(expired).toEqual(['late']);
  });

  test('cancel and reschedule', () => {
    const a = { name: 'a' };
    const b = { name: 'b' };
    scheduler.schedule(a, seconds(1000));
    scheduler.schedule(b, seconds(1000));
    scheduler.cancel(a);
    scheduler.schedule(b, seconds(5000));
    jest.advanceTimersByTime(4000);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual(['b']);
    expect(scheduler.size).toBe(0);
  });

  test('once nothing waits, the timer fires once more for nothing and stops', () => {
    const a = { name: 'a' };
    scheduler.schedule(a, seconds(60_000));
    scheduler.cancel(a);
    expect(jest.getTimerCount()).toBe(1);
    const b = { name: 'b' };
    scheduler.schedule(b, seconds(60_000));
    expect(jest.getTimerCount()).toBe(1);
    scheduler.cancel(b);
    jest.advanceTimersByTime(60_000);
    expect(expired).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('fires in deadline order whatever the scheduling order', () => {
    for (const [name, at] of [['c', 3000], ['a', 1000], ['d', 4000], ['b', 2000]] as const) {
      scheduler.schedule({ name }, seconds(at));
    }
    jest.advanceTimersByTime(4000);
    expect(expired).toEqual(['a', 'b', 'c', 'd']);
  });

  test('holds one timer for ten thousand items', () => {
    for (let index = 0; index < 10_000; index += 1) {
      scheduler.schedule({ name: String(index) }, seconds(1000 + (index % 3600) * 1000));
    }
    expect(jest.getTimerCount()).toBe(1);
    expect(scheduler.size).toBe(10_000);
    jest.advanceTimersByTime(3600 * 1000);
    expect(expired).toHaveLength(10_000);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a token that lives 30 days does not expire at once (timers overflow past 2^31-1 ms)', () => {
    const thirtyDays = 30 * 24 * 3600 * 1000;
    scheduler.schedule({ name: 'long' }, seconds(thirtyDays));
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(2 ** 31);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(thirtyDays - 1000 - 2 ** 31);
    expect(expired).toEqual(['long']);
  });

  test('cancelled far-future deadlines do not pile up', () => {
    const item = { name: 'refreshing' };
    for (let index = 0; index < 20_000; index += 1) {
      scheduler.schedule(item, seconds(86_400_000 + index * 1000));
    }
    expect(scheduler.size).toBe(1);
    expect((scheduler as unknown as { heap: number[] }).heap.length).toBeLessThanOrEqual(2048);
  });
});
