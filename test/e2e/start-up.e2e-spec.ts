import 'reflect-metadata';
import { afterEach, describe, expect, test } from '@jest/globals';
import { type DynamicModule, type INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  WsAuthConfigurationError,
  WsAuthGateway,
  WsAuthModule,
  type WsAuthModuleOptions,
  WsRoles,
  WsUser,
} from '../../src/index.js';
import { WsAuthAdapter } from '../../src/ws/index.js';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { ChatAppModule, ChatGateway, USERS } from '../apps/chat.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { logger, withApp } from '../helpers/test-app.js';
import { jwtOptions, sign } from '../helpers/tokens.js';
import { connect, request } from '../helpers/ws-client.js';

const opened: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((app) => app.close()));
});

/** Creates and starts an app the way main.ts does; returns the app or the start-up error. */
async function start(module: DynamicModule, adapter: (app: INestApplication) => object): Promise<INestApplication> {
  const app = await NestFactory.create(module, { logger, abortOnError: false });
  opened.push(app);
  app.useWebSocketAdapter(adapter(app) as WsAdapter);
  await app.listen(0, '127.0.0.1');
  return app;
}

const port = (app: INestApplication) => (app.getHttpServer().address() as { port: number }).port;

describe('fail closed: a @WsAuthGateway never accepts a client it did not authenticate', () => {
  test('served by a plain WsAdapter with WsAuthModule imported: start-up fails, naming the fix', async () => {
    const error = await start(ChatAppModule.with(), (app) => new WsAdapter(app)).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect((error as Error).message).toMatch(/ChatGateway, LobbyGateway, KeysGateway are @WsAuthGateways, but the app has no WsAuth WebSocket adapter/);
    expect((error as Error).message).toContain('app.useWebSocketAdapter(new WsAuthAdapter(app))');
  });

  test.each([
    ['ws', (route: string) => ({ path: route }), 'app.useWebSocketAdapter(new WsAuthAdapter(app))'],
    ['Socket.IO', (route: string) => ({ namespace: route }), 'app.useWebSocketAdapter(new WsAuthIoAdapter(app))'],
  ])('%s, no WebSocket adapter at all (an e2e test\'s createNestApplication()): the library says which adapter to set', async (_name, route, fix) => {
    @WsAuthGateway(route('/guarded'))
    class GuardedGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [GuardedGateway] })
    class NoAdapterModule {}
    const app = await NestFactory.create(NoAdapterModule, { logger, abortOnError: false });
    opened.push(app);
    const error = await app.init().catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect((error as Error).message).toContain('GuardedGateway is a @WsAuthGateway, but the app has no WsAuth WebSocket adapter');
    expect((error as Error).message).toContain(fix);
    expect((error as Error).message).toContain('in e2e tests after createNestApplication()');
  });

  test('served by a plain WsAdapter without WsAuthModule: every handshake is refused (500), and the log says why', async () => {
    @Module({ providers: [ChatGateway] })
    class GatewayOnlyModule {}
    const app = await start({ module: GatewayOnlyModule }, (nest) => new WsAdapter(nest));
    for (const headers of [{}, { Authorization: `Bearer ${sign()}` }] as Array<Record<string, string>>) {
      expect((await rawUpgrade(port(app), '/chat', headers)).status).toBe(500);
    }
    const reports = logger.errors().filter((line) => line.includes('ChatGateway is a @WsAuthGateway'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('app.useWebSocketAdapter(new WsAuthAdapter(app))');
  });

  test('WsAuthAdapter without WsAuthModule: start-up fails, naming the fix', async () => {
    @Module({ providers: [ChatGateway] })
    class GatewayOnlyModule {}
    await expect(start({ module: GatewayOnlyModule }, (app) => new WsAuthAdapter(app))).rejects.toThrow(
      /ChatGateway is a @WsAuthGateway, but WsAuthModule is not imported: add WsAuthModule.forRoot/,
    );
  });

  test('new WsAuthAdapter(httpServer) is refused: it needs the app', () => {
    expect(() => new WsAuthAdapter({} as INestApplication)).toThrow(/needs the Nest application/);
  });

  test('@WsAuthGateway refuses a verifyClient option of its own', () => {
    expect(() => {
      @WsAuthGateway({ path: '/x', verifyClient: () => true })
      class Custom {}
      return Custom;
    }).toThrow(/cannot take a verifyClient option/);
  });
});

