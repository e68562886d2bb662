import { AssertionError } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { NestFactory } from '@nestjs/core';
import session from 'express-session';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { Module } from '@nestjs/common';
import { WsAuthGateway, WsAuthModule } from 'nest-ws-auth';
import { WsAuthAdapter } from 'nest-ws-auth/ws';
import { WsAuthTesting, WsAuthTestingError } from 'nest-ws-auth/testing';
import { ChatAppModule, type Transport } from './apps/chat.app.js';

const TRANSPORTS: Transport[] = ['ws', 'socket.io'];

describe.each(TRANSPORTS)('the kit on %s', (transport) => {
  let kit: WsAuthTesting;
  beforeAll(async () => {
    kit = await WsAuthTesting.start(ChatAppModule.on(transport)); // the transport is read from the gateways
  });
  afterAll(() => kit.close());

  test('the kit picks the transport from the app’s gateways (namespace: Socket.IO, path: ws)', () => {
    expect(kit.transport).toBe(transport);
  });

  test('connectAs mints a token with the app’s own jwt settings, read through its DI', async () => {
    const alice = await kit.connectAs({ id: 'alice', roles: ['member'] }, '/chat');
    await alice.send('whoami', {});
    const user = (await alice.expectEvent('whoami', { id: 'alice', sub: 'alice', roles: ['member'] })) as Record<string, unknown>;
    expect(user.exp).toBe((user.iat as number) + 60);
    expect(user.iat).toBe(Math.floor(kit.clock.now() / 1000));
    await alice.close();
  });

  test('expectRefused: as a connected client (its credentials again), as a user, or without credentials', async () => {
    const alice = await kit.connectAs({ id: 'alice', roles: ['member'] }, '/chat');
    expect(await kit.expectRefused('/admin', { as: alice }, 403)).toEqual({ status: 403, message: 'Insufficient role' });
    await kit.expectRefused('/admin', { as: { id: 'bob' } }, 403);
    expect(await kit.expectRefused('/chat', {}, 401)).toEqual({ status: 401, message: 'Authentication required' });
    await kit.connectAs({ id: 'carol', roles: ['admin'] }, '/admin');
  });

  test('kit.clock: a token minted for 60 s closes 4401 at exactly 60 s of kit time', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/chat');
    await kit.clock.advance(59_999);
    await alice.expectNothing(30);
    expect(alice.isOpen).toBe(true);
    await kit.clock.advance(1);
    expect(await alice.expectClose(4401, 'token expired')).toEqual({ code: 4401, reason: 'token expired' });
    await alice.expectNothing(50); // the close was expected: nothing else arrived
  });

  test('tokens are minted at the kit clock’s time and verified at it', async () => {
    await kit.clock.advance(3_600_000); // an hour on: a token of the system clock's time would be expired here
    const dave = await kit.connectAs({ id: 'dave' }, '/chat', { expiresIn: 10 });
    await dave.send('whoami');
    const { iat, exp } = (await dave.expectEvent('whoami')) as { iat: number; exp: number };
    expect(iat * 1000).toBe(kit.clock.now());
    expect(exp).toBe(iat + 10);
    // A token that expired by the kit clock is refused at the handshake, though the system clock says it is valid.
    const stale = await kit.tokenFor({ id: 'dave' }, { expiresIn: 5 });
    await kit.clock.advance(5_000);
    await dave.expectNothing(20);
    expect(await kit.expectRefused('/chat', { token: stale }, 401)).toEqual({ status: 401, message: 'Token expired' });
    await kit.clock.advance(5_000);
    await dave.expectClose(4401);
  });

  test('an in-band refresh moves the expiry, in kit time', async () => {
    const erin = await kit.connectAs({ id: 'erin' }, '/chat');
    await kit.clock.advance(30_000);
    const answer = await erin.refresh();
    expect(answer).toEqual({ ok: true, exp: Math.floor(kit.clock.now() / 1000) + 60 });
    await kit.clock.advance(30_000); // the first token's exp
    await erin.expectNothing(30);
    await kit.clock.advance(30_000);
    await erin.expectClose(4401, 'token expired');
  });

  test.each(transport === 'ws' ? (['header', 'subprotocol', 'query'] as const) : (['auth', 'header', 'query'] as const))(
    'via %s',
    async (via) => {
      const frank = await kit.connectAs({ id: 'frank' }, '/chat', { via });
      await frank.send('whoami');
      await frank.expectEvent('whoami', { id: 'frank' });
      await frank.close();
    },
  );

  test('an app strategy, with the credentials it reads (headers)', async () => {
    const robot = await kit.connectAs({ id: 'robot' }, '/keys', { headers: { 'x-api-key': 'robot-key' } });
    await robot.send('whoami');
    await robot.expectEvent('whoami', { id: 'robot', roles: ['bot'] });
    await kit.expectRefused('/keys', { headers: { 'x-api-key': 'wrong' } }, 401);
  });

  test('failed expectations throw node:assert AssertionErrors, whatever the runner', async () => {
    const gina = await kit.connectAs({ id: 'gina' }, '/chat');
    await gina.send('whoami');
    await expect(gina.expectEvent('whoami', { id: 'somebody else' }, { timeoutMs: 100 })).rejects.toThrow(AssertionError);
    await expect(gina.expectNothing(10)).rejects.toThrow(/expected nothing, got "whoami"/);
    await expect(gina.expectClose(4401, undefined, { timeoutMs: 50 })).rejects.toThrow(/still open/);
    await expect(kit.expectRefused('/chat', { as: gina })).rejects.toThrow(/but it connected/);
    await expect(kit.expectRefused('/chat', {}, 403)).rejects.toThrow(/refused with 403, got 401/);
    await expect(kit.connectAs({ id: 'gina' }, '/admin')).rejects.toThrow(/was refused: 403 Insufficient role/);
    const closing = gina.expectClose(4403, 'bye');
    await kit.clock.advance(60_000);
    await expect(closing).rejects.toThrow(/expected a close with 4403 'bye', got 4401 'token expired'/);
  });
});

