import 'reflect-metadata';
import { beforeEach, describe, expect, test } from '@jest/globals';
import { WsAuthConnections } from '../../src/index.js';
import { calls, LifecycleAppModule } from '../apps/lifecycle.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { useApp, withApp } from '../helpers/test-app.js';
import { sign } from '../helpers/tokens.js';
import { sleep } from '../helpers/wait.js';
import { closed, connect, nextMessage, request } from '../helpers/ws-client.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

beforeEach(() => {
  Object.assign(calls, { echo: 0, ban: 0, purge: 0 });
});

describe('expiry', () => {
  const app = useApp(() => LifecycleAppModule.with());

  test('closes with 4401 "token expired" within a second after exp', async () => {
    const exp = nowSeconds() + 2;
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice', exp })));
    const { code, reason } = await closed(client);
    const lateBy = Date.now() - exp * 1000;
    expect({ code, reason }).toEqual({ code: 4401, reason: 'token expired' });
    expect(lateBy).toBeGreaterThanOrEqual(0);
    expect(lateBy).toBeLessThan(1000);
  });

  test('after it expired, the same token opens no new connection (the verified-token cache honours exp)', async () => {
    const token = sign({ sub: 'alice', exp: nowSeconds() + 1 });
    const client = await connect(app.url('/room'), [], bearer(token));
    expect((await closed(client)).code).toBe(4401);
    const response = await rawUpgrade(app.port, '/room', { Authorization: `Bearer ${token}` });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).message).toBe('Token expired');
  });

  test('a token that lives 30 days is not closed at once', async () => {
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice' }, { expiresIn: '30d' })));
    await sleep(1200);
    expect((await request(client, 'echo')).data).toBe('alice');
    client.close();
  });

  test('once a socket is closing, no handler runs for its later messages', async () => {
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'bob' })));
    const [serverSide] = app.app.get(WsAuthConnections).connectionsOf('bob');
    // Messages wait in the server's receive buffer while it reads nothing.
    serverSide!.pause();
    for (let index = 0; index < 10; index += 1) client.send(JSON.stringify({ event: 'echo' }));
    await sleep(50);
    serverSide!.resume();
    await sleep(100);
    expect(calls.echo).toBe(10); // the control: read while open, all of them ran

    serverSide!.pause();
    for (let index = 0; index < 10; index += 1) client.send(JSON.stringify({ event: 'echo' }));
    await sleep(50);
    const closing = closed(client);
    app.app.get(WsAuthConnections).disconnectUser('bob');
    serverSide!.resume();
    expect(await closing).toEqual({ code: 4403, reason: 'revoked' });
    expect(calls.echo).toBe(10);
  });
});

describe('expiry with clockTolerance, and switched off', () => {
  test('closes clockTolerance seconds after exp', async () => {
    await withApp(LifecycleAppModule.with({ jwt: { ...(await import('../helpers/tokens.js')).jwtOptions, clockTolerance: 1 } }), async (app) => {
      const exp = nowSeconds() + 1;
      const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice', exp })));
      await closed(client);
      const lateBy = Date.now() - exp * 1000;
      expect(lateBy).toBeGreaterThanOrEqual(1000);
      expect(lateBy).toBeLessThan(2000);
    });
  });

  test('closeOnExpiry: false keeps the connection', async () => {
    await withApp(LifecycleAppModule.with({ closeOnExpiry: false }), async (app) => {
      const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice', exp: nowSeconds() + 1 })));
      await sleep(2200);
      expect((await request(client, 'echo')).data).toBe('alice');
      client.close();
    });
  });
});

describe('in-band refresh', () => {
  const app = useApp(() => LifecycleAppModule.with());

  const refresh = (token: unknown) => ({ event: 'auth:refresh', data: { token } });

  test('the same user: auth:refreshed with the new exp, and the expiry moves', async () => {
    const client = await connect(app.url('/room'), [], bearer(sign({ sub: 'alice', exp: nowSeconds() + 2 })));
    const exp = nowSeconds() + 4;
    const reply = nextMessage(client);
    client.send(JSON.stringify(refresh(sign({ sub: 'alice', exp }))));
    expect(await reply).toEqual({ event: 'auth:refreshed', data: { exp } });
    await sleep(2500);
    expect((await request(client, 'echo')).data).toBe('alice');
    const { code } = await closed(client);
    expect(code).toBe(4401);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
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
