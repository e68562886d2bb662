import { type INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { ExtendedError, Namespace, Server, Socket } from 'socket.io';
import type { AcceptedHandshake, GatewayPolicy, Verdict } from '../core/handshake.interfaces.js';
import { isPromiseLike } from '../core/maybe-promise.js';
import type { RefreshDecision } from '../core/token.refresher.js';
import { WS_AUTH_REFRESH_EVENT, WS_AUTH_REFRESHED_EVENT } from '../core/ws-auth.constants.js';
import { noteWsAuthAdapter } from '../adapter-presence.js';
import { HandshakeRejection, WsAuthConfigurationError } from '../core/ws-auth.exceptions.js';
import { gatewayOf, guardedGatewayOf, markServed, serverOptionsOf } from '../ws-auth-gateway.decorator.js';
import { resolveWsAuthServices, type WsAuthServices } from '../ws-auth.services.js';
import { bindEngineSessions } from './engine-session.binding.js';
import { answeringAckOnException } from './exception-ack.js';
import { connectionLink, ioTransport } from './io.transport.js';
import { SessionRecovery } from './session-recovery.js';

/**
 * What Nest hands `create`: the gateway's options, and for a namespace the
 * server it belongs to. Typed from IoAdapter itself, so that the override fits
 * whichever socket.io copy the app's @nestjs/platform-socket.io brings.
 */
type GatewayServerOptions = NonNullable<Parameters<IoAdapter['create']>[1]>;
type Created = ReturnType<IoAdapter['create']>;
type NestSocket = Parameters<IoAdapter['bindMessageHandlers']>[0];

/** A recovered session (`auth.pid`) is only ever handed back to the user whose session it was. */
const SESSION_OF_ANOTHER_USER = new HandshakeRejection(403, 'Session belongs to another user');

/** Namespace middleware. */
type Middleware = (socket: Socket, next: (error?: ExtendedError) => void) => void;

/** What a Socket.IO client's `auth:refresh` acknowledgement carries. */
export type WsAuthRefreshAck =
  | { ok: true; exp: number }
  | { ok: false; message: string }
  | { ok: false; code: number; reason: string };

/**
 * The `IoAdapter` of `@nestjs/platform-socket.io`, plus authentication of every
 * `@WsAuthGateway` in its namespace's middleware, before `connection`: a
 * refused client gets `connect_error` with `err.data = { status, message }`
 * and is not reconnected by socket.io-client. Plain `@WebSocketGateway`s are
 * served exactly as by `IoAdapter`.
 *
 * ```ts
 * app.useWebSocketAdapter(new WsAuthIoAdapter(app));
 * ```
 * Subclasses may override `createIOServer` (as with `IoAdapter`) and the
 * `protected` hooks.
 */
export class WsAuthIoAdapter extends IoAdapter {
  protected readonly authLogger = new Logger('WsAuth');
  /** Handshakes the middleware accepted, until their `connection` event. */
  private readonly accepted = new WeakMap<Socket, AcceptedHandshake>();
  /** Guarded namespaces: their sockets' refresh event belongs to the library. */
  private readonly guardedNamespaces = new WeakSet<Namespace>();
  /**
   * One `auth:refresh` listener shared by every guarded socket (`this` is the
   * socket): a plain listener costs a slot in an array, where a handler handed
   * to Nest would cost an rxjs pipeline per socket.
   */
  private readonly onRefresh: (this: Socket, data: unknown, ack?: (answer: WsAuthRefreshAck) => void) => void;
  /** Socket.IO's error for each refusal, built once: refusing is everyday work. */
  private readonly refusals = new WeakMap<HandshakeRejection, ExtendedError>();
  private services: WsAuthServices | undefined;

  constructor(protected readonly app: INestApplicationContext) {
    if (typeof app?.get !== 'function') {
      throw new WsAuthConfigurationError(`new WsAuthIoAdapter(app) needs the Nest application, not an HTTP server.`);
    }
    super(app);
    noteWsAuthAdapter(app);
    const refresh = (socket: Socket, data: unknown, ack?: (answer: WsAuthRefreshAck) => void) => this.refresh(socket, data, ack);
    this.onRefresh = function (this: Socket, data, ack) {
      refresh(this, data, ack);
    };
  }

  override create(port: number, options: GatewayServerOptions = {} as GatewayServerOptions): Created {
    const gateway = gatewayOf(options);
    if (!gateway) {
      return super.create(port, options);
    }
    const serverOptions = serverOptionsOf(options) as GatewayServerOptions;
    const declared = guardedGatewayOf(gateway);
    // Nest first creates the port's server from a namespaced gateway's options
    // (without the namespace), then asks again for the namespace: only the latter is guarded.
    if (declared?.namespace !== undefined && !options.namespace) {
      return super.create(port, serverOptions);
    }
    const services = this.resolveServices(gateway);
    const policy = services.authenticator.policyFor(gateway, declared?.auth ?? {});
    const created = super.create(port, serverOptions);
    // A Server for a gateway without a namespace (its root namespace is guarded), else the Namespace.
    const namespace = ('of' in created ? created.sockets : created) as unknown as Namespace;
    assertMiddlewaresNotSkipped(gateway, namespace.server);
    bindEngineSessions(namespace.server, services.settings.trustedProxies);
    const recovery = namespace.server._opts.connectionStateRecovery
      ? new SessionRecovery(namespace, services.settings.userId)
      : undefined;
    namespace.use(this.authenticationMiddleware(policy, recovery));
    this.guardedNamespaces.add(namespace);
    markServed(created);
    // First listener: the client is registered (and client.user set) before anything else sees it.
    namespace.prependListener('connection', (socket: Socket) => this.onAuthenticatedConnection(socket, policy));
    return created;
  }

  override bindClientConnect(server: Created, callback: Function): void {
    if (!this.guardedNamespaces.has(server as unknown as Namespace)) {
      return super.bindClientConnect(server, callback);
    }
    // A client closed by onAuthenticatedConnection (disconnected while it authenticated) never reaches the gateway.
    (server as unknown as Namespace).on('connection', (socket: Socket) => {
      if (socket.connected) {
        callback(socket);
      }
    });
  }

  override bindMessageHandlers(
    socket: NestSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    if (this.guardedNamespaces.has(socket.nsp as unknown as Namespace)) {
      // The library owns the refresh event (see onAuthenticatedConnection): a gateway
      // handler of the same name is never bound, whatever order Nest built the list in.
      // Nest builds these handler objects for this socket alone: each callback is wrapped in place.
      if (handlers.some(({ message }) => message === WS_AUTH_REFRESH_EVENT)) {
        handlers = handlers.filter(({ message }) => message !== WS_AUTH_REFRESH_EVENT);
      }
      for (const handler of handlers) {
        handler.callback = answeringAckOnException(socket as unknown as Socket, handler.callback);
      }
    }
    super.bindMessageHandlers(socket, handlers, transform);
  }

  /** The namespace middleware of one guarded gateway: the core's verdict, as `next()` or `next(error)`. */
  protected authenticationMiddleware(policy: GatewayPolicy, recovery?: SessionRecovery): Middleware {
    const { authenticator } = this.services!;
    return (socket, next) => {
      const answer = (verdict: Verdict): void => {
        if (verdict instanceof HandshakeRejection) {
          recovery?.forget(socket);
          next(this.refusalOf(verdict));
        } else if (recovery && !recovery.admit(socket, verdict.userId)) {
          verdict.reservation?.release();
          next(this.refusalOf(SESSION_OF_ANOTHER_USER));
        } else {
          this.accepted.set(socket, verdict);
          next();
        }
      };
      const handshake = {
        request: socket.request,
        authToken: socket.handshake.auth?.token,
        remoteAddress: socket.handshake.address,
        link: connectionLink(socket),
        transport: 'socket.io' as const,
      };
      const verdict = authenticator.authenticate(handshake, policy);
      if (isPromiseLike(verdict)) {
        void verdict.then(answer);
      } else {
        answer(verdict);
      }
    };
  }

  /**
   * Hands an accepted client to the registry (which sets `client.user` and
   * `client.data.user`). Runs before any other `connection` listener.
   */
  protected onAuthenticatedConnection(socket: Socket, policy: GatewayPolicy): void {
    const handshake = this.accepted.get(socket);
    this.accepted.delete(socket);
    if (!handshake) {
      this.authLogger.error(`${policy.gateway}: a connection bypassed the handshake check; disconnected it.`);
      socket.disconnect(true);
      return;
    }
    this.services!.registry.accept(socket, handshake, ioTransport);
    socket.on(WS_AUTH_REFRESH_EVENT, this.onRefresh);
  }

  /**
   * `connect_error` of a refused handshake: `err.message`, and `err.data = { status, message }`
   * (plus `retryAfter`, in seconds, for the 429 of the failed-handshake limit).
   */
  protected refusalOf(rejection: HandshakeRejection): ExtendedError {
    let error = this.refusals.get(rejection);
    if (!error) {
      // A plain object, not an Error: Socket.IO only reads message and data, and a
      // stack trace per refused client would make refusals dearer.
      const data = {
        status: rejection.status,
        message: rejection.message,
        ...(rejection.retryAfter !== undefined && { retryAfter: rejection.retryAfter }),
      };
      error = { message: rejection.message, data } as ExtendedError;
      this.refusals.set(rejection, error);
    }
    return error;
  }

  /** `socket.emit('auth:refresh', { token }, ack)`: the answer comes through the acknowledgement. */
  private refresh(socket: Socket, data: unknown, ack?: (answer: WsAuthRefreshAck) => void): void {
    void this.services!.refresher.refresh(socket, data).then((decision) => this.answerRefresh(socket, decision, ack));
  }

  private answerRefresh(socket: Socket, decision: RefreshDecision, ack?: (answer: WsAuthRefreshAck) => void): void {
    const reply = (answer: WsAuthRefreshAck): void => {
      if (typeof ack === 'function') {
        ack(answer);
      } else if (answer.ok) {
        socket.emit(WS_AUTH_REFRESHED_EVENT, { exp: answer.exp });
      } else if ('message' in answer) {
        socket.emit('exception', { status: 'error', message: answer.message });
      }
    };
    switch (decision.kind) {
      case 'refreshed':
        return reply({ ok: true, exp: decision.exp });
      case 'refused':
        return reply({ ok: false, message: decision.message });
      case 'close':
        reply({ ok: false, code: decision.code, reason: decision.reason });
        return this.services!.registry.close(socket, decision.code, decision.reason);
      default:
        return undefined;
    }
  }

  private resolveServices(gateway: Function): WsAuthServices {
    return (this.services ??= resolveWsAuthServices(this.app, gateway));
  }
}

/**
 * Connection state recovery with `skipMiddlewares` (Socket.IO's default once
 * recovery is on) would let a recovered client back in without authentication.
 */
function assertMiddlewaresNotSkipped(gateway: Function, server: Server): void {
  const recovery = server._opts.connectionStateRecovery;
  if (recovery && recovery.skipMiddlewares !== false) {
    throw new WsAuthConfigurationError(
      `${gateway.name}: connectionStateRecovery with skipMiddlewares lets a recovered Socket.IO client skip authentication. ` +
        `Set connectionStateRecovery: { skipMiddlewares: false } (recovered clients are then authenticated again), or turn recovery off.`,
    );
  }
}
