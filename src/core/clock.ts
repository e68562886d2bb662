/** A timer handle of a `Clock`: whatever its `setTimeout` returned. */
export type ClockTimer = unknown;

/**
 * Where the library reads the time and sets its expiry timer. The system clock
 * in production; `nest-ws-auth/testing` puts a clock of its own in its place so
 * that expiry can be tested without waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /** Calls `callback` once, `delay` ms from now; the timer must not keep the process alive. */
  setTimeout(callback: () => void, delay: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** `Date.now` and Node's timers, looked up at each call (so that fake timers of a test runner apply). */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, delay: number) => setTimeout(callback, delay).unref(),
  clearTimeout: (timer: ClockTimer) => clearTimeout(timer as NodeJS.Timeout),
});

interface SourcedTimer {
  readonly source: Clock;
  readonly timer: ClockTimer;
}

/**
 * The clock of one app (the `WS_AUTH_CLOCK` provider): the system clock unless
 * a test swaps another in with `use()`. Those who set timers learn of a swap
 * (`onSwap`) and set them again on the new clock.
 */
export class SwappableClock implements Clock {
  private source: Clock = systemClock;
  private readonly swapListeners = new Set<() => void>();

  /** Whether the time is the system's: the library then takes the fast paths that read it themselves. */
  get isSystem(): boolean {
    return this.source === systemClock;
  }

  now(): number {
    return this.source.now();
  }

  /** A timer of the current source, cleared by that source even after a swap. */
  setTimeout(callback: () => void, delay: number): ClockTimer {
    const source = this.source;
    return { source, timer: source.setTimeout(callback, delay) } satisfies SourcedTimer;
  }

  clearTimeout(timer: ClockTimer): void {
    if (timer !== undefined) {
      const { source, timer: handle } = timer as SourcedTimer;
      source.clearTimeout(handle);
    }
  }

  /** Takes `clock` as the time source (`undefined`: the system clock again); timers are set again on it. */
  use(clock: Clock | undefined): void {
    this.source = clock ?? systemClock;
    for (const listener of this.swapListeners) {
      listener();
    }
  }

  onSwap(listener: () => void): () => void {
    this.swapListeners.add(listener);
    return () => this.swapListeners.delete(listener);
  }
}
