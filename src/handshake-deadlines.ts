/** A handshake waiting for its authentication to finish. */
export interface PendingHandshake {
  readonly deadline: number;
  /** Called once if the deadline passes first. */
  readonly onTimeout: () => void;
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
  start(onTimeout: () => void): PendingHandshake {
    const entry = { deadline: this.now() + this.timeoutMs, onTimeout };
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

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
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
      entry.onTimeout();
    }
  };
}
