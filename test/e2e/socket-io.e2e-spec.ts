import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { Module } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { WebSocket } from 'ws';
import { io, Manager, type Socket as IoClient } from 'socket.io-client';
import { WsAuthConfigurationError, WsAuthConnections, WsAuthGateway, WsAuthModule } from '../../src/index.js';
import { PEOPLE, type Seen, transportApp } from '../apps/transport.app.js';
import { startApp, type TestApp } from '../helpers/test-app.js';
import { jwtOptions, sign } from '../helpers/tokens.js';
import { IO_TRANSPORT, ioConnect, ioOptions, ioTestClient } from '../helpers/transports.js';
import { until } from '../helpers/wait.js';

/** What only Socket.IO has: connect_error, reconnection, multiplexed namespaces, polling, acks. */
describe('Socket.IO specifics', () => {
  let app: TestApp;
  let seen: Seen;
  let url: (namespace: string) => string;
  /** Holds the authentication of user 'slow' open: `started` when it begins, until `released`. */
  let gate: { started: () => void; released: Promise<void> } | undefined;
  const sockets: IoClient[] = [];
  const track = (socket: IoClient) => (sockets.push(socket), socket);

  beforeAll(async () => {
    const built = transportApp(IO_TRANSPORT, {
      allowedOrigins: ['https://chat.example'],
      // A test may hold authentication open (gate) to act while a handshake is in flight.
      resolveUser: async (claims) => {
        if (gate && claims.sub === 'slow') {
          gate.started();
          await gate.released;
        }
        return PEOPLE[claims.sub ?? ''] ?? (claims.sub === 'slow' ? { id: 'slow', name: 'Slow', roles: [] } : null);
      },
    });
    seen = built.seen;
    app = await startApp(built.module, { adapter: IO_TRANSPORT.adapter });
    url = (namespace) => `http://127.0.0.1:${app.port}${namespace}`;
  });
  afterAll(() => app.close());
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  test('a refused client gets connect_error with { status, message } and is not reconnected', async () => {
    const socket = track(io(url('/chat'), { ...ioOptions({ token: 'not-a-jwt' }), reconnection: true }));
    const error = await new Promise<Error & { data?: unknown }>((resolve) => socket.once('connect_error', resolve));
    expect(error.message).toBe('Invalid token');
    expect(error.data).toEqual({ status: 401, message: 'Invalid token' });
    expect(socket.active).toBe(false);
  });

  test('a revoked client is disconnected by the server and does not reconnect', async () => {
    const socket = track(await ioConnect(url('/chat'), { ...ioOptions({ token: sign({ sub: 'bob' }) }), reconnection: true }));
    const closed = ioTestClient(socket).closed();
    app.app.get(WsAuthConnections).disconnectUser('bob');
    expect(await closed).toEqual({ code: 4403, reason: 'revoked' });
    expect(socket.active).toBe(false);
    expect(app.app.get(WsAuthConnections).connectionsOf('bob')).toEqual([]);
  });

  test('packets sent before the namespace connect completes never reach a handler', async () => {
    let started!: () => void;
    const authenticating = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    gate = { started, released };
    const handlers = seen.handlers.length;
    const connections = seen.connections.length;
    const raw = new WebSocket(`ws://127.0.0.1:${app.port}/socket.io/?EIO=4&transport=websocket`);
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    await new Promise<void>((resolve) => raw.once('message', () => resolve())); // engine.io's open packet
    raw.send(`40/chat,${JSON.stringify({ token: sign({ sub: 'slow' }) })}`);
    await authenticating;
    raw.send('42/chat,["whoami",{}]');
    await closed; // Socket.IO closes a client that sends events to a namespace it has not joined
    release();
    gate = undefined;
    expect(seen.handlers.length).toBe(handlers);
    expect(seen.connections.length).toBe(connections);
    expect(app.app.get(WsAuthConnections).connectionsOf('slow')).toEqual([]);
  });

  test('polling transport: authenticated, and the origin allow-list holds there too', async () => {
    const token = sign({ sub: 'alice' });
    const polling = track(await ioConnect(url('/chat'), ioOptions({ token }, { transports: ['polling'] })));
    expect(await ioTestClient(polling).request('whoami')).toEqual(PEOPLE.alice);
    const refused = await ioConnect(url('/chat'), ioOptions({ token, headers: { origin: 'https://evil.example' } }, { transports: ['polling'] })).catch(
      (error: { data?: unknown }) => error.data,
    );
    expect(refused).toEqual({ status: 403, message: 'Origin not allowed' });
  });

  test('a token in the query string works, as for ws', async () => {
    const socket = track(await ioConnect(url('/chat'), ioOptions({}, { query: { token: sign({ sub: 'alice' }) } })));
    expect(await ioTestClient(socket).request('whoami')).toEqual(PEOPLE.alice);
  });

  test('one connection, two namespaces: each is judged on its own auth payload', async () => {
    const manager = new Manager(url(''), { transports: ['websocket'], reconnection: false });
    const lobby = track(manager.socket('/lobby', {}));
    await new Promise<void>((resolve) => lobby.once('connect', () => resolve()));
    const chat = track(manager.socket('/chat', { auth: { token: 'not-a-jwt' } }));
    const error = await new Promise<{ data?: unknown }>((resolve) => chat.once('connect_error', resolve));
    expect(error.data).toEqual({ status: 401, message: 'Invalid token' });
    expect(await ioTestClient(lobby).request('whoami')).toBeNull();
  });

  test('@WebSocketServer() of a guarded gateway is its namespace', async () => {
    const socket = track(await ioConnect(url('/chat'), ioOptions({ token: sign({ sub: 'alice' }) })));
    expect(await ioTestClient(socket).request('server')).toEqual({ kind: 'Namespace', name: '/chat' });
  });

  test('client.data.user is set as well as client.user', async () => {
    const socket = track(await ioConnect(url('/chat'), ioOptions({ token: sign({ sub: 'alice' }) })));
    const [server] = app.app.get(WsAuthConnections).connectionsOf<{ id: string; data: { user: unknown } }>('alice');
    expect(server!.data.user).toEqual(PEOPLE.alice);
    socket.close();
  });

  test('a message @WsRoles refuses answers its acknowledgement with the exception; the exception event still comes', async () => {
    const bob = track(await ioConnect(url('/chat'), ioOptions({ token: sign({ sub: 'bob' }) })));
    const exception = new Promise((resolve) => bob.once('exception', resolve));
    // No timeout: without the answer, this would wait forever.
    const answers = await Promise.all([bob.emitWithAck('purge', {}), bob.emitWithAck('purge', { again: true })]);
    expect(answers).toMatchObject([
      { status: 'error', message: 'Forbidden resource', cause: { pattern: 'purge', data: {} } },
      { status: 'error', message: 'Forbidden resource', cause: { pattern: 'purge', data: { again: true } } },
    ]);
    expect(await exception).toMatchObject({ status: 'error', message: 'Forbidden resource' });
    expect(bob.connected).toBe(true);
  });

  test('a refresh without an acknowledgement is answered with an auth:refreshed event', async () => {
    const socket = track(await ioConnect(url('/chat'), ioOptions({ token: sign({ sub: 'alice' }) })));
    const exp = Math.floor(Date.now() / 1000) + 300;
    const refreshed = ioTestClient(socket).next('auth:refreshed');
    socket.emit('auth:refresh', { token: sign({ sub: 'alice', exp }) });
    expect(await refreshed).toEqual({ exp });
  });

  test('the count of tracked connections comes back to 0 once every client left', async () => {
    const connections = app.app.get(WsAuthConnections);
    const clients = await Promise.all(
      ['alice', 'bob', 'alice'].map((sub) => ioConnect(url('/chat'), ioOptions({ token: sign({ sub }) }))),
    );
    expect(connections.count()).toBeGreaterThanOrEqual(3);
    for (const client of clients) client.close();
    await until(() => connections.count() === 0);
  });
});

