import { AssertionError } from 'node:assert';
import type { AddressInfo } from 'node:net';
import type { DynamicModule, INestApplication, LoggerService, LogLevel, Type, WebSocketAdapter } from '@nestjs/common';
import { DiscoveryService, NestFactory } from '@nestjs/core';
import type { SwappableClock } from '../core/clock.js';
import { WS_AUTH_PROTOCOL_PREFIX } from '../core/ws-auth.constants.js';
import { WS_AUTH_CLOCK, WS_AUTH_SETTINGS } from '../ws-auth.internal-constants.js';
import type { WsAuthSettings } from '../ws-auth-options.resolver.js';
import { gatewayOptionsOf, guardedGatewayOf } from '../ws-auth-gateway.decorator.js';
// Loads neither graphql nor graphql-ws (the kit reads whether the app uses it).
import { WsAuthGraphQL } from '../graphql/ws-auth-graphql.js';
import { sessionCookieFor } from './session.login.js';
import { IoTestClient, type ConnectionPlan, WsTestClient, type WsAuthTestClient } from './test-client.js';
import { TestClock } from './test.clock.js';
import { claimsOf, signerFor, type TokenSigner } from './token.minter.js';
import { WsAuthTestingError } from './ws-auth-testing.errors.js';

export type WsAuthTestingTransport = 'ws' | 'socket.io' | 'graphql-ws';

/** How `connectAs` presents the user's credentials. */
export type ConnectVia = 'header' | 'auth' | 'subprotocol' | 'query' | 'cookie' | 'session' | 'connectionParams';

/** Options of `WsAuthTesting.start()`. */
export interface WsAuthTestingOptions {
  /**
   * The client the kit connects with (and, for an app the kit creates, the adapter); Socket.IO needs
   * socket.io-client, `'graphql-ws'` (GraphQL subscriptions of @nestjs/graphql with `WsAuthGraphQL`)
   * graphql-ws. @default what the app's guarded gateways declare (`namespace`: Socket.IO, `path`: ws),
   * else `'graphql-ws'` if the app has no guarded gateway and uses `WsAuthGraphQL.graphqlWs()`,
   * else the one of @nestjs/platform-ws and @nestjs/platform-socket.io that is installed
   */
  transport?: WsAuthTestingTransport;
  /**
   * Runs on the app the kit creates, before it listens: mount middleware
   * (`app.use(session)`), global pipes... Not called for an `INestApplication`
   * you pass (configure it yourself).
   */
  configure?: (app: INestApplication) => void | Promise<void>;
  /**
   * The WebSocket adapter of an app the kit creates. @default WsAuthAdapter (ws) or WsAuthIoAdapter (Socket.IO);
   * graphql-ws: WsAuthAdapter if the app has guarded gateways, else none
   */
  adapter?: (app: INestApplication) => WebSocketAdapter;
  /** Logger of an app the kit creates. @default ['error', 'fatal'] */
  logger?: LoggerService | LogLevel[] | false;
  /** Where the kit clock starts (ms since the epoch, or a Date). @default the current second */
  now?: number | Date;
  /** Lifetime of the tokens `connectAs` mints, in seconds. @default 60 */
  expiresIn?: number;
  /**
   * Signs the claims of the tokens `connectAs` mints (`iat`/`exp` included). Needed when
   * the app verifies with a public key or a key set (the kit has no private key);
   * otherwise the kit signs with the app's own `jwt` settings.
   */
  sign?: TokenSigner;
  /** How long `expect*` wait at most, real time. @default 2000 */
  timeoutMs?: number;
}

