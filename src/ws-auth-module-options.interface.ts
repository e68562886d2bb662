import type { CanActivate, Type } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Algorithm, JwtPayload } from 'jsonwebtoken';

/** The verified claims of a token accepted by the built-in `jwt` strategy; `exp` is always there. */
export interface JwtClaims extends JwtPayload {
  exp: number;
}

/**
 * Turns verified claims into your user. Return `null` (or `undefined`) for a user
 * that does not exist: the handshake gets 401. A throw answers 500.
 *
 * `request` is the HTTP upgrade request; it is `undefined` when the call comes
 * from an in-band `auth:refresh`, which has no HTTP request of its own.
 */
// `any` by default, as Nest's own `ExecutionContext.getClient<T = any>()`: callbacks read the app's user freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResolveUser<User = any> = (
  claims: JwtClaims,
  request: IncomingMessage | undefined,
) => User | null | undefined | Promise<User | null | undefined>;

/**
 * Connect-style middleware, such as the handler `express-session` returns.
 * Declared as a method so that handlers typed for Express's own request and
 * response types are accepted.
 */
export type SessionMiddleware = {
  handle(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void;
}['handle'];

/** The built-in `jwt` strategy (jsonwebtoken, the same rules as passport-jwt and more), configured the RFC 8725 way. */
export interface WsAuthJwtOptions {
  /**
   * HMAC secret for `HS256`/`HS384`/`HS512`: at least as many bytes as the hash
   * (32 for HS256). Turned into a `KeyObject` once at start-up. Give exactly one
   * of `secret` and `publicKey`.
   */
  secret?: string | Buffer | KeyObject;
  /** PEM public key (or `KeyObject`) for `RS*`, `PS*` and `ES*` algorithms. */
  publicKey?: string | Buffer | KeyObject;
  /**
   * The issuer's JSON Web Key Set (`https://issuer/.well-known/jwks.json`), instead of
   * `secret`/`publicKey`: each token is verified with the key its `kid` (and `alg`)
   * names. Keys are fetched once and cached (jose's `createRemoteJWKSet`); an unknown
   * `kid` refetches the set at most once per `jwksCooldownMs`, so rotation needs no
   * restart. `https` is required, except on loopback hosts. While the set cannot be
   * fetched, handshakes get 503 `Key set unavailable`. `algorithms` must be `RS*`,
   * `PS*` or `ES*` (several families allowed: the key set says which key is which).
   */
  jwksUri?: string | URL;
  /** Least time between two fetches of the key set caused by an unknown `kid`. @default 30000 */
  jwksCooldownMs?: number;
  /** Deadline of one fetch of the key set. @default 5000 */
  jwksTimeoutMs?: number;
  /**
   * The largest key set body read, in bytes. A larger body, or a 200 answer that is
   * not a usable key set (not JSON, no `keys`, no key in it), is a failed fetch:
   * 503 `Key set unavailable`, and no new fetch for a second. @default 1048576 (1 MiB)
   */
  jwksMaxBytes?: number;
  /**
   * Required: the algorithms tokens may be signed with, from one family that
   * matches the key. `none` is refused.
   */
  algorithms: Algorithm[];
  /** Expected `iss`. @default not checked */
  issuer?: string | string[];
  /** Expected `aud` (any of them). @default not checked */
  audience?: string | string[];
  /** Seconds of leeway for `exp` and `nbf`, and for closing an expired connection. @default 0 */
  clockTolerance?: number;
  /** Tokens longer than this many bytes are refused without being verified. @default 8192 */
  maxTokenBytes?: number;
  /**
   * How many verified tokens to remember (until each one's `exp`), so that a client
   * reconnecting with the same token skips signature verification; `resolveUser`
   * still runs on every handshake. `0` turns it off.
   * @default 1000
   */
  cacheSize?: number;
  /**
   * Also read the token from this cookie (only when no header, subprotocol or
   * query token was sent). Cookies are sent by the browser on its own, so this
   * requires `allowedOrigins`. @default no cookie
   */
  cookie?: string;
}

/** Options of `WsAuthModule.forRoot()` / `forRootAsync()`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as ResolveUser
export interface WsAuthModuleOptions<User = any> {
  /** The built-in `jwt` strategy. Without it, `'jwt'` names a passport strategy the app registers. */
  jwt?: WsAuthJwtOptions;
  /**
   * Maps the claims of a token accepted by the built-in `jwt` strategy to your user.
   * @default the claims themselves
   */
  resolveUser?: ResolveUser<User>;
  /**
   * Strategy names tried in order; the first to succeed wins. `'jwt'` and `'session'`
   * are built in when configured; any other name is a passport strategy registered
   * the @nestjs/passport way (`PassportStrategy(Strategy, 'name')`). `[]`: no strategy,
   * `guards` alone authenticate.
   * @default ['jwt']
   */
  strategies?: string[];
  /**
   * Guards every guarded gateway runs at the handshake, before its own `auth.guards`:
   * e.g. `ThrottlerGuard` to limit connection attempts per address. With
   * `strategies: []` guards alone authenticate (`client.user` is the `request.user` they set).
   * @default none
   */
  guards?: WsAuthGuard[];
  /**
   * Browser origins (`scheme://host[:port]`) allowed to open a connection; any other
   * `Origin` gets 403. Requests without an `Origin` header (non-browser clients) pass.
   * Required when a cookie authenticates (strategy `'session'`, `jwt.cookie`).
   * @default any origin
   */
  allowedOrigins?: string[];
  /**
   * Spell out that cookie authentication may run without an origin allow-list, which
   * leaves the gateway open to Cross-Site WebSocket Hijacking. Only for apps whose
   * proxy checks `Origin` itself.
   * @default false
   */
  allowAnyOrigin?: boolean;
  /**
   * Deadline for authenticating a handshake; past it the client gets 503. Node stops
   * its own request timers once a connection asks to upgrade, so this is the only one.
   * @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * Close a connection with 4401 when the token it was opened (or refreshed) with
   * expires, `jwt.clockTolerance` seconds after `exp`.
   * @default true
   */
  closeOnExpiry?: boolean;
  /**
   * The id connections are grouped by (`WsAuthConnections`, `maxConnectionsPerUser`,
   * `auth:refresh`).
   * @default (user) => String(user.id ?? user.sub)
   */
  userId?: (user: User) => string;
  /**
   * The roles `auth.roles` and `@WsRoles()` check.
   * @default (user) => user.roles ?? []
   */
  rolesOf?: (user: User) => readonly string[];
  /** Concurrent connections one user may hold; the next handshake gets 429. @default unlimited */
  maxConnectionsPerUser?: number;
  /**
   * How long `revokeUser()` (without `until`) and `revokeToken()` (without
   * `expiresAt`) are remembered: set it to the longest lifetime of the tokens
   * you issue, after which no credential a revocation covers can still be valid.
   * @default 2592000 (30 days)
   */
  revocationTtlSeconds?: number;
  /**
   * Share revocations, disconnects and `maxConnectionsPerUser` between the
   * instances of the app through Redis. See "Running several instances".
   * @default this process only
   */
  cluster?: WsAuthClusterOptions;
  /**
   * The `express-session` handler the app mounts, for the built-in `'session'` strategy:
   * the user is whoever passport's session serializer restores.
   */
  session?: SessionMiddleware;
  /**
   * Limit refused handshakes (401 and 403) per client address: after `limit` of
   * them within `windowSeconds` (counted from the address's first refusal), the
   * address gets 429 with `Retry-After` (seconds), before any strategy runs, until
   * the window ends. `true` takes the defaults. Successful handshakes do not reset
   * the count. IPv6 addresses count by /64.
   * @default off
   */
  failedHandshakes?: boolean | FailedHandshakesOptions;
  /**
   * The proxies in front of the app, for the client address `failedHandshakes`
   * counts: `true` is one proxy, a number that many. The address is the entry of
   * `X-Forwarded-For` the outermost trusted proxy appended (the rightmost one with a
   * single proxy): entries left of it are written by the client. With `false` the
   * header is ignored and the address is the TCP peer's.
   * @default false
   */
  trustProxy?: boolean | number;
  /**
   * Emit `ws-auth.connected`, `ws-auth.refused`, `ws-auth.expired`, `ws-auth.revoked`
   * and `ws-auth.refreshed` (see `WsAuthEventMap`): to listeners of the injectable
   * `WsAuthEvents`, and through `@nestjs/event-emitter` when the app imports its
   * `EventEmitterModule` (`@OnEvent('ws-auth.refused')`). No payload carries a
   * credential; an event nobody listens for is not even built.
   * @default false
   */
  events?: boolean;
  /**
   * Prometheus metrics through `prom-client` (an optional peer): `true` registers
   * them in prom-client's default registry, `{ registry }` in yours. See "Observability".
   * @default off
   */
  metrics?: boolean | WsAuthMetricsOptions;
}

