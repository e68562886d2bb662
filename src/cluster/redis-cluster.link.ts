import { Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { ClusterEvent, ClusterLink } from '../core/cluster.link.js';
import type { Reservation } from '../core/handshake.interfaces.js';
import { loggable } from '../core/ws-auth.exceptions.js';
import type { ClusterSettings } from '../ws-auth-options.resolver.js';
import { duplicateConnection, type RedisConnection } from './redis-connection.js';
import { LeaseBatches } from './lease.batches.js';
import { MERGE_USER_REVOCATION, REFRESH_LEASES, RELEASE_LEASES, RESERVE_LEASES, REVOKE_TOKEN } from './redis.scripts.js';

/** How long a node waits for Redis at start-up before it serves handshakes with what it has. */
const START_TIMEOUT_MS = 5_000;
const RESYNC_RETRY_MS = 1_000;
/** A node's connection count reaches Redis this long after it changes (one write for a burst of changes). */
const COUNT_WRITE_DELAY_MS = 100;

interface Envelope {
  readonly origin: string;
  readonly event: ClusterEvent;
}

/**
 * The cluster over Redis. Keys and channels (all under `prefix`):
 * - `revoked:user:<id>`, `revoked:token:<jti>`: revocations in force, each expiring with its entry;
 * - `leases:<userId>`: a sorted set of the user's connections on every node (member `<node>:<n>`, score = lease expiry);
 * - `node:<id>`: each live node's connection count, for `countAll()`;
 * - channel `events`: revocations and disconnects, applied by every node at once.
 * Every node keeps the revocations in memory (handshakes never wait on Redis
 * for them), reloads them on every (re)connection, and writes back what it
 * holds, so that a Redis restarted empty, or revocations made during an
 * outage, are not lost.
 */
export class RedisClusterLink implements ClusterLink {
  private readonly logger = new Logger('WsAuth');
  private readonly node = randomUUID();
  private readonly channel: string;
  private commands: RedisConnection | undefined;
  private subscriber: RedisConnection | undefined;
  private readonly listeners: Array<(event: ClusterEvent, live: boolean) => void> = [];
  private snapshot: () => ClusterEvent[] = () => [];
  /** Events this node could not publish while Redis was away: published on reconnect. */
  private unsent: ClusterEvent[] = [];
  /** Leases this node holds: key → members; refreshed while the node lives. */
  private readonly leases = new Map<string, Set<string>>();
  private leaseSequence = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private countTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private failedResyncs = 0;
  private subscribed = false;
  private available = false;
  private stopped = false;
  private firstSync: Promise<void>;
  private markSynced: () => void = () => {};
  private connectionCount: () => number = () => 0;
  private readonly batches: LeaseBatches;
  /** SHA1 of each script run so far: EVALSHA sends 40 bytes instead of the script. */
  private readonly scriptShas = new Map<string, string>();

  constructor(
    private readonly settings: ClusterSettings,
    private readonly commandTimeoutMs: number,
  ) {
    this.channel = `${settings.prefix}events`;
    this.firstSync = new Promise((resolve) => (this.markSynced = resolve));
    this.batches = new LeaseBatches(
      (script, keys, args) => this.script(script, keys, args),
      { reserve: RESERVE_LEASES, release: RELEASE_LEASES },
      settings.leaseTtlMs,
    );
  }

  onEvent(listener: (event: ClusterEvent, live: boolean) => void): void {
    this.listeners.push(listener);
  }

  onResync(snapshot: () => ClusterEvent[]): void {
    this.snapshot = snapshot;
  }

  /** How many connections this node has, for `countAll()`. */
  countConnections(count: () => number): void {
    this.connectionCount = count;
  }

  async start(): Promise<void> {
    const onError = (error: unknown) => this.lost(error);
    this.commands = await duplicateConnection(this.settings.redis, onError);
    this.subscriber = await duplicateConnection(this.settings.redis, onError);
    this.subscriber.onReady(() => void this.resync());
    this.subscriber.onLost(() => this.lost(undefined));
    this.heartbeat = setInterval(() => void this.refreshLeases(), this.settings.leaseTtlMs / 3).unref();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, START_TIMEOUT_MS)));
    await Promise.race([this.firstSync, timedOut]);
    clearTimeout(timer);
    if (!this.available) {
      this.logger.warn(`cluster: Redis did not answer within ${START_TIMEOUT_MS} ms; serving with this node's state until it does.`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.resyncTimer);
    clearTimeout(this.countTimer);
    this.batches.stop();
    const leases = [...this.leases.entries()];
    this.leases.clear();
    if (this.available) {
      await Promise.all(leases.map(([key, members]) => this.run(['ZREM', key, ...members]).catch(() => {})));
      await this.run(['DEL', this.key(`node:${this.node}`)]).catch(() => {});
    }
    await Promise.all([this.commands?.close(), this.subscriber?.close()]);
  }

  async publish(event: ClusterEvent): Promise<void> {
    try {
      await this.store(event);
      await this.run(['PUBLISH', this.channel, JSON.stringify({ origin: this.node, event } satisfies Envelope)]);
    } catch (error) {
      if (event.type !== 'disconnect') {
        this.unsent.push(event); // a disconnect is of the moment; a revocation must arrive
      }
      throw error;
    }
  }

  reserve(userId: string, limit: number): Promise<Reservation | undefined> | Reservation {
    if (!this.available) {
      return DEGRADED; // Redis away: the per-node limit alone holds (see the README)
    }
    const key = this.key(`leases:${userId}`);
    const member = `${this.node}:${(this.leaseSequence += 1)}`;
    return this.batches.reserve(key, limit, member).then(
      (granted) => {
        if (!granted) {
          return undefined;
        }
        this.hold(key, member);
        const release = () => this.giveBack(key, member);
        return { release, commit: () => release };
      },
      (error: unknown) => {
        this.lost(error);
        return DEGRADED;
      },
    );
  }

  countChanged(): void {
    if (this.countTimer === undefined && this.available) {
      this.countTimer = setTimeout(() => {
        this.countTimer = undefined;
        this.writeCount().catch((error: unknown) => this.lost(error));
      }, COUNT_WRITE_DELAY_MS).unref();
    }
  }

  async countAll(): Promise<number> {
    if (!this.available) {
      return this.connectionCount();
    }
    await this.writeCount();
    const keys = await this.scan(this.key('node:*'));
    const counts = keys.length === 0 ? [] : ((await this.run(['MGET', ...keys])) as Array<string | null>);
    return counts.reduce((sum, count) => sum + Number(count ?? 0), 0);
  }

  /** On every (re)connection: subscribe, write back what this node holds, reload everything, resend what was missed. */
  private async resync(): Promise<void> {
    if (this.stopped) return;
    clearTimeout(this.resyncTimer);
    try {
      if (!this.subscribed) {
        await this.subscriber!.subscribe(this.channel, (message) => this.receive(message));
        this.subscribed = true;
      }
      for (const event of this.snapshot()) {
        await this.store(event);
      }
      const unsent = this.unsent;
      this.unsent = [];
      for (const event of unsent) {
        await this.run(['PUBLISH', this.channel, JSON.stringify({ origin: this.node, event } satisfies Envelope)]);
      }
      await this.reload();
      // All at once: the client pipelines them, and a node with many users is not refreshed one round trip at a time.
      await Promise.all(
        [...this.leases].map(([key, members]) => this.script(REFRESH_LEASES, [key], [this.settings.leaseTtlMs, ...members])),
      );
      await this.writeCount();
      if (!this.available) {
        this.logger.log('cluster: connected to Redis; revocations synchronised.');
      }
      this.available = true;
      this.failedResyncs = 0;
      this.markSynced();
    } catch (error) {
      this.available = false;
      // The two connections come up one after the other: a first failed attempt is ordinary.
      this.failedResyncs += 1;
      if (this.failedResyncs >= 3) {
        this.logger.warn(`cluster: could not synchronise with Redis yet; retrying. ${loggable(error, undefined)}`);
      }
      this.resyncTimer = setTimeout(() => void this.resync(), RESYNC_RETRY_MS).unref();
    }
  }

  /** Every revocation stored in Redis, applied here. */
  private async reload(): Promise<void> {
    const keys = await this.scan(this.key('revoked:*'));
    for (let start = 0; start < keys.length; start += 500) {
      const batch = keys.slice(start, start + 500);
      const values = (await this.run(['MGET', ...batch])) as Array<string | null>;
      batch.forEach((key, index) => {
        const value = values[index];
        if (value) this.deliver(this.eventOf(key, value), false);
      });
    }
  }

  private eventOf(key: string, value: string): ClusterEvent | undefined {
    const userPrefix = this.key('revoked:user:');
    const tokenPrefix = this.key('revoked:token:');
    if (key.startsWith(userPrefix)) {
      const { revocation, reason } = JSON.parse(value) as Pick<Extract<ClusterEvent, { type: 'revoke-user' }>, 'revocation' | 'reason'>;
      return { type: 'revoke-user', userId: key.slice(userPrefix.length), revocation, reason };
    }
    if (key.startsWith(tokenPrefix)) {
      return { type: 'revoke-token', jti: key.slice(tokenPrefix.length), until: Number(value) };
    }
    return undefined;
  }

  /** Revocations are state as well as events: stored until they expire. */
  private async store(event: ClusterEvent): Promise<void> {
    if (event.type === 'revoke-user') {
      const { before, until, expiresAt } = event.revocation;
      await this.run(['EVAL', MERGE_USER_REVOCATION, 1, this.key(`revoked:user:${event.userId}`), before, until ?? 0, expiresAt, event.reason]);
    } else if (event.type === 'revoke-token') {
      await this.run(['EVAL', REVOKE_TOKEN, 1, this.key(`revoked:token:${event.jti}`), event.until]);
    }
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      return;
    }
    if (envelope.origin !== this.node) {
      this.deliver(envelope.event, true);
    }
  }

  private deliver(event: ClusterEvent | undefined, live: boolean): void {
    if (event) {
      for (const listener of this.listeners) listener(event, live);
    }
  }

  private hold(key: string, member: string): void {
    let members = this.leases.get(key);
    if (!members) {
      members = new Set();
      this.leases.set(key, members);
    }
    members.add(member);
  }

  private giveBack(key: string, member: string): void {
    const members = this.leases.get(key);
    if (!members?.delete(member)) {
      return;
    }
    if (members.size === 0) this.leases.delete(key);
    // With Redis away the lease simply expires.
    if (this.available) this.batches.release(key, member);
  }

  /** While this node lives, its leases do not expire. */
  private async refreshLeases(): Promise<void> {
    if (!this.available) return;
    try {
      // All at once: the client pipelines them, and a node with many users is not refreshed one round trip at a time.
      await Promise.all(
        [...this.leases].map(([key, members]) => this.script(REFRESH_LEASES, [key], [this.settings.leaseTtlMs, ...members])),
      );
      await this.writeCount();
    } catch (error) {
      this.lost(error);
    }
  }

  private async writeCount(): Promise<void> {
    await this.run(['SET', this.key(`node:${this.node}`), this.connectionCount(), 'PX', this.settings.leaseTtlMs]);
  }

  private async scan(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = (await this.run(['SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000])) as [string, string[]];
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return keys;
  }

  /** A script by its SHA1; Redis that does not know it yet (NOSCRIPT: restarted, flushed) gets it whole. */
  private async script(script: string, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    let sha = this.scriptShas.get(script);
    if (sha === undefined) {
      sha = createHash('sha1').update(script).digest('hex');
      this.scriptShas.set(script, sha);
    }
    try {
      return await this.run(['EVALSHA', sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return this.run(['EVAL', script, keys.length, ...keys, ...args]);
    }
  }

  /** A command, failing after the handshake deadline's share rather than hanging. */
  private run(args: ReadonlyArray<string | number>): Promise<unknown> {
    const commands = this.commands;
    if (!commands) {
      return Promise.reject(new Error('cluster: not started'));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    return Promise.race([commands.command(args), timeout]).finally(() => clearTimeout(timer));
  }

  private lost(error: unknown): void {
    if (this.available) {
      this.logger.warn(
        `cluster: lost Redis; revocations known here stay enforced, maxConnectionsPerUser holds per node until it is back. ${error ? loggable(error, undefined) : ''}`,
      );
    }
    this.available = false;
  }

  private key(name: string): string {
    return `${this.settings.prefix}${name}`;
  }
}

/** While Redis is away the lease is not taken: the per-node place alone is held. */
const DEGRADED: Reservation = Object.freeze({ release: () => {}, commit: () => undefined });
