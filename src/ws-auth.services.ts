import type { INestApplicationContext } from '@nestjs/common';
import type { ConnectionRegistry } from './core/connection.registry.js';
import { HandshakeAuthenticator } from './core/handshake.authenticator.js';
import { TokenRefresher } from './core/token.refresher.js';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import { CONNECTION_REGISTRY, WS_AUTH_SETTINGS } from './ws-auth.internal-constants.js';
import type { WsAuthSettings } from './ws-auth-options.resolver.js';

/** What a transport adapter takes from `WsAuthModule`. */
export interface WsAuthServices {
  readonly authenticator: HandshakeAuthenticator;
  readonly registry: ConnectionRegistry;
  readonly refresher: TokenRefresher;
  readonly settings: WsAuthSettings;
}

/** The module's services, or a start-up error that says to import `WsAuthModule`. */
export function resolveWsAuthServices(app: INestApplicationContext, gateway: Function): WsAuthServices {
  try {
    return {
      authenticator: app.get(HandshakeAuthenticator, { strict: false }),
      registry: app.get<ConnectionRegistry>(CONNECTION_REGISTRY, { strict: false }),
      refresher: app.get(TokenRefresher, { strict: false }),
      settings: app.get<WsAuthSettings>(WS_AUTH_SETTINGS, { strict: false }),
    };
  } catch {
    throw new WsAuthConfigurationError(
      `${gateway.name} is a @WsAuthGateway, but WsAuthModule is not imported: add WsAuthModule.forRoot({ ... }) to your AppModule's imports.`,
    );
  }
}
