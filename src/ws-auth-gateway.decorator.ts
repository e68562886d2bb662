import { Logger } from '@nestjs/common';
import { type GatewayMetadata, WebSocketGateway } from '@nestjs/websockets';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';
import { WS_AUTH_GATEWAY, WS_AUTH_GATEWAY_METADATA } from './ws-auth.internal-constants.js';
import type { WsAuthGatewayOptions } from './ws-auth-module-options.interface.js';

/** `@WebSocketGateway` options (passed on to `ws.Server`), plus `auth`. */
export type WsAuthGatewayMetadata = GatewayMetadata & Record<string, unknown> & { auth?: WsAuthGatewayOptions };

/**
 * `@WebSocketGateway` whose clients are authenticated during the HTTP upgrade:
 * a refused client gets an HTTP status and never reaches the gateway, and
 * `client.user` is set before `handleConnection` runs. Needs `WsAuthModule`
 * and `app.useWebSocketAdapter(new WsAuthAdapter(app))`.
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
    if (gatewayOptions.verifyClient !== undefined) {
      throw new WsAuthConfigurationError(
        `${target.name}: @WsAuthGateway decides who connects and cannot take a verifyClient option. ` +
          `Put the check in a passport strategy and list it in auth.strategies.`,
      );
    }
    Reflect.defineMetadata(WS_AUTH_GATEWAY_METADATA, auth, target);
    WebSocketGateway(port, {
      ...gatewayOptions,
      [WS_AUTH_GATEWAY]: target,
      // Only WsAuthAdapter replaces it: a plain WsAdapter hands it to ws, which refuses every client.
      verifyClient: refuseEveryClient(target.name),
    })(target);
  };
}

/** Fail closed: the guarded gateway is served by an adapter that does not guard it. */
function refuseEveryClient(gateway: string) {
  let reported = false;
  return (_info: unknown, refuse: (verified: boolean, status: number, message: string) => void): void => {
    if (!reported) {
      reported = true;
      new Logger('WsAuth').error(
        `${gateway} is a @WsAuthGateway, but the app's WebSocket adapter is not WsAuthAdapter, so every client is refused. ` +
          `Fix: app.useWebSocketAdapter(new WsAuthAdapter(app)) in main.ts.`,
      );
    }
    refuse(false, 500, 'WebSocket authentication is not configured');
  };
}
