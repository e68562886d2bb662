import type { OriginAllowList } from './origin-allow-list.js';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';

/**
 * What the core reads of the validated module options. The full `WsAuthSettings`
 * (options/resolver, above the core) extends it; both are provided under
 * WS_AUTH_SETTINGS.
 */
export interface CoreSettings {
  /** The module's strategy names, for gateways that list none. */
  readonly strategies: readonly string[];
  /** Absent: any origin may connect. */
  readonly origins?: OriginAllowList;
  readonly allowAnyOrigin: boolean;
  readonly handshakeTimeoutMs: number;
  readonly closeOnExpiry: boolean;
  readonly userId: (user: unknown) => string;
  /** Always an array of role names. */
  readonly rolesOf: (user: unknown) => readonly string[];
  readonly maxConnectionsPerUser: number;
  /** How long a revocation without `until` / `expiresAt` is kept, in seconds. */
  readonly revocationTtlSeconds: number;
  /** How many proxies in front of the app append to `X-Forwarded-For`; 0: the header is ignored. */
  readonly trustedProxies: number;
  /** The token rules the core applies itself: where a cookie token is, and the clock skew expiry allows. */
  readonly jwt?: { readonly cookie?: string; readonly clockTolerance: number };
}

/** A gateway's `auth` options, as the core checks them at start-up (the public type is `WsAuthGatewayOptions`). */
export interface GatewayAuthRules {
  readonly optional?: boolean;
  readonly strategies?: unknown;
  readonly roles?: readonly string[];
  /** The gateway's own guards; the HandshakeGuardsPort makes sense of them. */
  readonly guards?: unknown;
}

/** Validates a list of strategy names: the module's or one gateway's. */
export function strategyList(strategies: unknown, option: string): readonly string[] {
  if (!Array.isArray(strategies) || !strategies.every((name) => typeof name === 'string' && name !== '')) {
    throw new WsAuthConfigurationError(
      `${option} must be an array of strategy names, e.g. ['jwt'] ([] lets guards alone authenticate).`,
    );
  }
  if (new Set(strategies).size !== strategies.length) {
    throw new WsAuthConfigurationError(`${option} names a strategy twice: ${strategies.join(', ')}. List each once.`);
  }
  return Object.freeze([...strategies]);
}

/**
 * Browsers attach cookies to a cross-site WebSocket handshake, so a cookie that
 * authenticates opens the door to Cross-Site WebSocket Hijacking unless the
 * origin is checked.
 */
export function assertOriginChecked(settings: CoreSettings, what: string): void {
  if (!settings.origins && !settings.allowAnyOrigin) {
    throw new WsAuthConfigurationError(
      `${what} authenticates by cookie, which any website can make a browser send (Cross-Site WebSocket Hijacking). ` +
        `Set allowedOrigins: ['https://your.app'] (or, if a proxy checks Origin for you, allowAnyOrigin: true).`,
    );
  }
}
