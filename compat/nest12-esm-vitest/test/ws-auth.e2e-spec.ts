import { type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SubscribeMessage } from '@nestjs/websockets';
import { WsAuthGateway, WsAuthModule, WsRoles, WsUser } from 'nest-ws-auth';
import { WsAuthAdapter } from 'nest-ws-auth/ws';
import { createHmac } from 'node:crypto';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { WebSocket } from 'ws';

/**
 * This file's own app (the README's quick start is tested by test/chat.e2e-spec.ts, which
 * scripts/compat.mjs writes from README.md): the whole user in whoami, and a @WsRoles handler.
 */
const JWT_SECRET = 'compat-fixture-secret-not-for-production';

@WsAuthGateway({ path: '/chat' })
class ChatGateway {
  @SubscribeMessage('whoami')
  whoami(@WsUser() user: unknown) {
    return { event: 'whoami', data: user };
  }

  @SubscribeMessage('ban')
  @WsRoles('admin')
  ban(@WsUser('sub') sub: string) {
    return { event: 'banned', data: { by: sub } };
  }
}

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } })],
  providers: [ChatGateway],
})
class AppModule {}

/** An HS256 JWT, signed with node:crypto. */
function sign(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iat: now, exp: now + 300, ...claims })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** Opens a socket with the token in the Authorization header; rejects with the HTTP status of a refusal. */
function open(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_request, response) => {
      response.resume();
      reject(Object.assign(new Error(`refused: ${response.statusCode}`), { status: response.statusCode }));
    });
    client.once('error', reject);
  });
}

/** Sends one message and resolves with the next frame the server sends. */
function ask(client: WebSocket, event: string, data: unknown = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 5000);
    client.once('message', (frame) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(frame)));
    });
    client.send(JSON.stringify({ event, data }));
  });
}

function closed(client: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (client.readyState === WebSocket.CLOSED) return resolve();
    client.once('close', () => resolve());
    client.close();
  });
}

describe('nest-ws-auth in a `nest new` app', () => {
  let app: INestApplication;
  let url: string;
  let port: number;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsAuthAdapter(app));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    url = `ws://127.0.0.1:${port}/chat`;
  });

  afterAll(async () => {
    await app.close();
  });

  it('loads the ES module build of nest-ws-auth', () => {
    expect(import.meta.resolve('nest-ws-auth')).toMatch(/\/node_modules\/nest-ws-auth\/dist\/esm\/index\.js$/);
  });

  it('connects with a valid token and answers whoami', async () => {
    const client = await open(url, sign({ sub: 'alice' }));
    expect(await ask(client, 'whoami')).toMatchObject({ event: 'whoami', data: { sub: 'alice' } });
    await closed(client);
  });

  it('refuses a bad token with 401 before the upgrade', async () => {
    await expect(open(url, sign({ sub: 'mallory' }, 'another-secret-of-at-least-32-bytes!!'))).rejects.toMatchObject({
      status: 401,
    });
  });

  it('sends an exception frame when @WsRoles refuses a message, and keeps the connection', async () => {
    const client = await open(url, sign({ sub: 'bob', roles: ['user'] }));
    expect(await ask(client, 'ban')).toMatchObject({
      event: 'exception',
      data: { status: 'error', message: 'Forbidden resource' },
    });
    expect(await ask(client, 'whoami')).toMatchObject({ event: 'whoami', data: { sub: 'bob' } });
    await closed(client);
  });

  it('runs the @WsRoles handler for a user holding the role', async () => {
    const client = await open(url, sign({ sub: 'root', roles: ['admin'] }));
    expect(await ask(client, 'ban')).toEqual({ event: 'banned', data: { by: 'root' } });
    await closed(client);
  });
});

describe('closing the app', () => {
  it('leaves no listening socket behind', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsAuthAdapter(app));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const client = await open(`ws://127.0.0.1:${port}/chat`, sign({ sub: 'alice' }));
    const clientClosed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    const servers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
    const before = servers();

    await app.close();

    expect(await clientClosed).toBeGreaterThan(0);
    expect(app.getHttpServer().listening).toBe(false);
    // Node releases the server's handle just after its close callback.
    for (let waited = 0; servers() !== before - 1 && waited < 1000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(servers()).toBe(before - 1);
    const refused = await new Promise<string>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
