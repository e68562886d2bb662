import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { WebSocket } from 'ws';
import { type ClusterNode, startNode } from '../helpers/cluster-node.js';
import { type GqlConnection, gqlConnect } from '../helpers/graphql-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { sign } from '../helpers/tokens.js';
import { until } from '../helpers/wait.js';
import { closed, connect, refusedStatus, request } from '../helpers/ws-client.js';

/**
 * Several instances of an app, each a Node process of its own, sharing one real
 * redis-server: revocations and disconnects reach every node, the per-user limit
 * spans them, and Redis failures neither crash a node nor lose a revocation.
 */
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const now = () => Math.floor(Date.now() / 1000);
/** A token issued after every revocation made so far in the test (iat has whole seconds). */
const fresh = (sub: string) => sign({ sub, iat: now() + 1 });

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const clients: WebSocket[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.terminate();
});
const open = async (node: ClusterNode, token: string) => {
  const client = await connect(node.url('/chat'), [], bearer(token));
  clients.push(client);
  return client;
};

describe.each(['ioredis', 'redis'] as const)('three nodes with %s', (client) => {
  const nodes: ClusterNode[] = [];
  const prefix = `test-${client}:`;
  beforeAll(async () => {
    nodes.push(...(await Promise.all([0, 1, 2].map(() => startNode({ redisSocket: redis.socket, client, prefix })))));
  });
  afterAll(() => Promise.all(nodes.splice(0).map((node) => node.stop())));

  test('revokeUser on node A closes the user on B and C; the token is refused everywhere; a fresh one works', async () => {
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const token = sign({ sub: 'alice' });
    const onB = await open(b, token);
    const onC = await open(c, token);
    const closes = [closed(onB), closed(onC)];
    await a.call('revokeUser', 'alice', { reason: 'banned' });
    expect(await Promise.all(closes)).toEqual([
      { code: 4403, reason: 'banned' },
      { code: 4403, reason: 'banned' },
    ]);
    for (const node of nodes) {
      expect(await refusedStatus(node.url('/chat'), [], bearer(token))).toBe(401);
    }
    const again = await open(c, fresh('alice'));
    expect(await request(again, 'whoami')).toEqual({ event: 'whoami', data: 'alice' });
  });

  test('disconnectUser on A closes the user on B and C (a disconnect, not a ban)', async () => {
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const token = sign({ sub: 'bob' });
    const closes = [closed(await open(b, token)), closed(await open(c, token))];
    await a.call('disconnectUser', 'bob', { reason: 'kicked' });
    expect(await Promise.all(closes)).toEqual([
      { code: 4403, reason: 'kicked' },
      { code: 4403, reason: 'kicked' },
    ]);
    await open(b, token);
  });

  test('a node started after a revocation refuses the revoked token from its first handshake', async () => {
    const [a] = nodes as [ClusterNode];
    const token = sign({ sub: 'carol' });
    await a.call('revokeUser', 'carol');
    const late = await startNode({ redisSocket: redis.socket, client, prefix });
    try {
      expect(await refusedStatus(late.url('/chat'), [], bearer(token))).toBe(401);
      const other = await startNode({ redisSocket: redis.socket, client, prefix: `other-${prefix}` });
      try {
        // Another prefix is another app: it does not see the revocation.
        await open(other, token);
      } finally {
        await other.stop();
      }
    } finally {
      await late.stop();
    }
  });
});

describe('a node serving GraphQL subscriptions (graphql-ws) beside a ws node', () => {
  const nodes: ClusterNode[] = [];
  const gql: GqlConnection[] = [];
  beforeAll(async () => {
    nodes.push(
      ...(await Promise.all([
        startNode({ redisSocket: redis.socket, client: 'ioredis', prefix: 'gql:', limit: 1 }),
        startNode({ redisSocket: redis.socket, client: 'ioredis', prefix: 'gql:', limit: 1, graphql: true }),
      ])),
    );
  });
  afterEach(() => Promise.all(gql.splice(0).map((connection) => connection.dispose())));
  afterAll(() => Promise.all(nodes.splice(0).map((node) => node.stop())));
  const subscribe = (node: ClusterNode, token: string) => {
    const connection = gqlConnect(node.port, { connectionParams: { token } });
    gql.push(connection);
    return connection;
  };

  test('revokeUser on the ws node closes the user’s graphql-ws connection on the other node; the token is refused there', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const token = sign({ sub: 'heidi' });
    const connection = subscribe(b, token);
    await connection.acknowledged;
    expect(await connection.subscribe('subscription { whoami }').take()).toEqual({ kind: 'next', data: { whoami: 'heidi' } });
    await a.call('revokeUser', 'heidi', { reason: 'banned' });
    expect(await connection.closed).toEqual({ code: 4403, reason: 'banned' });
    expect(await subscribe(b, token).closed).toEqual({ code: 4403, reason: 'Token revoked' });
  });

  test('maxConnectionsPerUser spans transports and nodes: a ws connection on one node, the graphql-ws one on the other gets 4429', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const token = sign({ sub: 'ivan' });
    const socket = await open(a, token);
    expect(await subscribe(b, token).closed).toEqual({ code: 4429, reason: 'Too many connections (at most 1 per user)' });
    socket.close();
    await until(async () => {
      const next = subscribe(b, token);
      return next.acknowledged.then(() => true, () => false);
    }, 5000);
  });
});

