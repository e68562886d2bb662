import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { WsAuthCloseCode } from '../ws-auth.constants.js';
import { WS_AUTH_SETTINGS } from '../ws-auth.internal-constants.js';
import type { WsAuthSettings } from '../ws-auth-options.resolver.js';
import { ExpiryScheduler } from './expiry.scheduler.js';
import type { AcceptedHandshake, GatewayPolicy, HandshakeLink, Reservation } from './handshake.interfaces.js';

/**
 * What the core needs of a transport to manage one of its clients. ws closes
 * with a close code; Socket.IO, which has none, tells the client with an
 * `auth:closed` event and disconnects it. Either way no handler of the gateway
 * runs for that client afterwards.
 */
export interface ClientTransport<Client extends object = object> {
  readonly name: 'ws' | 'socket.io';
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
 * `WsAuthConnections` reads. An interface, so that a registry shared by several
 * processes can take the in-memory one's place.
 */
export interface ConnectionRegistry {
  /** Holds a place for a handshake of `userId` under `maxConnectionsPerUser`; `undefined` when the user is full. */
  reserve(userId: string, link: HandshakeLink): Reservation | undefined;
  /** Starts tracking a client whose handshake was accepted (and gives back its reservation). */
  accept(client: object, handshake: AcceptedHandshake, transport: ClientTransport): void;
  /** The user id `client` is tracked under; `undefined` for anonymous, closing or unknown clients. */
  userIdOf(client: object): string | undefined;
  /** The policy of the gateway `client` connected to. */
  policyOf(client: object): GatewayPolicy | undefined;
  /** After an in-band refresh: the new user and expiry. */
  renew(client: object, user: unknown, expiresAt: number): void;
  /** Closes `client` (through its transport) and stops tracking it. */
  close(client: object, code: number, reason: string): void;
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
  /** Owned by the ExpiryScheduler. */
  deadline?: number | undefined;
}

const NOTHING_HELD: Reservation = Object.freeze({ release: () => {} });

/** The connections of this process, in memory. */
@Injectable()
export class InMemoryConnectionRegistry implements ConnectionRegistry, OnModuleDestroy {
  /** Per client; a WeakMap, so nothing is written onto objects that ws or Socket.IO own. */
  private readonly tracked = new WeakMap<object, Tracked>();
  /** One record, or a set once a user has several: most users have one. */
  private readonly byUser = new Map<string, Tracked | Set<Tracked>>();
  /** Handshakes that passed authentication and wait for their connection. */
  private readonly pending = new Map<string, number>();
  private readonly expiry = new ExpiryScheduler<Tracked>((record) =>
    this.close(record.client, WsAuthCloseCode.Unauthorized, 'token expired'),
  );
  private size = 0;
  /** One listener shared by every client: `this` is the client that went away. */
  private readonly onGone: (this: object) => void;

  constructor(@Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings) {
    const forget = (client: object) => this.forget(client);
    this.onGone = function (this: object) {
      forget(this);
    };
  }

  reserve(userId: string, link: HandshakeLink): Reservation | undefined {
    const limit = this.settings.maxConnectionsPerUser;
    // A connection that died while its strategies ran will not open, nor close
    // again: a place held for it would never come back.
    if (limit === Infinity || link.isGone()) {
      return NOTHING_HELD;
    }
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
    return { release };
  }

  accept(client: object, handshake: AcceptedHandshake, transport: ClientTransport): void {
    transport.setUser(client, handshake.user);
    handshake.reservation?.release();
    if (handshake.userId === undefined) {
      return;
    }
    const record: Tracked = { userId: handshake.userId, client, transport, policy: handshake.policy };
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
    transport.watch(client, this.onGone);
    this.expireAt(record, handshake.expiresAt);
  }

  userIdOf(client: object): string | undefined {
    const record = this.tracked.get(client);
    return record && record.transport.isOpen(client) ? record.userId : undefined;
  }

  policyOf(client: object): GatewayPolicy | undefined {
    return this.tracked.get(client)?.policy;
  }

  renew(client: object, user: unknown, expiresAt: number): void {
    const record = this.tracked.get(client);
    if (record) {
      record.transport.setUser(client, user);
      this.expireAt(record, expiresAt);
    }
  }

  close(client: object, code: number, reason: string): void {
    const record = this.tracked.get(client);
    this.forget(client);
    record?.transport.close(client, code, reason);
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

  private expireAt(record: Tracked, expiresAt: number | undefined): void {
    if (expiresAt === undefined || !this.settings.closeOnExpiry) {
      return;
    }
    this.expiry.schedule(record, expiresAt + (this.settings.jwt?.clockTolerance ?? 0));
  }

  private forget(client: object): void {
    const record = this.tracked.get(client);
    if (record === undefined) {
      return;
    }
    this.tracked.delete(client);
    record.transport.unwatch(client, this.onGone);
    this.expiry.cancel(record);
    this.size -= 1;
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
