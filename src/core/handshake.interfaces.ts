import type { IncomingMessage } from 'node:http';
import type { Authenticate } from './strategy.contract.js';
import type { HandshakeRejection } from './ws-auth.exceptions.js';
import type { MaybePromise } from './maybe-promise.js';
import type { IssuedCredential } from './revocation.list.js';

/** One gateway's handshake rules, fixed at start-up. */
export interface GatewayPolicy {
  readonly gateway: string;
  readonly strategies: ReadonlyArray<readonly [name: string, authenticate: Authenticate]>;
  readonly optional: boolean;
  readonly roles?: readonly string[];
  /** The app's guards (the module's, then the gateway's), after the strategies. */
  readonly guards?: GuardCheck;
}

/** What the app's handshake guards decided: the user they leave on the request, or a refusal. */
export type GuardVerdict = { readonly user: unknown } | HandshakeRejection;

/** Runs a gateway's guards on one handshake; throws (or rejects) when a guard fails (a 500). */
export type GuardCheck = (
  request: IncomingMessage,
  remoteAddress: string | undefined,
  user: unknown,
  /** Whether other handshakes share `request` (Socket.IO's namespaces of one connection). */
  shared: boolean,
) => MaybePromise<GuardVerdict>;

/** Where the core gets a gateway's guard check (provided under HANDSHAKE_GUARDS). */
export interface HandshakeGuardsPort {
  /** `undefined` when neither the module nor the gateway (`own`: its `auth.guards`) lists a guard. */
  forGateway(gateway: Function, own: unknown): GuardCheck | undefined;
}

/**
 * The underlying connection of a handshake in flight, as the transport sees it:
 * a place held under the per-user limit is given back if it goes away first.
 */
export interface HandshakeLink {
  isGone(): boolean;
  onGone(listener: () => void): void;
  offGone(listener: () => void): void;
}

/** A place held under `maxConnectionsPerUser` until the connection opens or dies. */
export interface Reservation {
  /** The handshake was refused or died: gives the place back. */
  release(): void;
  /**
   * The connection opened and takes the place over. Returns what gives it back
   * when the connection closes, if anything must (a lease shared by the nodes
   * of a cluster); a place held in this process only needs the registry's count.
   */
  commit(): (() => void) | undefined;
}

/** One handshake to judge, as a transport hands it to the core. */
export interface HandshakeRequest {
  /** The HTTP request that opened the connection (the upgrade request; Socket.IO's `socket.request`). */
  readonly request: IncomingMessage;
  /** A token the transport carries outside HTTP: Socket.IO's `handshake.auth.token`, graphql-ws's `connection_init` payload. */
  readonly authToken?: unknown;
  /** The client's address as the transport saw it; default: `request.socket.remoteAddress`. */
  readonly remoteAddress?: string;
  readonly link: HandshakeLink;
  /** Which transport the handshake came in on, for events. */
  readonly transport?: 'ws' | 'socket.io' | 'graphql-ws';
}

/** When a handshake started (`performance.now()`): one that started before a disconnect of its user does not open. */
export type HandshakeStart = number;

/** What the core decided for an accepted handshake; the transport hands it to the registry. */
export interface AcceptedHandshake {
  readonly user: unknown;
  /** Absent for an anonymous client. */
  readonly userId?: string;
  /** `exp` (unix seconds) of the credentials, when they expire. */
  readonly expiresAt?: number | undefined;
  readonly policy?: GatewayPolicy;
  /** The credential's `iat` and `jti`, for revocations that come while the connection is open. */
  readonly credential?: IssuedCredential;
  /** When its authentication started. */
  readonly startedAt?: HandshakeStart;
  /** The place held for this handshake; the registry gives it back on `accept`. */
  readonly reservation?: Reservation;
}

export type Verdict = AcceptedHandshake | HandshakeRejection;

/** What emits `close` when a handshake's connection goes away: a TCP socket, an engine.io connection. */
export interface ClosingConnection {
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

/**
 * A HandshakeLink over a connection that emits `close`: one small object per
 * handshake, with the transport's "is it gone" test shared by all of them.
 */
export class CloseEventLink<Connection extends ClosingConnection> implements HandshakeLink {
  constructor(
    private readonly connection: Connection,
    private readonly gone: (connection: Connection) => boolean,
  ) {}

  isGone(): boolean {
    return this.gone(this.connection);
  }

  onGone(listener: () => void): void {
    this.connection.once('close', listener);
  }

  offGone(listener: () => void): void {
    this.connection.removeListener('close', listener);
  }
}
