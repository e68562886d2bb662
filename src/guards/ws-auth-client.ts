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
 * Messages of plain gateways still go through the guard. Costs a WeakMap look-up.
 */
export function isWsAuthClient(context: ExecutionContext): boolean {
  return context.getType() === 'ws' && acceptedUserId(context.switchToWs().getClient()) !== undefined;
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
  if (context.getType() !== 'ws') {
    return undefined;
  }
  return acceptedUserId(context.switchToWs().getClient()) ?? undefined;
}
