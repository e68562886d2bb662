import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import { ChatAppModule, USERS } from '../apps/chat.app.js';
import { BROKEN_KEY_SETS, type JwksServer, rsaKey, type SigningKey, signWith, startJwksServer } from '../helpers/jwks-server.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { startApp, type TestApp } from '../helpers/test-app.js';
import { TEST_ISSUER, TEST_SECRET } from '../helpers/tokens.js';
import { type TestClient, TRANSPORTS } from '../helpers/transports.js';
import { sleep } from '../helpers/wait.js';
import { connect, request } from '../helpers/ws-client.js';

/** What a handshake with this token got: 101, or the status and message of the refusal. */
async function answer(port: number, token: string) {
  const response = await rawUpgrade(port, '/chat', { Authorization: `Bearer ${token}` });
  return response.status === 101 ? { status: 101 } : { status: response.status, message: JSON.parse(response.body).message };
}

const jwksOptions = (server: JwksServer, extra: Record<string, unknown> = {}) => ({
  jwt: { jwksUri: server.url, algorithms: ['RS256' as const], issuer: TEST_ISSUER, audience: TEST_ISSUER, ...extra },
});

let first: SigningKey;
let second: SigningKey;
beforeAll(() => {
  first = rsaKey('key-1');
  second = rsaKey('key-2');
});

