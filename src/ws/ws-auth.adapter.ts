import { type INestApplicationContext, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { BaseWsExceptionFilter, type MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import type { WebSocket, WebSocketServer } from 'ws';
import type { GatewayPolicy } from '../core/handshake.interfaces.js';
import { WS_AUTH_REFRESH_EVENT } from '../core/ws-auth.constants.js';
import { noteWsAuthAdapter } from '../adapter-presence.js';
import { WsAuthConfigurationError } from '../core/ws-auth.exceptions.js';
import { gatewayOf, guardedGatewayOf, serverOptionsOf } from '../ws-auth-gateway.decorator.js';
import { resolveWsAuthServices, type WsAuthServices } from '../ws-auth.services.js';
import { type HandleProtocols, selectProtocolWithoutToken } from './subprotocol.selector.js';
import { WsTokenRefreshHandler } from './token-refresh.handler.js';
import { writeUpgradeRefusal } from './upgrade-refusal.js';
import { WsUpgradeVerifier } from './ws-upgrade.verifier.js';
import { wsTransport } from './ws.transport.js';
import { OPEN } from '../ws-auth.internal-constants.js';

type WsAdapterOptions = ConstructorParameters<typeof WsAdapter>[1];
type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
/** What Nest hands `create`: the gateway's options, spread into `new ws.Server()`. */
type GatewayServerOptions = Record<string | symbol, unknown> & { path?: string; handleProtocols?: HandleProtocols };

/**
 * Nest 12.1+'s BaseWsExceptionFilter sends `{"event":"exception","data":{...}}` to a native ws client; Nest 11's calls
 * `client.emit('exception', payload)`, a local event on a ws client, so the client hears nothing (a `@WsRoles`
 * refusal included). On Nest 11, guarded clients get an `emit` that also sends that frame.
 */
const NEST_SENDS_EXCEPTION_FRAMES =
  typeof (BaseWsExceptionFilter.prototype as unknown as { emitMessage?: unknown }).emitMessage === 'function';
function emitAndSendException(this: WebSocket, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'exception' && this.readyState === OPEN) {
    this.send(JSON.stringify({ event, data: args[0] }));
  }
  return (Object.getPrototypeOf(this) as WebSocket).emit.call(this, event, ...args);
}

interface WsBinding {
  readonly services: WsAuthServices;
  readonly verifier: WsUpgradeVerifier;
  readonly refreshHandler: WsTokenRefreshHandler;
}

/**
 * The `WsAdapter` of `@nestjs/platform-ws`, plus authentication of every
 * `@WsAuthGateway` during the HTTP upgrade. Plain `@WebSocketGateway`s are
 * served exactly as by `WsAdapter`.
 *
 * ```ts
 * app.useWebSocketAdapter(new WsAuthAdapter(app));
 * ```
 * Subclasses may override the `protected` hooks.
 */
export class WsAuthAdapter extends WsAdapter {
  protected readonly authLogger = new Logger('WsAuth');
  /** Clients of guarded servers: only they get the in-band refresh handler. */
  private readonly guardedClients = new WeakSet<WebSocket>();
  private readonly guardedServers = new WeakSet<object>();
  /** The policy of each guarded gateway's path, for refusals decided before ws sees the upgrade. */
  private readonly guardedPaths = new Map<string, GatewayPolicy>();
  private binding: WsBinding | undefined;
  /** The `'upgrade'` listeners of WsAdapter this adapter wrapped, by server, to take them off on close. */
  private readonly wrappedUpgrades = new Map<HttpServer, UpgradeListener>();

  constructor(
    protected readonly app: INestApplicationContext,
    options?: WsAdapterOptions,
  ) {
    if (typeof app?.get !== 'function') {
      throw new WsAuthConfigurationError(`new WsAuthAdapter(app) needs the Nest application, not an HTTP server.`);
    }
    super(app, options);
    noteWsAuthAdapter(app);
  }

  override create(port: number, options: GatewayServerOptions = {}): WebSocketServer {
    const gateway = gatewayOf(options);
    if (!gateway) {
      return super.create(port, options);
    }
    const { services, verifier } = this.bind(gateway);
    const policy = services.authenticator.policyFor(gateway, guardedGatewayOf(gateway)?.auth ?? {});
    const { handleProtocols, ...wsOptions } = serverOptionsOf(options) as GatewayServerOptions;
    const server: WebSocketServer = super.create(port, {
      ...wsOptions,
      verifyClient: verifier.verifyClient(policy),
      handleProtocols: selectProtocolWithoutToken(handleProtocols),
    });
    // First listener: client.user is set before anything else sees the client.
    server.prependListener('connection', (client: WebSocket, request: IncomingMessage) => {
      this.onAuthenticatedConnection(client, request, policy);
    });
    this.guardedServers.add(server);
    this.guardedPaths.set(wsOptions.path ?? '/', policy);
    return server;
  }

  /**
   * WsAdapter's `'upgrade'` listener destroys every upgrade to a path none of its
   * gateways serves. On a server where something else listens for upgrades too
   * (@nestjs/graphql's subscriptions at `/graphql`, say), such upgrades are left
   * to the other listeners instead; alone, it still destroys them.
   */
  protected override ensureHttpServerExists(port: number, httpServer?: HttpServer): HttpServer | undefined {
    if (httpServer === undefined || this.httpServersRegistry.has(port)) {
      return super.ensureHttpServerExists(port, httpServer);
    }
    const before = httpServer.listeners('upgrade');
    const created = super.ensureHttpServerExists(port, httpServer);
    for (const listener of httpServer.listeners('upgrade')) {
      if (!before.includes(listener)) {
        const routed = this.leavingOtherPaths(port, httpServer, listener as UpgradeListener);
        httpServer.off('upgrade', listener as UpgradeListener);
        httpServer.on('upgrade', routed);
        this.wrappedUpgrades.set(httpServer, routed);
      }
    }
    return created;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    for (const [httpServer, listener] of this.wrappedUpgrades) {
      httpServer.off('upgrade', listener);
    }
    this.wrappedUpgrades.clear();
  }

  override bindClientConnect(server: WebSocketServer, callback: Function): void {
    if (!this.guardedServers.has(server)) {
      return super.bindClientConnect(server, callback);
    }
    // A client terminated by onAuthenticatedConnection never reaches the gateway.
    server.on('connection', (client: WebSocket, request: IncomingMessage) => {
      if (wsTransport.isOpen(client)) {
        callback(client, request);
      }
    });
  }

  override bindMessageHandlers(
    client: WebSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    if (this.binding !== undefined && this.guardedClients.has(client)) {
      // The library owns the refresh event: a gateway handler of the same name never
      // runs (WsAuthModule refuses one at start-up), whatever order Nest built the list in.
      handlers = [
        ...handlers.filter(({ message }) => message !== WS_AUTH_REFRESH_EVENT),
        this.binding.refreshHandler.handlerFor(client),
      ];
      if (!NEST_SENDS_EXCEPTION_FRAMES) {
        client.emit = emitAndSendException;
      }
    }
    super.bindMessageHandlers(client, handlers, transform);
  }

  /**
   * Hands an accepted client to the registry (which sets `client.user`); a client
   * that did not pass the handshake check is terminated. Runs before any other
   * `connection` listener.
   */
  protected onAuthenticatedConnection(client: WebSocket, request: IncomingMessage, policy: GatewayPolicy): void {
    const handshake = this.binding!.verifier.takeHandshake(request);
    if (!handshake) {
      this.authLogger.error(`${policy.gateway}: a connection bypassed the handshake check; terminated it.`);
      client.terminate();
      return;
    }
    this.guardedClients.add(client);
    this.binding!.services.registry.accept(client, handshake, wsTransport);
  }

  private leavingOtherPaths(port: number, httpServer: HttpServer, nest: UpgradeListener): UpgradeListener {
    return (request, socket, head) => {
      if (this.refusedEarly(request, socket)) {
        return;
      }
      if (httpServer.listenerCount('upgrade') > 1 && !this.servesPath(port, request)) {
        return; // another listener's (GraphQL subscriptions'): not destroyed
      }
      nest(request, socket, head);
    };
  }

  /**
   * An address `failedHandshakes` locked out is answered 429 here, before ws
   * validates the upgrade and before any other work: a flood from it costs little
   * more than Node's HTTP parsing. Only for a guarded gateway's path (read
   * without a URL parser; a path written any other way still meets the same
   * limit in the authenticator).
   */
  private refusedEarly(request: IncomingMessage, socket: Duplex): boolean {
    if (this.guardedPaths.size === 0) {
      return false;
    }
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const policy = this.guardedPaths.get(query === -1 ? url : url.slice(0, query));
    const refusal = policy && this.binding!.services.authenticator.lockedOut(request, (socket as Socket).remoteAddress, policy, 'ws');
    if (!refusal) {
      return false;
    }
    writeUpgradeRefusal(socket, refusal);
    return true;
  }

  /** Whether a gateway on `port` serves the upgrade's path, compared as WsAdapter compares it. */
  private servesPath(port: number, request: IncomingMessage): boolean {
    let pathname: string;
    try {
      pathname = new URL(request.url ?? '/', `ws://${request.headers.host ?? 'localhost'}/`).pathname;
    } catch {
      return true; // WsAdapter answers the malformed request
    }
    const servers = (this.wsServersRegistry.get(port) ?? []) as { path?: string }[];
    return servers.some((server) => server.path === pathname);
  }

  private bind(gateway: Function): WsBinding {
    if (!this.binding) {
      const services = resolveWsAuthServices(this.app, gateway);
      this.binding = {
        services,
        verifier: new WsUpgradeVerifier(services.authenticator),
        refreshHandler: new WsTokenRefreshHandler(services.refresher, services.registry),
      };
    }
    return this.binding;
  }
}
