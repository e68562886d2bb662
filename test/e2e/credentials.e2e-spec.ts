import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { ChatAppModule, ChatGateway } from '../apps/chat.app.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { useApp } from '../helpers/test-app.js';
import { sign } from '../helpers/tokens.js';
import { connect, refusedStatus, request } from '../helpers/ws-client.js';

const app = useApp(() => ChatAppModule.with());

describe('where the token may be', () => {
  test.each(['Bearer', 'bearer', 'BEARER'])('Authorization: %s <token>', async (scheme) => {
    const client = await connect(app.url('/chat'), [], { headers: { authorization: `${scheme} ${sign()}` } });
    expect(await request(client, 'whoami')).toEqual({ event: 'whoami', data: { id: 'alice', name: 'Alice', roles: ['admin'] } });
    client.close();
  });

  test('?token=<token>', async () => {
    const client = await connect(app.url(`/chat?token=${sign({ sub: 'bob' })}`));
    expect(await request(client, 'name')).toEqual({ event: 'name', data: 'Bob' });
    client.close();
  });

  test('a bearer.<token> subprotocol beside an app protocol: the app protocol is selected', async () => {
    const client = await connect(app.url('/chat'), ['chat.v1', `bearer.${sign()}`]);
    expect(client.protocol).toBe('chat.v1');
    expect(await request(client, 'name')).toEqual({ event: 'name', data: 'Alice' });
    client.close();
  });

  test('the token subprotocol is never echoed, whatever its place in the offer', async () => {
    const token = sign();
    const first = await rawUpgrade(app.port, '/chat', { 'Sec-WebSocket-Protocol': `bearer.${token}, chat.v1` });
    expect(first.status).toBe(101);
    expect(first.headers['sec-websocket-protocol']).toBe('chat.v1');
    const alone = await rawUpgrade(app.port, '/chat', { 'Sec-WebSocket-Protocol': `bearer.${token}` });
    expect(alone.status).toBe(101);
    expect(alone.headers['sec-websocket-protocol']).toBeUndefined();
    expect(JSON.stringify([first, alone])).not.toContain(token);
  });

  test('Basic is not a token: 401 with a plain Bearer challenge', async () => {
    const response = await rawUpgrade(app.port, '/chat', { Authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('malformed credentials get 400', () => {
  test.each([
    ['a repeated ?token=', `/chat?token=${sign()}&token=${sign()}`, {}],
    ['a token in header and query', `/chat?token=${sign()}`, { Authorization: `Bearer ${sign()}` }],
    ['two token subprotocols', '/chat', { 'Sec-WebSocket-Protocol': `bearer.${sign()}, bearer.${sign({ sub: 'bob' })}` }],
  ])('%s', async (_case, path, headers) => {
    const response = await rawUpgrade(app.port, path, headers as Record<string, string>);
    expect(response.status).toBe(400);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
    expect(JSON.parse(response.body)).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });
});

test('no refused client ever reached the gateway', async () => {
  const before = app.app.get(ChatGateway).connections.length;
  expect(await refusedStatus(app.url('/chat'))).toBe(401);
  expect(await refusedStatus(app.url('/chat?token=nope'))).toBe(401);
  expect(app.app.get(ChatGateway).connections).toHaveLength(before);
});
