import { afterEach, beforeEach, expect, jest, test } from '@jest/globals';
import { LogThrottle } from './log-throttle.js';

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

test('one line per key per interval, then one line with how many more there were', () => {
  const lines: string[] = [];
  const throttle = new LogThrottle((line) => lines.push(line), 60_000);
  for (let index = 0; index < 1000; index += 1) throttle.report('gateway A', 'A timed out');
  throttle.report('gateway B', 'B timed out');
  expect(lines).toEqual(['A timed out', 'B timed out']);
  jest.advanceTimersByTime(60_000);
  expect(lines).toEqual(['A timed out', 'B timed out', 'A timed out (999 more like it in the last 60 s)']);
  jest.advanceTimersByTime(60_000);
  throttle.report('gateway A', 'A timed out');
  expect(lines).toHaveLength(4);
});

test('stop reports what is held back', () => {
  const lines: string[] = [];
  const throttle = new LogThrottle((line) => lines.push(line), 60_000);
  throttle.report('k', 'x');
  throttle.report('k', 'x');
  throttle.stop();
  expect(lines).toEqual(['x', 'x (1 more like it in the last 60 s)']);
  expect(jest.getTimerCount()).toBe(0);
});
