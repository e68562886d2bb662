import { type INestApplicationContext, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { BaseWsExceptionFilter, type MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';
import type { WebSocketServer } from 'ws';
import type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';
import { type HandleProtocols, selectProtocolWithoutToken } from './subprotocol.selector.js';
import { TokenRefreshHandler } from './token-refresh.handler.js';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';
import { OPEN, USER_ID, WS_AUTH_GATEWAY, WS_AUTH_GATEWAY_METADATA } from './ws-auth.internal-constants.js';
import { WsAuthConnections } from './ws-auth-connections.service.js';
import type { WsAuthGatewayOptions } from './ws-auth-module-options.interface.js';
import { WsHandshakeGuard } from './ws-handshake.guard.js';

type WsAdapterOptions = ConstructorParameters<typeof WsAdapter>[1];
type GatewayServerOptions = Record<string | symbol, any> & { path?: string; handleProtocols?: HandleProtocols };

/**
 * Nest 12.1+'s BaseWsExceptionFilter sends `{"event":"exception","data":{...}}` to a native ws client; Nest 11's calls
 * `client.emit('exception', payload)`, a local event on a ws client, so the client hears nothing (a `@WsRoles`
 * refusal included). On Nest 11, guarded clients get an `emit` that also sends that frame.
 */
const NEST_SENDS_EXCEPTION_FRAMES = typeof (BaseWsExceptionFilter.prototype as any).emitMessage === 'function';
function emitAndSendException(this: AuthenticatedWebSocket, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'exception' && this.readyState === OPEN) {
    this.send(JSON.stringify({ event, data: args[0] }));
  }
  return Object.getPrototypeOf(this).emit.call(this, event, ...args);
}


interface Services {
  readonly guard: WsHandshakeGuard;
  readonly connections: WsAuthConnections;
  readonly refresher: TokenRefreshHandler;
}

/**
 * The `WsAdapter` of `@nestjs/platform-ws`, plus authentication of every
 * `@WsAuthGateway` during the HTTP upgrade. Plain `@WebSocketGateway`s are
 * served exactly as by `WsAdapter`.
 *
 * ```ts
 * app.useWebSocketAdapter(new WsAuthAdapter(app));
 * ```
 */
export class WsAuthAdapter extends WsAdapter {
  private readonly authLogger = new Logger('WsAuth');
  private readonly guardedServers = new WeakSet<object>();
  private services: Services | undefined;

  constructor(
    private readonly app: INestApplicationContext,
    options?: WsAdapterOptions,
  ) {
    if (typeof app?.get !== 'function') {
      throw new WsAuthConfigurationError(`new WsAuthAdapter(app) needs the Nest application, not an HTTP server.`);
    }
    super(app, options);
  }

  override create(port: number, options: GatewayServerOptions = {}): any {
    const gateway: unknown = options[WS_AUTH_GATEWAY];
    if (typeof gateway !== 'function') {
      return super.create(port, options);
    }
    const { guard, connections } = this.resolveServices(gateway);
    const auth: WsAuthGatewayOptions = Reflect.getMetadata(WS_AUTH_GATEWAY_METADATA, gateway) ?? {};
    const policy = guard.policyFor(gateway, auth);
    const { [WS_AUTH_GATEWAY]: _gateway, verifyClient: _refuseAll, handleProtocols, ...wsOptions } = options;
    const server: WebSocketServer = super.create(port, {
      ...wsOptions,
      verifyClient: guard.verifyClient(policy),
      handleProtocols: selectProtocolWithoutToken(handleProtocols),
    });
    // First listener: client.user is set before anything else sees the client.
    server.prependListener('connection', (client: AuthenticatedWebSocket, request: IncomingMessage) => {
      const handshake = guard.handshakeOf(request);
      if (handshake) {
        connections.accept(client, handshake);
      } else {
        this.authLogger.error(`${gateway.name}: a connection bypassed the handshake check; terminated it.`);
        client.terminate();
      }
    });
    this.guardedServers.add(server);
    return server;
  }

  override bindClientConnect(server: any, callback: Function): void {
    if (!this.guardedServers.has(server)) {
      return super.bindClientConnect(server, callback);
    }
    // A client terminated by the listener above never reaches the gateway.
    server.on('connection', (client: AuthenticatedWebSocket, request: IncomingMessage) => {
      if (client.readyState === OPEN) {
        callback(client, request);
      }
    });
  }

  override bindMessageHandlers(
    client: any,
    handlers: MessageMappingProperties[],
    transform: (data: any) => Observable<any>,
  ): void {
    if (this.services !== undefined && USER_ID in client) {
      // Nest builds this array for this client alone; appended last, the entry wins the event name.
      handlers.push(this.services.refresher.handlerFor(client));
      if (!NEST_SENDS_EXCEPTION_FRAMES) {
        client.emit = emitAndSendException;
      }
    }
    super.bindMessageHandlers(client, handlers, transform);
  }

  private resolveServices(gateway: Function): Services {
    if (!this.services) {
      try {
        this.services = {
          guard: this.app.get(WsHandshakeGuard, { strict: false }),
          connections: this.app.get(WsAuthConnections, { strict: false }),
          refresher: this.app.get(TokenRefreshHandler, { strict: false }),
        };
      } catch {
        throw new WsAuthConfigurationError(
          `${gateway.name} is a @WsAuthGateway, but WsAuthModule is not imported: add WsAuthModule.forRoot({ ... }) to your AppModule's imports.`,
        );
      }
    }
    return this.services;
  }
}
