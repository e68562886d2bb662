/** One place asked for: the user's lease key and this connection's member. */
interface Ask {
  readonly key: string;
  readonly limit: number;
  readonly member: string;
  readonly answer: (granted: boolean | Error) => void;
}

/** How the batches reach Redis: one script call with many keys. */
export type RunScript = (script: string, keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

/**
 * Lease traffic of the per-user limit across nodes, in batches: every place
 * asked for during one turn of the event loop goes to Redis in one script call,
 * and so does every place given back. Under load a handshake then waits for one
 * round trip shared with its neighbours, and the node pays one command (and one
 * timer) per batch instead of one per handshake and one per close.
 *
 * The keys of one batch are many users' keys: this assumes one Redis (or a
 * primary with replicas), as the rest of the link does (SCAN, one channel).
 */
export class LeaseBatches {
  private asks: Ask[] = [];
  private releases: Array<readonly [key: string, member: string]> = [];
  private flushing: NodeJS.Immediate | undefined;

  constructor(
    private readonly run: RunScript,
    private readonly scripts: { readonly reserve: string; readonly release: string },
    private readonly ttlMs: number,
  ) {}

  /** Resolves true if Redis granted the place, false if the user is at the limit; rejects if Redis failed. */
  reserve(key: string, limit: number, member: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.asks.push({ key, limit, member, answer: (granted) => (granted instanceof Error ? reject(granted) : resolve(granted)) });
      this.schedule();
    });
  }

  /** Gives a place back; a failure is ignored (the lease expires on its own). */
  release(key: string, member: string): void {
    this.releases.push([key, member]);
    this.schedule();
  }

  private schedule(): void {
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = undefined;
    const asks = this.asks;
    const releases = this.releases;
    this.asks = [];
    this.releases = [];
    if (releases.length > 0) {
      this.run(
        this.scripts.release,
        releases.map(([key]) => key),
        releases.map(([, member]) => member),
      ).catch(() => {});
    }
    if (asks.length > 0) {
      this.run(
        this.scripts.reserve,
        asks.map((ask) => ask.key),
        [this.ttlMs, ...asks.flatMap((ask) => [ask.limit, ask.member])],
      ).then(
        (granted) => asks.forEach((ask, index) => ask.answer(Number((granted as unknown[])[index]) === 1)),
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const ask of asks) ask.answer(failure);
        },
      );
    }
  }

  /** Stops: what is queued is not sent (the node is going away; its leases expire). */
  stop(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    for (const ask of this.asks) ask.answer(new Error('cluster: stopped'));
    this.asks = [];
    this.releases = [];
  }
}
