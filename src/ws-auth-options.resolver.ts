import { Logger } from '@nestjs/common';
import { type JwtSettings, positiveInteger, resolveJwtOptions } from './strategies/jwt-options.resolver.js';
import type { FailedHandshakesSettings } from './core/failed-handshakes.limiter.js';
import { OriginAllowList } from './core/origin-allow-list.js';
import { isRoleList } from './core/roles.js';
import { assertOriginChecked, type CoreSettings, strategyList } from './core/core.settings.js';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import { MAX_TIMER_DELAY_MS } from './ws-auth.internal-constants.js';
import type {
  WsAuthGuard,
  PrometheusRegistryLike,
  RedisClientLike,
  ResolveUser,
  SessionMiddleware,
  WsAuthClusterOptions,
  WsAuthModuleOptions,
} from './ws-auth-module-options.interface.js';

/** `WsAuthModuleOptions`, validated, with every default applied. */
export interface WsAuthSettings extends CoreSettings {
  readonly strategies: readonly string[];
  /** Guards of every guarded gateway, validated (classes or instances with canActivate). */
  readonly guards: readonly WsAuthGuard[];
  readonly jwt?: JwtSettings;
  readonly resolveUser?: ResolveUser;
  /** Absent: any origin may connect. */
  readonly origins?: OriginAllowList;
  readonly allowAnyOrigin: boolean;
  readonly handshakeTimeoutMs: number;
  readonly closeOnExpiry: boolean;
  readonly userId: (user: unknown) => string;
  /** Always an array of role names: anything else `rolesOf` returns is no role at all (and logged once). */
  readonly rolesOf: (user: unknown) => readonly string[];
  readonly maxConnectionsPerUser: number;
  readonly session?: SessionMiddleware;
  /** How long a revocation without `until` / `expiresAt` is kept, in seconds. */
  readonly revocationTtlSeconds: number;
  readonly cluster?: ClusterSettings;
  /** Absent: no limit. */
  readonly failedHandshakes?: FailedHandshakesSettings;
  /** How many proxies in front of the app append to `X-Forwarded-For`; 0: the header is ignored. */
  readonly trustedProxies: number;
  readonly events: boolean;
  /** Absent: no metrics. */
  readonly metrics?: MetricsSettings;
}

/** The `metrics` option, validated. */
export interface MetricsSettings {
  /** Absent: prom-client's default registry. */
  readonly registry?: PrometheusRegistryLike;
}

/** The `cluster` option, validated. */
export interface ClusterSettings {
  readonly redis: RedisClientLike;
  readonly prefix: string;
  readonly leaseTtlMs: number;
}

export { assertOriginChecked, strategyList };

export const DEFAULT_STRATEGIES: readonly string[] = ['jwt'];
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_REVOCATION_TTL_SECONDS = 30 * 24 * 3600;
const DEFAULT_LEASE_TTL_MS = 15_000;
const DEFAULT_FAILED_HANDSHAKES = { limit: 20, windowSeconds: 60, maxAddresses: 10_000 } as const;