describe('Socket.IO start-up', () => {
  test('a @WsAuthGateway served by a plain IoAdapter: start-up fails, naming the fix', async () => {
    const { module } = transportApp(IO_TRANSPORT);
    const error = await startApp(module, { adapter: (app) => new IoAdapter(app) }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect((error as Error).message).toContain('app.useWebSocketAdapter(new WsAuthIoAdapter(app))');
  });

  test('without WsAuthModule, a guarded namespace on a server a plain gateway created refuses everyone', async () => {
    @WebSocketGateway()
    class RootGateway {}
    @WsAuthGateway({ namespace: '/guarded' })
    class GuardedGateway {
      @SubscribeMessage('whoami')
      whoami() {
        return 'should never run';
      }
    }
    // Nest connects an imported module's gateways first: the plain one creates the server.
    @Module({ providers: [RootGateway] })
    class RootModule {}
    @Module({ imports: [RootModule], providers: [GuardedGateway] })
    class ForgotTheModule {}
    const app = await startApp(ForgotTheModule, { adapter: (nest) => new IoAdapter(nest) });
    try {
      const refused = await ioConnect(`http://127.0.0.1:${app.port}/guarded`, ioOptions({ token: sign({ sub: 'alice' }) })).then(
        () => 'accepted',
        (error: { data?: unknown }) => error.data,
      );
      expect(refused).toEqual({ status: 500, message: 'WebSocket authentication is not configured' });
      expect(app.logger.errors().some((line) => line.includes('Fix: app.useWebSocketAdapter(new WsAuthIoAdapter(app))'))).toBe(true);
    } finally {
      await app.close();
    }
  });

  test('connectionStateRecovery with skipMiddlewares is refused at start-up; skipMiddlewares: false is accepted', async () => {
    const recovering = (skipMiddlewares?: boolean) => {
      @WsAuthGateway({ namespace: '/recovering', connectionStateRecovery: skipMiddlewares === undefined ? {} : { skipMiddlewares } })
      class RecoveringGateway {}
      @Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [RecoveringGateway] })
      class RecoveringModule {}
      return RecoveringModule;
    };
    const error = await startApp(recovering(), { adapter: IO_TRANSPORT.adapter }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(WsAuthConfigurationError);
    expect((error as Error).message).toMatch(/RecoveringGateway: connectionStateRecovery with skipMiddlewares/);
    expect((error as Error).message).toContain('skipMiddlewares: false');
    const app = await startApp(recovering(false), { adapter: IO_TRANSPORT.adapter });
    await app.close();
  });
});
