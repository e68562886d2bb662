import type { IncomingMessage } from 'node:http';
import { HandshakeRejection } from '../ws-auth.exceptions.js';
import type { WsAuthEvents, WsAuthTransportName } from '../ws-auth-events.service.js';
import type { CloseCause, WsAuthMetrics } from '../ws-auth.metrics.js';
import { clientAddress } from './failed-handshakes.limiter.js';
import type { Verdict } from './handshake.interfaces.js';

/**
 * Where the core reports what happened, for the `events` and `metrics` options.
 * Absent (null) when both are off, so the core pays one null check. An event is
 * built only when somebody listens for it.
 */
export class AuthObserver {
  constructor(
    private readonly events: WsAuthEvents | null,
    private readonly metrics: WsAuthMetrics | null,
    private readonly trustedProxies: number,
  ) {}

  /** A handshake's verdict, `startedAt` (performance.now()) when its authentication began. */
  judged(
    gateway: string,
    verdict: Verdict,
    seconds: number,
    request: IncomingMessage,
    remoteAddress: string | undefined,
    transport: WsAuthTransportName | undefined,
  ): void {
    const refused = verdict instanceof HandshakeRejection;
    this.metrics?.judged(gateway, refused ? verdict.status : undefined, seconds);
    if (refused && this.events?.listening('ws-auth.refused')) {
      this.events.emit('ws-auth.refused', {
        gateway,
        status: verdict.status,
        reason: verdict.message,
        address: clientAddress(request, remoteAddress, this.trustedProxies),
        transport,
      });
    }
  }

  /** A connection opened (anonymous ones with `userId` null; only authenticated ones are counted as open). */
  opened(gateway: string, userId: string | null, transport: WsAuthTransportName): void {
    if (userId !== null) {
      this.metrics?.opened(gateway, transport);
    }
    if (this.events?.listening('ws-auth.connected')) {
      this.events.emit('ws-auth.connected', { gateway, userId, transport });
    }
  }

  /** A tracked (authenticated) connection closed. */
  closed(gateway: string, userId: string, transport: WsAuthTransportName, cause: CloseCause, code: number, reason: string): void {
    this.metrics?.closed(gateway, transport, cause);
    if (cause === 'expired') {
      if (this.events?.listening('ws-auth.expired')) {
        this.events.emit('ws-auth.expired', { gateway, userId, transport });
      }
    } else if (cause === 'revoked' && this.events?.listening('ws-auth.revoked')) {
      this.events.emit('ws-auth.revoked', { gateway, userId, transport, code, reason });
    }
  }

  refreshed(gateway: string, userId: string, transport: WsAuthTransportName, exp: number): void {
    this.metrics?.refreshed(gateway);
    if (this.events?.listening('ws-auth.refreshed')) {
      this.events.emit('ws-auth.refreshed', { gateway, userId, transport, exp });
    }
  }
}
