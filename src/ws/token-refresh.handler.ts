import { Inject, Injectable, Logger } from '@nestjs/common';
import type { MessageMappingProperties, WsResponse } from '@nestjs/websockets';
import type { AuthenticatedWebSocket } from '../authenticated-websocket.interface.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { AuthFailure } from '../strategies/passport-strategy.runner.js';
import { WS_AUTH_REFRESH_EVENT, WS_AUTH_REFRESHED_EVENT, WsAuthCloseCode } from '../ws-auth.constants.js';
import { loggable } from '../ws-auth.exceptions.js';
import { OPEN, WS_AUTH_SETTINGS } from '../ws-auth.internal-constants.js';
import { WsAuthConnections } from '../ws-auth-connections.service.js';
import type { WsAuthSettings } from '../ws-auth-options.resolver.js';

/**
 * Answers `{"event":"auth:refresh","data":{"token":"..."}}` on an open
 * connection: the token is checked like at the handshake; the same user gets
 * `auth:refreshed` and a later expiry, another user 4403, a bad token 4401.
 * Malformed requests get an `exception` frame and keep the connection.
 */
@Injectable()
export class TokenRefreshHandler {
  private readonly logger = new Logger('WsAuth');

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings,
    private readonly connections: WsAuthConnections,
    @Inject(JwtStrategy) private readonly jwt: JwtStrategy | null,
  ) {}

  /** A message handler for one client, bound after the gateway's own so that it wins the event name. */
  handlerFor(client: AuthenticatedWebSocket): MessageMappingProperties {
    return {
      message: WS_AUTH_REFRESH_EVENT,
      methodName: 'refresh',
      callback: (data: unknown) => this.refresh(client, data),
      isAckHandledManually: false,
    };
  }

  async refresh(client: AuthenticatedWebSocket, data: unknown): Promise<WsResponse | undefined> {
    const token = (data as { token?: unknown } | null | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      return exception('auth:refresh needs data.token, a non-empty string');
    }
    const userId = this.connections.userIdOf(client);
    if (userId === undefined) {
      return exception('auth:refresh needs an authenticated connection');
    }
    if (!this.jwt) {
      return exception('auth:refresh needs the built-in jwt strategy (the jwt option of WsAuthModule)');
    }
    let verdict: Awaited<ReturnType<JwtStrategy['verify']>>;
    let refreshedId: string | undefined;
    try {
      verdict = await this.jwt.verify(token);
      refreshedId = verdict instanceof AuthFailure ? undefined : this.settings.userId(verdict.user);
    } catch (error) {
      this.logger.error(`auth:refresh failed: ${loggable(error, token)}`);
      return exception('auth:refresh failed; try again');
    }
    // Closed, expired or revoked while the token was being checked.
    if (client.readyState !== OPEN || this.connections.userIdOf(client) !== userId) {
      return undefined;
    }
    if (verdict instanceof AuthFailure) {
      this.connections.close(client, WsAuthCloseCode.Unauthorized, verdict.message.toLowerCase());
      return undefined;
    }
    if (refreshedId !== userId) {
      this.connections.close(client, WsAuthCloseCode.Forbidden, 'token belongs to another user');
      return undefined;
    }
    this.connections.renew(client, verdict.user, verdict.exp);
    return { event: WS_AUTH_REFRESHED_EVENT, data: { exp: verdict.exp } };
  }
}

/** The frame Nest's `BaseWsExceptionFilter` sends, without echoing the request (it holds a token). */
function exception(message: string): WsResponse {
  return { event: 'exception', data: { status: 'error', message, cause: { pattern: WS_AUTH_REFRESH_EVENT } } };
}