/** Options of `connectAs` and `expectRefused`. */
export interface ConnectAsOptions {
  /**
   * How the credentials travel. ws: `header` (default: `Authorization: Bearer`),
   * `subprotocol` (`bearer.<token>` beside an app protocol), `query` (`?token=`),
   * `cookie` (the `jwt.cookie` cookie), `session` (a session logged in as the user).
   * Socket.IO: `auth` (default: `auth: { token }`), `header`, `query`, `cookie`, `session`.
   * graphql-ws: `connectionParams` (default: `{ authorization: 'Bearer …' }` in `connection_init`),
   * `header`, `query`, `cookie`, `session`.
   */
  via?: ConnectVia;
  /** This token instead of one the kit mints. */
  token?: string;
  /**
   * Extra headers. With `headers` (or `query`) and neither `via` nor `token`, the kit
   * mints nothing: the credentials your own strategy reads, e.g. `{ 'x-api-key': key }`.
   */
  headers?: Record<string, string>;
  /** Extra query parameters. */
  query?: Record<string, string>;
  /** Claims added to the minted token. */
  claims?: Record<string, unknown>;
  /** Lifetime of the minted token in seconds. @default the kit's `expiresIn` */
  expiresIn?: number;
  /** ws subprotocols offered (the token entry is added for `via: 'subprotocol'`). @default ['ws-auth-test'] with a token entry, else none */
  protocols?: string[];
}

/** Options of `expectRefused`: the credentials of `as` (a connected client, or a user to mint for). */
export interface ExpectRefusedOptions extends ConnectAsOptions {
  as?: WsAuthTestClient<unknown> | object;
}

/**
 * A refused handshake: the HTTP status (ws) or `connect_error`'s `err.data` (Socket.IO); graphql-ws, which
 * refuses after the upgrade: the close code as `status` (4403, 4429...) and its reason as `message`.
 */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

type StartTarget = Type | DynamicModule | INestApplication | { createNestApplication(): INestApplication };

const DEFAULT_PROTOCOL = 'ws-auth-test';

/**
 * The testing kit of nest-ws-auth: starts the app on a loopback port, connects
 * clients as users (minting their tokens with the app's own jwt settings, or
 * logging them in through the app's session store), and makes expiry
 * testable without waiting (`kit.clock`). Any test runner: failed
 * expectations throw node:assert's `AssertionError`.
 *
 * ```ts
 * const kit = await WsAuthTesting.start(AppModule);
 * const alice = await kit.connectAs({ id: 'alice', roles: ['member'] }, '/chat');
 * await kit.clock.advance(60_000);
 * await alice.expectClose(4401);
 * await kit.close();
 * ```
 */
export class WsAuthTesting {
  /** The kit's clock: frozen, moved by `advance(ms)`. */
  readonly clock: TestClock;
  private readonly clients = new Set<WsAuthTestClient<unknown>>();
  private readonly sign: TokenSigner;
  private closed = false;

  private constructor(
    /** The running app. */
    readonly app: INestApplication,
    /** Its port on 127.0.0.1. */
    readonly port: number,
    readonly transport: WsAuthTestingTransport,
    private readonly settings: WsAuthSettings,
    private readonly appClock: SwappableClock,
    private readonly options: WsAuthTestingOptions,
  ) {
    const now = options.now;
    this.clock = new TestClock(now === undefined ? undefined : typeof now === 'number' ? now : now.getTime());
    this.sign = signerFor(settings, options.sign);
    appClock.use(this.clock);
  }

  /**
   * Starts `target` on a free loopback port: a module (the kit creates the app, with
   * the adapter of `transport`), a `TestingModule` (the kit creates its app), or an
   * `INestApplication` (used as it is: set its WebSocket adapter and middleware
   * yourself; the kit listens if it does not yet).
   */
  static async start(target: StartTarget, options: WsAuthTestingOptions = {}): Promise<WsAuthTesting> {
    if (options.transport !== undefined && options.transport !== 'ws' && options.transport !== 'socket.io' && options.transport !== 'graphql-ws') {
      throw new WsAuthTestingError(`transport must be 'ws', 'socket.io' or 'graphql-ws'; got ${String(options.transport)}.`);
    }
    let app: INestApplication;
    let transport: WsAuthTestingTransport;
    if (isApplication(target)) {
      app = target;
      transport = options.transport ?? (await transportOf(app));
    } else {
      app = isTestingModule(target)
        ? target.createNestApplication()
        : await NestFactory.create(target, { logger: options.logger ?? ['error', 'fatal'], abortOnError: false });
      try {
        transport = options.transport ?? (await transportOf(app));
      } catch (error) {
        await app.close();
        throw error;
      }
      const adapter = options.adapter ? options.adapter(app) : await defaultAdapter(app, transport);
      if (adapter) {
        app.useWebSocketAdapter(adapter);
      }
      await options.configure?.(app);
    }
    try {
      const server = app.getHttpServer() as { listening?: boolean; address(): AddressInfo | string | null };
      if (!server.listening) {
        await app.listen(0, '127.0.0.1');
      }
      let settings: WsAuthSettings;
      let clock: SwappableClock;
      try {
        settings = app.get<WsAuthSettings>(WS_AUTH_SETTINGS, { strict: false });
        clock = app.get<SwappableClock>(WS_AUTH_CLOCK, { strict: false });
      } catch {
        throw new WsAuthTestingError(`the app does not import WsAuthModule (from the same copy of nest-ws-auth as the kit): add WsAuthModule.forRoot({ ... }) to its imports.`);
      }
      const { port } = app.getHttpServer().address() as AddressInfo;
      return new WsAuthTesting(app, port, transport, settings, clock, options);
    } catch (error) {
      await app.close();
      throw error;
    }
  }

