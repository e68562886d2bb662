import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Context, ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { markAccepted } from '../core/accepted-clients.js';
import type { SwappableClock } from '../core/clock.js';
import type { ConnectionRegistry } from '../core/connection.registry.js';
import { HandshakeAuthenticator } from '../core/handshake.authenticator.js';
import type { GatewayPolicy, Verdict } from '../core/handshake.interfaces.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { WsAuthCloseCode } from '../core/ws-auth.constants.js';
import { HandshakeRejection, loggable } from '../core/ws-auth.exceptions.js';
import { CONNECTION_REGISTRY, MAX_CLOSE_REASON_BYTES, WS_AUTH_CLOCK, WS_AUTH_SETTINGS } from '../ws-auth.internal-constants.js';
import type { WsAuthGatewayOptions } from '../ws-auth-module-options.interface.js';
import type { WsAuthSettings } from '../ws-auth-options.resolver.js';
import { GraphQLWsCloseCode } from './graphql-ws.close-codes.js';
import { graphqlWsLink, graphqlWsTransport, noteRequest } from './graphql-ws.transport.js';

/** What graphql-ws's `ws` server puts in `ctx.extra` (graphql-ws/use/ws). */
export interface GraphQLWsExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

/** The `connection_init` payload: the library reads `{ authorization: 'Bearer …' }` or `{ token }` in it. */
export type GraphQLWsConnectionParams = Record<string, unknown> | undefined;

/** The graphql-ws context of a connection of @nestjs/graphql's subscription server. */
export type GraphQLWsContext = Context<GraphQLWsConnectionParams, GraphQLWsExtra>;

type Hooks<Extra> = Partial<
  Pick<
    ServerOptions<GraphQLWsConnectionParams, Extra>,
    'connectionInitWaitTimeout' | 'onConnect' | 'onDisconnect' | 'onClose' | 'onSubscribe' | 'onNext'
  >
> & { path?: string };

/**
 * The graphql-ws server options @nestjs/graphql forwards from `subscriptions['graphql-ws']`:
 * its hooks, `connectionInitWaitTimeout` and `path`.
 */
export type GraphQLWsHooks = Hooks<GraphQLWsExtra>;

/** What `graphqlWs()` returns: @nestjs/graphql types `ctx.extra` as `unknown` (it is a `GraphQLWsExtra`). */
export type GraphQLWsOptions = Hooks<unknown>;

type OnSubscribe = NonNullable<GraphQLWsHooks['onSubscribe']>;
type OnNext = NonNullable<GraphQLWsHooks['onNext']>;

/** The request resolvers see as `context.req` on a subscription: the upgrade request, with the connection's user. */
export type GraphQLWsRequest<User = unknown> = IncomingMessage & { user: User };

/**
 * A GraphQL context factory, as Apollo (`{ req, res }`) and graphql-ws (its context, the message, the
 * execution arguments) call it.
 */
export type GraphQLContextFactory = (...args: never[]) => unknown;

/** What `context()` returns, for the `context` option. */
export type GraphQLContextFunction = (...args: unknown[]) => Promise<unknown>;

/** The per-connection state of an accepted socket. */
interface Accepted {
  readonly request: IncomingMessage;
  /** When the connection must stop streaming (unix seconds, tolerance included); undefined: never. */
  readonly expiresAt: number | undefined;
}

/** Names the subscription server in events, metrics and logs, as a gateway class would. */
class GraphQLSubscriptions {}

const TOKEN_TWICE = new HandshakeRejection(400, 'Send the token in one place only: header, subprotocol, query or connectionParams.');
const TOKEN_NOT_A_STRING = new HandshakeRejection(400, 'connectionParams.authorization and connectionParams.token must be strings.');

/**
 * GraphQL subscriptions over graphql-ws (`@nestjs/graphql`), with the guarantee
 * of the library's gateways: the connection is authenticated at `connection_init`
 * (credentials of the upgrade request, or `connectionParams: { authorization }` /
 * `{ token }`), by the same strategies, rules and limits, before any operation runs.
 *
 * ```ts
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [WsAuthGraphQL],
 *   useFactory: (auth: WsAuthGraphQL) => ({
 *     autoSchemaFile: true,
 *     subscriptions: { 'graphql-ws': auth.graphqlWs() },
 *     context: auth.context(),
 *   }),
 * });
 * ```
 * Refusals are graphql-ws close codes (see `GraphQLWsCloseCode`).
 */
