import type { IncomingMessage } from 'node:http';
import type { Verdict } from './handshake.interfaces.js';

/** The transports a connection can come in on (events and metrics carry it). */
export type WsAuthTransportName = 'ws' | 'socket.io' | 'graphql-ws';

/** Why a tracked connection closed, as metrics count it. */
export type CloseCause = 'expired' | 'revoked' | 'refresh_refused' | 'client';

/**
 * Where the core reports what happened (provided under AUTH_OBSERVER; `null`
 * when neither `events` nor `metrics` is on, so the core pays one null check).
 * Implemented above the core, by the events and metrics layer.
 */
export interface AuthObserver {
  /** A handshake's verdict, after `seconds` of authentication. */
  judged(
    gateway: string,
    verdict: Verdict,
    seconds: number,
    request: IncomingMessage,
    remoteAddress: string | undefined,
    transport: WsAuthTransportName | undefined,
  ): void;
  /** A connection opened (anonymous ones with `userId` null). */
  opened(gateway: string, userId: string | null, transport: WsAuthTransportName): void;
  /** A tracked (authenticated) connection closed. */
  closed(gateway: string, userId: string, transport: WsAuthTransportName, cause: CloseCause, code: number, reason: string): void;
  refreshed(gateway: string, userId: string, transport: WsAuthTransportName, exp: number): void;
}