/** Validates the module options once, at start-up, for `forRoot` and `forRootAsync` alike. */
export function resolveWsAuthOptions(options: WsAuthModuleOptions): WsAuthSettings {
  if (typeof options !== 'object' || options === null) {
    throw new WsAuthConfigurationError(`WsAuthModule.forRoot() needs an options object, e.g. { jwt: { secret, algorithms } }.`);
  }
  const settings: WsAuthSettings = {
    strategies: strategyList(options.strategies ?? DEFAULT_STRATEGIES, 'strategies'),
    guards: guardList(options.guards ?? [], 'guards'),
    ...(options.jwt !== undefined && { jwt: resolveJwtOptions(options.jwt) }),
    ...(options.resolveUser !== undefined && { resolveUser: callback(options.resolveUser, 'resolveUser') }),
    ...(options.allowedOrigins !== undefined && { origins: OriginAllowList.parse(options.allowedOrigins) }),
    allowAnyOrigin: options.allowAnyOrigin === true,
    handshakeTimeoutMs: handshakeTimeout(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS),
    closeOnExpiry: options.closeOnExpiry ?? true,
    userId: callback(options.userId ?? defaultUserId, 'userId'),
    rolesOf: options.rolesOf === undefined ? defaultRolesOf : checkedRolesOf(callback(options.rolesOf, 'rolesOf')),
    maxConnectionsPerUser:
      options.maxConnectionsPerUser === undefined
        ? Infinity
        : positiveInteger(options.maxConnectionsPerUser, 'maxConnectionsPerUser'),
    ...(options.session !== undefined && { session: callback(options.session, 'session') }),
    revocationTtlSeconds: positiveInteger(options.revocationTtlSeconds ?? DEFAULT_REVOCATION_TTL_SECONDS, 'revocationTtlSeconds'),
    ...(options.cluster !== undefined && { cluster: clusterSettings(options.cluster) }),
    ...failedHandshakes(options.failedHandshakes),
    trustedProxies: trustedProxies(options.trustProxy),
    events: flag(options.events, 'events'),
    ...metrics(options.metrics),
  };
  if (settings.session) {
    assertOriginChecked(settings, `session (the 'session' strategy)`);
  }
  if (settings.jwt?.cookie !== undefined) {
    assertOriginChecked(settings, `jwt.cookie`);
  }
  return settings;
}

/**
 * `guards` / `auth.guards`: `CanActivate` classes or instances. A class is checked
 * for a `canActivate` method on its prototype; whether DI can build it is known
 * once the app starts (see HandshakeGuards).
 */
export function guardList(guards: unknown, option: string): readonly WsAuthGuard[] {
  if (!Array.isArray(guards)) {
    throw new WsAuthConfigurationError(`${option} must be an array of guards (CanActivate classes or instances), e.g. [RolesGuard].`);
  }
  for (const guard of guards) {
    const canActivate =
      typeof guard === 'function'
        ? (guard.prototype as { canActivate?: unknown } | undefined)?.canActivate
        : (guard as { canActivate?: unknown } | null)?.canActivate;
    if (typeof canActivate !== 'function') {
      const name = typeof guard === 'function' ? guard.name : guard === null ? 'null' : typeof guard === 'object' ? (guard.constructor?.name ?? 'an object') : typeof guard;
      throw new WsAuthConfigurationError(
        `${option}: ${name} is not a guard (no canActivate method). List CanActivate classes or instances, e.g. [RolesGuard].`,
      );
    }
  }
  return [...guards] as WsAuthGuard[];
}

function defaultUserId(user: unknown): string {
  const { id, sub } = (user ?? {}) as { id?: unknown; sub?: unknown };
  const chosen = id ?? sub;
  if (chosen === undefined || chosen === null || chosen === '') {
    throw new WsAuthConfigurationError(
      `the user has neither an id nor a sub, so its connections cannot be grouped. Set the userId option, e.g. userId: (user) => user.email.`,
    );
  }
  if (typeof chosen === 'string' || typeof chosen === 'bigint' || Number.isSafeInteger(chosen)) {
    return String(chosen);
  }
  // An object with a string form of its own (a MongoDB ObjectId); a plain object or an
  // array would turn into '[object Object]' or a list, the same id for different users.
  if (typeof chosen === 'object' && !Array.isArray(chosen) && chosen.toString !== Object.prototype.toString) {
    return String(chosen);
  }
  throw new WsAuthConfigurationError(
    `the user's id is ${describe(chosen)}, which does not name one user. Set the userId option to return a string, e.g. userId: (user) => user.email.`,
  );
}

const NO_ROLES: readonly string[] = Object.freeze([]);