@Injectable()
export class WsAuthGraphQL {
  private readonly logger = new Logger('WsAuth');
  private readonly accepted = new WeakMap<WebSocket, Accepted>();
  private graphql: Promise<typeof import('graphql')> | undefined;
  private serving = false;

  constructor(
    private readonly authenticator: HandshakeAuthenticator,
    @Inject(CONNECTION_REGISTRY) private readonly registry: ConnectionRegistry,
    @Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings,
    @Inject(WS_AUTH_CLOCK) private readonly clock: SwappableClock,
  ) {}

  /**
   * The `subscriptions['graphql-ws']` options: authentication at `connection_init`,
   * expiry and revocation of the connection, and `connectionInitWaitTimeout` =
   * `handshakeTimeoutMs` (4408 without `connection_init` by then). The app's own
   * `hooks` run after the library's (`onConnect` only for an authenticated
   * connection, with `ctx.extra.request.user` set; returning `false` still refuses
   * with 4403), and its other options are kept. `auth`: the `auth` options of a
   * gateway (`optional`, `strategies`, `roles`, `guards`) for this server.
   */
  graphqlWs(hooks: GraphQLWsHooks = {}, auth: WsAuthGatewayOptions = {}): GraphQLWsOptions {
    const own = hooks;
    const policy = this.authenticator.policyFor(GraphQLSubscriptions, auth);
    this.serving = true;
    return {
      // The app's other hooks and options, as given (graphql-ws calls them with a GraphQLWsExtra).
      ...(own as GraphQLWsOptions),
      connectionInitWaitTimeout: own.connectionInitWaitTimeout ?? this.settings.handshakeTimeoutMs,
      // graphql-ws' ws server (the one @nestjs/graphql runs) puts a GraphQLWsExtra in ctx.extra.
      onConnect: async (ctx) => this.onConnect(ctx as GraphQLWsContext, policy, own.onConnect),
      onSubscribe: (...args) => this.onSubscribe(args as Parameters<OnSubscribe>, own.onSubscribe),
      onNext: (...args) => this.onNext(args as Parameters<OnNext>, own.onNext),
    };
  }

  /** @internal Whether `graphqlWs()` made the options of a subscription server (the testing kit asks). */
  get isServing(): boolean {
    return this.serving;
  }

  /**
   * The GraphQL `context` option. For an operation of a graphql-ws connection the
   * library accepted: `{ req }`, the upgrade request with `req.user` (what
   * `resolveUser` returned) — plus whatever `inner` returns for it. HTTP requests
   * get what `inner` returns, or `{ req }` as @nestjs/graphql's default does.
   */
  context(factory?: GraphQLContextFactory): GraphQLContextFunction {
    const inner = factory as ((...args: unknown[]) => unknown) | undefined;
    return async (...args: unknown[]) => {
      const socket = socketOf(args[0]);
      if (socket === undefined) {
        return inner ? inner(...args) : { req: (args[0] as { req?: unknown } | undefined)?.req ?? args[0] };
      }
      const accepted = this.accepted.get(socket);
      if (!accepted) {
        // graphql-ws only runs operations of acknowledged connections: only a server set up without graphqlWs() gets here.
        throw new Error('nest-ws-auth: this graphql-ws connection was not authenticated; pass auth.graphqlWs() as subscriptions[\'graphql-ws\'].');
      }
      let context: unknown;
      try {
        context = inner ? await inner(...args) : undefined;
      } catch (error) {
        throw this.failedOperation(socket, accepted.request, args[0] as GraphQLWsContext, 'the context factory', error);
      }
      if (context === undefined || context === null) {
        return { req: accepted.request };
      }
      if (typeof context !== 'object') {
        return context;
      }
      return Object.assign(Object.create(Object.getPrototypeOf(context) as object) as object, context, { req: accepted.request });
    };
  }

