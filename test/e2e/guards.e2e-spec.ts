import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type CanActivate, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SubscribeMessage } from '@nestjs/websockets';
import { Manager } from 'socket.io-client';
import { WsAuthConfigurationError, WsAuthGateway, WsAuthModule, WsUser } from '../../src/index.js';
import { guardsApp, type GuardsSeen } from '../apps/guards.app.js';
import { logger, startApp, type TestApp } from '../helpers/test-app.js';
import { jwtOptions, sign, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens.js';
import { IO_TRANSPORT, TRANSPORTS } from '../helpers/transports.js';

const bearer = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${sign(claims)}` });

describe.each(TRANSPORTS)('$name: the app’s guards', (transport) => {
  /** A guards app for the enclosing describe. */
  const useGuardsApp = (options?: Parameters<typeof guardsApp>[1]) => {
    const running = {} as { app: TestApp; seen: GuardsSeen };
    beforeAll(async () => {
      const built = guardsApp(transport, options);
      running.seen = built.seen;
      running.app = await startApp(built.module, { adapter: transport.adapter });
    });
    afterAll(() => running.app.close());
    return running;
  };

  describe('at the handshake', () => {
    const running = useGuardsApp();

    test('a roles guard built through DI (Reflector, an app provider) reads @Roles() on the gateway class', async () => {
      expect(await transport.refusal(running.app.port, '/admin', { token: sign({ sub: 'bob' }) })).toEqual({ status: 403, message: 'Forbidden resource' });
      const alice = await transport.connect(running.app.port, '/admin', { token: sign({ sub: 'alice', roles: ['admin'] }) });
      expect(await alice.request('whoami')).toEqual({ id: 'alice', roles: ['admin'] });
      // The guard saw the user the strategies set, on the upgrade request, and used the app's provider.
      expect(running.seen.httpUsers).toContainEqual({ id: 'alice', roles: ['admin'] });
      expect(running.seen.lookups).toContain('alice');
      expect(await transport.refusal(running.app.port, '/admin', { token: sign({ sub: 'suspended', roles: ['admin'] }) })).toMatchObject({ status: 403 });
      // Strategies run first: no token is a 401 before any guard.
      expect(await transport.refusal(running.app.port, '/admin')).toEqual({ status: 401, message: 'Authentication required' });
      alice.close();
    });

    test('AuthGuard over the app’s own passport-jwt strategy as the only authentication: client.user is its request.user', async () => {
      const client = await transport.connect(running.app.port, '/guarded-only', { headers: bearer({ sub: 'dave', roles: ['editor'] }) });
      expect(await client.request('whoami')).toEqual({ id: 'dave', roles: ['editor'] });
      expect(await transport.refusal(running.app.port, '/guarded-only', { headers: { authorization: 'Bearer forged' } })).toEqual({
        status: 401,
        message: 'Unauthorized',
      });
      expect(await transport.refusal(running.app.port, '/guarded-only')).toEqual({ status: 401, message: 'Unauthorized' });
      client.close();
    });

    test('a guard that throws anything but an HttpException: 500, one log line without a stack or the token', async () => {
      const before = running.app.logger.errors().length;
      const token = sign({ sub: 'frank' });
      expect(await transport.refusal(running.app.port, '/failing', { token })).toEqual({ status: 500, message: 'Authentication failed' });
      const logged = running.app.logger.errors().slice(before);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('handshake guard Object threw Error: user store down');
      expect(logged[0]).not.toContain(token);
      expect(logged[0]).not.toContain('    at ');
    });

    test('a guard that writes a response body (redirect): 500, and the log says what a handshake guard must do instead', async () => {
      const before = running.app.logger.errors().length;
      expect(await transport.refusal(running.app.port, '/redirecting', { token: sign({ sub: 'gus' }) })).toEqual({ status: 500, message: 'Authentication failed' });
      const logged = running.app.logger.errors().slice(before);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('a handshake guard called response.redirect(), which a WebSocket handshake cannot answer');
    });

    test('an async guard that never answers: 503 within handshakeTimeoutMs', async () => {
      const started = Date.now();
      expect(await transport.refusal(running.app.port, '/stuck', { token: sign({ sub: 'gina' }) })).toEqual({
        status: 503,
        message: 'Authentication timed out',
      });
      expect(Date.now() - started).toBeLessThan(2000);
      running.app.logger.lines.length = 0;
    });
  });

  describe('on every message', () => {
    const running = useGuardsApp();

    test('an HTTP-shaped guard under @UseGuards sees the connection’s user as request.user; a refusal keeps the connection', async () => {
      const bob = await transport.connect(running.app.port, '/chat', { token: sign({ sub: 'bob' }) });
      expect(await bob.request('admin-only', {}, 'exception')).toMatchObject({ status: 'error', message: 'Forbidden resource' });
      expect(running.seen.httpUsers.at(-1)).toEqual({ id: 'bob', roles: [] });
      expect(bob.isOpen()).toBe(true);
      const alice = await transport.connect(running.app.port, '/chat', { token: sign({ sub: 'alice', roles: ['admin'] }) });
      expect(await alice.request('admin-only')).toBe('alice');
      bob.close();
      alice.close();
    });

  });

  describe('the Nest docs’ global AuthGuard (APP_GUARD + @Public())', () => {
    describe('with the one line (isWsAuthClient)', () => {
      const running = useGuardsApp({ globalGuard: 'recipe+line' });

      test('messages of authenticated clients reach their handlers; HTTP routes stay protected', async () => {
        const client = await transport.connect(running.app.port, '/chat', { token: sign({ sub: 'hank' }) });
        expect(await client.request('whoami')).toEqual({ id: 'hank', roles: [] });
        expect(running.seen.handlers).toContain('whoami');
        const base = `http://127.0.0.1:${running.app.port}`;
        expect((await fetch(`${base}/me`)).status).toBe(401);
        expect(await (await fetch(`${base}/me`, { headers: bearer({ sub: 'hank' }) })).json()).toEqual({ id: 'hank', roles: [] });
        expect((await fetch(`${base}/health`)).status).toBe(200);
        expect(await transport.refusal(running.app.port, '/chat')).toEqual({ status: 401, message: 'Authentication required' });
        client.close();
      });
    });

    test('without it, Nest 12 runs the HTTP-shaped global guard on every message and refuses them all', async () => {
      const built = guardsApp(transport, { globalGuard: 'recipe' });
      const app = await startApp(built.module, { adapter: transport.adapter });
      try {
        const client = await transport.connect(app.port, '/chat', { token: sign({ sub: 'ivan' }) });
        expect(await client.request('whoami', {}, 'exception')).toMatchObject({ status: 'error' });
        expect(built.seen.handlers).toEqual([]);
        client.close();
      } finally {
        app.logger.lines.length = 0;
        await app.close();
      }
    });
  });
});