  /** `ws://127.0.0.1:<port><path>` (ws, graphql-ws) or `http://127.0.0.1:<port><path>` (Socket.IO). */
  url(path: string): string {
    return `${this.transport === 'socket.io' ? 'http' : 'ws'}://127.0.0.1:${this.port}${path}`;
  }

  /**
   * Connects to `path` (ws) or namespace `path` (Socket.IO) as `user`: with a token
   * the kit mints (claims: the user's fields, `sub` = its id, `iat`/`exp` at the kit
   * clock's time), a session logged in as the user (`via: 'session'`), or the
   * credentials you give (`headers`). Throws an AssertionError if the handshake is refused.
   */
  async connectAs<User extends object>(user: User, path: string, options: ConnectAsOptions = {}): Promise<WsAuthTestClient<User>> {
    this.assertOpen();
    const plan = await this.planFor(user, path, options);
    const attempt = await this.attempt(plan, user);
    if ('refusal' in attempt) {
      throw new AssertionError({
        message: `expected ${describeUser(user)} to connect to ${path}, but the handshake was refused: ${attempt.refusal.status} ${attempt.refusal.message}`,
        actual: attempt.refusal,
        expected: 'connected',
        operator: 'connectAs',
      });
    }
    return attempt.client;
  }

  /**
   * Checks that a handshake to `path` is refused (with `status`, when given) and
   * resolves with the refusal. `as`: a connected client (its credentials are sent
   * again) or a user (credentials as `connectAs` would make them); neither: no
   * credentials at all.
   */
  async expectRefused(path: string, options: ExpectRefusedOptions = {}, status?: number): Promise<Refusal> {
    this.assertOpen();
    const { as, ...connect } = options;
    let plan: ConnectionPlan;
    let user: object | undefined;
    if (as instanceof Object && 'plan' in as && (as as WsAuthTestClient).plan !== undefined && typeof (as as WsAuthTestClient).expectEvent === 'function') {
      const client = as as WsAuthTestClient;
      user = client.user as object;
      plan = { ...client.plan, path };
    } else if (as !== undefined) {
      user = as;
      plan = await this.planFor(as, path, connect);
    } else {
      plan = { path, headers: connect.headers ?? {}, query: connect.query ?? {}, protocols: connect.protocols ?? [], ...(connect.token !== undefined && this.tokenPlan(connect.token, connect.via)) };
    }
    const attempt = await this.attempt(plan, user ?? {});
    const who = user ? describeUser(user) : 'a client without credentials';
    if ('client' in attempt) {
      await attempt.client.close();
      throw new AssertionError({
        message: `expected the handshake of ${who} to ${path} to be refused${status === undefined ? '' : ` with ${status}`}, but it connected`,
        actual: 'connected',
        expected: status,
        operator: 'expectRefused',
      });
    }
    if (status !== undefined && attempt.refusal.status !== status) {
      throw new AssertionError({
        message: `expected the handshake of ${who} to ${path} to be refused with ${status}, got ${attempt.refusal.status} ${attempt.refusal.message}`,
        actual: attempt.refusal.status,
        expected: status,
        operator: 'expectRefused',
      });
    }
    return attempt.refusal;
  }