describe('a key set that works', () => {
  let server: JwksServer;
  let app: TestApp;
  beforeAll(async () => {
    server = await startJwksServer([first]);
    app = await startApp(ChatAppModule.with(jwksOptions(server)));
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  test('verifies with the key its kid names; the set is fetched once, on first use', async () => {
    expect(server.fetches).toBe(0);
    const client = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${signWith(first)}` } });
    expect((await request(client, 'whoami')).data).toEqual(USERS.alice);
    client.close();
    expect(await answer(app.port, signWith(first, { sub: 'bob' }))).toEqual({ status: 101 });
    expect(server.fetches).toBe(1);
  });

  test('an unknown kid: 401, and forged kids refetch the set at most once per cooldown', async () => {
    const before = server.fetches;
    const stranger = rsaKey('key-unknown');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const kid = `forged-${attempt}`;
      expect(await answer(app.port, signWith({ ...stranger, kid }))).toEqual({ status: 401, message: 'Invalid token' });
    }
    expect(server.fetches - before).toBeLessThanOrEqual(1);
  });

  test('alg must be pinned and match the key: HS256 with the public key, RS512, a token without a signature', async () => {
    const before = server.fetches;
    const pem = (first.jwk as { n: string }).n;
    const confused = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60, iss: TEST_ISSUER, aud: TEST_ISSUER }, pem, {
      algorithm: 'HS256',
      keyid: first.kid,
    });
    expect(await answer(app.port, confused)).toEqual({ status: 401, message: 'Invalid token' });
    expect(await answer(app.port, signWith(first, { sub: 'alice' }, { algorithm: 'RS512' }))).toEqual({ status: 401, message: 'Invalid token' });
    expect(await answer(app.port, signWith(first, { sub: 'alice' }).replace(/\.[^.]+$/, '.'))).toEqual({ status: 401, message: 'Invalid token' });
    const hmac = jwt.sign({ sub: 'alice' }, TEST_SECRET, { algorithm: 'HS256', keyid: first.kid, expiresIn: 60 });
    expect((await answer(app.port, hmac)).status).toBe(401);
    expect(server.fetches).toBe(before);
  });

  test('an ES256 token whose kid names the RSA key is refused', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = jwt.sign({ sub: 'alice' }, privateKey, { algorithm: 'ES256', keyid: first.kid, expiresIn: 60, issuer: TEST_ISSUER, audience: TEST_ISSUER });
    expect(await answer(app.port, token)).toEqual({ status: 401, message: 'Invalid token' });
  });

  test('expired, wrong issuer, unknown user: the same answers as with a static key', async () => {
    expect(await answer(app.port, signWith(first, { sub: 'alice', exp: Math.floor(Date.now() / 1000) - 10 }))).toEqual({
      status: 401,
      message: 'Token expired',
    });
    expect(await answer(app.port, signWith(first, { sub: 'alice' }, { issuer: 'else' }))).toEqual({ status: 401, message: 'Invalid token' });
    expect(await answer(app.port, signWith(first, { sub: 'mallory' }))).toEqual({ status: 401, message: 'Unknown user' });
  });
});

describe.each(TRANSPORTS)('$name: expiry and auth:refresh with a key set', (transport) => {
  let server: JwksServer;
  let app: TestApp;
  const open: TestClient[] = [];
  beforeAll(async () => {
    server = await startJwksServer([first]);
    const { transportApp } = await import('../apps/transport.app.js');
    app = await startApp(transportApp(transport, jwksOptions(server)).module, { adapter: transport.adapter });
  });
  afterAll(async () => {
    for (const client of open) client.close();
    await app.close();
    await server.close();
  });

  test('a refresh moves the expiry; a cached token skips the key set; at exp the connection closes 4401', async () => {
    // 2 s: on a loaded machine the refresh must still come before exp.
    const token = signWith(first, { sub: 'alice' }, { expiresIn: 2 });
    const client = await transport.connect(app.port, '/chat', { token });
    open.push(client);
    const exp = Math.floor(Date.now() / 1000) + 120;
    expect(await client.refresh(signWith(first, { sub: 'alice', exp }))).toEqual({ ok: true, exp });
    const short = await transport.connect(app.port, '/chat', { token });
    open.push(short);
    const closed = short.closed();
    expect(await closed).toEqual({ code: 4401, reason: 'token expired' });
    expect(client.isOpen()).toBe(true);
    expect(server.fetches).toBe(1);
  });

  test('a refresh with a token of an unknown key closes with 4401', async () => {
    const client = await transport.connect(app.port, '/chat', { token: signWith(first) });
    open.push(client);
    const closed = client.closed();
    expect(await client.refresh(signWith(rsaKey('key-x')))).toEqual({ ok: false, code: 4401, reason: 'invalid token' });
    expect(await closed).toEqual({ code: 4401, reason: 'invalid token' });
  });
});

describe('key rotation', () => {
  let server: JwksServer;
  let app: TestApp;
  beforeAll(async () => {
    server = await startJwksServer([first]);
    app = await startApp(ChatAppModule.with(jwksOptions(server, { jwksCooldownMs: 200 })));
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  test('a new key is published and the old one removed: no restart needed', async () => {
    expect(await answer(app.port, signWith(first))).toEqual({ status: 101 });
    server.keys = [second];
    await sleep(250);
    expect(await answer(app.port, signWith(second))).toEqual({ status: 101 });
    expect(server.fetches).toBe(2);
    await sleep(250);
    expect(await answer(app.port, signWith(first, { sub: 'bob' }))).toEqual({ status: 401, message: 'Invalid token' });
  });
});

describe('a key set that is down', () => {
  let server: JwksServer;
  let app: TestApp;
  beforeAll(async () => {
    server = await startJwksServer([first]);
    app = await startApp(ChatAppModule.with({ ...jwksOptions(server, { jwksTimeoutMs: 300 }), handshakeTimeoutMs: 1000 }));
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  test('500: 503 "Key set unavailable", logged without the token; the issuer is not hammered', async () => {
    server.mode = 'error';
    const token = signWith(first);
    const before = server.fetches;
    const answers = await Promise.all(Array.from({ length: 10 }, () => answer(app.port, token)));
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ status: 503, message: 'Key set unavailable' })));
    expect(server.fetches - before).toBeLessThanOrEqual(1);
    const logged = app.logger.lines.filter((line) => line.includes('Key set unavailable'));
    expect(logged).toHaveLength(1);
    expect(logged.join('\n')).not.toContain(token);
  });

  test('slow: 503 within the deadline, never a hang; served again once it answers', async () => {
    await sleep(1100); // past the retry delay after the failed fetch
    server.mode = 'stall';
    const started = Date.now();
    expect(await answer(app.port, signWith(first))).toEqual({ status: 503, message: 'Key set unavailable' });
    expect(Date.now() - started).toBeLessThan(1000);
    server.mode = 'ok';
    await sleep(1100);
    expect(await answer(app.port, signWith(first))).toEqual({ status: 101 });
  });

  test.each(BROKEN_KEY_SETS)('a 200 with a broken body (%s) is a failed fetch: 503, and fetched at most once a second', async (mode) => {
    const broken = await startJwksServer([first]);
    broken.mode = mode;
    const other = await startApp(ChatAppModule.with(jwksOptions(broken)));
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => answer(other.port, signWith(first))));
      expect(answers).toEqual(Array.from({ length: 20 }, () => ({ status: 503, message: 'Key set unavailable' })));
      for (let attempt = 0; attempt < 5; attempt += 1) {
        expect(await answer(other.port, signWith(first))).toEqual({ status: 503, message: 'Key set unavailable' });
      }
      expect(broken.fetches).toBe(1);
    } finally {
      await other.close();
      await broken.close();
    }
  });

  test('an endpoint nobody listens on: 503', async () => {
    const gone = await startJwksServer([first]);
    await gone.close();
    await startApp(ChatAppModule.with(jwksOptions(gone))).then(async (other) => {
      try {
        expect(await answer(other.port, signWith(first))).toEqual({ status: 503, message: 'Key set unavailable' });
      } finally {
        await other.close();
      }
    });
  });
});
