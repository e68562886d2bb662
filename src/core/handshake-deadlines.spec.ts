import { afterEach, beforeEach, expect, jest, test } from '@jest/globals';
import { HandshakeDeadlines } from './handshake-deadlines.js';

let deadlines: HandshakeDeadlines;
beforeEach(() => {
  jest.useFakeTimers();
  deadlines = new HandshakeDeadlines(1000);
});
afterEach(() => {
  deadlines.interruptAll();
  jest.useRealTimers();
});

test('times out each handshake at its own deadline, with one timer for all', () => {
  const timedOut: string[] = [];
  deadlines.start(() => timedOut.push('first'));
  jest.advanceTimersByTime(400);
  deadlines.start(() => timedOut.push('second'));
  expect(jest.getTimerCount()).toBe(1);
  jest.advanceTimersByTime(599);
  expect(timedOut).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(timedOut).toEqual(['first']);
  jest.advanceTimersByTime(399);
  expect(timedOut).toEqual(['first']);
  jest.advanceTimersByTime(1);
  expect(timedOut).toEqual(['first', 'second']);
  expect(jest.getTimerCount()).toBe(0);
});

test('a finished handshake never times out; finishing after the timeout says so', () => {
  const timedOut: string[] = [];
  const done = deadlines.start(() => timedOut.push('done'));
  const late = deadlines.start(() => timedOut.push('late'));
  expect(deadlines.finish(done)).toBe(true);
  jest.advanceTimersByTime(1000);
  expect(timedOut).toEqual(['late']);
  expect(deadlines.finish(late)).toBe(false);
  expect(deadlines.size).toBe(0);
});

test('interruptAll answers every pending handshake at once, and leaves no timer', () => {
  const interrupted: string[] = [];
  deadlines.start((why) => interrupted.push(`first ${why}`));
  deadlines.start((why) => interrupted.push(`second ${why}`));
  deadlines.interruptAll();
  expect(interrupted).toEqual(['first shutdown', 'second shutdown']);
  expect(jest.getTimerCount()).toBe(0);
  jest.advanceTimersByTime(1000);
  expect(interrupted).toHaveLength(2);
});