  /** A token for `user`, as `connectAs` mints it (at the kit clock's time). */
  async tokenFor(user: object, { expiresIn = this.options.expiresIn ?? 60, claims }: Pick<ConnectAsOptions, 'expiresIn' | 'claims'> = {}): Promise<string> {
    return this.sign(claimsOf(user, this.clock.now(), expiresIn, claims));
  }

  /** A signed session cookie (`name=value`) of a session logged in as `user`, in the app's own store. */
  async sessionCookieFor(user: object): Promise<string> {
    if (!this.settings.session) {
      throw new WsAuthTestingError(`via: 'session' needs the session option of WsAuthModule (the app's express-session handler).`);
    }
    return sessionCookieFor(this.settings.session, user);
  }

  /** Closes every client, then the app; gives the app its system clock back. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    await Promise.all([...this.clients].map((client) => client.close().catch(() => undefined)));
    this.clients.clear();
    this.appClock.use(undefined);
    await this.app.close();
  }

  private async planFor(user: object, path: string, options: ConnectAsOptions): Promise<ConnectionPlan> {
    const base = { path, headers: { ...options.headers }, query: { ...options.query }, protocols: options.protocols ?? [] };
    if (options.via === 'session') {
      const cookie = await this.sessionCookieFor(user);
      return { ...base, headers: { ...base.headers, cookie: joinCookies(base.headers.cookie, cookie) } };
    }
    const credentialsOnly = options.via === undefined && options.token === undefined && (options.headers !== undefined || options.query !== undefined);
    if (credentialsOnly) {
      return base;
    }
    const token = options.token ?? (await this.tokenFor(user, options));
    const extra = this.tokenPlan(token, options.via, base);
    return { ...base, ...extra };
  }

  /** Where `token` goes for `via`. */
  private tokenPlan(
    token: string,
    via: ConnectVia | undefined,
    base: Pick<ConnectionPlan, 'headers' | 'query' | 'protocols'> = { headers: {}, query: {}, protocols: [] },
  ): Partial<ConnectionPlan> & { token: string } {
    const how = via ?? (this.transport === 'ws' ? 'header' : this.transport === 'graphql-ws' ? 'connectionParams' : 'auth');
    switch (how) {
      case 'header':
        return { token, headers: { ...base.headers, authorization: `Bearer ${token}` } };
      case 'connectionParams':
        if (this.transport !== 'graphql-ws') {
          throw new WsAuthTestingError(`via: 'connectionParams' is graphql-ws' connection_init payload; start the kit with { transport: 'graphql-ws' }.`);
        }
        return { token, connectionParams: { authorization: `Bearer ${token}` } };
      case 'auth':
        if (this.transport !== 'socket.io') {
          throw new WsAuthTestingError(`via: 'auth' is Socket.IO's auth payload; on ws use 'header', 'subprotocol', 'query' or 'cookie'.`);
        }
        return { token, auth: { token } };
      case 'subprotocol':
        if (this.transport !== 'ws') {
          throw new WsAuthTestingError(`via: 'subprotocol' is for ws; Socket.IO sends the token in its auth payload (via: 'auth').`);
        }
        return { token, protocols: [...(base.protocols.length > 0 ? base.protocols : [DEFAULT_PROTOCOL]), `${WS_AUTH_PROTOCOL_PREFIX}${token}`] };
      case 'query':
        return { token, query: { ...base.query, token } };
      case 'cookie': {
        const name = this.settings.jwt?.cookie;
        if (!name) {
          throw new WsAuthTestingError(`via: 'cookie' needs the jwt.cookie option of WsAuthModule (the cookie the token is read from).`);
        }
        return { token, headers: { ...base.headers, cookie: joinCookies(base.headers.cookie, `${name}=${token}`) } };
      }
      default:
        throw new WsAuthTestingError(`via must be 'header', 'auth', 'subprotocol', 'query', 'cookie' or 'session'; got ${String(how)}.`);
    }
  }

