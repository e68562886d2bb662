import type { Clock, ClockTimer } from '../core/clock.js';

interface Pending {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * The kit's clock: frozen until `advance()` moves it. While a kit runs, the
 * app's expiry timer, token verification and revocations read this time, and
 * `connectAs` signs `iat`/`exp` with it, so an expiry is tested in
 * milliseconds without waiting.
 */
export class TestClock implements Clock {
  private time: number;
  private order = 0;
  private readonly pending = new Set<Pending>();

  /** @param start milliseconds since the epoch; default: the current second of the system clock */
  constructor(start: number = Math.floor(Date.now() / 1000) * 1000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Timers waiting on this clock. */
  get timers(): number {
    return this.pending.size;
  }

  setTimeout(callback: () => void, delay: number): ClockTimer {
    const timer: Pending = { at: this.time + Math.max(0, delay), order: this.order++, callback };
    this.pending.add(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.pending.delete(timer as Pending);
  }

  /**
   * Moves the time `ms` forward, firing every timer that comes due on the way, in
   * order (each at its own time), then lets the sockets write what those timers
   * sent (a close frame). Await it.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`clock.advance(ms) needs a non-negative number of milliseconds; got ${ms}.`);
    }
    const target = this.time + ms;
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.pending.delete(next);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = target;
    // Closes and messages the timers caused are written on the next turns of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Sets the time (only forward: timers due by then fire, as with `advance`). */
  async set(time: number | Date): Promise<void> {
    const to = typeof time === 'number' ? time : time.getTime();
    if (to < this.time) {
      throw new RangeError('clock.set() cannot go back in time: start a kit with { now } instead.');
    }
    await this.advance(to - this.time);
  }

  private nextDue(target: number): Pending | undefined {
    let first: Pending | undefined;
    for (const timer of this.pending) {
      if (timer.at <= target && (!first || timer.at < first.at || (timer.at === first.at && timer.order < first.order))) {
        first = timer;
      }
    }
    return first;
  }
}
