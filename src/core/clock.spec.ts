import { describe, expect, test } from '@jest/globals';
import { TestClock } from '../testing/test.clock.js';
import { SwappableClock } from './clock.js';
import { ExpiryScheduler } from './expiry.scheduler.js';

describe('SwappableClock and the ExpiryScheduler', () => {
  test('a scheduler on a swapped-in clock expires items when that clock reaches them, in order', async () => {
    const app = new SwappableClock();
    const test = new TestClock(1_000_000);
    app.use(test);
    const expired: string[] = [];
    const scheduler = new ExpiryScheduler<{ name: string; deadline?: number }>((item) => expired.push(item.name), app);
    scheduler.schedule({ name: 'later' }, 1_000 + 90);
    scheduler.schedule({ name: 'sooner' }, 1_000 + 30);
    await test.advance(29_999);
    expect(expired).toEqual([]);
    await test.advance(60_001);
    expect(expired).toEqual(['sooner', 'later']);
    expect(test.timers).toBe(0);
  });

  test('items scheduled on the system clock move to a clock swapped in later (rearm), and the old timer is cleared', async () => {
    const app = new SwappableClock();
    const expired: string[] = [];
    const scheduler = new ExpiryScheduler<{ name: string; deadline?: number }>((item) => expired.push(item.name), app);
    app.onSwap(() => scheduler.rearm());
    scheduler.schedule({ name: 'a' }, Date.now() / 1000 + 3600);
    const test = new TestClock();
    app.use(test);
    expect(app.isSystem).toBe(false);
    expect(test.timers).toBe(1);
    await test.advance(3_601_000);
    expect(expired).toEqual(['a']);
    app.use(undefined);
    expect(app.isSystem).toBe(true);
    scheduler.stop();
  });
});
