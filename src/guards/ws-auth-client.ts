import type { ExecutionContext } from '@nestjs/common';
import { acceptedUserId } from '../core/accepted-clients.js';

/**
 * Whether a guard runs for a message of a client nest-ws-auth accepted at its
 * handshake (a `@WsAuthGateway`'s client, authenticated or anonymous on an
 * optional gateway, not closed since). On Nest 12 the app's global guards run on
 * every WebSocket message; an HTTP-shaped one (`AuthGuard('jwt')` reads
 * `request.headers`, which a socket has not) lets these messages through with
 * one line:
 *
 * ```ts
 * if (isWsAuthClient(context)) return true; // authenticated at the handshake by nest-ws-auth
 * ```
 * Messages of plain gateways still go through the guard, and so do GraphQL HTTP
 * requests; operations of graphql-ws connections `WsAuthGraphQL` accepted pass.
 * Costs a WeakMap look-up.
 */
export function isWsAuthClient(context: ExecutionContext): boolean {
  return acceptedUserId(clientOf(context)) !== undefined;
}

/**
 * The user id (the `userId` option's) of the connection a WebSocket message came
 * from, for a client nest-ws-auth accepted; `undefined` for anything else (an
 * HTTP request, an anonymous or unknown client). Made for @nestjs/throttler's
 * `getTracker`, to limit messages per user rather than per address:
 *
 * ```ts
 * ThrottlerModule.forRoot({ throttlers: [{ ttl: 1000, limit: 10 }], getTracker: (req, context) => wsAuthUserId(context) ?? req.ip })
 * ```
 */
export function wsAuthUserId(context: ExecutionContext): string | undefined {
  return acceptedUserId(clientOf(context)) ?? undefined;
}

/**
 * The client of a WebSocket message; for a GraphQL operation (`getType()` is
 * `'graphql'`), its context's `req`: the upgrade request of a graphql-ws
 * connection the library accepted (`WsAuthGraphQL`), never an HTTP request.
 */
function clientOf(context: ExecutionContext): unknown {
  const type = context.getType() as string;
  if (type === 'ws') {
    return context.switchToWs().getClient();
  }
  if (type === 'graphql') {
    return context.getArgByIndex<{ req?: unknown } | undefined>(2)?.req;
  }
  return undefined;
}
