import 'reflect-metadata';
import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { WebSocket } from 'ws';
import { WsAuthConnections } from '../../src/index.js';
import { calls, LifecycleAppModule } from '../apps/lifecycle.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { useApp } from '../helpers/test-app.js';
import { sign } from '../helpers/tokens.js';
import { until } from '../helpers/wait.js';
import { closed, connect, nextMessage, refusedStatus, request } from '../helpers/ws-client.js';

const bearer = (sub: string) => ({ headers: { authorization: `Bearer ${sign({ sub })}` } });

beforeEach(() => {
  Object.assign(calls, { echo: 0, ban: 0, purge: 0 });
});

describe('revocation: WsAuthConnections', () => {
  const app = useApp(() => LifecycleAppModule.with());
  let connections: WsAuthConnections;
  beforeAll(() => {
    connections = app.app.get(WsAuthConnections);
  });

  test("disconnectUser closes all of that user's sockets with 4403 'revoked' and says how many", async () => {
    const alices = await Promise.all([1, 2, 3].map(() => connect(app.url('/room'), [], bearer('alice'))));
    const bob = await connect(app.url('/room'), [], bearer('bob'));
    expect(connections.connectionsOf('alice')).toHaveLength(3);
    expect(connections.count()).toBe(4);

    const closing = alices.map(closed);
    expect(connections.disconnectUser('alice')).toBe(3);
    expect(await Promise.all(closing)).toEqual([1, 2, 3].map(() => ({ code: 4403, reason: 'revoked' })));
    expect(connections.connectionsOf('alice')).toEqual([]);
    expect(connections.count()).toBe(1);
    expect((await request(bob, 'echo')).data).toBe('bob');
    expect(connections.disconnectUser('nobody')).toBe(0);
    bob.close();
  });

  test('a gateway handler can revoke its own user everywhere', async () => {
    const other = await connect(app.url('/room'), [], bearer('dave'));
    const client = await connect(app.url('/room'), [], bearer('dave'));
    const closing = [closed(other), closed(client)];
    client.send(JSON.stringify({ event: 'logout-everywhere' }));
    expect(await Promise.all(closing)).toEqual([1, 2].map(() => ({ code: 4403, reason: 'revoked' })));
  });

  test('a custom close code and reason; reasons over 123 bytes and codes outside 4000-4999 are refused', async () => {
    const client = await connect(app.url('/room'), [], bearer('alice'));
    expect(() => connections.disconnectUser('alice', { reason: 'x'.repeat(124) })).toThrow(RangeError);
    expect(() => connections.disconnectUser('alice', { code: 1011 })).toThrow(/use 1000 or 4000-4999/);
    expect(client.readyState).toBe(WebSocket.OPEN);
    const closing = closed(client);
    expect(connections.disconnectUser('alice', { code: 4000, reason: 'password changed' })).toBe(1);
    expect(await closing).toEqual({ code: 4000, reason: 'password changed' });
  });

  test('after thousands of connect/close/terminate cycles, count() is back to 0', async () => {
    const users = ['alice', 'bob', 'dave'];
    for (let batch = 0; batch < 20; batch += 1) {
      const clients = await Promise.all(
        Array.from({ length: 100 }, (_, index) => connect(app.url('/room'), [], bearer(users[index % 3]!))),
      );
      clients.forEach((client, index) => {
        if (index % 3 === 0) client.close();
        else if (index % 3 === 1) client.terminate();
      });
      if (batch % 2 === 0) connections.disconnectUser('dave');
      else clients.filter((client) => client.readyState === WebSocket.OPEN).forEach((client) => client.terminate());
    }
    await until(() => connections.count() === 0);
    expect(connections.count()).toBe(0);
    expect(users.flatMap((user) => connections.connectionsOf(user))).toEqual([]);
  }, 60_000);
});

