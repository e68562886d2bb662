import { type JwtSettings, positiveInteger, resolveJwtOptions } from './strategies/jwt-options.resolver.js';
import { OriginAllowList } from './core/origin-allow-list.js';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';
import { MAX_TIMER_DELAY_MS } from './ws-auth.internal-constants.js';
import type {
  RedisClientLike,
  ResolveUser,
  SessionMiddleware,
  WsAuthClusterOptions,
  WsAuthModuleOptions,
} from './ws-auth-module-options.interface.js';

/** `WsAuthModuleOptions`, validated, with every default applied. */
export interface WsAuthSettings {
  readonly strategies: readonly string[];
  readonly jwt?: JwtSettings;
  readonly resolveUser?: ResolveUser;
  /** Absent: any origin may connect. */
  readonly origins?: OriginAllowList;
  readonly allowAnyOrigin: boolean;
  readonly handshakeTimeoutMs: number;
  readonly closeOnExpiry: boolean;
  readonly userId: (user: unknown) => string;
  readonly rolesOf: (user: unknown) => readonly string[];
  readonly maxConnectionsPerUser: number;
  readonly session?: SessionMiddleware;
  /** How long a revocation without `until` / `expiresAt` is kept, in seconds. */
  readonly revocationTtlSeconds: number;
  readonly cluster?: ClusterSettings;
}

/** The `cluster` option, validated. */
export interface ClusterSettings {
  readonly redis: RedisClientLike;
  readonly prefix: string;
  readonly leaseTtlMs: number;
}

export const DEFAULT_STRATEGIES: readonly string[] = ['jwt'];
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_REVOCATION_TTL_SECONDS = 30 * 24 * 3600;
const DEFAULT_LEASE_TTL_MS = 15_000;

/** Validates the module options once, at start-up, for `forRoot` and `forRootAsync` alike. */
export function resolveWsAuthOptions(options: WsAuthModuleOptions): WsAuthSettings {
  if (typeof options !== 'object' || options === null) {
    throw new WsAuthConfigurationError(`WsAuthModule.forRoot() needs an options object, e.g. { jwt: { secret, algorithms } }.`);
  }
  const settings: WsAuthSettings = {
    strategies: strategyList(options.strategies ?? DEFAULT_STRATEGIES, 'strategies'),
    ...(options.jwt !== undefined && { jwt: resolveJwtOptions(options.jwt) }),
    ...(options.resolveUser !== undefined && { resolveUser: callback(options.resolveUser, 'resolveUser') }),
    ...(options.allowedOrigins !== undefined && { origins: OriginAllowList.parse(options.allowedOrigins) }),
    allowAnyOrigin: options.allowAnyOrigin === true,
    handshakeTimeoutMs: handshakeTimeout(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS),
    closeOnExpiry: options.closeOnExpiry ?? true,
    userId: callback(options.userId ?? defaultUserId, 'userId'),
    rolesOf: callback(options.rolesOf ?? defaultRolesOf, 'rolesOf'),
    maxConnectionsPerUser:
      options.maxConnectionsPerUser === undefined
        ? Infinity
        : positiveInteger(options.maxConnectionsPerUser, 'maxConnectionsPerUser'),
    ...(options.session !== undefined && { session: callback(options.session, 'session') }),
    revocationTtlSeconds: positiveInteger(options.revocationTtlSeconds ?? DEFAULT_REVOCATION_TTL_SECONDS, 'revocationTtlSeconds'),
    ...(options.cluster !== undefined && { cluster: clusterSettings(options.cluster) }),
  };
  if (settings.session) {
    assertOriginChecked(settings, `session (the 'session' strategy)`);
  }
  if (settings.jwt?.cookie !== undefined) {
    assertOriginChecked(settings, `jwt.cookie`);
  }
  return settings;
}

/** Validates a list of strategy names: the module's or one gateway's. */
export function strategyList(strategies: unknown, option: string): readonly string[] {
  if (
    !Array.isArray(strategies) ||
    strategies.length === 0 ||
    !strategies.every((name) => typeof name === 'string' && name !== '')
  ) {
    throw new WsAuthConfigurationError(`${option} must be a non-empty array of strategy names, e.g. ['jwt'].`);
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
export function assertOriginChecked(settings: WsAuthSettings, what: string): void {
  if (!settings.origins && !settings.allowAnyOrigin) {
    throw new WsAuthConfigurationError(
      `${what} authenticates by cookie, which any website can make a browser send (Cross-Site WebSocket Hijacking). ` +
        `Set allowedOrigins: ['https://your.app'] (or, if a proxy checks Origin for you, allowAnyOrigin: true).`,
    );
  }
}

function defaultUserId(user: unknown): string {
  const { id, sub } = (user ?? {}) as { id?: unknown; sub?: unknown };
  const chosen = id ?? sub;
  if (chosen === undefined || chosen === null || chosen === '') {
    throw new WsAuthConfigurationError(
      `the user has neither an id nor a sub, so its connections cannot be grouped. Set the userId option, e.g. userId: (user) => user.email.`,
    );
  }
  return String(chosen);
}

function defaultRolesOf(user: unknown): readonly string[] {
  const roles = (user as { roles?: unknown } | null | undefined)?.roles;
  return Array.isArray(roles) ? roles : [];
}

function clusterSettings(cluster: WsAuthClusterOptions): ClusterSettings {
  const redis = (cluster as Partial<WsAuthClusterOptions> | null)?.redis as Partial<RedisClientLike> | undefined;
  if (typeof redis?.duplicate !== 'function') {
    throw new WsAuthConfigurationError(
      `cluster.redis must be your app's Redis client (ioredis or node-redis), e.g. cluster: { redis: new Redis(process.env.REDIS_URL) }.`,
    );
  }
  const prefix = cluster.prefix ?? 'ws-auth:';
  if (typeof prefix !== 'string' || prefix === '' || /[\s*?[\]]/.test(prefix)) {
    throw new WsAuthConfigurationError(`cluster.prefix must be a non-empty string without spaces or glob characters, e.g. 'ws-auth:'.`);
  }
  const leaseTtlMs = positiveInteger(cluster.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, 'cluster.leaseTtlMs');
  if (leaseTtlMs < 1000) {
    throw new WsAuthConfigurationError(`cluster.leaseTtlMs must be at least 1000 (nodes refresh leases every third of it); got ${leaseTtlMs}.`);
  }
  return { redis: redis as RedisClientLike, prefix, leaseTtlMs };
}

function handshakeTimeout(value: unknown): number {
  const ms = positiveInteger(value, 'handshakeTimeoutMs');
  if (ms > MAX_TIMER_DELAY_MS) {
    throw new WsAuthConfigurationError(`handshakeTimeoutMs must be at most ${MAX_TIMER_DELAY_MS}; got ${ms}.`);
  }
  return ms;
}

function callback<F>(value: F, option: string): F {
  if (typeof value !== 'function') {
    throw new WsAuthConfigurationError(`${option} must be a function; got ${typeof value}.`);
  }
  return value;
}