describe('cookies and sessions', () => {
  const ORIGIN = 'https://chat.example.com';

  describe.each(TRANSPORTS)('on %s', (transport) => {
    let kit: WsAuthTesting;
    beforeAll(async () => {
      const sessionHandler = session({ secret: 'the app’s own session secret', resave: false, saveUninitialized: false, cookie: { secure: true } });
      kit = await WsAuthTesting.start(
        ChatAppModule.on(transport, {
          strategies: ['session', 'jwt'],
          session: sessionHandler,
          jwt: { ...(await import('./apps/chat.app.js')).jwtOptions, cookie: 'access_token' },
          allowedOrigins: [ORIGIN],
        }),
        {
          transport,
          configure: (app) => {
            app.use(sessionHandler);
            app.use(passport.session());
          },
        },
      );
    });
    afterAll(() => kit.close());

    test('via cookie: the jwt cookie', async () => {
      const alice = await kit.connectAs({ id: 'alice' }, '/chat', { via: 'cookie', headers: { origin: ORIGIN } });
      await alice.send('whoami');
      await alice.expectEvent('whoami', { id: 'alice', sub: 'alice' });
    });

    test('via session: logged in through the app’s own store and serializer', async () => {
      const carol = await kit.connectAs({ id: 'carol' }, '/admin', { via: 'session', headers: { origin: ORIGIN } });
      await carol.send('whoami');
      // The user the app's deserializer restored, not claims of a token: no sub, no exp.
      expect(await carol.expectEvent('whoami')).toEqual({ id: 'carol', roles: ['admin'] });
      // A session of a user the store does not know: 401.
      await kit.expectRefused('/chat', { as: { id: 'mallory' }, via: 'session', headers: { origin: ORIGIN } }, 401);
      // The origin allow-list still applies.
      await kit.expectRefused('/chat', { as: { id: 'carol' }, via: 'session', headers: { origin: 'https://evil.example' } }, 403);
    });
  });
});