describe('roles', () => {
  const app = useApp(() => LifecycleAppModule.with());

  test('gateway auth.roles: a user without the role gets 403 at the handshake', async () => {
    const alice = await connect(app.url('/admin'), [], bearer('alice'));
    expect((await request(alice, 'echo')).data).toBe('alice');
    alice.close();
    const response = await rawUpgrade(app.port, '/admin', { Authorization: `Bearer ${sign({ sub: 'bob' })}` });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ statusCode: 403, message: 'Insufficient role' });
    expect(await refusedStatus(app.url('/admin'))).toBe(401);
  });

  test('@WsRoles: the handler does not run, the client gets an exception frame, the socket stays open', async () => {
    const bob = await connect(app.url('/room'), [], bearer('bob'));
    const reply = nextMessage(bob);
    bob.send(JSON.stringify({ event: 'ban', data: {} }));
    expect(await reply).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Forbidden resource' } });
    expect(calls.ban).toBe(0);
    expect((await request(bob, 'echo')).data).toBe('bob');
    bob.close();
  });

  test('@WsRoles: any of the listed roles lets the handler run', async () => {
    for (const sub of ['alice', 'dave']) {
      const client = await connect(app.url('/room'), [], bearer(sub));
      expect(await request(client, 'ban')).toEqual({ event: 'banned', data: true });
      client.close();
    }
    expect(calls.ban).toBe(2);
  });

  test('@WsRoles composes with an ordinary @UseGuards guard that reads client.user', async () => {
    const alice = await connect(app.url('/room'), [], bearer('alice'));
    expect(await request(alice, 'purge')).toEqual({ event: 'purged', data: true });
    const carol = await connect(app.url('/room'), [], bearer('carol'));
    expect((await request(carol, 'purge')).data).toMatchObject({ message: 'Forbidden resource' });
    const bob = await connect(app.url('/room'), [], bearer('bob'));
    expect((await request(bob, 'purge')).data).toMatchObject({ message: 'Forbidden resource' });
    expect(calls.purge).toBe(1);
    [alice, carol, bob].forEach((client) => client.close());
  });
});

describe('maxConnectionsPerUser', () => {
  const app = useApp(() => LifecycleAppModule.with({ maxConnectionsPerUser: 2 }));
  let connections: WsAuthConnections;
  beforeAll(() => {
    connections = app.app.get(WsAuthConnections);
  });

  test('the (n+1)th concurrent socket gets 429; after one closes, a new one is accepted', async () => {
    const first = await connect(app.url('/room'), [], bearer('alice'));
    const second = await connect(app.url('/admin'), [], bearer('alice'));
    const response = await rawUpgrade(app.port, '/room', { Authorization: `Bearer ${sign({ sub: 'alice' })}` });
    expect(response.status).toBe(429);
    expect(JSON.parse(response.body)).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    const bob = await connect(app.url('/room'), [], bearer('bob'));

    first.close();
    await until(() => connections.connectionsOf('alice').length === 1);
    const third = await connect(app.url('/room'), [], bearer('alice'));
    [second, third, bob].forEach((client) => client.close());
    await until(() => connections.count() === 0);
  });

  test('concurrent handshakes of one user cannot overshoot the limit', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => connect(app.url('/room'), [], bearer('dave'))));
    const opened = attempts.filter((attempt) => attempt.status === 'fulfilled');
    const refused = attempts.filter((attempt) => attempt.status === 'rejected').map((attempt) => (attempt.reason as { status: number }).status);
    expect(opened).toHaveLength(2);
    expect(refused).toEqual(Array(6).fill(429));
    opened.forEach((attempt) => attempt.value.close());
    await until(() => connections.count() === 0);
  });

  test('handshakes that die before opening give their place back', async () => {
    for (let round = 0; round < 20; round += 1) {
      const client = new WebSocket(app.url('/room'), bearer('bob'));
      client.on('error', () => {});
      client.once('upgrade', () => client.terminate());
      await closed(client);
    }
    const clients = await Promise.all([1, 2].map(() => connect(app.url('/room'), [], bearer('bob'))));
    clients.forEach((client) => client.close());
  });
});
