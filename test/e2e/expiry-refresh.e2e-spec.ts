import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { WsAuthConnections } from '../../src/index.js';
import { WsAuthTesting } from '../../src/testing/index.js';
import { calls, LifecycleAppModule } from '../apps/lifecycle.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { useApp } from '../helpers/test-app.js';
import { jwtOptions, sign } from '../helpers/tokens.js';
import { sleep, until } from '../helpers/wait.js';
import { closed, connect, nextMessage, request } from '../helpers/ws-client.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

beforeEach(() => {
  Object.assign(calls, { echo: 0, ban: 0, purge: 0 });
});

describe('expiry (kit clock: no real waiting)', () => {
  let kit: WsAuthTesting;
  beforeAll(async () => {
    kit = await WsAuthTesting.start(LifecycleAppModule.with());
  });
  afterAll(() => kit.close());

  test('closes with 4401 "token expired" at exp, not a millisecond before', async () => {
    // Lifetimes here are longer than expectClose waits in real time: only the kit clock can close them.
    const alice = await kit.connectAs({ id: 'alice' }, '/room', { expiresIn: 60 });
    await kit.clock.advance(59_999);
    await alice.expectNothing(20);
    await kit.clock.advance(1);
    expect(await alice.expectClose()).toEqual({ code: 4401, reason: 'token expired' });
  });

  test('after it expired, the same token opens no new connection (the verified-token cache honours exp)', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/room', { expiresIn: 60 });
    await kit.clock.advance(60_000);
    expect((await alice.expectClose()).code).toBe(4401);
    const response = await rawUpgrade(kit.port, '/room', { Authorization: `Bearer ${alice.plan.token}` });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).message).toBe('Token expired');
  });

  test('a token that lives 30 days (beyond the longest Node timer) is not closed at once, and is at 30 days', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/room', { expiresIn: 30 * 24 * 3600 });
    await kit.clock.advance(1_200);
    expect(await alice.request('echo')).toBe('alice');
    await kit.clock.advance(30 * 24 * 3600 * 1000 - 1_201);
    expect(await alice.request('echo')).toBe('alice');
    await kit.clock.advance(1);
    expect(await alice.expectClose()).toEqual({ code: 4401, reason: 'token expired' });
  });

  test('once a socket is closing, no handler runs for its later messages', async () => {
    const client = await connect(kit.url('/room'), [], bearer(await kit.tokenFor({ id: 'bob' })));
    const [serverSide] = kit.app.get(WsAuthConnections).connectionsOf('bob');
    // Messages wait in the server's receive buffer while it reads nothing.
    serverSide!.pause();
    for (let index = 0; index < 10; index += 1) client.send(JSON.stringify({ event: 'echo' }));
    await sleep(50);
    serverSide!.resume();
    await until(() => calls.echo === 10); // the control: read while open, all of them ran
    expect(calls.echo).toBe(10);

    serverSide!.pause();
    for (let index = 0; index < 10; index += 1) client.send(JSON.stringify({ event: 'echo' }));
    await sleep(50);
    const closing = closed(client);
    kit.app.get(WsAuthConnections).disconnectUser('bob');
    serverSide!.resume();
    expect(await closing).toEqual({ code: 4403, reason: 'revoked' });
    expect(calls.echo).toBe(10);
  });
});

describe('expiry with clockTolerance, and switched off', () => {
  test('closes clockTolerance seconds after exp', async () => {
    const kit = await WsAuthTesting.start(LifecycleAppModule.with({ jwt: { ...jwtOptions, clockTolerance: 1 } }));
    try {
      const alice = await kit.connectAs({ id: 'alice' }, '/room', { expiresIn: 60 });
      await kit.clock.advance(60_999);
      await alice.expectNothing(20);
      await kit.clock.advance(1);
      await alice.expectClose(4401, 'token expired');
    } finally {
      await kit.close();
    }
  });

  test('closeOnExpiry: false keeps the connection', async () => {
    const kit = await WsAuthTesting.start(LifecycleAppModule.with({ closeOnExpiry: false }));
    try {
      const alice = await kit.connectAs({ id: 'alice' }, '/room', { expiresIn: 1 });
      await kit.clock.advance(3_600_000);
      await alice.expectNothing(20);
      expect(await alice.request('echo')).toBe('alice');
      expect(kit.clock.timers).toBe(0); // nothing was even scheduled
    } finally {
      await kit.close();
    }
  });
});

describe('in-band refresh', () => {
  const app = useApp(() => LifecycleAppModule.with());

  const refresh = (token: unknown) => ({ event: 'auth:refresh', data: { token } });

  test('the same user: auth:refreshed with the new exp, and the expiry moves', async () => {
    const kit = await WsAuthTesting.start(LifecycleAppModule.with());
    try {
      const alice = await kit.connectAs({ id: 'alice' }, '/room', { expiresIn: 20 });
      const exp = Math.floor(kit.clock.now() / 1000) + 40;
      expect(await alice.refresh(await kit.tokenFor({ id: 'alice' }, { expiresIn: 40 }))).toEqual({ ok: true, exp });
      await kit.clock.advance(25_000); // past the first token's exp
      expect(await alice.request('echo')).toBe('alice');
      await kit.clock.advance(14_999);
      await alice.expectNothing(20);
      await kit.clock.advance(1);
      expect((await alice.expectClose()).code).toBe(4401);
      expect(kit.clock.now()).toBe(exp * 1000);
    } finally {
      await kit.close();
    }
  });

  test('a token of another user: 4403', async () => {
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice' })));
    client.send(JSON.stringify(refresh(sign({ sub: 'bob' }))));
    expect(await closed(client)).toEqual({ code: 4403, reason: 'token belongs to another user' });
  });

  test.each([
    ['a forged token', 'forged.token.value', 'invalid token'],
    ['an expired token', sign({ sub: 'alice', exp: nowSeconds() - 10 }), 'token expired'],
    ['an unknown user', sign({ sub: 'mallory' }), 'unknown user'],
  ])('%s: 4401', async (_case, token, reason) => {
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice' })));
    client.send(JSON.stringify(refresh(token)));
    expect(await closed(client)).toEqual({ code: 4401, reason });
  });

  test.each([
    ['no data', { event: 'auth:refresh' }],
    ['a token that is no string', refresh(42)],
    ['an empty token', refresh('')],
  ])('%s: an exception frame, and the connection stays', async (_case, message) => {
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice' })));
    const reply = nextMessage(client);
    client.send(JSON.stringify(message));
    expect(await reply).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'auth:refresh needs data.token, a non-empty string', cause: { pattern: 'auth:refresh' } },
    });
    expect((await request(client, 'echo')).data).toBe('alice');
    client.close();
  });

  test('an anonymous client cannot refresh itself into a user', async () => {
    const client = await connect(app.url('/lobby'));
    const reply = nextMessage(client);
    client.send(JSON.stringify(refresh(sign({ sub: 'alice' }))));
    expect((await reply).data).toMatchObject({ message: 'auth:refresh needs an authenticated connection' });
    client.close();
  });

  // A gateway's own auth:refresh handler now stops the app at start-up (start-up.e2e-spec.ts).
});
