/** What is reported once per interval: the first line, then how many more there were. */
interface Window {
  readonly until: number;
  suppressed: number;
  last: string;
  timer?: NodeJS.Timeout;
}

/**
 * At most one log line per key (e.g. a gateway and a kind of event) per
 * `intervalMs`: the first one at once, then one line with how many more came
 * in that interval. A flood of timed-out handshakes is a few lines a minute,
 * not one per handshake.
 */
export class LogThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  report(key: string, line: string): void {
    const now = this.now();
    const window = this.windows.get(key);
    if (window !== undefined && now < window.until) {
      window.suppressed += 1;
      window.last = line;
      window.timer ??= setTimeout(() => this.flush(key), window.until - now).unref();
      return;
    }
    this.windows.set(key, { until: now + this.intervalMs, suppressed: 0, last: line });
    this.log(line);
  }

  /** Shutdown: reports what is still held back, and clears the timers. */
  stop(): void {
    for (const key of [...this.windows.keys()]) {
      this.flush(key);
    }
    this.windows.clear();
  }

  private flush(key: string): void {
    const window = this.windows.get(key);
    this.windows.delete(key);
    if (window === undefined) {
      return;
    }
    clearTimeout(window.timer);
    if (window.suppressed > 0) {
      const seconds = Math.round(this.intervalMs / 1000);
      this.log(`${window.last} (${window.suppressed} more like it in the last ${seconds} s)`);
      this.windows.set(key, { until: this.now() + this.intervalMs, suppressed: 0, last: window.last });
    }
  }
}
