import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { DynamicModule, INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { WsAuthConnections, WsAuthEvents, type WsAuthEventMap, type WsAuthEventName } from '../../src/index.js';
import { WsAuthAdapter } from '../../src/ws/index.js';
import { type GraphQLAppOptions, type GraphQLSeen, graphqlApp, MEMBERS } from '../apps/graphql.app.js';
import { Registry } from 'prom-client';
import { type GqlConnection, gqlConnect, rawGraphqlSocket } from '../helpers/graphql-client.js';
import { logger } from '../helpers/test-app.js';
import { jwtOptions, sign } from '../helpers/tokens.js';
import session from 'express-session';
import passport from 'passport';
import { WsAuthTesting } from '../../src/testing/index.js';
import { until } from '../helpers/wait.js';
import { closed as wsClosed, connect as wsConnect, request as wsRequest } from '../helpers/ws-client.js';

interface Started {
  readonly app: INestApplication;
  readonly port: number;
  readonly seen: GraphQLSeen;
}

/** The GraphQL app on a free loopback port; `adapter`: a WebSocket adapter (none by default: no gateway needs one). */
async function start(options: GraphQLAppOptions = {}, adapter?: (app: INestApplication) => WsAuthAdapter): Promise<Started> {
  const { module, seen } = graphqlApp(options);
  const app = await NestFactory.create(module as DynamicModule, { logger: logger as LoggerService, abortOnError: false });
  if (adapter) app.useWebSocketAdapter(adapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port, seen };
}

const bearer = (sub: string, options?: Parameters<typeof sign>[1]) => `Bearer ${sign({ sub }, options)}`;

const open: GqlConnection[] = [];
function connect(port: number, options: Parameters<typeof gqlConnect>[1] = {}): GqlConnection {
  const connection = gqlConnect(port, options);
  open.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.dispose()));
});

/** A subscription's first event. */
async function first(connection: GqlConnection, query: string) {
  return connection.subscribe(query).take();
}