  private async attempt<User>(plan: ConnectionPlan, user: User): Promise<{ client: WsAuthTestClient<User> } | { refusal: Refusal }> {
    const timeoutMs = this.options.timeoutMs ?? 2000;
    const renew = this.settings.jwt || this.options.sign ? (who: User) => this.tokenFor(who as object) : undefined;
    const query = new URLSearchParams(plan.query).toString();
    if (this.transport === 'graphql-ws') {
      const outcome = await this.attemptGraphQLWs(plan, query, user, timeoutMs);
      if ('client' in outcome) {
        this.clients.add(outcome.client as WsAuthTestClient<unknown>);
      }
      return outcome;
    }
    const outcome = this.transport === 'ws' ? await this.attemptWs(plan, query) : await this.attemptIo(plan);
    if ('refusal' in outcome) {
      return outcome;
    }
    const client =
      this.transport === 'ws'
        ? new WsTestClient<User>(outcome.socket as never, user, plan, timeoutMs, renew)
        : new IoTestClient<User>(outcome.socket as never, user, plan, timeoutMs, renew);
    this.clients.add(client as WsAuthTestClient<unknown>);
    return { client };
  }

  private async attemptWs(plan: ConnectionPlan, query: string): Promise<{ socket: unknown } | { refusal: Refusal }> {
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(`${this.url(plan.path)}${query ? `?${query}` : ''}`, [...plan.protocols], { headers: { ...plan.headers } });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve({ socket }));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          socket.terminate();
          let message = body;
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            // not JSON: the body as it is
          }
          resolve({ refusal: { status: response.statusCode ?? 0, message } });
        });
      });
      socket.once('error', reject);
    });
  }

  /** A graphql-ws client (graphql-ws's own, over ws) that connects at once and never retries; acknowledged, or the close. */
  private async attemptGraphQLWs<User>(
    plan: ConnectionPlan,
    query: string,
    user: User,
    timeoutMs: number,
  ): Promise<{ client: WsAuthTestClient<User> } | { refusal: Refusal }> {
    let createClient: typeof import('graphql-ws').createClient;
    try {
      ({ createClient } = await import('graphql-ws'));
    } catch {
      throw new WsAuthTestingError(`transport 'graphql-ws' needs graphql-ws: npm install --save-dev graphql-ws.`);
    }
    const { WebSocket } = await import('ws');
    const headers = { ...plan.headers };
    const protocols = plan.protocols;
    class KitWebSocket extends WebSocket {
      constructor(url: string, protocol?: string | string[]) {
        super(url, [...(protocol === undefined ? [] : Array.isArray(protocol) ? protocol : [protocol]), ...protocols], { headers });
      }
    }
    const closeListeners = new Set<(closed: { code: number; reason: string }) => void>();
    let acknowledged!: () => void;
    let refused!: (closed: { code: number; reason: string }) => void;
    const first = new Promise<{ code: number; reason: string } | undefined>((resolve) => {
      acknowledged = () => resolve(undefined);
      refused = resolve;
    });
    const client = createClient({
      url: `${this.url(plan.path)}${query ? `?${query}` : ''}`,
      webSocketImpl: KitWebSocket,
      lazy: false,
      retryAttempts: 0,
      keepAlive: 0,
      onNonLazyError: () => {},
      ...(plan.connectionParams && { connectionParams: { ...plan.connectionParams } }),
      on: {
        connected: () => acknowledged(),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          refused({ code, reason });
          for (const listener of closeListeners) listener({ code, reason });
        },
      },
    });
    const closed = await first;
    if (closed) {
      await client.dispose();
      return { refusal: { status: closed.code, message: closed.reason } };
    }
    const { GraphQLWsTestClient } = await import('./graphql-test-client.js');
    return { client: new GraphQLWsTestClient<User>(client, user, plan, timeoutMs, (listener) => closeListeners.add(listener)) };
  }

  private async attemptIo(plan: ConnectionPlan): Promise<{ socket: unknown } | { refusal: Refusal }> {
    let io: typeof import('socket.io-client').io;
    try {
      ({ io } = await import('socket.io-client'));
    } catch {
      throw new WsAuthTestingError(`transport 'socket.io' needs socket.io-client: npm install --save-dev socket.io-client.`);
    }
    const socket = io(this.url(plan.path), {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      ...(plan.auth && { auth: { ...plan.auth } }),
      ...(Object.keys(plan.headers).length > 0 && { extraHeaders: { ...plan.headers } }),
      ...(Object.keys(plan.query).length > 0 && { query: { ...plan.query } }),
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve({ socket }));
      socket.once('connect_error', (error: Error & { data?: { status?: number; message?: string } }) => {
        socket.close();
        if (error.data?.status !== undefined) {
          resolve({ refusal: { status: error.data.status, message: error.data.message ?? error.message } });
        } else {
          reject(error);
        }
      });
    });
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new WsAuthTestingError('this kit is closed: start another one.');
    }
  }
}

