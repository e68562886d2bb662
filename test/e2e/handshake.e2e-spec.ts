import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import jwt from 'jsonwebtoken';
import type { IncomingMessage } from 'node:http';
import { Module } from '@nestjs/common';
import { SubscribeMessage } from '@nestjs/websockets';
import { WebSocket } from 'ws';
import { WsAuthGateway, WsAuthModule, WsUser } from '../../src/index.js';
import { ChatAppModule, ChatGateway, KeysGateway, LobbyGateway, PlainGateway, USERS } from '../apps/chat.app.js';
import { freePort } from '../helpers/free-port.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { useApp, withApp } from '../helpers/test-app.js';
import { jwtOptions, sign, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens.js';
import { connect, nextMessage, refusedStatus, request } from '../helpers/ws-client.js';

const never = new Promise<never>(() => {});

describe('401: missing or invalid credentials, unknown users', () => {
  const app = useApp(() => ChatAppModule.with());

  test('no credentials: 401, WWW-Authenticate: Bearer, a Nest-shaped JSON body', async () => {
    const response = await rawUpgrade(app.port, '/chat');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({ statusCode: 401, message: 'Authentication required', error: 'Unauthorized' });
  });

  const now = Math.floor(Date.now() / 1000);
  test.each([
    ['a bad signature', sign({ sub: 'alice' }, {}, 'another-secret-0123456789abcdef-0123456789'), 'Invalid token'],
    ['an expired token', sign({ sub: 'alice', exp: now - 60 }), 'Token expired'],
    ['a token not valid yet (nbf)', sign({ sub: 'alice' }, { notBefore: 3600 }), 'Token not active yet'],
    ['a token without exp', sign({ sub: 'alice' }, { expiresIn: null }), 'Token has no exp claim'],
    ['a string payload', jwt.sign('alice', TEST_SECRET, { algorithm: 'HS256' }), 'Token payload is not a JSON object'],
    ['another issuer', sign({ sub: 'alice' }, { issuer: 'someone-else' }), 'Invalid token'],
    ['another audience', sign({ sub: 'alice' }, { audience: 'someone-else' }), 'Invalid token'],
    ['an algorithm not pinned (HS512)', sign({ sub: 'alice' }, { algorithm: 'HS512' }, 'x'.repeat(64)), 'Invalid token'],
    ['alg none', jwt.sign({ sub: 'alice', exp: now + 60, iss: TEST_ISSUER, aud: TEST_ISSUER }, '', { algorithm: 'none' }), 'Invalid token'],
    ['garbage', 'not-a-jwt', 'Invalid token'],
    ['an unknown user', sign({ sub: 'mallory' }), 'Unknown user'],
    ['a valid token over 8 KiB, refused unverified', sign({ sub: 'alice', pad: 'x'.repeat(9000) }), 'Token too large'],
  ])('%s', async (_case, token, reason) => {
    const response = await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${token}` });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(`Bearer error="invalid_token", error_description="${reason}"`);
    expect(JSON.parse(response.body)).toMatchObject({ statusCode: 401, message: reason });
    expect(response.body).not.toContain(token);
  });

  test('a refused handshake never reaches handleConnection', () => {
    expect(app.app.get(ChatGateway).connections).toEqual([]);
  });
});

describe('inside the gateway', () => {
  const app = useApp(() => ChatAppModule.with());

  test('client.user is set before handleConnection, which also gets the upgrade request', async () => {
    const client = await connect(app.url('/chat?room=1'), [], { headers: { authorization: `Bearer ${sign({ sub: 'bob' })}` } });
    expect(app.app.get(ChatGateway).connections).toEqual([{ user: USERS.bob, path: '/chat?room=1' }]);
    client.close();
  });

  test('messages sent the moment the socket opens reach handlers as the authenticated user', async () => {
    const client = new WebSocket(app.url('/chat'), { headers: { authorization: `Bearer ${sign()}` } });
    const replies: unknown[] = [];
    client.on('message', (data) => replies.push(JSON.parse(data.toString())));
    client.once('open', () => {
      for (let index = 0; index < 20; index += 1) client.send(JSON.stringify({ event: 'name', data: {} }));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replies).toHaveLength(20);
    expect(new Set(replies.map((reply) => JSON.stringify(reply)))).toEqual(new Set(['{"event":"name","data":"Alice"}']));
    client.close();
  });

  test('@WsUser() and @WsUser(field)', async () => {
    const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
    expect((await request(client, 'whoami')).data).toEqual(USERS.alice);
    expect((await request(client, 'name')).data).toBe('Alice');
    client.close();
  });
});

describe('optional gateways', () => {
  const app = useApp(() => ChatAppModule.with());

  test('no credentials: anonymous, client.user === null', async () => {
    const client = await connect(app.url('/lobby'));
    expect(await request(client, 'whoami')).toEqual({ event: 'whoami', data: null });
    expect(app.app.get(LobbyGateway).connections.at(-1)?.user).toBeNull();
    client.close();
  });

  test('valid credentials: the user', async () => {
    const client = await connect(app.url(`/lobby?token=${sign({ sub: 'bob' })}`));
    expect((await request(client, 'name')).data).toBe('Bob');
    client.close();
  });

  test('invalid credentials: still 401, never downgraded to anonymous', async () => {
    expect(await refusedStatus(app.url('/lobby?token=forged'))).toBe(401);
    expect(await refusedStatus(app.url('/lobby'), [], { headers: { authorization: 'Basic eDp5' } })).toBe(401);
    expect(await refusedStatus(app.url(`/lobby?token=${sign({ sub: 'mallory' })}`))).toBe(401);
  });
});

describe("the app's own passport strategies", () => {
  const app = useApp(() => ChatAppModule.with());

  test('a gateway with strategies: [api-key] authenticates by that strategy, by name', async () => {
    const client = await connect(app.url('/keys'), [], { headers: { 'x-api-key': 'key-of-bob' } });
    expect((await request(client, 'whoami')).data).toEqual(USERS.bob);
    expect(app.app.get(KeysGateway).connections).toHaveLength(1);
    client.close();
  });

  test('the same strategy still guards HTTP routes, unchanged', async () => {
    const ok = await fetch(`http://127.0.0.1:${app.port}/me`, { headers: { 'x-api-key': 'key-of-bob' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(USERS.bob);
    expect((await fetch(`http://127.0.0.1:${app.port}/me`)).status).toBe(401);
  });

  test('a wrong key, or a JWT where only the api-key strategy runs: 401', async () => {
    expect(await refusedStatus(app.url('/keys'), [], { headers: { 'x-api-key': 'wrong' } })).toBe(401);
    expect(await refusedStatus(app.url('/keys'), [], { headers: { authorization: `Bearer ${sign()}` } })).toBe(401);
  });

  test('strategies are tried in order: the first that succeeds wins', async () => {
    await withApp(ChatAppModule.with({ strategies: ['jwt', 'api-key'] }), async (both) => {
      const byKey = await connect(both.url('/chat'), [], { headers: { 'x-api-key': 'key-of-bob' } });
      const byToken = await connect(both.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
      expect((await request(byKey, 'name')).data).toBe('Bob');
      expect((await request(byToken, 'name')).data).toBe('Alice');
      byKey.close();
      byToken.close();
    });
  });
});

describe('plain @WebSocketGateway beside guarded ones', () => {
  const app = useApp(() => ChatAppModule.with());

  test('works as before: no credentials needed, no user set', async () => {
    const client = await connect(app.url('/plain'));
    expect(await request(client, 'whoami')).toEqual({ event: 'whoami', data: 'nobody' });
    expect(app.app.get(PlainGateway).connections).toBe(1);
    client.close();
  });

  test('an unknown path is still dropped', async () => {
    await expect(connect(app.url('/nowhere'))).rejects.toThrow();
  });
});

describe('403: origins', () => {
  const app = useApp(() => ChatAppModule.with({ allowedOrigins: ['https://app.example.com', 'http://localhost:4200'] }));

  test.each(['https://app.example.com', 'http://localhost:4200'])('%s is allowed', async (origin) => {
    const client = await connect(app.url('/chat'), [], { origin, headers: { authorization: `Bearer ${sign()}` } });
    client.close();
  });

  test.each(['null', 'https://app.example.com.evil.com', 'http://app.example.com', 'https://app.example.com:8443', 'https://evil.com'])(
    '%s is refused with 403, before any credential is looked at',
    async (origin) => {
      const response = await rawUpgrade(app.port, '/chat', { Origin: origin, Authorization: `Bearer ${sign()}` });
      expect(response.status).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ statusCode: 403, message: 'Origin not allowed' });
    },
  );

  test('a request without Origin comes from a non-browser client and passes', async () => {
    expect((await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${sign()}` })).status).toBe(101);
  });

  test('applies to optional gateways too', async () => {
    expect((await rawUpgrade(app.port, '/lobby', { Origin: 'https://evil.com' })).status).toBe(403);
  });
});

describe('5xx: failures and deadlines, and the process keeps serving', () => {
  const app = useApp(() =>
    ChatAppModule.with({
      handshakeTimeoutMs: 300,
      resolveUser: (claims, request?: IncomingMessage) => {
        if (claims.sub === 'slow') return never;
        if (claims.sub === 'explode') throw new Error(`user store down; request had ${request?.headers.authorization}`);
        return USERS[claims.sub ?? ''] ?? null;
      },
    }),
  );

  test('resolveUser throws: 500, logged without the token', async () => {
    const token = sign({ sub: 'explode' });
    const response = await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${token}` });
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ statusCode: 500, message: 'Authentication failed', error: 'Internal Server Error' });
    const logged = app.logger.errors().join('\n');
    expect(logged).toContain('user store down; request had [token]');
    expect(logged).not.toContain(token);
  });

  test('a passport strategy that errors: 500', async () => {
    await withApp(ChatAppModule.with({ strategies: ['api-key'], resolveUser: () => null }), async (withKeys) => {
      const { ApiKeyStrategy } = await import('../apps/chat.app.js');
      const strategy = withKeys.app.get(ApiKeyStrategy);
      const original = strategy.validate;
      strategy.validate = () => {
        throw new Error('key store down');
      };
      expect((await rawUpgrade(withKeys.port, '/chat', { 'x-api-key': 'key-of-bob' })).status).toBe(500);
      expect(withKeys.logger.errors().join('\n')).toContain('strategy "api-key" failed');
      strategy.validate = original;
    });
  });

  test('authentication outlasts handshakeTimeoutMs: 503 within the deadline', async () => {
    const started = Date.now();
    const response = await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${sign({ sub: 'slow' })}` });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(503);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1000);
    expect(app.logger.lines.join('\n')).toContain('longer than handshakeTimeoutMs (300 ms)');
  });

  test('the process keeps serving after all of that', async () => {
    const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
    expect((await request(client, 'name')).data).toBe('Alice');
    client.close();
  });
});

test('a guarded gateway on a port of its own', async () => {
  const port = await freePort();
  @WsAuthGateway(port, { path: '/side' })
  class SideGateway {
    @SubscribeMessage('name')
    name(@WsUser('name') name: string) {
      return { event: 'name', data: name };
    }
  }
  @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions, resolveUser: (claims) => USERS[claims.sub ?? ''] ?? null })], providers: [SideGateway] })
  class SideModule {}
  await withApp(SideModule, async () => {
    expect((await rawUpgrade(port, '/side')).status).toBe(401);
    const client = await connect(`ws://127.0.0.1:${port}/side`, [], { headers: { authorization: `Bearer ${sign()}` } });
    expect((await request(client, 'name')).data).toBe('Alice');
    client.close();
  });
});

test('a message for which no handler exists is ignored, the connection stays', async () => {
  await withApp(ChatAppModule.with(), async (app) => {
    const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
    client.send('not json');
    client.send(JSON.stringify({ event: 'nothing-here', data: 1 }));
    const reply = nextMessage(client);
    client.send(JSON.stringify({ event: 'name' }));
    expect((await reply).data).toBe('Alice');
    client.close();
  });
});