  /**
   * Authenticates at `connection_init`. Synchronous when the verdict is (no
   * strategy needs I/O): a refusal then closes the socket before graphql-ws reads
   * the next message, so a `subscribe` sent right behind the `connection_init` is never read.
   */
  private onConnect(
    ctx: GraphQLWsContext,
    policy: GatewayPolicy,
    own: GraphQLWsHooks['onConnect'],
  ): MaybePromise<boolean | Record<string, unknown> | void> {
    const { socket, request } = ctx.extra;
    let token: string | undefined;
    const failed = (error: unknown): false => {
      // graphql-ws would print the error with console.error and send its message as the close reason.
      // One line per failure, without the stack (as the core logs a failed strategy).
      const line = error instanceof Error ? `${error.name}: ${error.message}` : error;
      this.logger.error(`${policy.gateway}: onConnect failed; closed 4500. ${loggable(line, token, request)}`);
      if (this.accepted.has(socket)) {
        this.registry.close(socket, GraphQLWsCloseCode.InternalServerError, 'Internal server error', 'client');
      } else {
        graphqlWsTransport.close(socket, GraphQLWsCloseCode.InternalServerError, 'Internal server error');
      }
      return false;
    };
    const afterVerdict = (verdict: Verdict): MaybePromise<boolean | Record<string, unknown> | void> => {
      if (!this.admit(socket, request, verdict)) {
        return false;
      }
      if (!own) {
        return undefined;
      }
      const answered = (answer: boolean | Record<string, unknown> | void) => {
        if (answer === false) {
          this.registry.close(socket, GraphQLWsCloseCode.Forbidden, 'Forbidden', 'client');
        }
        return answer;
      };
      return Promise.resolve()
        .then(() => own(ctx))
        .then(answered, failed);
    };
    try {
      const fromParams = paramsCredential(ctx.connectionParams ?? {});
      if (fromParams instanceof HandshakeRejection) {
        return this.refuse(socket, fromParams);
      }
      token = fromParams?.token;
      let authToken: string | undefined;
      if (fromParams !== undefined) {
        if (request.headers.authorization === undefined) {
          // As if sent in the upgrade: every strategy (an app's passport-jwt included) and the app's
          // AuthGuard on context.req read it where they read an Authorization header.
          request.headers.authorization = fromParams.authorization;
        } else {
          authToken = fromParams.token; // beside an Authorization header: the core answers 400 for a token sent twice
        }
      }
      const verdict = this.authenticator.authenticate(
        { request, authToken, link: graphqlWsLink(socket), transport: 'graphql-ws' },
        policy,
      );
      return isPromiseLike(verdict) ? Promise.resolve(verdict).then(afterVerdict).catch(failed) : afterVerdict(verdict);
    } catch (error) {
      return failed(error);
    }
  }

  /** The verdict in graphql-ws's words: a close code, or the connection registered and acknowledged. */
  private admit(socket: WebSocket, request: IncomingMessage, verdict: Verdict): boolean {
    if (verdict instanceof HandshakeRejection) {
      this.refuse(socket, verdict);
      return false;
    }
    if (!graphqlWsTransport.isOpen(socket)) {
      verdict.reservation?.release(); // the client left while it was authenticated
      return false;
    }
    noteRequest(socket, request);
    if (!this.registry.accept(socket, verdict, graphqlWsTransport)) {
      return false; // disconnected while it authenticated: closed 4403 'revoked'
    }
    markAccepted(request, verdict.userId ?? null);
    const expiresAt =
      verdict.expiresAt !== undefined && this.settings.closeOnExpiry
        ? verdict.expiresAt + (this.settings.jwt?.clockTolerance ?? 0)
        : undefined;
    this.accepted.set(socket, { request, expiresAt });
    return true;
  }

  private refuse(socket: WebSocket, rejection: HandshakeRejection): false {
    graphqlWsTransport.close(socket, closeCodeOf(rejection.status), closeReasonOf(rejection));
    return false;
  }

  private async onSubscribe(args: Parameters<OnSubscribe>, own: OnSubscribe | undefined): Promise<Awaited<ReturnType<OnSubscribe>>> {
    const { socket } = args[0].extra;
    if (!this.streaming(socket)) {
      // Closed (expired, revoked) while the message was on its way: nothing executes.
      const { GraphQLError } = await (this.graphql ??= import('graphql'));
      return [new GraphQLError('Connection closed')];
    }
    if (!own) {
      return undefined;
    }
    try {
      return await own(...args);
    } catch (error) {
      throw this.failedOperation(socket, args[0].extra.request, args[0], 'onSubscribe', error);
    }
  }

