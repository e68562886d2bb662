import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import session, { type Store } from 'express-session';
import { createClient } from 'redis';
import { SessionAppModule, ALLOWED_ORIGIN, accounts, resetAccounts } from '../apps/session.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { postForCookie } from '../helpers/session-cookie.js';
import { logger, startApp, type TestApp, withApp } from '../helpers/test-app.js';
import { sign } from '../helpers/tokens.js';
import { closed, connect, refusedStatus, request } from '../helpers/ws-client.js';

let redis: RedisServer;
let redisClient: ReturnType<typeof createClient>;
beforeAll(async () => {
  redis = await startRedis();
  redisClient = createClient({ socket: { path: redis.socket, tls: false } });
  await redisClient.connect();
});
afterAll(async () => {
  await redisClient.quit();
  await redis.stop();
});
beforeEach(resetAccounts);

const stores: Array<[string, () => Store | undefined]> = [
  ["express-session's memory store", () => undefined],
  ['a Redis store (connect-redis, redis-server started by the test)', () => new RedisStore({ client: redisClient })],
];

describe.each(stores)('session cookie, %s', (_store, makeStore) => {
  let app: TestApp;
  beforeAll(async () => {
    const { module, configure } = SessionAppModule.with(makeStore());
    app = await startApp(module, { configure });
  });
  afterAll(() => app.close());

  const post = (path: string, body?: object, cookie?: string) => postForCookie(app.port, path, body, cookie);
  const withCookie = (cookie: string, origin = ALLOWED_ORIGIN) => ({ origin, headers: { cookie } });

  test('the user who logged in to the web app is client.user', async () => {
    const cookie = await post('/login', { id: 'alice' });
    const client = await connect(app.url('/chat'), [], withCookie(cookie));
    expect(await request(client, 'whoami')).toEqual({ event: 'whoami', data: { id: 'alice', name: 'Alice' } });
    client.close();
  });

  test('no session, a session with nobody logged in, or a forged cookie: 401', async () => {
    expect(await refusedStatus(app.url('/chat'), [], { origin: ALLOWED_ORIGIN })).toBe(401);
    const visitor = await post('/visit');
    expect(visitor).toMatch(/^connect\.sid=/);
    const response = await rawUpgrade(app.port, '/chat', { Origin: ALLOWED_ORIGIN, Cookie: visitor });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).message).toBe('Authentication required');
    expect(await refusedStatus(app.url('/chat'), [], withCookie('connect.sid=s%3Aforged.signature'))).toBe(401);
  });

  test('a user that no longer exists: 401', async () => {
    const cookie = await post('/login', { id: 'bob' });
    accounts.delete('bob');
    const response = await rawUpgrade(app.port, '/chat', { Origin: ALLOWED_ORIGIN, Cookie: cookie });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).message).toBe('Session user no longer exists');
  });

  test("logging out of the web app closes that user's sockets, and the cookie opens no new one", async () => {
    const cookie = await post('/login', { id: 'alice' });
    const client = await connect(app.url('/chat'), [], withCookie(cookie));
    const closing = closed(client);
    await post('/logout', {}, cookie);
    expect(await closing).toEqual({ code: 4403, reason: 'logged out' });
    expect(await refusedStatus(app.url('/chat'), [], withCookie(cookie))).toBe(401);
  });

  test('a token seen before (a verified-token cache hit) still goes through resolveUser', async () => {
    const cookie = `access_token=${sign({ sub: 'bob', jti: 'cached' })}`;
    (await connect(app.url('/chat'), [], withCookie(cookie))).close();
    accounts.delete('bob');
    const response = await rawUpgrade(app.port, '/chat', { Origin: ALLOWED_ORIGIN, Cookie: cookie });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).message).toBe('Unknown user');
  });

  test('a JWT in the access_token cookie authenticates like the header', async () => {
    const client = await connect(app.url('/chat'), [], withCookie(`theme=dark; access_token=${sign({ sub: 'bob' })}`));
    expect((await request(client, 'whoami')).data).toEqual({ id: 'bob', name: 'Bob' });
    client.close();
    expect(await refusedStatus(app.url('/chat'), [], withCookie('access_token=forged'))).toBe(401);
  });

  test('Cross-Site WebSocket Hijacking: a valid cookie from another origin gets 403', async () => {
    const cookie = await post('/login', { id: 'alice' });
    for (const origin of ['https://evil.example.com', 'null', 'https://app.example.com.evil.com']) {
      const response = await rawUpgrade(app.port, '/chat', { Origin: origin, Cookie: cookie });
      expect(response.status).toBe(403);
    }
  });
});

test('after a restart, a session kept in Redis authenticates the socket again', async () => {
  const login = async (port: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'alice' }),
    });
    return response.headers.get('set-cookie')!.split(';')[0]!;
  };
  const first = SessionAppModule.with(new RedisStore({ client: redisClient }));
  const before = await startApp(first.module, { configure: first.configure });
  const cookie = await login(before.port);
  await before.close();

  const second = SessionAppModule.with(new RedisStore({ client: redisClient }));
  await withApp(second.module, async (after) => {
    const client = await connect(after.url('/chat'), [], { origin: ALLOWED_ORIGIN, headers: { cookie } });
    expect((await request(client, 'whoami')).data).toEqual({ id: 'alice', name: 'Alice' });
    client.close();
  }, { configure: second.configure });
});

test('a session store that fails: 500, logged, and the app keeps serving', async () => {
  class FlakyStore extends session.MemoryStore {
    broken = false;
    override get(sid: string, callback: (error: unknown, data?: session.SessionData | null) => void): void {
      if (this.broken) callback(new Error('store unreachable'));
      else super.get(sid, callback);
    }
  }
  const store = new FlakyStore();
  const { module, configure } = SessionAppModule.with(store);
  await withApp(module, async (app) => {
    const login = await fetch(`http://127.0.0.1:${app.port}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'alice' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    store.broken = true;
    const response = await rawUpgrade(app.port, '/chat', { Origin: ALLOWED_ORIGIN, Cookie: cookie });
    expect(response.status).toBe(500);
    expect(logger.errors().join('\n')).toContain('strategy "session" failed; answered 500. Error: store unreachable');
    const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign({ sub: 'alice' })}` } });
    client.close();
  }, { configure });
});
