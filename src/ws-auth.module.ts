import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { JwtStrategy } from './strategies/jwt.strategy.js';
import { SessionStrategy } from './strategies/session.strategy.js';
import { TokenRefreshHandler } from './ws/token-refresh.handler.js';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';
import { WS_AUTH_GATEWAY_METADATA, WS_AUTH_SETTINGS } from './ws-auth.internal-constants.js';
import { ConfigurableModuleClass, WS_AUTH_MODULE_OPTIONS } from './ws-auth.module-definition.js';
import { WsAuthConnections } from './ws-auth-connections.service.js';
import type { WsAuthModuleOptions } from './ws-auth-module-options.interface.js';
import { resolveWsAuthOptions, type WsAuthSettings } from './ws-auth-options.resolver.js';
import { WsHandshakeGuard } from './ws/ws-handshake.guard.js';
import { WsRolesGuard } from './ws-roles.guard.js';

/**
 * Authenticates the clients of every `@WsAuthGateway` during the HTTP upgrade.
 *
 * ```ts
 * WsAuthModule.forRoot({ jwt: { secret: process.env.JWT_SECRET, algorithms: ['HS256'] } })
 * ```
 * Options are validated when the app starts; a mistake stops it with a message
 * that says how to fix it.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: WS_AUTH_SETTINGS,
      inject: [WS_AUTH_MODULE_OPTIONS],
      useFactory: (options: WsAuthModuleOptions) => resolveWsAuthOptions(options),
    },
    {
      provide: JwtStrategy,
      inject: [WS_AUTH_SETTINGS],
      useFactory: ({ jwt, resolveUser }: WsAuthSettings) => (jwt ? new JwtStrategy(jwt, resolveUser) : null),
    },
    {
      provide: SessionStrategy,
      inject: [WS_AUTH_SETTINGS],
      useFactory: ({ session }: WsAuthSettings) => (session ? new SessionStrategy(session) : null),
    },
    WsAuthConnections,
    WsHandshakeGuard,
    TokenRefreshHandler,
    WsRolesGuard,
  ],
  // WsAuthAdapter reaches the guard and the refresh handler through app.get(); the app's modules use these.
  exports: [WS_AUTH_SETTINGS, WsAuthConnections, WsRolesGuard],
})
export class WsAuthModule extends ConfigurableModuleClass implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(WsHandshakeGuard) private readonly guard: WsHandshakeGuard,
  ) {
    super();
  }

  /**
   * Fail closed at start-up: a guarded gateway that WsAuthAdapter did not set up
   * is served by some other adapter (which refuses every client, see
   * `@WsAuthGateway`) — say so now rather than at the first handshake.
   */
  onApplicationBootstrap(): void {
    if (!this.adapterHost.httpAdapter) {
      return; // an application context (tests, CLIs): no gateway is served
    }
    const unguarded = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.metatype)
      .filter((metatype): metatype is Function => typeof metatype === 'function')
      .filter((metatype) => Reflect.hasMetadata(WS_AUTH_GATEWAY_METADATA, metatype) && !this.guard.isGuarded(metatype));
    if (unguarded.length > 0) {
      throw new WsAuthConfigurationError(
        `${unguarded.map((gateway) => gateway.name).join(', ')} ${unguarded.length > 1 ? 'are' : 'is a'} @WsAuthGateway ` +
          `but not served by WsAuthAdapter. Call app.useWebSocketAdapter(new WsAuthAdapter(app)) before app.listen(), ` +
          `and give each guarded gateway a path of its own (a plain gateway on the same port and path takes its server).`,
      );
    }
  }
}
