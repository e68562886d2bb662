import type { MessageMappingProperties, WsResponse } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import type { ConnectionRegistry } from '../core/connection.registry.js';
import type { TokenRefresher } from '../core/token.refresher.js';
import { WS_AUTH_REFRESH_EVENT, WS_AUTH_REFRESHED_EVENT } from '../core/ws-auth.constants.js';

/**
 * `{"event":"auth:refresh","data":{"token":"..."}}` on a ws connection: the
 * same user gets `auth:refreshed` with the new `exp`, a bad token 4401,
 * another user 4403; a malformed request an `exception` frame, and the
 * connection stays.
 */
export class WsTokenRefreshHandler {
  constructor(
    private readonly refresher: TokenRefresher,
    private readonly registry: ConnectionRegistry,
  ) {}

  /** The message handler of one client. */
  handlerFor(client: WebSocket): MessageMappingProperties {
    return {
      message: WS_AUTH_REFRESH_EVENT,
      methodName: 'refresh',
      callback: (data: unknown) => this.refresh(client, data),
      isAckHandledManually: false,
    };
  }

  async refresh(client: WebSocket, data: unknown): Promise<WsResponse | undefined> {
    const decision = await this.refresher.refresh(client, data);
    switch (decision.kind) {
      case 'refreshed':
        return { event: WS_AUTH_REFRESHED_EVENT, data: { exp: decision.exp } };
      case 'refused':
        return exception(decision.message);
      case 'close':
        this.registry.close(client, decision.code, decision.reason);
        return undefined;
      default:
        return undefined;
    }
  }
}

/** The frame Nest's `BaseWsExceptionFilter` sends, without echoing the request (it holds a token). */
function exception(message: string): WsResponse {
  return { event: 'exception', data: { status: 'error', message, cause: { pattern: WS_AUTH_REFRESH_EVENT } } };
}
