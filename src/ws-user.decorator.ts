import { createParamDecorator, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';

/** The type of `@WsUser`, spelled out: the inferred one names `ParameterDecoratorOptions`, which Nest 11 lacks. */
export type WsUserDecorator = (...dataOrPipes: (string | undefined | PipeTransform | Type<PipeTransform>)[]) => ParameterDecorator;

/**
 * The authenticated user of the client a message came from, or one of its
 * fields: `@WsUser() user`, `@WsUser('id') id`. `null` on an optional gateway's
 * anonymous client.
 */
export const WsUser: WsUserDecorator = createParamDecorator(wsUserFactory);

/** What `@WsUser()` reads; WsAuthModule recognises the decorator by it at start-up. */
export function wsUserFactory(field: string | undefined, context: ExecutionContext): unknown {
  const { user } = context.switchToWs().getClient<AuthenticatedWebSocket<Record<string, unknown> | null>>();
  return field === undefined ? user : user?.[field];
}