/** `WsAuthModuleOptions.metrics`. */
export interface WsAuthMetricsOptions {
  /** A prom-client `Registry`. @default prom-client's default registry (`register`) */
  registry?: PrometheusRegistryLike;
}

/** What the library needs of a prom-client `Registry` (typed loosely, so that prom-client stays optional). */
export interface PrometheusRegistryLike {
  getSingleMetric(name: string): unknown;
}

/** `WsAuthModuleOptions.failedHandshakes`. */
export interface FailedHandshakesOptions {
  /** Refused handshakes an address may have in one window; the next one gets 429. @default 20 */
  limit?: number;
  /** Length of a window, from the address's first refusal. @default 60 */
  windowSeconds?: number;
  /**
   * Addresses remembered at once; beyond that the oldest window is forgotten
   * (about 100 bytes each).
   * @default 10000
   */
  maxAddresses?: number;
}

/**
 * A Redis client as the app made it: an ioredis `Redis` or a node-redis client.
 * The library duplicates it for its subscriber and never closes the app's own.
 */
export interface RedisClientLike {
  duplicate(): unknown;
}

/** Several instances of the app sharing revocations and the per-user limit through Redis. */
export interface WsAuthClusterOptions {
  /** The app's own Redis client (ioredis or node-redis, connected or connecting). */
  redis: RedisClientLike;
  /** Prefix of every key and channel; apps with another prefix do not see each other. @default 'ws-auth:' */
  prefix?: string;
  /**
   * How long a node's hold on a place under `maxConnectionsPerUser` lasts unless
   * the node refreshes it (every third of it): a node that dies gives its places
   * back within this time. @default 15000
   */
  leaseTtlMs?: number;
}

/** Per-gateway options: `@WsAuthGateway({ path, auth: { ... } })`. */
export interface WsAuthGatewayOptions {
  /** Let clients without credentials in as `client.user === null`. Invalid credentials still get 401. @default false */
  optional?: boolean;
  /** This gateway's own strategy list. @default the module's `strategies` */
  strategies?: string[];
  /** The user must hold at least one of these roles, or the handshake gets 403. @default no role needed */
  roles?: string[];
  /**
   * The app's own `CanActivate` guards (classes, resolved through DI like `@UseGuards`, or
   * instances), run at the handshake after the strategies and the module's `guards`, before
   * any socket opens. `false` is 403; an `HttpException` keeps its status and message.
   * @default none
   */
  guards?: WsAuthGuard[];
}

/**
 * A guard of the app run at the handshake: a class (resolved through DI, with
 * `Reflector` and the app's providers injectable) or an instance.
 */
export type WsAuthGuard = Type<CanActivate> | CanActivate;
