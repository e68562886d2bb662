import { createParamDecorator, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';

/** The type of `@WsUser`, spelled out: the inferred one names `ParameterDecoratorOptions`, which Nest 11 lacks. */
export type WsUserDecorator = (...dataOrPipes: (string | undefined | PipeTransform | Type<PipeTransform>)[]) => ParameterDecorator;

/**
 * The authenticated user of the client a message came from, or one of its
 * fields: `@WsUser() user`, `@WsUser('id') id`. `null` on an optional gateway's
 * anonymous client. In a GraphQL resolver: `context.req.user` (a subscription's
 * connection user, with `WsAuthGraphQL`'s context).
 */
export const WsUser: WsUserDecorator = createParamDecorator(wsUserFactory);

/** What `@WsUser()` reads; WsAuthModule recognises the decorator by it at start-up. */
export function wsUserFactory(field: string | undefined, context: ExecutionContext): unknown {
  const { user } = userHolder(context);
  return field === undefined ? user : user?.[field];
}

/**
 * What holds the user: the client on a gateway; in a GraphQL resolver (`getType()`
 * is `'graphql'`, the arguments `[root, args, context, info]`) the context's `req`,
 * read without loading @nestjs/graphql.
 */
export function userHolder(context: ExecutionContext): { user?: Record<string, unknown> | null } {
  if ((context.getType() as string) === 'graphql') {
    return (context.getArgByIndex<{ req?: { user?: Record<string, unknown> | null } } | undefined>(2)?.req ?? {});
  }
  return context.switchToWs().getClient<AuthenticatedWebSocket<Record<string, unknown> | null>>() ?? {};
}
