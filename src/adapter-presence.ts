import type { INestApplicationContext } from '@nestjs/common';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import { guardedGatewayOf } from './ws-auth-gateway.decorator.js';

/** HTTP adapters of apps for which a WsAuth adapter was created. */
const withWsAuthAdapter = new WeakSet<object>();

type HttpAdapterLike = { init?: () => unknown };

/** Called by the WsAuth adapters' constructors: this app has one. */
export function noteWsAuthAdapter(app: INestApplicationContext): void {
  const httpAdapter = (app as { getHttpAdapter?: () => object | undefined }).getHttpAdapter?.();
  if (httpAdapter) {
    withWsAuthAdapter.add(httpAdapter);
  }
}

/**
 * Without a WebSocket adapter, `app.init()` falls back to Nest's `IoAdapter`, and
 * on an app without `@nestjs/platform-socket.io` (every ws app) Nest logs "install
 * @nestjs/platform-socket.io" and exits the process. The typical case is an
 * existing e2e test whose `createNestApplication()` never calls
 * `useWebSocketAdapter`. Nest offers no hook between `useWebSocketAdapter` and
 * the adapter's fallback, but it initialises the HTTP adapter right before: the
 * check runs there, and says which adapter to set, once the app has guarded gateways.
 */
export function requireWsAuthAdapterAtInit(httpAdapter: object, guarded: readonly Function[]): void {
  if (guarded.length === 0) {
    return;
  }
  const adapter = httpAdapter as HttpAdapterLike;
  const init = adapter.init?.bind(adapter);
  adapter.init = () => {
    if (!withWsAuthAdapter.has(httpAdapter)) {
      throw new WsAuthConfigurationError(missingAdapterMessage(guarded));
    }
    return init?.();
  };
}

function missingAdapterMessage(guarded: readonly Function[]): string {
  const names = guarded.map((gateway) => gateway.name).join(', ');
  const socketIo = guarded.some((gateway) => guardedGatewayOf(gateway)?.namespace !== undefined);
  const line = socketIo
    ? `app.useWebSocketAdapter(new WsAuthIoAdapter(app)) (WsAuthIoAdapter is exported by nest-ws-auth/socket.io)`
    : `app.useWebSocketAdapter(new WsAuthAdapter(app)) (for Socket.IO: new WsAuthIoAdapter(app), exported by nest-ws-auth/socket.io)`;
  return (
    `${names} ${guarded.length > 1 ? 'are @WsAuthGateways' : 'is a @WsAuthGateway'}, but the app has no WsAuth WebSocket adapter. ` +
    `Call ${line} before app.listen() or app.init(): in main.ts, and in e2e tests after createNestApplication().`
  );
}