describe('the per-user limit across nodes', () => {
  const nodes: ClusterNode[] = [];
  beforeAll(async () => {
    nodes.push(
      ...(await Promise.all(
        [0, 1, 2].map(() => startNode({ redisSocket: redis.socket, client: 'ioredis', prefix: 'limit:', limit: 2, leaseTtlMs: 2000 })),
      )),
    );
  });
  afterAll(() => Promise.all(nodes.splice(0).map((node) => node.stop())));

  const attempt = (node: ClusterNode, token: string) =>
    connect(node.url('/chat'), [], bearer(token)).then(
      (socket) => (clients.push(socket), 'open' as const),
      (error: { status?: number }) => error.status,
    );

  test('concurrent handshakes to different nodes: exactly 2 open, the rest 429; a closed place comes back', async () => {
    const token = sign({ sub: 'dave' });
    const outcomes = await Promise.all(nodes.flatMap((node) => [attempt(node, token), attempt(node, token), attempt(node, token)]));
    expect(outcomes.filter((outcome) => outcome === 'open')).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome === 429)).toHaveLength(7);
    const [first] = clients;
    first!.close();
    await until(async () => (await attempt(nodes[2]!, token)) === 'open', 5000);
  });

  test('a node killed with SIGKILL gives its places back once its leases run out', async () => {
    const victim = await startNode({ redisSocket: redis.socket, client: 'ioredis', prefix: 'limit:', limit: 2, leaseTtlMs: 2000 });
    const token = sign({ sub: 'erin' });
    await open(victim, token);
    await open(victim, token);
    expect(await attempt(nodes[0]!, token)).toBe(429);
    const killed = Date.now();
    await victim.stop('SIGKILL');
    await until(async () => (await attempt(nodes[0]!, token)) === 'open', 10_000);
    expect(Date.now() - killed).toBeLessThan(2000 + 2000);
  });

  test('countAll counts the connections of every node (each node writes its count shortly after it changes)', async () => {
    const here = async () => (await Promise.all(nodes.map((node) => node.call<number>('count')))).reduce((sum, n) => sum + n, 0);
    await open(nodes[1]!, sign({ sub: 'frank' }));
    await open(nodes[2]!, sign({ sub: 'grace' }));
    const expected = await here();
    expect(expected).toBeGreaterThanOrEqual(2);
    await until(async () => (await nodes[0]!.call<number>('countAll')) === expected, 3000);
  });
});

describe('Redis stopped, then restarted empty', () => {
  const nodes: ClusterNode[] = [];
  beforeAll(async () => {
    nodes.push(...(await Promise.all([0, 1, 2].map(() => startNode({ redisSocket: redis.socket, client: 'ioredis', prefix: 'outage:' })))));
  });
  afterAll(() => Promise.all(nodes.splice(0).map((node) => node.stop())));

  test('nothing crashes or hangs; revocations are kept in memory, written back, and those made meanwhile reach every node', async () => {
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const before = sign({ sub: 'heidi' });
    await a.call('revokeUser', 'heidi');
    await until(async () => (await refusedStatus(c.url('/chat'), [], bearer(before)).catch(() => 0)) === 401);

    const directory = redis.socket.replace(/\/redis\.sock$/, '');
    await redis.stop({ keep: true });
    // Away: valid clients are served, the known revocation holds, a revocation does not throw.
    await open(b, sign({ sub: 'ivan' }));
    expect(await refusedStatus(b.url('/chat'), [], bearer(before))).toBe(401);
    const ivan = sign({ sub: 'judy' });
    const judyOnC = await open(c, ivan);
    const judyClosed = closed(judyOnC);
    await a.call('revokeUser', 'judy');

    redis = await startRedis(directory); // empty: no persistence
    const back = Date.now();
    expect(await judyClosed).toEqual({ code: 4403, reason: 'revoked' });
    expect(Date.now() - back).toBeLessThan(10_000);
    expect(await refusedStatus(c.url('/chat'), [], bearer(ivan))).toBe(401);
    // heidi's revocation, made before the outage, was written back: a node started now knows it.
    const late = await startNode({ redisSocket: redis.socket, client: 'ioredis', prefix: 'outage:' });
    try {
      expect(await refusedStatus(late.url('/chat'), [], bearer(before))).toBe(401);
      expect(await refusedStatus(late.url('/chat'), [], bearer(ivan))).toBe(401);
    } finally {
      await late.stop();
    }
  }, 30_000);
});