describe('Socket.IO: namespaces of one connection share socket.request', () => {
  test('an async guard of one namespace never sees or admits the user of another', async () => {
    const seen: Array<{ namespace: string; user: unknown }> = [];
    const slow: CanActivate = {
      canActivate: async (context) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        seen.push({ namespace: '/a', user: context.switchToHttp().getRequest<{ user?: { sub?: string } }>().user?.sub });
        return true;
      },
    };
    const quick: CanActivate = {
      canActivate: (context) => {
        seen.push({ namespace: '/b', user: context.switchToHttp().getRequest<{ user?: { sub?: string } }>().user?.sub });
        return true;
      },
    };
    @WsAuthGateway({ namespace: '/a', auth: { guards: [slow] } })
    class AGateway {
      @SubscribeMessage('whoami')
      whoami(@WsUser('sub') sub: string) {
        return sub;
      }
    }
    @WsAuthGateway({ namespace: '/b', auth: { guards: [quick] } })
    class BGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [AGateway, BGateway] })
    class SharedModule {}
    const app = await startApp(SharedModule, { adapter: IO_TRANSPORT.adapter });
    const manager = new Manager(`http://127.0.0.1:${app.port}`, { transports: ['websocket'], reconnection: false });
    try {
      const a = manager.socket('/a', { auth: { token: sign({ sub: 'alice' }) } }).connect();
      const b = manager.socket('/b', { auth: { token: sign({ sub: 'bob' }) } }).connect();
      await Promise.all([a, b].map((socket) => new Promise<void>((resolve) => socket.once('connect', () => resolve()))));
      expect(await a.timeout(2000).emitWithAck('whoami', {})).toBe('alice');
      expect(seen).toEqual([
        { namespace: '/b', user: 'bob' },
        { namespace: '/a', user: 'alice' },
      ]);
    } finally {
      manager.engine?.close();
      await app.close();
    }
  });
});