describe('misconfiguration stops the app at start-up with a message naming the option', () => {
  test.each<[string, Partial<WsAuthModuleOptions>, RegExp]>([
    ['no algorithms', { jwt: { secret: 'x'.repeat(32) } as WsAuthModuleOptions['jwt'] }, /jwt\.algorithms is required/],
    ['alg none', { jwt: { secret: 'x'.repeat(32), algorithms: ['none'] } }, /must not contain 'none'/],
    ['a short secret', { jwt: { secret: 'changeme', algorithms: ['HS256'] } }, /jwt\.secret is 8 bytes; HS256 need at least 32/],
    ['an unset secret', { jwt: { secret: process.env.UNSET_SECRET_FOR_TEST, algorithms: ['HS256'] } }, /jwt\.secret is missing/],
    ['a bad origin', { allowedOrigins: ['https://*.example.com'] }, /allowedOrigins\[0\]/],
  ])('%s', async (_case, options, message) => {
    const created = NestFactory.create(ChatAppModule.with(options), { logger, abortOnError: false });
    await expect(created).rejects.toThrow(WsAuthConfigurationError);
    await expect(created).rejects.toThrow(message);
  });

  test('a strategy name nobody registered', async () => {
    await expect(start(ChatAppModule.with({ strategies: ['jwt', 'saml'] }), (app) => new WsAuthAdapter(app))).rejects.toThrow(
      /\w+Gateway uses strategy 'saml', which is not registered: provide a class extending PassportStrategy\(Strategy, 'saml'\)/,
    );
  });

  test("'jwt' without the jwt option and without an app strategy of that name", async () => {
    await expect(start(ChatAppModule.with({ jwt: undefined }), (app) => new WsAuthAdapter(app))).rejects.toThrow(
      /uses strategy 'jwt', which is not registered: configure the built-in one with WsAuthModule.forRoot\(\{ jwt:/,
    );
  });

  test('an optional gateway that also requires roles', async () => {
    @WsAuthGateway({ path: '/odd', auth: { optional: true, roles: ['admin'] } })
    class OddGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [OddGateway] })
    class OddModule {}
    await expect(start({ module: OddModule }, (app) => new WsAuthAdapter(app))).rejects.toThrow(
      /OddGateway auth is optional and requires roles/,
    );
  });
});

describe('forRootAsync', () => {
  @Injectable()
  class AuthConfig {
    readonly secret = jwtOptions.secret;
  }
  @Module({ providers: [AuthConfig], exports: [AuthConfig] })
  class ConfigModule {}

  @Injectable()
  class AuthOptionsFactory {
    constructor(private readonly config: AuthConfig) {}
    create(): WsAuthModuleOptions {
      return { jwt: { ...jwtOptions, secret: this.config.secret }, resolveUser: (claims) => USERS[claims.sub ?? ''] ?? null };
    }
  }

  test.each([
    [
      'useFactory',
      WsAuthModule.forRootAsync({
        imports: [ConfigModule],
        inject: [AuthConfig],
        useFactory: async (config: AuthConfig) => ({
          jwt: { ...jwtOptions, secret: config.secret },
          resolveUser: (claims) => USERS[claims.sub ?? ''] ?? null,
        }),
      }),
    ],
    ['useClass', WsAuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthOptionsFactory })],
  ])('%s', async (_case, authModule) => {
    @Module({ imports: [authModule], providers: [ChatGateway] })
    class AsyncModule {}
    await withApp(AsyncModule, async (app) => {
      const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
      expect((await request(client, 'name')).data).toBe('Alice');
      client.close();
    });
  });

  test('async options are validated too', async () => {
    const authModule = WsAuthModule.forRootAsync({ useFactory: () => ({ jwt: { secret: 'short', algorithms: ['HS256' as const] } }) });
    @Module({ imports: [authModule] })
    class BadAsyncModule {}
    await expect(NestFactory.create(BadAsyncModule, { logger, abortOnError: false })).rejects.toThrow(/jwt\.secret is 5 bytes/);
  });
});

describe('gateways that use the library wrongly stop the app, naming the fix', () => {
  const startWith = (...gateways: Function[]) => {
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: gateways as never[] })
    class MistakenModule {}
    return start(MistakenModule as unknown as DynamicModule, (app) => new WsAuthAdapter(app)).catch((caught: Error) => caught);
  };

  test("a @WsAuthGateway's own handler for auth:refresh, which the library answers", async () => {
    @WsAuthGateway({ path: '/own-refresh' })
    class OwnRefreshGateway {
      @SubscribeMessage('auth:refresh')
      refresh() {
        return 'never';
      }
    }
    const error = await startWith(OwnRefreshGateway);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect((error as Error).message).toContain(
      "OwnRefreshGateway.refresh handles 'auth:refresh', which nest-ws-auth answers itself on a @WsAuthGateway: rename the event or remove the handler.",
    );
  });

  test('@WsUser() and @WsRoles() on a plain @WebSocketGateway', async () => {
    @WebSocketGateway({ path: '/plain-user' })
    class PlainUserGateway {
      @SubscribeMessage('whoami')
      whoami(@WsUser() user: unknown) {
        return user;
      }

      @SubscribeMessage('ban')
      @WsRoles('admin')
      ban() {
        return true;
      }
    }
    const error = await startWith(PlainUserGateway);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect((error as Error).message).toContain('PlainUserGateway.whoami uses @WsUser() but PlainUserGateway is not a @WsAuthGateway');
    expect((error as Error).message).toContain('PlainUserGateway.ban uses @WsRoles() but PlainUserGateway is not a @WsAuthGateway');
  });
});
