import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { JwtStrategy } from './strategies/jwt.strategy.js';
import { SessionStrategy } from './strategies/session.strategy.js';
import { PassportStrategyRegistry } from './strategies/strategy.registry.js';
import { InMemoryConnectionRegistry } from './core/connection.registry.js';
import { FailedHandshakesLimiter } from './core/failed-handshakes.limiter.js';
import { HandshakeAuthenticator } from './core/handshake.authenticator.js';
import { TokenRefresher } from './core/token.refresher.js';
import { HandshakeGuards } from './guards/handshake-guards.js';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import {
  AUTH_OBSERVER,
  CLUSTER_LINK,
  CONNECTION_REGISTRY,
  HANDSHAKE_GUARDS,
  STRATEGY_REGISTRY,
  WS_AUTH_CLOCK,
  WS_AUTH_METRICS,
  WS_AUTH_SETTINGS,
} from './ws-auth.internal-constants.js';
import { WsAuthObserver } from './ws-auth.observer.js';
import { SwappableClock } from './core/clock.js';
import { WsAuthEvents } from './ws-auth-events.service.js';
import { WsAuthMetrics } from './ws-auth.metrics.js';
import { RevocationService } from './core/revocation.service.js';
import { RedisClusterLink } from './cluster/redis-cluster.link.js';
import { guardedGatewayOf } from './ws-auth-gateway.decorator.js';
import { gatewayMistakes } from './gateway.inspector.js';
import { gateMessageHandlers } from './gateway.patches.js';
import { requireWsAuthAdapterAtInit } from './adapter-presence.js';
import { ConfigurableModuleClass, WS_AUTH_MODULE_OPTIONS } from './ws-auth.module-definition.js';
import { WsAuthConnections } from './ws-auth-connections.service.js';
import type { WsAuthModuleOptions } from './ws-auth-module-options.interface.js';
import { resolveWsAuthOptions, type WsAuthSettings } from './ws-auth-options.resolver.js';
import { WsRolesGuard } from './ws-roles.guard.js';
// Loads neither graphql nor graphql-ws: apps without GraphQL get it too, unused.
import { WsAuthGraphQL } from './graphql/ws-auth-graphql.js';

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
    { provide: WS_AUTH_CLOCK, useFactory: () => new SwappableClock() },
    {
      provide: JwtStrategy,
      inject: [WS_AUTH_SETTINGS, WS_AUTH_CLOCK],
      useFactory: ({ jwt, resolveUser }: WsAuthSettings, clock: SwappableClock) =>
        jwt ? new JwtStrategy(jwt, resolveUser, clock) : null,
    },
    {
      provide: WS_AUTH_METRICS,
      inject: [WS_AUTH_SETTINGS],
      useFactory: ({ metrics }: WsAuthSettings) => (metrics ? WsAuthMetrics.create(metrics) : null),
    },
    WsAuthEvents,
    {
      provide: AUTH_OBSERVER,
      inject: [WS_AUTH_SETTINGS, WsAuthEvents, WS_AUTH_METRICS],
      useFactory: (settings: WsAuthSettings, events: WsAuthEvents, metrics: WsAuthMetrics | null) =>
        settings.events || metrics ? new WsAuthObserver(settings.events ? events : null, metrics, settings.trustedProxies) : null,
    },
    {
      provide: SessionStrategy,
      inject: [WS_AUTH_SETTINGS],
      useFactory: ({ session }: WsAuthSettings) => (session ? new SessionStrategy(session) : null),
    },
    {
      provide: STRATEGY_REGISTRY,
      inject: [JwtStrategy, SessionStrategy],
      useFactory: (jwt: JwtStrategy | null, session: SessionStrategy | null) => new PassportStrategyRegistry(jwt, session),
    },
    {
      provide: CLUSTER_LINK,
      inject: [WS_AUTH_SETTINGS],
      useFactory: ({ cluster, handshakeTimeoutMs }: WsAuthSettings) =>
        cluster ? new RedisClusterLink(cluster, handshakeTimeoutMs) : null,
    },
    {
      provide: FailedHandshakesLimiter,
      inject: [WS_AUTH_SETTINGS],
      useFactory: ({ failedHandshakes }: WsAuthSettings) =>
        failedHandshakes ? new FailedHandshakesLimiter(failedHandshakes) : null,
    },
    { provide: CONNECTION_REGISTRY, useClass: InMemoryConnectionRegistry },
    RevocationService,
    WsAuthConnections,
    { provide: HANDSHAKE_GUARDS, useClass: HandshakeGuards },
    HandshakeAuthenticator,
    TokenRefresher,
    WsRolesGuard,
    WsAuthGraphQL,
  ],
  // The adapters reach the authenticator, registry and refresher through app.get(); the app's modules use these.
  exports: [WS_AUTH_SETTINGS, WS_AUTH_CLOCK, WsAuthConnections, WsAuthEvents, WsRolesGuard, WsAuthGraphQL],
})
export class WsAuthModule extends ConfigurableModuleClass implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(HandshakeAuthenticator) private readonly authenticator: HandshakeAuthenticator,
  ) {
    super();
    // Here, when the app is created, and not in @WsAuthGateway: handlers copied onto a
    // gateway's prototype after its decoration (mixins) are gated too. Nest reads the
    // handlers when app.init() connects the gateways, after every provider is built.
    const guarded = this.gatewayClasses().filter((gateway) => guardedGatewayOf(gateway) !== undefined);
    for (const gateway of guarded) {
      gateMessageHandlers(gateway);
    }
    if (adapterHost.httpAdapter) {
      requireWsAuthAdapterAtInit(adapterHost.httpAdapter, guarded);
    }
  }

  /**
   * Gateways that use the library wrongly stop the app (see `gatewayMistakes`). And fail closed at start-up: a guarded gateway that WsAuthAdapter did not set up
   * is served by some other adapter (which refuses every client, see
   * `@WsAuthGateway`) — say so now rather than at the first handshake.
   */
  onApplicationBootstrap(): void {
    if (!this.adapterHost.httpAdapter) {
      return; // an application context (tests, CLIs): no gateway is served
    }
    const classes = this.gatewayClasses();
    const mistakes = gatewayMistakes(classes);
    if (mistakes.length > 0) {
      throw new WsAuthConfigurationError(mistakes.join('\n'));
    }
    const unguarded = classes.filter(
      (metatype) => guardedGatewayOf(metatype) !== undefined && !this.authenticator.isServed(metatype),
    );
    if (unguarded.length > 0) {
      throw new WsAuthConfigurationError(
        `${unguarded.map((gateway) => gateway.name).join(', ')} ${unguarded.length > 1 ? 'are' : 'is a'} @WsAuthGateway ` +
          `but not served by WsAuthAdapter (ws) or WsAuthIoAdapter (Socket.IO). Call app.useWebSocketAdapter(new WsAuthAdapter(app)) (exported by nest-ws-auth/ws) or ` +
          `app.useWebSocketAdapter(new WsAuthIoAdapter(app)) (exported by nest-ws-auth/socket.io) before app.listen(), ` +
          `and give each guarded gateway a path of its own (a plain gateway on the same port and path takes its server).`,
      );
    }
  }

  private gatewayClasses(): Function[] {
    return this.discovery
      .getProviders()
      .map((wrapper) => wrapper.metatype)
      .filter((metatype): metatype is Function => typeof metatype === 'function');
  }
}
