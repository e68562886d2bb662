import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { WsAuthCloseCode } from './ws-auth.constants.js';
import { markAccepted } from './accepted-clients.js';
import { AUTH_OBSERVER, CLUSTER_LINK, WS_AUTH_CLOCK, WS_AUTH_SETTINGS } from './core.constants.js';
import type { AuthObserver, CloseCause } from './core.interfaces.js';
import type { SwappableClock } from './clock.js';
import type { CoreSettings } from './core.settings.js';
import type { ClusterLink } from './cluster.link.js';
import { ExpiryScheduler } from './expiry.scheduler.js';
import type { AcceptedHandshake, GatewayPolicy, HandshakeLink, HandshakeStart, Reservation } from './handshake.interfaces.js';
import { isPromiseLike, type MaybePromise } from './maybe-promise.js';
import type { IssuedCredential } from './revocation.list.js';

/**
 * What the core needs of a transport to manage one of its clients. ws closes
 * with a close code; Socket.IO, which has none, tells the client with an
 * `auth:closed` event and disconnects it. Either way no handler of the gateway
 * runs for that client afterwards.
 */
export interface ClientTransport<Client extends object = object> {
  readonly name: 'ws' | 'socket.io' | 'graphql-ws';
  isOpen(client: Client): boolean;
  /** Sets what the gateway reads as the client's user (`client.user`, and `client.data.user` on Socket.IO). */
  setUser(client: Client, user: unknown): void;
  /** Tells the client why (`code`, `reason`), stops its message handlers, and disconnects it. */
  close(client: Client, code: number, reason: string): void;
  /** Registers `listener` (called with `this` = the client) for when the client is gone. */
  watch(client: Client, listener: (this: Client) => void): void;
  unwatch(client: Client, listener: (this: Client) => void): void;
}

/**
 * Who is connected, by user: the per-user limit, expiry, and what
 * `WsAuthConnections` reads. An interface, so that another implementation can
 * take the in-memory one's place.
 */
export interface ConnectionRegistry {
  /** Holds a place for a handshake of `userId` under `maxConnectionsPerUser`; `undefined` when the user is full. */
  reserve(userId: string, link: HandshakeLink): MaybePromise<Reservation | undefined>;
  /**
   * Starts tracking a client whose handshake was accepted (and commits its
   * reservation). A handshake that started before its user was disconnected
   * is closed instead: returns false.
   */
  accept(client: object, handshake: AcceptedHandshake, transport: ClientTransport): boolean;
  /** Whether `userId` was disconnected after a handshake started at `startedAt`. */
  disconnectedSince(userId: string, startedAt: HandshakeStart): boolean;
  /** The user id `client` is tracked under; `undefined` for anonymous, closing or unknown clients. */
  userIdOf(client: object): string | undefined;
  /** The policy of the gateway `client` connected to. */
  policyOf(client: object): GatewayPolicy | undefined;
  /** After an in-band refresh: the new user, expiry and credential. */
  renew(client: object, user: unknown, expiresAt: number, credential?: IssuedCredential): void;
  /**
   * Closes `client` (through its transport) and stops tracking it. `cause` is what
   * metrics count it as. @default 'refresh_refused' (the transports' own closes)
   */
  close(client: object, code: number, reason: string, cause?: CloseCause): void;
  /**
   * Closes the connections of `userId` (those whose credential `which` selects),
   * and makes handshakes of the user still in flight fail. Returns how many it closed.
   */
  disconnectUser(userId: string, code: number, reason: string, which?: (credential: IssuedCredential | undefined) => boolean): number;
  /** Closes every connection whose credential `which` selects. */
  closeWhere(which: (credential: IssuedCredential | undefined) => boolean, code: number, reason: string): number;
  /** The open clients of `userId`. */
  connectionsOf(userId: string): object[];
  /** Tracked clients not closed yet. */
  count(): number;
}

/** What the registry knows of one tracked client. */
interface Tracked {
  readonly userId: string;
  readonly client: object;
  readonly transport: ClientTransport;
  readonly policy: GatewayPolicy | undefined;
  credential: IssuedCredential | undefined;
  /** Gives back a place shared with other nodes, when the connection closes. */
  readonly giveBack: (() => void) | undefined;
  /** Owned by the ExpiryScheduler. */
  deadline?: number | undefined;
}

const NOTHING_HELD: Reservation = Object.freeze({ release: () => {}, commit: () => undefined });
const EVERY_CREDENTIAL = (): boolean => true;

