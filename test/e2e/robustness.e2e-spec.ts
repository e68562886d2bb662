import 'reflect-metadata';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Server } from 'node:http';
import { connect as tcp } from 'node:net';
import { ChatAppModule, ChatGateway, type TestUser, USERS } from '../apps/chat.app.js';
import { rawUpgrade, upgradeRequest } from '../helpers/raw-upgrade.js';
import { logger, startApp, type TestApp } from '../helpers/test-app.js';
import { sign } from '../helpers/tokens.js';
import { until } from '../helpers/wait.js';
import { connect, request } from '../helpers/ws-client.js';

/** resolveUser for sub 'held' waits until the test lets it go. */
let arrived: () => void = () => {};
let letGo: (user: TestUser) => void = () => {};
const heldUser = () =>
  new Promise<TestUser>((resolve) => {
    letGo = resolve;
    arrived();
  });

let app: TestApp;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  app = await startApp(
    ChatAppModule.with({
      allowedOrigins: ['https://app.example.com'],
      maxConnectionsPerUser: 1,
      resolveUser: (claims) => (claims.sub === 'held' ? heldUser() : (USERS[claims.sub ?? ''] ?? null)),
    }),
  );
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await app.close();
});

function openSockets(): Promise<number> {
  const server = app.app.getHttpServer() as Server;
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function settledSockets(): Promise<number> {
  await until(async () => (await openSockets()) === 0).catch(() => {});
  return openSockets();
}

test('a client that resets during async authentication: no connection, no uncaught error, no leaked socket', async () => {
  const connectionsBefore = app.app.get(ChatGateway).connections.length;
  const waiting = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const socket = tcp(app.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(upgradeRequest('/chat', { Authorization: `Bearer ${sign({ sub: 'held' })}` }));
  await waiting;
  socket.resetAndDestroy();
  expect(await settledSockets()).toBe(0);

  letGo(USERS.alice!);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(app.app.get(ChatGateway).connections).toHaveLength(connectionsBefore);
  expect(uncaught).toEqual([]);
  expect(await openSockets()).toBe(0);
});

test("a handshake dropped mid-authentication gives back the user's place (maxConnectionsPerUser)", async () => {
  for (let round = 0; round < 3; round += 1) {
    const waiting = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const socket = tcp(app.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(upgradeRequest('/chat', { Authorization: `Bearer ${sign({ sub: 'held' })}` }));
    await waiting;
    socket.resetAndDestroy();
    expect(await settledSockets()).toBe(0);
    letGo(USERS.alice!);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Alice may hold one connection: every dropped handshake above must have given it back.
  const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
  client.close();
});

test('hundreds of refused handshakes leave no open socket and no token in any log line', async () => {
  const tokens: string[] = [];
  const attempts = Array.from({ length: 400 }, (_, index) => {
    const token = sign({ sub: `nobody-${index}` });
    tokens.push(token);
    switch (index % 4) {
      case 0:
        return rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${token}` });
      case 1:
        return rawUpgrade(app.port, `/chat?token=${token}&token=${token}`);
      case 2:
        return rawUpgrade(app.port, '/chat', { Origin: 'https://evil.example.com', Authorization: `Bearer ${token}` });
      default:
        return rawUpgrade(app.port, '/chat', { 'Sec-WebSocket-Protocol': `chat, bearer.${token}x` });
    }
  });
  const statuses = (await Promise.all(attempts)).map((response) => response.status);
  expect(new Set(statuses)).toEqual(new Set([400, 401, 403]));
  expect(await settledSockets()).toBe(0);
  const logged = logger.lines.join('\n');
  for (const token of tokens) {
    expect(logged).not.toContain(token);
  }
});

test('still serving afterwards', async () => {
  const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${sign()}` } });
  expect((await request(client, 'name')).data).toBe('Alice');
  client.close();
});

test('closing the app answers handshakes still authenticating (503) instead of leaving them hanging', async () => {
  let arrived!: () => void;
  const authenticating = new Promise<void>((resolve) => (arrived = resolve));
  const closing = await startApp(
    ChatAppModule.with({
      resolveUser: () => {
        arrived();
        return new Promise<never>(() => {});
      },
    }),
  );
  const answer = rawUpgrade(closing.port, '/chat', { Authorization: `Bearer ${sign()}` });
  await authenticating;
  const started = Date.now();
  await closing.close();
  const response = await answer;
  expect(response.status).toBe(503);
  expect(JSON.parse(response.body).message).toBe('Server shutting down');
  expect(Date.now() - started).toBeLessThan(1000);
});
