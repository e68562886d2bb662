import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';

/**
 * The authenticated user of the client a message came from, or one of its
 * fields: `@WsUser() user`, `@WsUser('id') id`. `null` on an optional gateway's
 * anonymous client.
 */
export const WsUser = createParamDecorator((field: string | undefined, context: ExecutionContext): unknown => {
  const { user } = context.switchToWs().getClient<AuthenticatedWebSocket<Record<string, unknown> | null>>();
  return field === undefined ? user : user?.[field];
});
