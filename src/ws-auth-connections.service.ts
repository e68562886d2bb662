import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';
import type { ClusterLink } from './core/cluster.link.js';
import type { ConnectionRegistry } from './core/connection.registry.js';
import { RevocationService } from './core/revocation.service.js';
import { assertId } from './core/ids.js';
import { WsAuthCloseCode } from './core/ws-auth.constants.js';
import { CLUSTER_LINK, CONNECTION_REGISTRY, MAX_CLOSE_REASON_BYTES } from './ws-auth.internal-constants.js';

/** Options of `disconnectUser`. */
export interface DisconnectOptions {
  /** Close code, 4000-4999 or 1000. @default 4403 (WsAuthCloseCode.Forbidden) */
  code?: number;
  /** Close reason, at most 123 bytes. @default 'revoked' */
  reason?: string;
}

/** Options of `revokeUser`. */
export interface RevokeUserOptions {
  /** Close reason sent to the user's open connections (4403). @default 'revoked' */
  reason?: string;
  /** A timed ban: every credential of the user is refused until then, whenever it was issued. */
  until?: Date;
}

/** Options of `revokeToken`. */
export interface RevokeTokenOptions {
  /** When the token expires: it is refused until then. @default now + revocationTtlSeconds */
  expiresAt?: Date;
}

/**
 * The live authenticated connections, by user, on every transport: disconnect
 * or revoke a user everywhere, list or count connections. Inject it anywhere in
 * the app. With the `cluster` option, disconnects and revocations reach every
 * instance of the app.
 */
@Injectable()
export class WsAuthConnections {
  constructor(
    @Inject(CONNECTION_REGISTRY) private readonly registry: ConnectionRegistry,
    private readonly revocations: RevocationService,
    @Inject(CLUSTER_LINK) private readonly cluster: ClusterLink | null,
  ) {}

  /**
   * Closes every connection of user `id` (default: 4403 `revoked`) and returns how
   * many it closed here. Their handlers stop at once; other users are untouched; a
   * handshake of the user still authenticating does not open. A ws client sees the
   * close code; a Socket.IO client an `auth:closed` event with `{ code, reason }`,
   * then a server-side disconnect. A disconnect is no ban: the client may
   * reconnect with its token (use `revokeUser` for that). With `cluster`, every
   * node closes the user's connections.
   */
  disconnectUser(id: string, { code = WsAuthCloseCode.Forbidden, reason = 'revoked' }: DisconnectOptions = {}): number {
    assertId(id, 'id', 'disconnectUser');
    assertCloseFrame(code, reason, 'disconnectUser');
    const closed = this.registry.disconnectUser(id, code, reason);
    if (this.cluster) {
      void this.revocations.share({ type: 'disconnect', userId: id, code, reason });
    }
    return closed;
  }

  /**
   * Revokes user `id`: closes their connections (4403, `reason`) and refuses, at
   * the handshake (401 `Token revoked`) and on `auth:refresh` (4401), every
   * credential of the user issued before now (JWT `iat`, whole seconds: a token
   * issued in the same second is covered too); a token issued later works. With
   * `until`, every credential of the user is refused until then. Kept for
   * `revocationTtlSeconds` (or until `until`). Never throws: with `cluster` and
   * Redis away, it holds here and reaches the other nodes when Redis is back.
   */
  async revokeUser(id: string, { reason = 'revoked', until }: RevokeUserOptions = {}): Promise<void> {
    assertId(id, 'id', 'revokeUser');
    assertCloseFrame(WsAuthCloseCode.Forbidden, reason, 'revokeUser');
    if (until !== undefined && !(until instanceof Date && !Number.isNaN(until.getTime()))) {
      throw new RangeError('revokeUser: until must be a valid Date.');
    }
    await this.revocations.revokeUser(id, reason, until);
  }

  /** Refuses the token whose `jti` is `jti` everywhere until it expires, and closes connections opened with it (4401). */
  async revokeToken(jti: string, { expiresAt }: RevokeTokenOptions = {}): Promise<void> {
    assertId(jti, 'jti', 'revokeToken');
    await this.revocations.revokeToken(jti, expiresAt);
  }

  /**
   * The open connections of user `id`: ws `WebSocket`s, or Socket.IO `Socket`s
   * (type them with `connectionsOf<AuthenticatedSocket>(id)`).
   */
  connectionsOf<Client extends object = AuthenticatedWebSocket>(id: string): Client[] {
    assertId(id, 'id', 'connectionsOf');
    return this.registry.connectionsOf(id) as Client[];
  }

  /** Authenticated connections of this process not closed yet (a socket the app closes itself counts until its close completes). */
  count(): number {
    return this.registry.count();
  }

  /** Authenticated connections on every live node (with `cluster`; otherwise `count()`). */
  async countAll(): Promise<number> {
    return this.cluster ? this.cluster.countAll() : this.registry.count();
  }
}

function assertCloseFrame(code: number, reason: string, method: string): void {
  if (!(code === 1000 || (Number.isInteger(code) && code >= 4000 && code <= 4999))) {
    throw new RangeError(`${method}: code ${code} is not an application close code; use 1000 or 4000-4999.`);
  }
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`${method}: the reason must be a string of at most 123 bytes (a close reason's limit).`);
  }
}
