import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';
import type { ConnectionRegistry } from './core/connection.registry.js';
import { WsAuthCloseCode } from './ws-auth.constants.js';
import { CONNECTION_REGISTRY, MAX_CLOSE_REASON_BYTES } from './ws-auth.internal-constants.js';

/** Options of `disconnectUser`. */
export interface DisconnectOptions {
  /** Close code, 4000-4999 or 1000. @default 4403 (WsAuthCloseCode.Forbidden) */
  code?: number;
  /** Close reason, at most 123 bytes. @default 'revoked' */
  reason?: string;
}

/**
 * The live authenticated connections, by user, on every transport: disconnect a
 * user everywhere, list or count connections. Inject it anywhere in the app.
 */
@Injectable()
export class WsAuthConnections {
  constructor(@Inject(CONNECTION_REGISTRY) private readonly registry: ConnectionRegistry) {}

  /**
   * Closes every connection of user `id` (default: 4403 `revoked`) and returns how
   * many it closed. Their handlers stop at once; other users are untouched. A ws
   * client sees the close code; a Socket.IO client an `auth:closed` event with
   * `{ code, reason }`, then a server-side disconnect.
   */
  disconnectUser(id: string, { code = WsAuthCloseCode.Forbidden, reason = 'revoked' }: DisconnectOptions = {}): number {
    assertCloseFrame(code, reason);
    const clients = this.registry.connectionsOf(id);
    for (const client of clients) {
      this.registry.close(client, code, reason);
    }
    return clients.length;
  }

  /**
   * The open connections of user `id`: ws `WebSocket`s, or Socket.IO `Socket`s
   * (type them with `connectionsOf<AuthenticatedSocket>(id)`).
   */
  connectionsOf<Client extends object = AuthenticatedWebSocket>(id: string): Client[] {
    return this.registry.connectionsOf(id) as Client[];
  }

  /** Authenticated connections not closed yet (a socket the app closes itself counts until its close completes). */
  count(): number {
    return this.registry.count();
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