/** The connections of this process, in memory; with a cluster link, the per-user limit spans every node. */
@Injectable()
export class InMemoryConnectionRegistry implements ConnectionRegistry, OnModuleDestroy {
  /** Per client; a WeakMap, so nothing is written onto objects that ws or Socket.IO own. */
  private readonly tracked = new WeakMap<object, Tracked>();
  /** One record, or a set once a user has several: most users have one. */
  private readonly byUser = new Map<string, Tracked | Set<Tracked>>();
  /** Handshakes that passed authentication and wait for their connection. */
  private readonly pending = new Map<string, number>();
  /** When each user was last disconnected (performance.now()), for handshakes still in flight then. */
  private readonly disconnectedAt = new Map<string, number>();
  private readonly expiry: ExpiryScheduler<Tracked>;
  private size = 0;
  /** One listener shared by every client: `this` is the client that went away. */
  private readonly onGone: (this: object) => void;

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: CoreSettings,
    @Inject(CLUSTER_LINK) private readonly cluster: ClusterLink | null,
    @Optional() @Inject(WS_AUTH_CLOCK) clock?: SwappableClock,
    @Optional() @Inject(AUTH_OBSERVER) private readonly observer: AuthObserver | null = null,
  ) {
    this.expiry = new ExpiryScheduler<Tracked>(
      (record) => this.close(record.client, WsAuthCloseCode.Unauthorized, 'token expired', 'expired'),
      clock,
    );
    clock?.onSwap(() => this.expiry.rearm());
    const forget = (client: object) => this.forget(client, 'client');
    this.onGone = function (this: object) {
      forget(this);
    };
    cluster?.countConnections(() => this.size);
  }

  reserve(userId: string, link: HandshakeLink): MaybePromise<Reservation | undefined> {
    const limit = this.settings.maxConnectionsPerUser;
    // A connection that died while its strategies ran will not open, nor close
    // again: a place held for it would never come back.
    if (limit === Infinity || link.isGone()) {
      return NOTHING_HELD;
    }
    const local = this.reserveHere(userId, limit, link);
    if (!local || !this.cluster) {
      return local;
    }
    const shared = this.cluster.reserve(userId, limit);
    const combine = (lease: Reservation | undefined): Reservation | undefined => {
      if (!lease) {
        local.release();
        return undefined;
      }
      const release = () => {
        link.offGone(release);
        local.release();
        lease.release();
      };
      link.onGone(release);
      return {
        release,
        commit: () => {
          link.offGone(release);
          local.commit();
          return lease.commit() ?? (() => lease.release());
        },
      };
    };
    return isPromiseLike(shared) ? Promise.resolve(shared).then(combine) : combine(shared);
  }

  accept(client: object, handshake: AcceptedHandshake, transport: ClientTransport): boolean {
    transport.setUser(client, handshake.user);
    markAccepted(client, handshake.userId ?? null);
    const giveBack = handshake.reservation?.commit();
    if (handshake.userId === undefined) {
      this.observer?.opened(handshake.policy?.gateway ?? '', null, transport.name);
      return true;
    }
    if (handshake.startedAt !== undefined && this.disconnectedSince(handshake.userId, handshake.startedAt)) {
      // Disconnected while it authenticated: it never counts as open.
      giveBack?.();
      transport.close(client, WsAuthCloseCode.Forbidden, 'revoked');
      return false;
    }
    const record: Tracked = {
      userId: handshake.userId,
      client,
      transport,
      policy: handshake.policy,
      credential: handshake.credential,
      giveBack,
    };
    this.tracked.set(client, record);
    const entry = this.byUser.get(record.userId);
    if (entry === undefined) {
      this.byUser.set(record.userId, record);
    } else if (entry instanceof Set) {
      entry.add(record);
    } else {
      this.byUser.set(record.userId, new Set([entry, record]));
    }
    this.size += 1;
    this.cluster?.countChanged();
    transport.watch(client, this.onGone);
    this.expireAt(record, handshake.expiresAt);
    this.observer?.opened(record.policy?.gateway ?? '', record.userId, transport.name);
    return true;
  }

  disconnectedSince(userId: string, startedAt: HandshakeStart): boolean {
    if (this.disconnectedAt.size === 0) {
      return false;
    }
    const at = this.disconnectedAt.get(userId);
    return at !== undefined && at >= startedAt;
  }

  userIdOf(client: object): string | undefined {
    const record = this.tracked.get(client);
    return record && record.transport.isOpen(client) ? record.userId : undefined;
  }

  policyOf(client: object): GatewayPolicy | undefined {
    return this.tracked.get(client)?.policy;
  }

  renew(client: object, user: unknown, expiresAt: number, credential?: IssuedCredential): void {
    const record = this.tracked.get(client);
    if (record) {
      record.transport.setUser(client, user);
      record.credential = credential;
      this.expireAt(record, expiresAt);
      this.observer?.refreshed(record.policy?.gateway ?? '', record.userId, record.transport.name, expiresAt);
    }
  }

  close(client: object, code: number, reason: string, cause: CloseCause = 'refresh_refused'): void {
    const record = this.tracked.get(client);
    this.forget(client, cause, code, reason);
    record?.transport.close(client, code, reason);
  }

  disconnectUser(
    userId: string,
    code: number,
    reason: string,
    which: (credential: IssuedCredential | undefined) => boolean = EVERY_CREDENTIAL,
  ): number {
    this.markDisconnected(userId);
    const entry = this.byUser.get(String(userId));
    const records = entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
    let closed = 0;
    for (const record of records) {
      if (record.transport.isOpen(record.client) && which(record.credential)) {
        this.close(record.client, code, reason, 'revoked');
        closed += 1;
      }
    }
    return closed;
  }

  closeWhere(which: (credential: IssuedCredential | undefined) => boolean, code: number, reason: string): number {
    let closed = 0;
    for (const entry of [...this.byUser.values()]) {
      for (const record of entry instanceof Set ? [...entry] : [entry]) {
        if (which(record.credential)) {
          this.close(record.client, code, reason, 'revoked');
          closed += 1;
        }
      }
    }
    return closed;
  }

  connectionsOf(userId: string): object[] {
    const entry = this.byUser.get(String(userId));
    const records = entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
    return records.filter((record) => record.transport.isOpen(record.client)).map((record) => record.client);
  }

  count(): number {
    return this.size;
  }

  onModuleDestroy(): void {
    this.expiry.stop();
  }

  /** A place among this process's connections and pending handshakes of the user. */
  private reserveHere(userId: string, limit: number, link: HandshakeLink): Reservation | undefined {
    const waiting = this.pending.get(userId) ?? 0;
    if (this.sizeOf(userId) + waiting >= limit) {
      return undefined;
    }
    this.pending.set(userId, waiting + 1);
    let held = true;
    const release = (): void => {
      if (held) {
        held = false;
        link.offGone(release);
        const left = this.pending.get(userId)! - 1;
        if (left === 0) {
          this.pending.delete(userId);
        } else {
          this.pending.set(userId, left);
        }
      }
    };
    link.onGone(release);
    return {
      release,
      commit: () => {
        release();
        return undefined;
      },
    };
  }

  /**
   * Handshakes of the user that started before now must not open. Marks older
   * than the handshake deadline cannot matter any more, so the map stays small.
   */
  private markDisconnected(userId: string): void {
    const now = performance.now();
    this.disconnectedAt.delete(userId);
    this.disconnectedAt.set(userId, now);
    const horizon = now - this.settings.handshakeTimeoutMs;
    for (const [id, at] of this.disconnectedAt) {
      if (at >= horizon) break; // insertion order is time order
      this.disconnectedAt.delete(id);
    }
  }

  private expireAt(record: Tracked, expiresAt: number | undefined): void {
    if (expiresAt === undefined || !this.settings.closeOnExpiry) {
      return;
    }
    this.expiry.schedule(record, expiresAt + (this.settings.jwt?.clockTolerance ?? 0));
  }

  private forget(client: object, cause: CloseCause, code = 1000, reason = ''): void {
    const record = this.tracked.get(client);
    if (record === undefined) {
      return;
    }
    this.observer?.closed(record.policy?.gateway ?? '', record.userId, record.transport.name, cause, code, reason);
    this.tracked.delete(client);
    record.transport.unwatch(client, this.onGone);
    this.expiry.cancel(record);
    record.giveBack?.();
    this.size -= 1;
    this.cluster?.countChanged();
    const entry = this.byUser.get(record.userId);
    if (entry === record) {
      this.byUser.delete(record.userId);
    } else if (entry instanceof Set) {
      entry.delete(record);
      if (entry.size === 1) {
        this.byUser.set(record.userId, entry.values().next().value!);
      }
    }
  }

  private sizeOf(userId: string): number {
    const entry = this.byUser.get(userId);
    return entry === undefined ? 0 : entry instanceof Set ? entry.size : 1;
  }
}