describe.each(TRANSPORTS)('$name: @nestjs/throttler, unmodified (an app in a process of its own)', (transport) => {
  let child: ChildProcess;
  let port: number;
  beforeAll(async () => {
    child = fork(fileURLToPath(new URL('../fixtures/throttler.app.mjs', import.meta.url)), [], {
      env: { ...process.env, NODE_OPTIONS: '', TRANSPORT: transport.name, JWT_SECRET: TEST_SECRET, JWT_ISSUER: TEST_ISSUER },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { ready: number }).ready));
      child.once('exit', (code) => reject(new Error(`the throttler app exited with ${code}`)));
    });
  });
  afterAll(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  test('ThrottlerGuard as a handshake guard limits connection attempts per address: the 4th gets 429 with Retry-After', async () => {
    const token = sign({ sub: 'erin' });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      (await transport.connect(port, '/limited', { token })).close();
    }
    const refused = await transport.refusal(port, '/limited', { token });
    expect(refused).toMatchObject({ status: 429, message: 'ThrottlerException: Too Many Requests' });
    expect(refused.retryAfter).toBeGreaterThan(0);
  });

  test('messages limited per user with wsAuthUserId as the tracker; another user of the same address is not', async () => {
    const alice = await transport.connect(port, '/chat', { token: sign({ sub: 'alice' }) });
    const bob = await transport.connect(port, '/chat', { token: sign({ sub: 'bob' }) });
    expect(await alice.request('throttled')).toBe('alice');
    expect(await alice.request('throttled')).toBe('alice');
    expect(await alice.request('throttled', {}, 'exception')).toMatchObject({ status: 'error' });
    expect(await bob.request('throttled')).toBe('bob');
    expect(alice.isOpen()).toBe(true);
    alice.close();
    bob.close();
  });
});

describe('start-up errors for handshake guards', () => {
  const start = async (module: Function) => {
    const app = await NestFactory.create(module as never, { logger, abortOnError: false });
    const { WsAuthAdapter } = await import('../../src/index.js');
    app.useWebSocketAdapter(new WsAuthAdapter(app));
    try {
      await app.listen(0, '127.0.0.1');
      return undefined;
    } catch (error) {
      return error as Error;
    } finally {
      await app.close();
    }
  };

  test('a guard class whose dependency no module provides: the gateway, the guard and the fix', async () => {
    class Missing {}
    @Injectable()
    class NeedsMissing implements CanActivate {
      constructor(readonly missing: Missing) {}
      canActivate() {
        return true;
      }
    }
    @WsAuthGateway({ path: '/x', auth: { guards: [NeedsMissing] } })
    class XGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [XGateway] })
    class XModule {}
    const error = await start(XModule);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect(error!.message).toContain('XGateway: the handshake guard NeedsMissing cannot be built');
    expect(error!.message).toContain("Provide what it injects in XGateway's module");
  });

  test('something that is not a guard in auth.guards', async () => {
    @WsAuthGateway({ path: '/y', auth: { guards: [class NotAGuard {}] as never } })
    class YGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [YGateway] })
    class YModule {}
    const error = await start(YModule);
    expect(error!.message).toContain('YGateway auth.guards: NotAGuard is not a guard (no canActivate method)');
  });

  test('no strategy and no guard: nobody could be authenticated', async () => {
    @WsAuthGateway({ path: '/z', auth: { strategies: [] } })
    class ZGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [ZGateway] })
    class ZModule {}
    const error = await start(ZModule);
    expect(error!.message).toContain('ZGateway has no strategy and no guard');
  });
});