function defaultRolesOf(user: unknown): readonly string[] {
  const roles = (user as { roles?: unknown } | null | undefined)?.roles;
  return isRoleList(roles) ? roles : NO_ROLES;
}

/**
 * The app's `rolesOf`, held to its contract: an array of role names. Anything
 * else (a string, whose `includes` would let 'sysadmin' pass for 'admin') holds
 * no role, so every role check refuses; the first such answer is logged.
 */
function checkedRolesOf(rolesOf: (user: unknown) => readonly string[]): (user: unknown) => readonly string[] {
  let reported = false;
  return (user) => {
    const roles: unknown = rolesOf(user);
    if (isRoleList(roles)) {
      return roles;
    }
    if (!reported) {
      reported = true;
      new Logger('WsAuth').error(
        `the rolesOf option returned ${describe(roles)}, not an array of role names: role checks refuse such users (403). ` +
          `Return an array, e.g. rolesOf: (user) => [user.role].`,
      );
    }
    return NO_ROLES;
  };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) {
    return 'an array with a non-string entry';
  }
  return value === null ? 'null' : `a ${typeof value}`;
}

function failedHandshakes(value: WsAuthModuleOptions['failedHandshakes']): { failedHandshakes?: FailedHandshakesSettings } {
  if (value === undefined || value === false) {
    return {};
  }
  const given = value === true ? {} : value;
  if (typeof given !== 'object' || given === null) {
    throw new WsAuthConfigurationError(
      `failedHandshakes must be true or { limit, windowSeconds }, e.g. failedHandshakes: { limit: 20, windowSeconds: 60 }; got ${String(value)}.`,
    );
  }
  const windowSeconds = positiveInteger(given.windowSeconds ?? DEFAULT_FAILED_HANDSHAKES.windowSeconds, 'failedHandshakes.windowSeconds');
  if (windowSeconds * 1000 > MAX_TIMER_DELAY_MS) {
    throw new WsAuthConfigurationError(`failedHandshakes.windowSeconds must be at most ${Math.floor(MAX_TIMER_DELAY_MS / 1000)}; got ${windowSeconds}.`);
  }
  return {
    failedHandshakes: {
      limit: positiveInteger(given.limit ?? DEFAULT_FAILED_HANDSHAKES.limit, 'failedHandshakes.limit'),
      windowMs: windowSeconds * 1000,
      maxAddresses: positiveInteger(given.maxAddresses ?? DEFAULT_FAILED_HANDSHAKES.maxAddresses, 'failedHandshakes.maxAddresses'),
    },
  };
}

function flag(value: unknown, option: string): boolean {
  if (value === undefined || typeof value === 'boolean') {
    return value === true;
  }
  throw new WsAuthConfigurationError(`${option} must be true or false; got ${String(value)}.`);
}

function metrics(value: WsAuthModuleOptions['metrics']): { metrics?: MetricsSettings } {
  if (value === undefined || value === false) {
    return {};
  }
  if (value === true) {
    return { metrics: {} };
  }
  const registry = (value as { registry?: Partial<PrometheusRegistryLike> } | null)?.registry;
  if (typeof value !== 'object' || value === null || (registry !== undefined && typeof registry?.getSingleMetric !== 'function')) {
    throw new WsAuthConfigurationError(
      `metrics must be true (prom-client's default registry) or { registry }, a prom-client Registry, e.g. metrics: { registry: new Registry() }.`,
    );
  }
  return { metrics: registry === undefined ? {} : { registry: registry as PrometheusRegistryLike } };
}

function trustedProxies(value: unknown): number {
  if (value === undefined || value === false) {
    return 0;
  }
  if (value === true) {
    return 1;
  }
  if (Number.isSafeInteger(value) && (value as number) >= 0) {
    return value as number;
  }
  throw new WsAuthConfigurationError(
    `trustProxy must be true (one proxy in front of the app), false, or the number of proxies; got ${String(value)}.`,
  );
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