describe('keys the kit cannot sign with', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsa = { publicKey, algorithms: ['RS256' as const], issuer: 'idp', audience: 'chat-app' };
  let kit: WsAuthTesting | undefined;
  afterEach(() => kit?.close());

  test('a public-key config: connectAs says to pass sign or a token', async () => {
    kit = await WsAuthTesting.start(ChatAppModule.on('ws', { jwt: rsa }));
    await expect(kit.connectAs({ id: 'alice' }, '/chat')).rejects.toThrow(WsAuthTestingError);
    await expect(kit.connectAs({ id: 'alice' }, '/chat')).rejects.toThrow(/public key \(RS256\).*sign: \(claims\)/);
    const token = jwt.sign({ sub: 'alice', exp: Math.floor(kit.clock.now() / 1000) + 60 }, privateKey, { algorithm: 'RS256', issuer: 'idp', audience: 'chat-app' });
    await (await kit.connectAs({ id: 'alice' }, '/chat', { token })).expectNothing(10);
  });

  test('…and with sign, the kit mints (iat/exp at the kit clock) and expiry still works', async () => {
    kit = await WsAuthTesting.start(ChatAppModule.on('ws', { jwt: rsa }), {
      sign: (claims) => jwt.sign(claims, privateKey, { algorithm: 'RS256', issuer: 'idp', audience: 'chat-app' }),
    });
    const alice = await kit.connectAs({ id: 'alice' }, '/chat');
    await kit.clock.advance(60_000);
    await alice.expectClose(4401);
  });
});

describe('what the kit starts', () => {
  test('a TestingModule, and an INestApplication set up by the test', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ChatAppModule.on('ws')] }).compile();
    const fromTesting = await WsAuthTesting.start(moduleRef);
    await (await fromTesting.connectAs({ id: 'alice' }, '/chat')).expectNothing(10);
    await fromTesting.close();

    const app = await NestFactory.create(ChatAppModule.on('ws'), { logger: false });
    app.useWebSocketAdapter(new WsAuthAdapter(app));
    const fromApp = await WsAuthTesting.start(app);
    const alice = await fromApp.connectAs({ id: 'alice' }, '/chat');
    await fromApp.clock.advance(60_000);
    await alice.expectClose(4401);
    await fromApp.close();
  });

  test('a guarded gateway with neither path nor namespace, both platforms installed: the error names the option', async () => {
    @WsAuthGateway()
    class RootGateway {}
    @Module({ imports: [WsAuthModule.forRoot({ jwt: { secret: 'x'.repeat(32), algorithms: ['HS256'] } })], providers: [RootGateway] })
    class RootModule {}
    const error = await WsAuthTesting.start(RootModule).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(WsAuthTestingError);
    expect((error as Error).message).toContain("pass { transport: 'ws' } or { transport: 'socket.io' } to WsAuthTesting.start()");
  });

  test('close() leaves no server, socket or timer of the kit behind', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((resource) => resource === type).length;
    const settled = () => new Promise((resolve) => setTimeout(resolve, 20));
    await settled(); // the previous test's app finishes closing
    const before = { servers: count('TCPServerWrap'), sockets: count('TCPSocketWrap') };
    const kit = await WsAuthTesting.start(ChatAppModule.on('socket.io'), { transport: 'socket.io' });
    try {
      await kit.connectAs({ id: 'alice' }, '/chat');
      await kit.connectAs({ id: 'bob' }, '/chat');
      expect(count('TCPServerWrap')).toBe(before.servers + 1);
      expect(count('TCPSocketWrap')).toBeGreaterThanOrEqual(before.sockets + 4); // two clients, both ends
    } finally {
      await kit.close();
    }
    await settled();
    expect({ servers: count('TCPServerWrap'), sockets: count('TCPSocketWrap') }).toEqual(before);
    expect(kit.clock.timers).toBe(0);
  });
});
