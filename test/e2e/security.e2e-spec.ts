import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { WsAuthConnections } from '../../src/index.js';
import { ChatAppModule } from '../apps/chat.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { signRaw } from '../helpers/raw-jws.js';
import { useApp } from '../helpers/test-app.js';
import { sign, TEST_ISSUER } from '../helpers/tokens.js';
import { connect } from '../helpers/ws-client.js';

const never = new Promise<never>(() => {});
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', exp: inAMinute(), iss: TEST_ISSUER, aud: TEST_ISSUER, ...extra });

/** The answer to a handshake with this token in the Authorization header. */
async function answer(port: number, token: string, path = '/chat') {
  const response = await rawUpgrade(port, path, { Authorization: `Bearer ${token}` });
  return { status: response.status, message: response.status === 101 ? undefined : JSON.parse(response.body).message };
}

describe('tokens jsonwebtoken would take', () => {
  const app = useApp(() => ChatAppModule.with());

  test('a JWS whose crit header names an extension is refused (RFC 7515 §4.1.11)', async () => {
    for (const crit of [['exp'], ['b64'], ['http://example.com/ext'], []]) {
      const token = signRaw(JSON.stringify(claims()), { alg: 'HS256', typ: 'JWT', crit, b64: true, exp: 1 });
      expect(await answer(app.port, token)).toEqual({ status: 401, message: 'Invalid token' });
    }
  });

  test.each([
    ['null', 'null'],
    ['a number', '42'],
    ['an array', JSON.stringify([claims()])],
    ['true', 'true'],
    ['a JSON string holding the claims (it must not be decoded twice)', JSON.stringify(JSON.stringify(claims()))],
  ])('a correctly signed payload that is %s: 401, not 500, nothing logged', async (_case, payload) => {
    const errors = app.logger.errors().length;
    expect(await answer(app.port, signRaw(payload))).toEqual({ status: 401, message: 'Token payload is not a JSON object' });
    expect(app.logger.errors().length).toBe(errors);
  });

  test.each([
    ['an object', { id: 'alice' }],
    ['an array', ['alice']],
    ['a number', 42],
    ['an empty string', ''],
    ['null', null],
  ])('a sub that is %s is refused with 401', async (_case, sub) => {
    expect(await answer(app.port, sign({ sub }))).toEqual({ status: 401, message: 'Token sub is not a non-empty string' });
  });

  test.each([
    ['a number', 12345],
    ['an empty string', ''],
    ['an object', { id: 'token-1' }],
  ])('a jti that is %s is refused with 401 (it could never be revoked)', async (_case, jti) => {
    expect(await answer(app.port, sign({ sub: 'alice', jti }))).toEqual({ status: 401, message: 'Token jti is not a non-empty string' });
  });

  test('two Authorization headers are ambiguous: 400, whichever comes first', async () => {
    const response = await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${sign()}`, authorization: 'Bearer forged' });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).message).toBe('Send one Authorization header.');
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
    expect((await rawUpgrade(app.port, '/chat', { Authorization: 'Bearer forged', AUTHORIZATION: `Bearer ${sign()}` })).status).toBe(400);
  });
});

describe('with two different subs that are objects, no two users merge', () => {
  const app = useApp(() => ChatAppModule.with({ resolveUser: undefined }));

  test('each is refused rather than both becoming "[object Object]"', async () => {
    expect((await answer(app.port, sign({ sub: { a: 1 } }))).status).toBe(401);
    expect((await answer(app.port, sign({ sub: { b: 2 } }))).status).toBe(401);
    expect(app.app.get(WsAuthConnections).connectionsOf('[object Object]')).toEqual([]);
  });
});

describe('each connection has a user of its own', () => {
  const app = useApp(() => ChatAppModule.with({ resolveUser: undefined }));

  test('two connections with the same (cached) token do not share the roles array', async () => {
    const token = sign({ sub: 'alice', roles: ['admin'], org: { teams: ['a'] } });
    const first = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${token}` } });
    const second = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${token}` } });
    type Claims = { roles: string[]; org: { teams: string[] } };
    const usersOf = () => app.app.get(WsAuthConnections).connectionsOf('alice').map((client) => (client as { user: Claims }).user);
    const [a, b] = usersOf();
    expect(a!.roles).not.toBe(b!.roles);
    expect(a!.org).not.toBe(b!.org);
    a!.roles.push('root');
    b!.roles.push('owner');
    b!.org.teams.push('b');
    const third = await connect(app.url('/chat'), [], { headers: { authorization: `Bearer ${token}` } });
    const users = usersOf();
    expect(users[2]!.roles).not.toBe(b!.roles);
    expect(users.map((user) => user.roles)).toEqual([['admin', 'root'], ['admin', 'owner'], ['admin']]);
    expect(users.map((user) => user.org.teams)).toEqual([['a'], ['a', 'b'], ['a']]);
    for (const client of [first, second, third]) client.close();
  });
});

describe('no form of a credential reaches the log', () => {
  const quoted: string[] = [];
  const app = useApp(() =>
    ChatAppModule.with({
      resolveUser: (_claims, request?: IncomingMessage) => {
        const text = `lookup failed for ${request?.url} with ${JSON.stringify(request?.headers)} ${quoted.join(' ')}`;
        throw new Error(text);
      },
    }),
  );
  const percentEncoded = (text: string) => [...text].map((char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');

  const forms = (token: string) => {
    const [, payload, signature] = token.split('.');
    return [token, encodeURIComponent(token), percentEncoded(token), percentEncoded(token).toLowerCase(), payload!, signature!];
  };

  test('an app error quoting a percent-encoded ?token= URL', async () => {
    const token = sign({ sub: 'alice', tag: 'url' });
    const before = app.logger.lines.length;
    expect((await rawUpgrade(app.port, `/chat?room=1&token=${percentEncoded(token)}`)).status).toBe(500);
    const logged = app.logger.lines.slice(before).join('\n');
    expect(logged).toContain('lookup failed for /chat?room=1&token=[token]');
    for (const form of forms(token)) expect(logged).not.toContain(form);
  });

  test('an app error quoting the headers: Authorization, Cookie and bearer. subprotocol entries', async () => {
    const token = sign({ sub: 'alice', tag: 'headers' });
    const session = 's%3Aabcdefghijklmnop.signature0123456789';
    const before = app.logger.lines.length;
    expect((await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${token}`, Cookie: `lang=en; sid=${session}` })).status).toBe(500);
    const other = sign({ sub: 'alice', tag: 'protocol' });
    expect((await rawUpgrade(app.port, '/chat', { 'Sec-WebSocket-Protocol': `chat, bearer.${other}` })).status).toBe(500);
    const logged = app.logger.lines.slice(before).join('\n');
    expect(logged).toContain('lookup failed');
    for (const form of [...forms(token), ...forms(other), session, `Bearer ${token}`]) expect(logged).not.toContain(form);
  });

  test('a token quoted form-encoded, or piece by piece', async () => {
    const token = sign({ sub: 'alice', tag: 'pieces' });
    const [header, payload, signature] = token.split('.');
    quoted.push(`signature ${signature} payload ${payload} header ${header}`);
    const before = app.logger.lines.length;
    expect((await rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${token}` })).status).toBe(500);
    quoted.length = 0;
    const logged = app.logger.lines.slice(before).join('\n');
    for (const form of forms(token)) expect(logged).not.toContain(form);
  });
});

describe('a flood of handshake timeouts', () => {
  const app = useApp(() => ChatAppModule.with({ handshakeTimeoutMs: 100, resolveUser: () => never }));

  test('is logged once per gateway, not once per handshake', async () => {
    const before = app.logger.lines.length;
    const answers = await Promise.all(Array.from({ length: 40 }, () => rawUpgrade(app.port, '/chat', { Authorization: `Bearer ${sign()}` })));
    expect(new Set(answers.map((response) => response.status))).toEqual(new Set([503]));
    const warnings = app.logger.lines.slice(before).filter((line) => line.includes('longer than handshakeTimeoutMs'));
    expect(warnings).toHaveLength(1);
  });
});