describe('GraphQL subscriptions over graphql-ws (Apollo)', () => {
  let started: Started;
  beforeAll(async () => {
    started = await start({ module: { allowedOrigins: ['https://app.example'] } });
  });
  afterAll(() => started.app.close());

  test.each([
    ['the Authorization header of the upgrade', (token: string) => ({ headers: { authorization: token } })],
    ["connectionParams' authorization", (token: string) => ({ connectionParams: { authorization: token } })],
    ["connectionParams' token", (token: string) => ({ connectionParams: { token: token.slice('Bearer '.length) } })],
  ])('credentials in %s: acknowledged; the app’s own onConnect runs after, with the user', async (_where, place) => {
    const hooks = started.seen.hooks.length;
    const connection = connect(started.port, place(bearer('alice')));
    await connection.acknowledged;
    expect(started.seen.hooks.slice(hooks)).toEqual(['onConnect alice']);
    expect(await first(connection, 'subscription { whoami }')).toEqual({ kind: 'next', data: { whoami: 'alice' } });
  });

  test.each([
    ['no credentials', {}, 'Authentication required'],
    ['a forged token', { connectionParams: { token: sign({ sub: 'alice' }, {}, 'another-secret-0123456789abcdef-0123') } }, 'Invalid token'],
    ['an expired token', { connectionParams: { token: sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }) } }, 'Token expired'],
    ['an unknown user', { connectionParams: { authorization: bearer('mallory') } }, 'Unknown user'],
    ['another scheme in connectionParams (kept as it is)', { connectionParams: { authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' } }, 'Invalid credentials'],
    ['another site', { headers: { origin: 'https://evil.example', authorization: bearer('alice') } }, 'Origin not allowed'],
  ])('%s: closed 4403 with the reason, before the ack; no onConnect of the app, no resolver', async (_case, options, reason) => {
    const before = { hooks: started.seen.hooks.length, resolved: started.seen.resolved.length };
    const connection = connect(started.port, options);
    const subscription = connection.subscribe('subscription { ticks }');
    expect(await connection.closed).toEqual({ code: 4403, reason });
    await expect(connection.acknowledged).rejects.toEqual({ code: 4403, reason });
    expect((await subscription.take()).kind).toBe('error');
    expect(started.seen.hooks.length).toBe(before.hooks);
    expect(started.seen.resolved.length).toBe(before.resolved);
  });

  test('a token sent twice (upgrade header and connectionParams, or authorization and token): 4400', async () => {
    const connection = connect(started.port, { headers: { authorization: bearer('alice') }, connectionParams: { token: sign({ sub: 'alice' }) } });
    expect(await connection.closed).toEqual({ code: 4400, reason: 'Send the token in one place only: header, subprotocol, query or auth.' });
    const twice = connect(started.port, { connectionParams: { authorization: bearer('alice'), token: sign({ sub: 'alice' }) } });
    expect(await twice.closed).toEqual({ code: 4400, reason: 'Send the token in one place only: header, subprotocol, query or connectionParams.' });
    const notString = connect(started.port, { connectionParams: { token: 42 } });
    expect(await notString.closed).toEqual({ code: 4400, reason: 'connectionParams.authorization and connectionParams.token must be strings.' });
  });

  test('a subscribe sent right behind a refused connection_init, or before any: never reaches a resolver', async () => {
    const before = started.seen.resolved.length;
    const raw = await rawGraphqlSocket(started.port);
    raw.send({ type: 'connection_init', payload: { token: 'not-a-jwt' } });
    raw.send({ id: '1', type: 'subscribe', payload: { query: 'subscription { ticks }' } });
    expect(await raw.closed).toEqual({ code: 4403, reason: 'Invalid token' });
    const early = await rawGraphqlSocket(started.port);
    early.send({ id: '1', type: 'subscribe', payload: { query: 'subscription { ticks }' } });
    expect(await early.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
    expect([...raw.messages, ...early.messages]).toEqual([]);
    expect(started.seen.resolved.length).toBe(before);
  });

  test('the user in resolvers: context.req.user, @WsUser, and the app’s own context keys kept', async () => {
    const connection = connect(started.port, { connectionParams: { authorization: bearer('bob') } });
    expect(await first(connection, 'subscription { whoami }')).toEqual({ kind: 'next', data: { whoami: 'bob' } });
    expect(await first(connection, 'subscription { contextKeys }')).toEqual({ kind: 'next', data: { contextKeys: ['app', 'req'] } });
    const ticks = connection.subscribe('subscription { ticks }');
    await until(() => started.seen.resolved.includes('ticks bob'));
    started.seen.ticks.publish(7);
    expect(await ticks.take()).toEqual({ kind: 'next', data: { ticks: 7 } });
  });

  test('@WsRoles and a GqlExecutionContext guard on a @Subscription see the connection’s user', async () => {
    const bob = connect(started.port, { connectionParams: { authorization: bearer('bob') } });
    const alice = connect(started.port, { connectionParams: { authorization: bearer('alice') } });
    for (const field of ['admin', 'guarded']) {
      const refused = await first(bob, `subscription { ${field} }`);
      expect(refused).toMatchObject({ kind: 'next', data: { errors: [{ message: 'Forbidden resource' }] } }); // a guard's refusal: a result with errors
      expect(await first(alice, `subscription { ${field} }`)).toEqual({ kind: 'next', data: { [field]: 'alice' } });
    }
    expect(started.seen.resolved).not.toContain('admin bob');
    expect(started.seen.resolved).not.toContain('guarded bob');
  });

  test("the app's unmodified AuthGuard('app-jwt') over context.req works for a token sent in connectionParams", async () => {
    const connection = connect(started.port, { connectionParams: { token: sign({ sub: 'alice' }) } });
    expect(await first(connection, 'subscription { jwtGuarded }')).toEqual({ kind: 'next', data: { jwtGuarded: 'alice' } });
  });

  test('isWsAuthClient / wsAuthUserId: true and the user id for a graphql-ws operation, not for an HTTP query', async () => {
    const before = started.seen.probes.length;
    const connection = connect(started.port, { connectionParams: { authorization: bearer('alice') } });
    connection.subscribe('subscription { ticks }');
    await until(() => started.seen.probes.length > before);
    const response = await fetch(`http://127.0.0.1:${started.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: bearer('alice') },
      body: JSON.stringify({ query: '{ probed }' }),
    });
    expect(await response.json()).toEqual({ data: { probed: 'ok' } });
    expect(started.seen.probes.slice(before)).toEqual([
      { field: 'ticks', client: true, userId: 'alice' },
      { field: 'probed', client: false, userId: undefined },
    ]);
  });

  test('HTTP queries are unchanged: context.req is the HTTP request, with no user the library set', async () => {
    const response = await fetch(`http://127.0.0.1:${started.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: bearer('alice') },
      body: JSON.stringify({ query: '{ me }' }),
    });
    expect(await response.json()).toEqual({ data: { me: 'anonymous' } });
  });

  test('disconnectUser and revokeUser close the user’s graphql-ws sockets with 4403; revokeToken with 4401', async () => {
    const connections = started.app.get(WsAuthConnections);
    const token = sign({ sub: 'bob', jti: 'bob-1' });
    const first = connect(started.port, { connectionParams: { token } });
    await first.acknowledged;
    expect(connections.connectionsOf('bob')).toHaveLength(1);
    expect(connections.disconnectUser('bob')).toBe(1);
    expect(await first.closed).toEqual({ code: 4403, reason: 'revoked' });

    const second = connect(started.port, { connectionParams: { token } });
    await second.acknowledged;
    await connections.revokeToken('bob-1');
    expect(await second.closed).toEqual({ code: 4401, reason: 'token revoked' });

    const third = connect(started.port, { connectionParams: { authorization: bearer('bob') } });
    await third.acknowledged;
    await connections.revokeUser('bob', { until: new Date(Date.now() + 60_000) });
    expect(await third.closed).toEqual({ code: 4403, reason: 'revoked' });
    expect((await connect(started.port, { connectionParams: { authorization: bearer('bob') } }).closed).code).toBe(4403);
  });
});

describe('limits and deadlines', () => {
  let started: Started;
  beforeAll(async () => {
    started = await start({
      module: {
        maxConnectionsPerUser: 1,
        handshakeTimeoutMs: 300,
        failedHandshakes: { limit: 2, windowSeconds: 60 },
      },
    });
  });
  afterAll(() => started.app.close());

  test('maxConnectionsPerUser: the next connection closes 4429; the place comes back on close', async () => {
    const first = connect(started.port, { connectionParams: { authorization: bearer('alice') } });
    await first.acknowledged;
    const second = connect(started.port, { connectionParams: { authorization: bearer('alice') } });
    expect(await second.closed).toEqual({ code: 4429, reason: 'Too many connections (at most 1 per user)' });
    await first.dispose();
    await until(() => started.app.get(WsAuthConnections).connectionsOf('alice').length === 0);
    await connect(started.port, { connectionParams: { authorization: bearer('alice') } }).acknowledged;
  });

  test('no connection_init within handshakeTimeoutMs: 4408', async () => {
    const raw = await rawGraphqlSocket(started.port);
    const opened = Date.now();
    expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
    expect(Date.now() - opened).toBeLessThan(2000); // handshakeTimeoutMs, not graphql-ws' default 3 s
  });

  test('failedHandshakes: past the limit, the address gets 4429 before any strategy runs', async () => {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect((await connect(started.port, { connectionParams: { token: 'not-a-jwt' } }).closed).code).toBe(4403);
    }
    expect(await connect(started.port, { connectionParams: { authorization: bearer('bob') } }).closed).toEqual({
      code: 4429,
      reason: expect.stringMatching(/^Too many failed handshakes; retry after \d+ s$/),
    });
  });
});

