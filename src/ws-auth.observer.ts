import type { IncomingMessage } from 'node:http';
import type { AuthObserver, CloseCause, WsAuthTransportName } from './core/core.interfaces.js';
import { clientAddress } from './core/failed-handshakes.limiter.js';
import type { Verdict } from './core/handshake.interfaces.js';
import { HandshakeRejection } from './core/ws-auth.exceptions.js';
import type { WsAuthEvents } from './ws-auth-events.service.js';
import type { WsAuthMetrics } from './ws-auth.metrics.js';

/**
 * The core's AuthObserver port, for the `events` and `metrics` options: absent
 * (null) when both are off. An event is built only when somebody listens for it.
 */
export class WsAuthObserver implements AuthObserver {
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
