import { MAX_TIMER_DELAY_MS } from './core.constants.js';
import { type Clock, type ClockTimer, systemClock } from './clock.js';

/** An item the scheduler files by its deadline second; the scheduler owns `deadline`. */
export interface Scheduled {
  deadline?: number | undefined;
}

/**
 * Calls `onExpire` for each item when its deadline (unix seconds) comes, with
 * one timer for any number of items. Items are grouped by deadline second; a
 * min-heap of those seconds tells when to wake next. A deadline further away
 * than Node's longest timer (about 24.8 days) is reached in several wake-ups.
 * Time and timer come from `clock` (the system's by default; a test clock in
 * `nest-ws-auth/testing`).
 */
export class ExpiryScheduler<T extends Scheduled> {
  private readonly buckets = new Map<number, Set<T>>();
  /** Deadline seconds; may hold seconds whose bucket is gone (skipped when reached). */
  private readonly heap: number[] = [];
  private timer: ClockTimer | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly onExpire: (item: T) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Schedules (or moves) `item`'s deadline; a fractional second rounds up. */
  schedule(item: T, deadline: number): void {
    this.cancel(item);
    const second = Math.ceil(deadline);
    let bucket = this.buckets.get(second);
    if (!bucket) {
      this.compact();
      bucket = new Set();
      this.buckets.set(second, bucket);
      this.pushSecond(second);
    }
    bucket.add(item);
    item.deadline = second;
    if (second < this.armedFor) {
      this.arm(second);
    }
  }

  cancel(item: T): void {
    const second = item.deadline;
    if (second === undefined) {
      return;
    }
    item.deadline = undefined;
    const bucket = this.buckets.get(second);
    if (bucket?.delete(item) && bucket.size === 0) {
      this.buckets.delete(second);
      if (this.buckets.size === 0) {
        // Nothing waits: forget the heap, but leave the timer; it fires once and stops.
        // Short-lived connections would otherwise clear and re-arm it one after another.
        this.heap.length = 0;
      }
    }
  }

  /** How many items wait; for tests and measurements. */
  get size(): number {
    let size = 0;
    for (const bucket of this.buckets.values()) {
      size += bucket.size;
    }
    return size;
  }

  /** Stops the timer (module shutdown); scheduled items stay until cancelled. */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  /** Sets the timer again for the earliest deadline: after the clock changed (a test clock swapped in or out). */
  rearm(): void {
    this.stop();
    this.compact();
    if (this.heap.length > 0) {
      this.arm(this.heap[0]!);
    }
  }

  private arm(second: number): void {
    this.clock.clearTimeout(this.timer);
    this.armedFor = second;
    const delay = Math.min(Math.max(second * 1000 - this.clock.now(), 0), MAX_TIMER_DELAY_MS);
    this.timer = this.clock.setTimeout(this.fire, delay);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now() / 1000;
    while (this.heap.length > 0 && this.heap[0]! <= now) {
      const second = this.popSecond();
      const bucket = this.buckets.get(second);
      if (!bucket) {
        continue;
      }
      this.buckets.delete(second);
      for (const item of bucket) {
        item.deadline = undefined;
        this.onExpire(item);
      }
    }
    this.compact();
    if (this.heap.length > 0) {
      this.arm(this.heap[0]!);
    }
  };

  /** Seconds whose bucket emptied by cancellation stay in the heap; rebuild it once they outnumber the live ones. */
  private compact(): void {
    if (this.heap.length > 1024 && this.heap.length > 2 * this.buckets.size) {
      this.heap.length = 0;
      for (const second of this.buckets.keys()) {
        this.pushSecond(second);
      }
    }
  }

  private pushSecond(second: number): void {
    const heap = this.heap;
    let index = heap.push(second) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]! <= second) {
        break;
      }
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = second;
  }

  private popSecond(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= heap.length) {
          break;
        }
        const right = left + 1;
        const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
        if (heap[child]! >= last) {
          break;
        }
        heap[index] = heap[child]!;
        index = child;
      }
      heap[index] = last;
    }
    return top;
  }
}
