/** Why a pending handshake is answered before its authentication finished. */
export type Interruption = 'timeout' | 'shutdown';

/** A handshake waiting for its authentication to finish. */
export interface PendingHandshake {
  readonly deadline: number;
  /** Called once if the deadline passes (or the app shuts down) first. */
  readonly interrupt: (why: Interruption) => void;
}

/**
 * The deadlines of handshakes in flight, with one timer for all of them.
 * Every handshake gets the same timeout, so deadlines come in arrival order:
 * an insertion-ordered Set is the queue, and the timer only ever waits for
 * its head. That spares a Timeout object and two timer-list updates per
 * handshake.
 */
export class HandshakeDeadlines {
  private readonly pending = new Set<PendingHandshake>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the clock for a handshake. */
  start(interrupt: (why: Interruption) => void): PendingHandshake {
    const entry = { deadline: this.now() + this.timeoutMs, interrupt };
    this.pending.add(entry);
    if (!this.timer) {
      this.arm(this.timeoutMs);
    }
    return entry;
  }

  /** Stops the clock; false if the deadline already passed (and the client was answered). */
  finish(entry: PendingHandshake): boolean {
    return this.pending.delete(entry);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Shutdown: interrupts every pending handshake now, so that none is left hanging. */
  interruptAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const entry of this.pending) {
      this.pending.delete(entry);
      entry.interrupt('shutdown');
    }
  }

  private arm(delay: number): void {
    this.timer = setTimeout(this.expire, delay);
    this.timer.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.now();
    for (const entry of this.pending) {
      if (entry.deadline > now) {
        this.arm(entry.deadline - now);
        return;
      }
      this.pending.delete(entry);
      entry.interrupt('timeout');
    }
  };
}
