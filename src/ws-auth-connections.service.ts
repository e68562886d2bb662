import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';
import { ExpiryScheduler } from './core/expiry.scheduler.js';
import { WsAuthCloseCode } from './ws-auth.constants.js';
import { DEADLINE, MAX_CLOSE_REASON_BYTES, OPEN, USER_ID, WS_AUTH_SETTINGS } from './ws-auth.internal-constants.js';
import type { WsAuthSettings } from './ws-auth-options.resolver.js';

/** Options of `disconnectUser`. */
export interface DisconnectOptions {
  /** Close code, 4000-4999 or 1000. @default 4403 (WsAuthCloseCode.Forbidden) */
  code?: number;
  /** Close reason, at most 123 bytes. @default 'revoked' */
  reason?: string;
}

/** What the handshake decided, handed from `verifyClient` to the `connection` event. */
export interface AcceptedHandshake {
  readonly user: unknown;
  /** Absent for an anonymous client. */
  readonly userId?: string;
  /** `exp` (unix seconds) of the credentials, when they expire. */
  readonly expiresAt?: number | undefined;
  /** Gives back the place `reserve` held. */
  readonly release?: () => void;
}

type TrackedSocket = AuthenticatedWebSocket & {
  [USER_ID]?: string | undefined;
  [DEADLINE]?: number | undefined;
};

const NOTHING_HELD = (): void => {};

/**
 * The live authenticated connections of this process, by user: revoke a user
 * everywhere, list or count connections. Also closes each one when its token
 * expires, and holds the per-user connection limit.
 */
@Injectable()
export class WsAuthConnections implements OnModuleDestroy {
  /** One socket, or a set once a user has several: most users have one. */
  private readonly byUser = new Map<string, TrackedSocket | Set<TrackedSocket>>();
  /** Handshakes that passed authentication and wait for their socket. */
  private readonly pending = new Map<string, number>();
  private readonly expiry = new ExpiryScheduler<TrackedSocket>((client) =>
    this.close(client, WsAuthCloseCode.Unauthorized, 'token expired'),
  );
  private tracked = 0;
  /** One listener shared by every socket: `this` is the socket that closed. */
  private readonly onClose: (this: WebSocket) => void;

  constructor(@Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings) {
    const forget = (client: TrackedSocket) => this.forget(client);
    this.onClose = function (this: WebSocket) {
      forget(this as TrackedSocket);
    };
  }

  /**
   * Closes every connection of user `id` (default: 4403 `revoked`) and returns how
   * many it closed. Their handlers stop at once; other users are untouched.
   */
  disconnectUser(id: string, { code = WsAuthCloseCode.Forbidden, reason = 'revoked' }: DisconnectOptions = {}): number {
    assertCloseFrame(code, reason);
    const clients = this.connectionsOf(id);
    for (const client of clients) {
      this.close(client, code, reason);
    }
    return clients.length;
  }

  /** The open connections of user `id`. */
  connectionsOf(id: string): AuthenticatedWebSocket[] {
    const entry = this.byUser.get(String(id));
    const clients = entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
    return clients.filter((client) => client.readyState === OPEN);
  }

  /** Authenticated connections not closed yet (a socket the app closes itself counts until its close completes). */
  count(): number {
    return this.tracked;
  }

  /**
   * Holds a place for a handshake of `userId` if `maxConnectionsPerUser` allows one,
   * until the socket opens (`accept`) or dies. Returns `undefined` when the user is full.
   * @internal
   */
  reserve(userId: string, socket: Duplex): (() => void) | undefined {
    const limit = this.settings.maxConnectionsPerUser;
    // A socket destroyed while its strategies ran will not open, nor close again:
    // a place held for it would never come back.
    if (limit === Infinity || socket.destroyed) {
      return NOTHING_HELD;
    }
    const waiting = this.pending.get(userId) ?? 0;
    if (this.sizeOf(userId) + waiting >= limit) {
      return undefined;
    }
    this.pending.set(userId, waiting + 1);
    let held = true;
    const release = () => {
      if (held) {
        held = false;
        socket.removeListener('close', release);
        const left = this.pending.get(userId)! - 1;
        if (left === 0) {
          this.pending.delete(userId);
        } else {
          this.pending.set(userId, left);
        }
      }
    };
    socket.once('close', release);
    return release;
  }

  /** Sets `client.user` and starts tracking the client. @internal */
  accept(socket: AuthenticatedWebSocket, handshake: AcceptedHandshake): void {
    const client = socket as TrackedSocket;
    client.user = handshake.user;
    client[USER_ID] = handshake.userId;
    client[DEADLINE] = undefined;
    handshake.release?.();
    if (handshake.userId === undefined) {
      return;
    }
    const entry = this.byUser.get(handshake.userId);
    if (entry === undefined) {
      this.byUser.set(handshake.userId, client);
    } else if (entry instanceof Set) {
      entry.add(client);
    } else {
      this.byUser.set(handshake.userId, new Set([entry, client]));
    }
    this.tracked += 1;
    client.on('close', this.onClose);
    this.expireAt(client, handshake.expiresAt);
  }

  /** The user id `client` is tracked under; `undefined` for anonymous or closing clients. @internal */
  userIdOf(client: AuthenticatedWebSocket): string | undefined {
    return (client as TrackedSocket)[USER_ID];
  }

  /** After an in-band refresh: the new user object and expiry. @internal */
  renew(client: AuthenticatedWebSocket, user: unknown, expiresAt: number): void {
    client.user = user;
    this.expireAt(client as TrackedSocket, expiresAt);
  }

  /**
   * Closes `client` and stops tracking it. ws still emits the messages already on
   * their way while the close handshake runs; detaching the message listeners
   * (Nest's among them) makes sure no handler runs for them. @internal
   */
  close(client: AuthenticatedWebSocket, code: number, reason: string): void {
    this.forget(client as TrackedSocket);
    client.removeAllListeners('message');
    client.close(code, reason);
  }

  onModuleDestroy(): void {
    this.expiry.stop();
  }

  private expireAt(client: TrackedSocket, expiresAt: number | undefined): void {
    if (expiresAt === undefined || !this.settings.closeOnExpiry) {
      return;
    }
    this.expiry.schedule(client, expiresAt + (this.settings.jwt?.clockTolerance ?? 0));
  }

  private forget(client: TrackedSocket): void {
    const userId = client[USER_ID];
    if (userId === undefined) {
      return;
    }
    client[USER_ID] = undefined;
    client.removeListener('close', this.onClose);
    this.expiry.cancel(client);
    this.tracked -= 1;
    const entry = this.byUser.get(userId);
    if (entry === client) {
      this.byUser.delete(userId);
    } else if (entry instanceof Set) {
      entry.delete(client);
      if (entry.size === 1) {
        this.byUser.set(userId, entry.values().next().value!);
      }
    }
  }

  private sizeOf(userId: string): number {
    const entry = this.byUser.get(userId);
    return entry === undefined ? 0 : entry instanceof Set ? entry.size : 1;
  }
}

function assertCloseFrame(code: number, reason: string): void {
  if (!(code === 1000 || (Number.isInteger(code) && code >= 4000 && code <= 4999))) {
    throw new RangeError(`disconnectUser: code ${code} is not an application close code; use 1000 or 4000-4999.`);
  }
  if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`disconnectUser: the reason is ${Buffer.byteLength(reason)} bytes; a close reason is at most 123.`);
  }
}