describe('events, metrics and redaction', () => {
  let started: Started;
  const registry = new Registry();
  const secretOf = (token: string) => token.slice(-20);
  beforeAll(async () => {
    started = await start({
      module: {
        events: true,
        metrics: { registry },
        handshakeTimeoutMs: 300,
        // 'slow': a user store that never answers
        resolveUser: (claims) => (claims.sub === 'slow' ? new Promise(() => {}) : (MEMBERS[claims.sub as string] ?? null)),
      },
      context: (ctx: { connectionParams?: { token?: string } }) => {
        const token = ctx.connectionParams?.token;
        if (token !== undefined && ctx.connectionParams && 'dave' in ctx.connectionParams) throw new Error(`no profile for ${token}`);
        return {};
      },
      hooks: {
        onConnect: (ctx) => {
          const { token } = (ctx.connectionParams ?? {}) as { token?: string };
          if (token?.includes('.')) {
            const { sub } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string };
            if (sub === 'bob') throw new Error(`profile store down for token ${token}`);
            if (sub === 'carol') return false;
          }
          return undefined;
        },
      },
    });
  });
  afterAll(() => started.app.close());

  test("events carry transport 'graphql-ws'", async () => {
    const events: Array<[WsAuthEventName, unknown]> = [];
    const service = started.app.get(WsAuthEvents);
    const names: WsAuthEventName[] = ['ws-auth.connected', 'ws-auth.refused', 'ws-auth.revoked'];
    const stops = names.map((name) => service.on(name, (event: WsAuthEventMap[typeof name]) => events.push([name, event])));
    const alice = connect(started.port, { connectionParams: { authorization: bearer('alice') } });
    await alice.acknowledged;
    await connect(started.port, {}).closed;
    started.app.get(WsAuthConnections).disconnectUser('alice');
    await alice.closed;
    stops.forEach((stop) => stop());
    expect(await registry.metrics()).toContain('ws_auth_connections{gateway="GraphQLSubscriptions",transport="graphql-ws"} 0');
    expect(await registry.metrics()).toContain('ws_auth_handshakes_total{gateway="GraphQLSubscriptions",outcome="accepted"} 1');
    expect(events).toEqual([
      ['ws-auth.connected', { gateway: 'GraphQLSubscriptions', userId: 'alice', transport: 'graphql-ws' }],
      ['ws-auth.refused', expect.objectContaining({ gateway: 'GraphQLSubscriptions', status: 401, reason: 'Authentication required', transport: 'graphql-ws' })],
      ['ws-auth.revoked', { gateway: 'GraphQLSubscriptions', userId: 'alice', transport: 'graphql-ws', code: 4403, reason: 'revoked' }],
    ]);
  });

  test('authentication outlasting handshakeTimeoutMs: 4503 (the graphql-ws client retries it), one warning', async () => {
    const warnings = logger.lines.filter((line) => line.startsWith('warn')).length;
    expect(await connect(started.port, { connectionParams: { token: sign({ sub: 'slow' }) } }).closed).toEqual({
      code: 4503,
      reason: 'Authentication timed out',
    });
    expect(logger.lines.filter((line) => line.startsWith('warn')).slice(warnings)).toEqual([
      expect.stringContaining('GraphQLSubscriptions: authentication took longer than handshakeTimeoutMs (300 ms); answered 503.'),
    ]);
  });

  test('a context factory that throws with a credential: 4500 without it, one redacted log line, graphql-ws prints none', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const token = sign({ sub: 'alice' });
      const connection = connect(started.port, { connectionParams: { token, dave: true } });
      await connection.acknowledged;
      const errors = logger.errors().length;
      connection.subscribe('subscription { whoami }');
      expect(await connection.closed).toEqual({ code: 4500, reason: 'Internal server error' });
      const logged = logger.errors().slice(errors);
      expect(logged).toEqual([expect.stringContaining('GraphQLSubscriptions: the context factory failed; closed 4500. Error: no profile for')]);
      expect(logged[0]).not.toContain(secretOf(token));
      expect(JSON.stringify(printed.mock.calls.map((call) => call.map(String)))).not.toContain(secretOf(token));
    } finally {
      printed.mockRestore();
    }
  });

  test("the app's onConnect returning false refuses with 4403 'Forbidden'; the connection is not counted", async () => {
    const connection = connect(started.port, { connectionParams: { token: sign({ sub: 'carol' }) } });
    expect(await connection.closed).toEqual({ code: 4403, reason: 'Forbidden' });
    await until(() => started.app.get(WsAuthConnections).connectionsOf('carol').length === 0);
  });

  test('an onConnect hook that throws with a credential: 4500 without it, one redacted log line, nothing on console.error', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const token = sign({ sub: 'bob' });
      const errors = logger.errors().length;
      const connection = connect(started.port, { connectionParams: { token } });
      expect(await connection.closed).toEqual({ code: 4500, reason: 'Internal server error' });
      const logged = logger.errors().slice(errors);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('GraphQLSubscriptions: onConnect failed; closed 4500. Error: profile store down for token');
      expect(logged[0]).not.toContain(secretOf(token));
      expect(logged[0]).not.toMatch(/\n\s+at /); // no stack
      expect(printed).not.toHaveBeenCalled();
      expect(started.app.get(WsAuthConnections).connectionsOf('bob')).toEqual([]);
    } finally {
      printed.mockRestore();
    }
  });
});

