import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';

/**
 * The authenticated user of the client a message came from, or one of its
 * fields: `@WsUser() user`, `@WsUser('id') id`. `null` on an optional gateway's
 * anonymous client.
 */
export const WsUser = createParamDecorator(wsUserFactory);

/** What `@WsUser()` reads; WsAuthModule recognises the decorator by it at start-up. */
export function wsUserFactory(field: string | undefined, context: ExecutionContext): unknown {
  const { user } = context.switchToWs().getClient<AuthenticatedWebSocket<Record<string, unknown> | null>>();
  return field === undefined ? user : user?.[field];
}