  /**
   * An app's hook or context factory failed for an operation: one log line without
   * credentials, the connection closed 4500 'Internal server error', and what graphql-ws
   * gets to print and to put in its own close reason: an error that carries none.
   */
  private failedOperation(socket: WebSocket, request: IncomingMessage, ctx: GraphQLWsContext, what: string, error: unknown): Error {
    const credential = paramsCredential(ctx.connectionParams ?? {});
    const line = error instanceof Error ? `${error.name}: ${error.message}` : error;
    this.logger.error(
      `${GraphQLSubscriptions.name}: ${what} failed; closed 4500. ${loggable(line, credential instanceof HandshakeRejection ? undefined : credential?.token, request)}`,
    );
    this.registry.close(socket, GraphQLWsCloseCode.InternalServerError, 'Internal server error', 'client');
    return new Error(`nest-ws-auth: ${what} failed (logged by WsAuth, credentials redacted)`);
  }

  private onNext(args: Parameters<OnNext>, own: OnNext | undefined): ReturnType<OnNext> {
    // graphql-ws sends nothing on a socket that is not open: a result due after exp never leaves.
    this.streaming(args[0].extra.socket);
    return own?.(...args);
  }

  /**
   * Whether the socket may still get results: open, and its credentials not past
   * `exp` on the app's clock. One that is past it is closed now (4401), ahead of
   * the expiry timer's tick.
   */
  private streaming(socket: WebSocket): boolean {
    const accepted = this.accepted.get(socket);
    if (!accepted || !graphqlWsTransport.isOpen(socket)) {
      return false;
    }
    if (accepted.expiresAt !== undefined && this.clock.now() >= accepted.expiresAt * 1000) {
      this.registry.close(socket, WsAuthCloseCode.Unauthorized, 'token expired', 'expired');
      return false;
    }
    return true;
  }
}

/** The socket of a graphql-ws context (`ctx.extra.socket`); undefined for an HTTP request's context argument. */
function socketOf(argument: unknown): WebSocket | undefined {
  if (typeof argument !== 'object' || argument === null || !('extra' in argument) || !('connectionInitReceived' in argument)) {
    return undefined;
  }
  const socket = (argument as { extra?: { socket?: unknown } }).extra?.socket;
  return typeof socket === 'object' && socket !== null ? (socket as WebSocket) : undefined;
}

/**
 * The credential of a `connection_init` payload, if any: `authorization` is an
 * Authorization header value as it is (any scheme); `token` a bearer token
 * (`'Bearer …'` accepted too).
 */
function paramsCredential(params: Readonly<Record<string, unknown>>): { authorization: string; token: string } | undefined | HandshakeRejection {
  const { authorization, token } = params;
  if (authorization !== undefined && token !== undefined) {
    return TOKEN_TWICE;
  }
  const value = authorization ?? token;
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    return TOKEN_NOT_A_STRING;
  }
  const scheme = /^\s*\S+\s+/.exec(value);
  if (authorization !== undefined) {
    return { authorization: value, token: scheme ? value.slice(scheme[0].length).trim() : value };
  }
  const bearer = scheme !== null && /^\s*bearer\s/i.test(scheme[0]);
  return { authorization: bearer ? value : `Bearer ${value}`, token: bearer ? value.slice(scheme[0].length).trim() : value };
}

/** A handshake status as a graphql-ws close code (see `GraphQLWsCloseCode`). */
export function closeCodeOf(status: number): number {
  switch (status) {
    case 400:
      return GraphQLWsCloseCode.BadRequest;
    case 401:
    case 403:
      return GraphQLWsCloseCode.Forbidden;
    case 429:
      return GraphQLWsCloseCode.TooManyRequests;
    case 503:
      return GraphQLWsCloseCode.ServiceUnavailable;
    default:
      return GraphQLWsCloseCode.InternalServerError;
  }
}

/** The refusal's message (never a credential), within a close reason's 123 bytes. */
function closeReasonOf(rejection: HandshakeRejection): string {
  const reason = rejection.retryAfter === undefined ? rejection.message : `${rejection.message}; retry after ${rejection.retryAfter} s`;
  return Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES ? reason : Buffer.from(reason).subarray(0, MAX_CLOSE_REASON_BYTES - 3).toString().replace(/\uFFFD$/, '') + '...';
}