describe("graphqlWs(hooks, auth): a gateway's auth options for the subscription server", () => {
  let started: Started;
  beforeAll(async () => {
    started = await start({ auth: { strategies: ['app-jwt'], roles: ['admin'] } });
  });
  afterAll(() => started.app.close());

  test("the app's own passport strategy by name reads a connectionParams token; roles are checked at connection_init", async () => {
    const alice = connect(started.port, { connectionParams: { token: sign({ sub: 'alice' }) } });
    expect(await first(alice, 'subscription { whoami }')).toEqual({ kind: 'next', data: { whoami: 'alice' } });
    expect(await connect(started.port, { connectionParams: { token: sign({ sub: 'bob' }) } }).closed).toEqual({ code: 4403, reason: 'Insufficient role' });
  });
});

describe('credentials of the upgrade: a JWT cookie, a session cookie (through the kit)', () => {
  const sessionMiddleware = session({ secret: 'test-session-secret', resave: false, saveUninitialized: false });
  let kit: WsAuthTesting;
  beforeAll(async () => {
    const { module } = graphqlApp({
      module: {
        strategies: ['session', 'jwt'],
        session: sessionMiddleware,
        jwt: { ...jwtOptions, cookie: 'access_token' },
        allowedOrigins: ['https://app.example'],
      },
    });
    kit = await WsAuthTesting.start(module, {
      transport: 'graphql-ws',
      logger,
      configure: (app) => {
        app.use(sessionMiddleware);
        app.use(passport.session());
      },
    });
  });
  afterAll(() => kit.close());

  test('the session of the web app: the logged-in member is context.req.user', async () => {
    const alice = await kit.connectAs(MEMBERS.alice!, '/graphql', { via: 'session', headers: { origin: 'https://app.example' } });
    await alice.subscribe('subscription { whoami }').expectNext({ whoami: 'alice' });
  });

  test('a JWT cookie; from another site it is refused 4403', async () => {
    const bob = await kit.connectAs(MEMBERS.bob!, '/graphql', { via: 'cookie', headers: { origin: 'https://app.example' } });
    await bob.subscribe('subscription { whoami }').expectNext({ whoami: 'bob' });
    expect(await kit.expectRefused('/graphql', { as: MEMBERS.bob!, via: 'cookie', headers: { origin: 'https://evil.example' } }, 4403)).toEqual({
      status: 4403,
      message: 'Origin not allowed',
    });
  });
});

describe('a ws gateway and GraphQL subscriptions on one port (WsAuthAdapter)', () => {
  let started: Started;
  beforeAll(async () => {
    started = await start({ withGateway: true }, (app) => new WsAuthAdapter(app));
  });
  afterAll(() => started.app.close());

  test('both are served: the gateway at /chat, graphql-ws at /graphql', async () => {
    const chat = await wsConnect(`ws://127.0.0.1:${started.port}/chat`, [], { headers: { authorization: bearer('alice') } });
    expect((await wsRequest(chat, 'whoami')).data).toBe('alice');
    const connection = connect(started.port, { connectionParams: { authorization: bearer('bob') } });
    expect(await first(connection, 'subscription { whoami }')).toEqual({ kind: 'next', data: { whoami: 'bob' } });
    const closing = wsClosed(chat);
    chat.close();
    await closing;
  });
});