/**
 * The transport an app serves its guarded gateways with: what their options
 * declare (a `namespace` is Socket.IO's, a `path` ws'), else the one platform
 * package installed. Otherwise the caller must say.
 */
async function transportOf(app: INestApplication): Promise<WsAuthTestingTransport> {
  const declared = new Set<WsAuthTestingTransport>();
  for (const gateway of guardedGateways(app)) {
    const options = gatewayOptionsOf(gateway);
    if (options.namespace !== undefined) declared.add('socket.io');
    else if (options.path !== undefined) declared.add('ws');
  }
  if (declared.size === 1) {
    return [...declared][0]!;
  }
  if (declared.size === 0 && servesGraphQLWs(app)) {
    return 'graphql-ws';
  }
  const installed: WsAuthTestingTransport[] = [];
  if (await loads('@nestjs/platform-ws')) installed.push('ws');
  if (await loads('@nestjs/platform-socket.io')) installed.push('socket.io');
  if (installed.length === 1) {
    return installed[0]!;
  }
  throw new WsAuthTestingError(
    `cannot tell whether the app serves its gateways over ws or Socket.IO: pass { transport: 'ws' } or { transport: 'socket.io' } to WsAuthTesting.start() ({ transport: 'graphql-ws' } for GraphQL subscriptions).`,
  );
}

function guardedGateways(app: INestApplication): Function[] {
  let discovery: DiscoveryService;
  try {
    discovery = app.get(DiscoveryService, { strict: false });
  } catch {
    return []; // no WsAuthModule: start() says so once the app is up
  }
  return discovery
    .getProviders()
    .map((wrapper) => wrapper.metatype)
    .filter((metatype): metatype is Function => typeof metatype === 'function' && guardedGatewayOf(metatype) !== undefined);
}

async function loads(specifier: string): Promise<boolean> {
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

/** Whether the app set up GraphQL subscriptions with `WsAuthGraphQL.graphqlWs()`. */
function servesGraphQLWs(app: INestApplication): boolean {
  try {
    return app.get(WsAuthGraphQL, { strict: false }).isServing;
  } catch {
    return false;
  }
}

async function defaultAdapter(app: INestApplication, transport: WsAuthTestingTransport): Promise<WebSocketAdapter | undefined> {
  // Each adapter is loaded when used: an app has its transport's adapter package only.
  if (transport === 'graphql-ws') {
    // @nestjs/graphql serves its subscriptions itself; guarded ws gateways beside them need WsAuthAdapter.
    return guardedGateways(app).length > 0 ? defaultAdapter(app, 'ws') : undefined;
  }
  if (transport === 'ws') {
    const { WsAuthAdapter } = await import('../ws/ws-auth.adapter.js');
    return new WsAuthAdapter(app);
  }
  const { WsAuthIoAdapter } = await import('../socket-io/ws-auth-io.adapter.js');
  return new WsAuthIoAdapter(app);
}

function isApplication(target: StartTarget): target is INestApplication {
  return typeof (target as INestApplication).getHttpServer === 'function' && typeof (target as INestApplication).listen === 'function';
}

function isTestingModule(target: StartTarget): target is { createNestApplication(): INestApplication } {
  return typeof (target as { createNestApplication?: unknown }).createNestApplication === 'function';
}

function joinCookies(existing: string | undefined, cookie: string): string {
  return existing ? `${existing}; ${cookie}` : cookie;
}

function describeUser(user: object): string {
  const { id, sub } = user as { id?: unknown; sub?: unknown };
  return String(id ?? sub ?? 'the client');
}
