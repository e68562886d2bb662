/**
 * What closing connections at token expiry costs at 100k connections:
 * ExpiryScheduler (one timer, per-second buckets) against one setTimeout per
 * connection. Plain objects stand in for sockets: the per-connection cost is
 * what is measured. Run: npm run bench:expiry (node --expose-gc).
 */
import { ExpiryScheduler } from '../src/core/expiry.scheduler.js';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 100_000);
const ROUNDS = 5;

interface Result {
  timers: number;
  heapBytesPerConnection: number;
  scheduleNsPerConnection: number;
  rescheduleNsPerConnection: number;
  cancelNsPerConnection: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Live timers, counted by wrapping the globals (unref'd timers are not active resources). */
const live = new Set<unknown>();
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
globalThis.setTimeout = ((callback: () => void, delay?: number) => {
  const timer = realSetTimeout(() => {
    live.delete(timer);
    callback();
  }, delay);
  live.add(timer);
  return timer;
}) as typeof setTimeout;
globalThis.clearTimeout = ((timer: NodeJS.Timeout | undefined) => {
  live.delete(timer);
  realClearTimeout(timer);
}) as typeof clearTimeout;
const activeTimers = () => live.size;

/** Tokens issued over the last hour with a 1-hour life: expiries spread over the next hour. */
function deadlines(now: number): number[] {
  return Array.from({ length: CONNECTIONS }, (_, index) => now / 1000 + 600 + ((index * 7919) % 3600));
}

function measure(name: string, make: () => { schedule(item: object, at: number): void; cancel(item: object): void }): Result {
  const sockets = Array.from({ length: CONNECTIONS }, (_, id) => ({ id }));
  const at = deadlines(Date.now());
  const before = heapUsed();
  const timersBefore = activeTimers();
  const scheduler = make();
  let started = process.hrtime.bigint();
  sockets.forEach((socket, index) => scheduler.schedule(socket, at[index]!));
  const scheduleNs = Number(process.hrtime.bigint() - started);
  const timers = activeTimers() - timersBefore;
  const heapBytes = heapUsed() - before;
  started = process.hrtime.bigint();
  sockets.forEach((socket, index) => scheduler.schedule(socket, at[index]! + 300)); // every client refreshes once
  const rescheduleNs = Number(process.hrtime.bigint() - started);
  started = process.hrtime.bigint();
  sockets.forEach((socket) => scheduler.cancel(socket));
  const cancelNs = Number(process.hrtime.bigint() - started);
  if (activeTimers() - timersBefore > 1) throw new Error(`${name} left timers behind`);
  return {
    timers,
    heapBytesPerConnection: Math.round(heapBytes / CONNECTIONS),
    scheduleNsPerConnection: Math.round(scheduleNs / CONNECTIONS),
    rescheduleNsPerConnection: Math.round(rescheduleNs / CONNECTIONS),
    cancelNsPerConnection: Math.round(cancelNs / CONNECTIONS),
  };
}

/** The obvious alternative: a timer per connection. */
function timerPerConnection() {
  const timers = new Map<object, NodeJS.Timeout>();
  return {
    schedule(item: object, at: number) {
      clearTimeout(timers.get(item));
      timers.set(item, setTimeout(() => timers.delete(item), at * 1000 - Date.now()).unref());
    },
    cancel(item: object) {
      clearTimeout(timers.get(item));
      timers.delete(item);
    },
  };
}

function scheduler() {
  const instance = new ExpiryScheduler<object>(() => {});
  return { schedule: (item: object, at: number) => instance.schedule(item, at), cancel: (item: object) => instance.cancel(item) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const results: Record<string, Result[]> = { ExpiryScheduler: [], 'setTimeout per connection': [] };
for (let round = 0; round < ROUNDS; round += 1) {
  results.ExpiryScheduler!.push(measure('ExpiryScheduler', scheduler));
  results['setTimeout per connection']!.push(measure('setTimeout per connection', timerPerConnection));
}

console.log(`Expiry scheduling, ${CONNECTIONS} connections, medians of ${ROUNDS} rounds (Node ${process.version})\n`);
console.log('| | timers | heap bytes / connection | schedule ns / conn | reschedule ns / conn | cancel ns / conn |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, rounds] of Object.entries(results)) {
  const pick = (key: keyof Result) => median(rounds.map((round) => round[key]));
  console.log(
    `| ${name} | ${pick('timers')} | ${pick('heapBytesPerConnection')} | ${pick('scheduleNsPerConnection')} | ${pick('rescheduleNsPerConnection')} | ${pick('cancelNsPerConnection')} |`,
  );
}
