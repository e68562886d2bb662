import { Logger } from '@nestjs/common';
import { type GatewayMetadata, WebSocketGateway } from '@nestjs/websockets';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import { markServed, refuseUnservedNamespaceAfterInit } from './gateway.patches.js';
import { GATEWAY_OPTIONS } from './nest-metadata.keys.js';
import { WS_AUTH_GATEWAY, WS_AUTH_GATEWAY_METADATA } from './ws-auth.internal-constants.js';
import type { WsAuthGatewayOptions } from './ws-auth-module-options.interface.js';

/** `@WebSocketGateway` options (passed on to `ws.Server` or Socket.IO), plus `auth`. */
export type WsAuthGatewayMetadata = GatewayMetadata & Record<string, unknown> & { auth?: WsAuthGatewayOptions };

/** What `@WsAuthGateway` records on the class: the one mark of a guarded gateway. */
export interface GuardedGateway {
  readonly auth: WsAuthGatewayOptions;
  /** The Socket.IO namespace, when the gateway has one. */
  readonly namespace?: GatewayMetadata['namespace'];
}

/**
 * `@WebSocketGateway` whose clients are authenticated during the handshake:
 * a refused client gets an HTTP status (ws) or `connect_error` (Socket.IO) and
 * never reaches the gateway, and `client.user` is set before
 * `handleConnection` runs. Needs `WsAuthModule` and a WsAuth adapter
 * (`WsAuthAdapter` of the 'nest-ws-auth/ws' entry point, `WsAuthIoAdapter` of 'nest-ws-auth/socket.io').
 */
export function WsAuthGateway(port?: number): ClassDecorator;
export function WsAuthGateway(options?: WsAuthGatewayMetadata): ClassDecorator;
export function WsAuthGateway(port?: number, options?: WsAuthGatewayMetadata): ClassDecorator;
export function WsAuthGateway(
  portOrOptions?: number | WsAuthGatewayMetadata,
  maybeOptions?: WsAuthGatewayMetadata,
): ClassDecorator {
  const [port, options] =
    typeof portOrOptions === 'number' ? [portOrOptions, maybeOptions ?? {}] : [0, portOrOptions ?? {}];
  const { auth = {}, ...gatewayOptions } = options;
  return (target) => {
    for (const hook of ['verifyClient', 'allowRequest']) {
      if (gatewayOptions[hook] !== undefined) {
        throw new WsAuthConfigurationError(
          `${target.name}: @WsAuthGateway decides who connects and cannot take a ${hook} option. ` +
            `Put the check in a passport strategy and list it in auth.strategies.`,
        );
      }
    }
    const guarded: GuardedGateway = { auth, ...(gatewayOptions.namespace !== undefined && { namespace: gatewayOptions.namespace }) };
    Reflect.defineMetadata(WS_AUTH_GATEWAY_METADATA, guarded, target);
    refuseUnservedNamespaceAfterInit(target, refuseEveryIoClient(target.name));
    WebSocketGateway(port, {
      ...gatewayOptions,
      [WS_AUTH_GATEWAY]: target,
      // Fail closed: only the WsAuth adapters replace these. A plain WsAdapter hands
      // verifyClient to ws, a plain IoAdapter allowRequest to Socket.IO: both refuse everyone.
      verifyClient: refuseEveryClient(target.name),
      allowRequest: refuseEveryIoClient(target.name),
    })(target);
  };
}

export { markServed };

/** The guarded gateway class a set of gateway options belongs to, if any. */
export function gatewayOf(options: object | undefined): Function | undefined {
  const gateway: unknown = (options as Record<symbol, unknown> | undefined)?.[WS_AUTH_GATEWAY];
  return typeof gateway === 'function' ? gateway : undefined;
}

/** What `@WsAuthGateway` recorded on `gateway`; `undefined` for any other class. */
export function guardedGatewayOf(gateway: Function): GuardedGateway | undefined {
  return Reflect.getMetadata(WS_AUTH_GATEWAY_METADATA, gateway);
}

/** The `@WebSocketGateway` options Nest recorded on a gateway class (`path`, `namespace`, …). */
export function gatewayOptionsOf(gateway: Function): GatewayMetadata & Record<string, unknown> {
  return Reflect.getMetadata(GATEWAY_OPTIONS, gateway) ?? {};
}

/** Gateway options as the transport's server should see them: without what `@WsAuthGateway` added for the adapter. */
export function serverOptionsOf<T extends object>(options: T): Omit<T, 'verifyClient' | 'allowRequest'> {
  const { verifyClient: _refuseAll, allowRequest: _refuseAllIo, ...rest } = options as T & {
    verifyClient?: unknown;
    allowRequest?: unknown;
  };
  delete (rest as Record<symbol, unknown>)[WS_AUTH_GATEWAY];
  return rest;
}

function reportOnce(gateway: string, adapter: string): () => void {
  let reported = false;
  return () => {
    if (!reported) {
      reported = true;
      new Logger('WsAuth').error(
        `${gateway} is a @WsAuthGateway, but the app's WebSocket adapter is not ${adapter}, so every client is refused. ` +
          `Fix: app.useWebSocketAdapter(new ${adapter}(app)) in main.ts.`,
      );
    }
  };
}

/** ws's verifyClient of a guarded gateway served by an adapter that does not guard it. */
function refuseEveryClient(gateway: string) {
  const report = reportOnce(gateway, 'WsAuthAdapter');
  return (_info: unknown, refuse: (verified: boolean, status: number, message: string) => void): void => {
    report();
    refuse(false, 500, 'WebSocket authentication is not configured');
  };
}

/** Socket.IO's allowRequest, likewise. */
function refuseEveryIoClient(gateway: string) {
  const report = reportOnce(gateway, 'WsAuthIoAdapter');
  return (_request: unknown, refuse: (error: string | null | undefined, allowed: boolean) => void): void => {
    report();
    refuse('WebSocket authentication is not configured', false);
  };
}
