import type { IncomingMessage } from 'node:http';
import type { Credentials } from './credentials.extractor.js';
import type { MaybePromise } from './maybe-promise.js';
import type { IssuedCredential } from './revocation.list.js';

/**
 * The contract between the core and the strategies: the core asks a
 * `StrategyRegistry` for the strategies a gateway names, at start-up, and runs
 * them at each handshake; the strategies (passport's, the built-in `jwt` and
 * `session`) live above the core and implement this.
 */

/** How one strategy judged one request. */
export type StrategyOutcome =
  | { readonly kind: 'success'; readonly user: unknown; readonly info?: unknown }
  | { readonly kind: 'fail'; readonly challenge?: unknown }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * A strategy as the handshake authenticator runs it: synchronous when it needs
 * no I/O. `credentials` were read from the handshake once, for every strategy.
 */
export type Authenticate = (request: IncomingMessage, credentials: Credentials) => MaybePromise<StrategyOutcome>;

/**
 * Why a built-in strategy refused a request: the message of the 401, and whether
 * the client sent credentials at all (an optional gateway lets it in only if not).
 */
export class AuthFailure {
  constructor(
    readonly message: string,
    readonly presented = true,
  ) {}
}

/** A token that passed every check, and the user it belongs to. */
export interface VerifiedToken {
  readonly user: unknown;
  readonly exp: number;
  /** What revocation checks read: when the token was issued (`iat`, seconds) and its id (`jti`). */
  readonly credential: IssuedCredential;
}

/** Checks a token sent on an open connection (`auth:refresh`) by the rules of the handshake. */
export interface TokenVerifier {
  /** Rejects only if the app's `resolveUser` throws or a service the check needs is down. */
  verify(token: string): Promise<VerifiedToken | AuthFailure>;
}

/** Where the core finds strategies (provided under STRATEGY_REGISTRY). */
export interface StrategyRegistry {
  /** The strategy registered under `name`; throws a WsAuthConfigurationError naming `gateway` if there is none. */
  strategy(name: string, gateway: string): Authenticate;
  /** What checks in-band refreshes: the built-in `jwt` strategy, when it is configured. */
  readonly tokenVerifier: TokenVerifier | null;
}
