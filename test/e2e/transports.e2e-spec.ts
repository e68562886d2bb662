import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { FailedHandshakesLimiter } from '../../src/core/failed-handshakes.limiter.js';
import { WsAuthConnections } from '../../src/index.js';
import { ALLOWED_ORIGIN, resetAccounts, SessionAppModule } from '../apps/session.app.js';
import { type Person, PEOPLE, type Seen, transportApp } from '../apps/transport.app.js';
import { rawRequest, upgradeRequest } from '../helpers/raw-upgrade.js';
import { postForCookie } from '../helpers/session-cookie.js';
import { startApp, type TestApp } from '../helpers/test-app.js';
import { sign } from '../helpers/tokens.js';
import { type TestClient, TRANSPORTS } from '../helpers/transports.js';
import { sleep, until } from '../helpers/wait.js';

/**
 * One behaviour, both transports: the same app (gateways at /chat, /lobby,
 * /keys, /admin and a plain /plain), served by WsAuthAdapter and by
 * WsAuthIoAdapter, must answer alike.
 */
describe.each(TRANSPORTS)('$name', (transport) => {
  const open: TestClient[] = [];
  const connect = async (...args: Parameters<typeof transport.connect>) => {
    const client = await transport.connect(...args);
    open.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });

  describe('handshake', () => {
    let app: TestApp;
    let seen: Seen;
    beforeAll(async () => {
      const built = transportApp(transport, { maxConnectionsPerUser: 2, allowedOrigins: ['https://chat.example'] });
      seen = built.seen;
      app = await startApp(built.module, { adapter: transport.adapter });
    });
    afterAll(() => app.close());

    test('a valid token connects; client.user is set before handleConnection and read by @WsUser', async () => {
      const before = seen.connections.length;
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }) });
      expect(seen.connections.slice(before)).toEqual([{ gateway: 'ChatGateway', user: PEOPLE.alice }]);
      expect(await client.request('whoami')).toEqual(PEOPLE.alice);
      expect(await client.request('name')).toBe('Alice');
    });

    test.each([
      ['no credentials', 401, 'Authentication required', undefined],
      ['a forged token', 401, 'Invalid token', sign({ sub: 'alice' }, {}, 'another-secret-0123456789abcdef-0123')],
      ['an expired token', 401, 'Token expired', sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 })],
      ['an unknown user', 401, 'Unknown user', sign({ sub: 'mallory' })],
    ])('%s: refused with %i, and no handleConnection runs', async (_case, status, message, token) => {
      const before = seen.connections.length;
      expect(await transport.refusal(app.port, '/chat', { token })).toEqual({ status, message });
      expect(seen.connections.length).toBe(before);
    });

    test('the refusal never carries the token', async () => {
      const token = sign({ sub: 'mallory' });
      const refusal = await transport.refusal(app.port, '/chat', { token });
      expect(JSON.stringify(refusal)).not.toContain(token);
    });

    test('an optional gateway lets anonymous clients in as null, but refuses bad credentials', async () => {
      const anonymous = await connect(app.port, '/lobby');
      expect(await anonymous.request('whoami')).toBeNull();
      expect((await transport.refusal(app.port, '/lobby', { token: 'not-a-jwt' })).status).toBe(401);
    });

    test("a gateway's own strategy list: the app's passport strategy by name", async () => {
      const bob = await connect(app.port, '/keys', { headers: { 'x-api-key': 'key-of-bob' } });
      expect(await bob.request('whoami')).toEqual(PEOPLE.bob);
      expect((await transport.refusal(app.port, '/keys', { token: sign({ sub: 'alice' }) })).status).toBe(401);
    });

    test("an app strategy's UnauthorizedException / ForbiddenException keep their status; any other error is 500 with one log line", async () => {
      const keys = (key: string) => ({ headers: { 'x-api-key': key } });
      expect(await transport.refusal(app.port, '/keys', keys('key-revoked'))).toEqual({ status: 401, message: 'API key revoked' });
      expect(await transport.refusal(app.port, '/keys', keys('key-suspended'))).toEqual({ status: 403, message: 'Account suspended' });
      const before = app.logger.errors().length;
      expect(await transport.refusal(app.port, '/keys', keys('key-store-down'))).toEqual({ status: 500, message: 'Authentication failed' });
      const logged = app.logger.errors().slice(before);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('Error: key store down');
      expect(logged[0]).not.toMatch(/\n\s+at /);
    });

    test('gateway roles: 403 for a user without them', async () => {
      expect(await transport.refusal(app.port, '/admin', { token: sign({ sub: 'bob' }) })).toEqual({
        status: 403,
        message: 'Insufficient role',
      });
      const alice = await connect(app.port, '/admin', { token: sign({ sub: 'alice' }) });
      expect(await alice.request('whoami')).toEqual(PEOPLE.alice);
    });

    test('@WsRoles refuses one message with an exception, and the connection stays', async () => {
      const bob = await connect(app.port, '/chat', { token: sign({ sub: 'bob' }) });
      expect(await bob.request('purge', {}, 'exception')).toMatchObject({ message: 'Forbidden resource' });
      expect(bob.isOpen()).toBe(true);
      expect(await bob.request('whoami')).toEqual(PEOPLE.bob);
      const alice = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }) });
      expect(await alice.request('purge', {}, 'purged')).toBe(true);
    });

    test('origin allow-list: another site is refused with 403 even with a valid token', async () => {
      const token = sign({ sub: 'alice' });
      expect(await transport.refusal(app.port, '/chat', { token, headers: { origin: 'https://evil.example' } })).toEqual({
        status: 403,
        message: 'Origin not allowed',
      });
      await connect(app.port, '/chat', { token, headers: { origin: 'https://chat.example' } });
    });

    test('maxConnectionsPerUser: the next handshake gets 429, and the place comes back on close', async () => {
      const token = sign({ sub: 'bob' });
      const first = await transport.connect(app.port, '/chat', { token });
      await connect(app.port, '/chat', { token });
      expect((await transport.refusal(app.port, '/chat', { token })).status).toBe(429);
      const connections = app.app.get(WsAuthConnections);
      first.close();
      await until(() => connections.connectionsOf('bob').length === 1);
      await connect(app.port, '/chat', { token });
    });

    test('a plain gateway beside guarded ones is served as before', async () => {
      const client = await connect(app.port, '/plain');
      expect(await client.request('whoami')).toBe('nobody');
    });
  });

  describe('lifecycle', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(transportApp(transport).module, { adapter: transport.adapter });
    });
    afterAll(() => app.close());

    test('expiry: the connection is closed with 4401 "token expired" once exp passes', async () => {
      // Start just after a second boundary: late in a second, exp (the next one) could pass before the connect completes.
      await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
      const exp = Math.floor(Date.now() / 1000) + 1;
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'alice', exp }) });
      const started = Date.now();
      expect(await client.closed()).toEqual({ code: 4401, reason: 'token expired' });
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    test('disconnectUser closes every connection of the user with 4403, and only theirs', async () => {
      const connections = app.app.get(WsAuthConnections);
      const alice1 = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }) });
      const alice2 = await connect(app.port, '/admin', { token: sign({ sub: 'alice' }) });
      const bob = await connect(app.port, '/chat', { token: sign({ sub: 'bob' }) });
      const closes = [alice1.closed(), alice2.closed()];
      expect(connections.disconnectUser('alice')).toBe(2);
      expect(await Promise.all(closes)).toEqual([
        { code: 4403, reason: 'revoked' },
        { code: 4403, reason: 'revoked' },
      ]);
      expect(connections.connectionsOf('alice')).toEqual([]);
      expect(await bob.request('whoami')).toEqual(PEOPLE.bob);
    });

    test('a handler can revoke its own user (custom code and reason)', async () => {
      const connections = app.app.get(WsAuthConnections);
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'bob' }) });
      const closed = client.closed();
      connections.disconnectUser('bob', { code: 4000, reason: 'bye' });
      expect(await closed).toEqual({ code: 4000, reason: 'bye' });
      await until(() => connections.count() === 0 || connections.connectionsOf('bob').length === 0);
    });

    test('refresh with a token of the same user moves the expiry', async () => {
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }, { expiresIn: 2 }) });
      const exp = Math.floor(Date.now() / 1000) + 120;
      expect(await client.refresh(sign({ sub: 'alice', exp }))).toEqual({ ok: true, exp });
      expect(await client.request('whoami')).toEqual(PEOPLE.alice);
    });

    test('refresh with another user\'s token closes with 4403', async () => {
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }) });
      const closed = client.closed();
      expect(await client.refresh(sign({ sub: 'bob' }))).toEqual({ ok: false, code: 4403, reason: 'token belongs to another user' });
      expect(await closed).toEqual({ code: 4403, reason: 'token belongs to another user' });
    });

    test('refresh with a bad token closes with 4401', async () => {
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }) });
      const closed = client.closed();
      expect(await client.refresh('not-a-jwt')).toEqual({ ok: false, code: 4401, reason: 'invalid token' });
      expect(await closed).toEqual({ code: 4401, reason: 'invalid token' });
    });

    test('a malformed refresh is answered, and the connection stays', async () => {
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }) });
      expect(await client.refresh('')).toEqual({ ok: false, message: 'auth:refresh needs data.token, a non-empty string' });
      expect(await client.request('whoami')).toEqual(PEOPLE.alice);
    });

    test('an anonymous client cannot refresh itself into a user', async () => {
      const client = await connect(app.port, '/lobby');
      expect(await client.refresh(sign({ sub: 'alice' }))).toEqual({
        ok: false,
        message: 'auth:refresh needs an authenticated connection',
      });
      expect(await client.request('whoami')).toBeNull();
    });
  });

  describe('deadline', () => {
    let app: TestApp;
    beforeAll(async () => {
      const never = new Promise<never>(() => {});
      const built = transportApp(transport, { handshakeTimeoutMs: 200, resolveUser: () => never });
      app = await startApp(built.module, { adapter: transport.adapter });
    });
    afterAll(() => app.close());

    test('authentication that never finishes is answered 503 at handshakeTimeoutMs', async () => {
      const started = Date.now();
      expect(await transport.refusal(app.port, '/chat', { token: sign({ sub: 'alice' }) })).toEqual({
        status: 503,
        message: 'Authentication timed out',
      });
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('a failing resolveUser', () => {
    let app: TestApp;
    beforeAll(async () => {
      const built = transportApp(transport, {
        resolveUser: () => {
          throw new Error(`database down`);
        },
      });
      app = await startApp(built.module, { adapter: transport.adapter });
    });
    afterAll(() => app.close());

    test('answers 500, logged once without the token', async () => {
      const token = sign({ sub: 'alice' });
      const before = app.logger.errors().length;
      expect(await transport.refusal(app.port, '/chat', { token })).toEqual({ status: 500, message: 'Authentication failed' });
      const logged = app.logger.errors().slice(before);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('database down');
      expect(logged.join('\n')).not.toContain(token);
    });
  });

  describe('session cookie (express-session + passport)', () => {
    let app: TestApp;
    beforeAll(async () => {
      resetAccounts();
      const { module, configure } = SessionAppModule.with(undefined, transport.name);
      app = await startApp(module, { configure, adapter: transport.adapter });
    });
    afterAll(() => app.close());

    const post = (path: string, body?: object, cookie?: string) => postForCookie(app.port, path, body, cookie);
    const withCookie = (cookie: string, origin = ALLOWED_ORIGIN) => ({ headers: { cookie, origin } });

    test('the user who logged in to the web app is client.user; nobody logged in is 401', async () => {
      const cookie = await post('/login', { id: 'alice' });
      const client = await connect(app.port, '/chat', withCookie(cookie));
      expect(await client.request('whoami')).toEqual({ id: 'alice', name: 'Alice' });
      expect(await transport.refusal(app.port, '/chat', withCookie(await post('/visit')))).toEqual({
        status: 401,
        message: 'Authentication required',
      });
    });

    test('a valid session cookie sent from another site is refused (Cross-Site WebSocket Hijacking)', async () => {
      const cookie = await post('/login', { id: 'alice' });
      expect((await transport.refusal(app.port, '/chat', withCookie(cookie, 'https://evil.example'))).status).toBe(403);
    });

    test("logging out of the web app closes that user's connections", async () => {
      const cookie = await post('/login', { id: 'bob' });
      const client = await connect(app.port, '/chat', withCookie(cookie));
      const closed = client.closed();
      await post('/logout', {}, cookie);
      expect(await closed).toEqual({ code: 4403, reason: 'logged out' });
      expect((await transport.refusal(app.port, '/chat', withCookie(cookie))).status).toBe(401);
    });
  });

  describe('revocation that sticks', () => {
    let app: TestApp;
    let connections: WsAuthConnections;
    /** Holds the authentication of user 'slow' open: `started` when it begins, until `released`. */
    let gate: { started: () => void; released: Promise<void> } | undefined;
    beforeAll(async () => {
      const built = transportApp(transport, {
        resolveUser: async (claims) => {
          if (gate && claims.sub === 'slow') {
            gate.started();
            await gate.released;
          }
          const sub = claims.sub ?? '';
          return sub.startsWith('slow') ? { id: sub, name: 'Slow', roles: [] } : (PEOPLE[sub] ?? null);
        },
      });
      app = await startApp(built.module, { adapter: transport.adapter });
      connections = app.app.get(WsAuthConnections);
    });
    afterAll(() => app.close());
    const now = () => Math.floor(Date.now() / 1000);

    test('revokeUser: open connections close 4403, the same token gets 401, a token issued afterwards connects', async () => {
      const token = sign({ sub: 'alice' });
      const client = await connect(app.port, '/chat', { token });
      const closed = client.closed();
      await connections.revokeUser('alice', { reason: 'banned' });
      expect(await closed).toEqual({ code: 4403, reason: 'banned' });
      expect(await transport.refusal(app.port, '/chat', { token })).toEqual({ status: 401, message: 'Token revoked' });
      const fresh = await connect(app.port, '/chat', { token: sign({ sub: 'alice', iat: now() + 1 }) });
      expect(await fresh.request('whoami')).toEqual(PEOPLE.alice);
    });

    test('revokeUser closes every open connection of the user, whatever its token\'s iat (an issuer whose clock runs ahead)', async () => {
      const ahead = await connect(app.port, '/chat', { token: sign({ sub: 'carol', iat: now() + 30 }) });
      const closed = ahead.closed();
      await connections.revokeUser('carol');
      expect(await closed).toEqual({ code: 4403, reason: 'revoked' });
      expect(connections.connectionsOf('carol')).toEqual([]);
    });

    test('ids are non-empty strings everywhere: undefined never acts on the user named "undefined"', async () => {
      const named = await connect(app.port, '/chat', { token: sign({ sub: 'slow-undefined' }) });
      const undefinedId = undefined as unknown as string;
      expect(() => connections.disconnectUser(undefinedId)).toThrow(new TypeError('disconnectUser: id must be a non-empty string; got undefined.'));
      await expect(connections.revokeUser(undefinedId)).rejects.toThrow(TypeError);
      await expect(connections.revokeUser('')).rejects.toThrow('revokeUser: id must be a non-empty string; got an empty string.');
      await expect(connections.revokeToken(12345 as unknown as string)).rejects.toThrow(/^revokeToken: jti must be a non-empty string; got number/);
      expect(() => connections.connectionsOf(null as unknown as string)).toThrow(TypeError);
      expect(await named.request('whoami')).toMatchObject({ id: 'slow-undefined' });
    });

    test('auth:refresh with a revoked token closes 4401', async () => {
      const revoked = sign({ sub: 'bob' });
      await connections.revokeUser('bob');
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'bob', iat: now() + 1 }) });
      const closed = client.closed();
      expect(await client.refresh(revoked)).toEqual({ ok: false, code: 4401, reason: 'token revoked' });
      expect(await closed).toEqual({ code: 4401, reason: 'token revoked' });
    });

    test('a timed ban refuses every credential of the user until then, even one issued later', async () => {
      await connections.revokeUser('slow-banned', { until: new Date(Date.now() + 60_000) });
      expect(await transport.refusal(app.port, '/chat', { token: sign({ sub: 'slow-banned', iat: now() + 5 }) })).toEqual({
        status: 401,
        message: 'Token revoked',
      });
    });

    test('revokeToken refuses that token only, and closes connections opened with it', async () => {
      const revoked = sign({ sub: 'alice', jti: 'token-1', iat: now() + 1 });
      const other = sign({ sub: 'alice', jti: 'token-2', iat: now() + 1 });
      const client = await connect(app.port, '/chat', { token: revoked });
      const survivor = await connect(app.port, '/chat', { token: other });
      const closed = client.closed();
      await connections.revokeToken('token-1');
      expect(await closed).toEqual({ code: 4401, reason: 'token revoked' });
      expect(await transport.refusal(app.port, '/chat', { token: revoked })).toEqual({ status: 401, message: 'Token revoked' });
      expect(await survivor.request('whoami')).toEqual(PEOPLE.alice);
    });

    test.each([
      ['disconnectUser', () => connections.disconnectUser('slow')],
      ['revokeUser', () => connections.revokeUser('slow')],
    ])('a handshake still authenticating when %s runs does not open', async (_what, act) => {
      let started!: () => void;
      const authenticating = new Promise<void>((resolve) => (started = resolve));
      let release!: () => void;
      gate = { started, released: new Promise<void>((resolve) => (release = resolve)) };
      const refused = transport.refusal(app.port, '/chat', { token: sign({ sub: 'slow', iat: now() + 10 }) });
      await authenticating;
      await act();
      release();
      gate = undefined;
      expect(await refused).toEqual({ status: 403, message: 'Disconnected while authenticating' });
      expect(connections.connectionsOf('slow')).toEqual([]);
    });
  });

  describe('once the library closes a connection', () => {
    let app: TestApp;
    let seen: Seen;
    beforeAll(async () => {
      const built = transportApp(transport, {
        resolveUser: async (claims) => {
          if (claims.slow) await sleep(200);
          const person = PEOPLE[claims.sub ?? ''];
          return person && claims.demoted ? { ...person, roles: [] } : (person ?? null);
        },
      });
      seen = built.seen;
      app = await startApp(built.module, { adapter: transport.adapter });
    });
    afterAll(() => app.close());
    afterEach(() => seen.held.release());

    const heldHandlers = () => seen.handlers.filter((handler) => handler.startsWith('held'));

    test('a refresh by a demoted admin on an admin gateway closes with 4403 "insufficient role"', async () => {
      const client = await connect(app.port, '/admin', { token: sign({ sub: 'alice' }) });
      const closed = client.closed();
      expect(await client.refresh(sign({ sub: 'alice', demoted: true }))).toEqual({
        ok: false,
        code: 4403,
        reason: 'insufficient role',
      });
      expect(await closed).toEqual({ code: 4403, reason: 'insufficient role' });
    });

    test('no handler starts for messages waiting behind an async guard or pipe when the user is revoked', async () => {
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'bob' }) });
      const closed = client.closed();
      for (let index = 0; index < 5; index += 1) {
        client.send('held-guard');
        client.send('held-pipe', { index });
        client.send('held-mixin'); // a handler copied onto the gateway after @WsAuthGateway ran
      }
      await until(() => seen.held.waiting === 15);
      app.app.get(WsAuthConnections).disconnectUser('bob');
      expect(await closed).toEqual({ code: 4403, reason: 'revoked' });
      const passed = seen.held.passed;
      seen.held.release();
      // Every message got through the guard or pipe; a handler would run before the next macrotask.
      await until(() => seen.held.passed === passed + 15);
      await new Promise((resolve) => setImmediate(resolve));
      expect(heldHandlers()).toEqual([]);
    });

    test('no handler starts for messages sent right after an auth:refresh that fails', async () => {
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'bob' }) });
      const closed = client.closed();
      const refreshed = client.refresh(sign({ sub: 'alice', slow: true }));
      for (let index = 0; index < 5; index += 1) client.send('held-guard');
      await until(() => seen.held.waiting === 5);
      expect(await refreshed).toEqual({ ok: false, code: 4403, reason: 'token belongs to another user' });
      expect(await closed).toEqual({ code: 4403, reason: 'token belongs to another user' });
      const passed = seen.held.passed;
      seen.held.release();
      await until(() => seen.held.passed === passed + 5);
      await new Promise((resolve) => setImmediate(resolve));
      expect(heldHandlers()).toEqual([]);
    });

    test('messages of open connections still reach handlers behind the same guard', async () => {
      seen.handlers.length = 0;
      const client = await connect(app.port, '/chat', { token: sign({ sub: 'bob' }) });
      const answer = client.request('held-guard', {}, 'held');
      await until(() => seen.held.waiting === 1);
      seen.held.release();
      expect(await answer).toBe(true);
      expect(heldHandlers()).toEqual(['held-guard']);
    });
  });

  describe('a rolesOf that returns a string', () => {
    let app: TestApp;
    beforeAll(async () => {
      const built = transportApp(transport, { rolesOf: ((user: Person) => user.role) as never });
      app = await startApp(built.module, { adapter: transport.adapter });
    });
    afterAll(() => app.close());

    test("refuses, never matches part of a name: 'sysadmin' is not 'admin' (403 at the handshake, @WsRoles refuses)", async () => {
      const before = app.logger.errors().length;
      expect(await transport.refusal(app.port, '/admin', { token: sign({ sub: 'carol' }) })).toEqual({
        status: 403,
        message: 'Insufficient role',
      });
      expect((await transport.refusal(app.port, '/admin', { token: sign({ sub: 'alice' }) })).status).toBe(403);
      const carol = await connect(app.port, '/chat', { token: sign({ sub: 'carol' }) });
      expect(await carol.request('purge', {}, 'exception')).toMatchObject({ message: 'Forbidden resource' });
      const logged = app.logger.errors().slice(before);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('the rolesOf option returned a string, not an array of role names');
    });
  });

  describe('failedHandshakes', () => {
    let app: TestApp;
    let resolved = 0;
    const clock = { now: 1_800_000_000_000 };
    beforeAll(async () => {
      const built = transportApp(transport, {
        failedHandshakes: { limit: 3, windowSeconds: 60 },
        trustProxy: true,
        resolveUser: (claims) => {
          resolved += 1;
          return PEOPLE[claims.sub ?? ''] ?? null;
        },
      });
      app = await startApp(built.module, { adapter: transport.adapter });
      const limiter = app.app.get(FailedHandshakesLimiter) as unknown as { now: () => number };
      limiter.now = () => clock.now;
    });
    afterAll(() => app.close());

    const from = (address: string) => ({ 'x-forwarded-for': `10.0.0.1, ${address}` });

    test('after limit refusals the next attempt gets 429 with Retry-After before any strategy runs; served again after it', async () => {
      const headers = from('203.0.113.7');
      for (let attempt = 0; attempt < 3; attempt += 1) {
        expect((await transport.refusal(app.port, '/chat', { token: sign({ sub: 'mallory' }), headers })).status).toBe(401);
      }
      const before = resolved;
      expect(await transport.refusal(app.port, '/chat', { token: sign({ sub: 'alice' }), headers })).toEqual({
        status: 429,
        message: 'Too many failed handshakes',
        retryAfter: 60,
      });
      expect(resolved).toBe(before);
      clock.now += 45_000;
      expect((await transport.refusal(app.port, '/chat', { token: sign({ sub: 'alice' }), headers })).retryAfter).toBe(15);
      // Another address is served as usual meanwhile.
      await connect(app.port, '/chat', { token: sign({ sub: 'alice' }), headers: from('203.0.113.8') });
      clock.now += 15_000;
      const alice = await connect(app.port, '/chat', { token: sign({ sub: 'alice' }), headers });
      expect(await alice.request('whoami')).toEqual(PEOPLE.alice);
    });

    if (transport.name === 'ws') {
      test('ws: a locked address is answered 429 before ws validates the upgrade (a request ws itself would answer 400)', async () => {
        const headers = from('203.0.113.50');
        for (let attempt = 0; attempt < 3; attempt += 1) {
          expect((await transport.refusal(app.port, '/chat', { token: sign({ sub: 'mallory' }), headers })).status).toBe(401);
        }
        const before = resolved;
        // No Sec-WebSocket-Key: ws refuses such a request with 400 before it asks verifyClient anything.
        const request = upgradeRequest('/chat', headers).replace(/Sec-WebSocket-Key: [^\r]*\r\n/, '');
        const answer = await rawRequest(app.port, request);
        expect(answer.status).toBe(429);
        expect(answer.headers['retry-after']).toBe('60');
        expect(JSON.parse(answer.body)).toEqual({ statusCode: 429, message: 'Too many failed handshakes', error: 'Too Many Requests' });
        expect(resolved).toBe(before);
        // Another address with the same malformed request still gets ws's own answer.
        expect((await rawRequest(app.port, request.replace('203.0.113.50', '203.0.113.51'))).status).toBe(400);
      });
    }

    test('403s count, 400s and successes do not; the limit+1-th refusal is the first 429', async () => {
      const headers = from('198.51.100.1');
      await connect(app.port, '/chat', { token: sign({ sub: 'alice' }), headers });
      expect((await transport.refusal(app.port, '/admin', { token: sign({ sub: 'bob' }), headers })).status).toBe(403);
      expect((await transport.refusal(app.port, '/chat', { token: sign({ sub: 'nobody' }), headers })).status).toBe(401);
      await connect(app.port, '/chat', { token: sign({ sub: 'alice' }), headers });
      expect((await transport.refusal(app.port, '/chat', { token: 'not-a-jwt', headers })).status).toBe(401);
      expect((await transport.refusal(app.port, '/chat', { token: sign({ sub: 'alice' }), headers })).status).toBe(429);
    });

    test('without a trusted proxy, X-Forwarded-For does not pick the address', async () => {
      await withLimitedApp(async (port) => {
        for (let attempt = 0; attempt < 2; attempt += 1) {
          const headers = { 'x-forwarded-for': `192.0.2.${attempt}` };
          expect((await transport.refusal(port, '/chat', { token: 'forged', headers })).status).toBe(401);
        }
        expect((await transport.refusal(port, '/chat', { token: sign({ sub: 'alice' }), headers: { 'x-forwarded-for': '192.0.2.9' } })).status).toBe(429);
      });
    });

    test('concurrent guesses: at most limit strategy runs are in flight or failed; the rest get 429 before any runs', async () => {
      let runs = 0;
      const built = transportApp(transport, {
        failedHandshakes: { limit: 5 },
        resolveUser: async () => {
          runs += 1;
          await new Promise((resolve) => setTimeout(resolve, 40));
          return null; // an unknown user: 401
        },
      });
      const limited = await startApp(built.module, { adapter: transport.adapter });
      try {
        const answers = await Promise.all(
          Array.from({ length: 60 }, (_, index) => transport.refusal(limited.port, '/chat', { token: sign({ sub: `guess-${index}` }) })),
        );
        const statuses = answers.map(({ status }) => status);
        expect(statuses.filter((status) => status === 401)).toHaveLength(5);
        expect(statuses.filter((status) => status === 429)).toHaveLength(55);
        expect(runs).toBe(5);
        expect(await transport.refusal(limited.port, '/chat', { token: sign({ sub: 'alice' }) })).toMatchObject({ status: 429, retryAfter: 60 });
      } finally {
        await limited.close();
      }
    });

    test('a strategy slower than handshakeTimeoutMs holds its place until it ends; its late 401 counts', async () => {
      let runs = 0;
      let finished = 0;
      const built = transportApp(transport, {
        failedHandshakes: { limit: 2 },
        handshakeTimeoutMs: 100,
        resolveUser: async () => {
          runs += 1;
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished += 1;
          return null;
        },
      });
      const limited = await startApp(built.module, { adapter: transport.adapter });
      try {
        const first = await Promise.all(
          Array.from({ length: 4 }, (_, index) => transport.refusal(limited.port, '/chat', { token: sign({ sub: `slow-${index}` }) })),
        );
        expect(first.map(({ status }) => status).sort()).toEqual([429, 429, 503, 503]);
        // The two 503s came at the deadline; their strategies still run and still count.
        expect((await transport.refusal(limited.port, '/chat', { token: sign({ sub: 'slow-4' }) })).status).toBe(429);
        await until(() => finished === 2);
        expect(runs).toBe(2);
        expect(await transport.refusal(limited.port, '/chat', { token: sign({ sub: 'slow-5' }) })).toMatchObject({ status: 429, retryAfter: 60 });
      } finally {
        limited.logger.lines.length = 0;
        await limited.close();
      }
    });

    async function withLimitedApp(use: (port: number) => Promise<void>): Promise<void> {
      const built = transportApp(transport, { failedHandshakes: { limit: 2 } });
      const limited = await startApp(built.module, { adapter: transport.adapter });
      try {
        await use(limited.port);
      } finally {
        await limited.close();
      }
    }
  });
});
