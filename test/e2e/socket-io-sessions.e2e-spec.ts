import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Module } from '@nestjs/common';
import { type OnGatewayConnection, SubscribeMessage, WebSocketServer } from '@nestjs/websockets';
import type { Namespace } from 'socket.io';
import { io, type Socket as IoClient } from 'socket.io-client';
import { WebSocket } from 'ws';
import { type JwtClaims, WsAuthGateway, WsAuthModule, WsUser } from '../../src/index.js';
import { type AuthenticatedSocket, WsAuthIoAdapter } from '../../src/socket-io/index.js';
import { startApp, type TestApp } from '../helpers/test-app.js';
import { jwtOptions, sign } from '../helpers/tokens.js';
import { until } from '../helpers/wait.js';

/** Who ran a handler, and which connections were recovered. */
const seen = { whoami: [] as string[], connected: [] as Array<{ sub: string; recovered: boolean }> };

@WsAuthGateway({ namespace: '/rec', connectionStateRecovery: { skipMiddlewares: false, maxDisconnectionDuration: 60_000 } })
class RecoveryGateway implements OnGatewayConnection {
  @WebSocketServer() server!: Namespace;

  handleConnection(client: AuthenticatedSocket<JwtClaims>) {
    seen.connected.push({ sub: client.user.sub!, recovered: client.recovered });
    void client.join(`user:${client.user.sub}`);
  }

  @SubscribeMessage('whoami')
  whoami(@WsUser('sub') sub: string) {
    seen.whoami.push(sub);
    return { sub };
  }
}

@Module({ imports: [WsAuthModule.forRoot({ jwt: jwtOptions })], providers: [RecoveryGateway] })
class SessionsModule {}

/** A raw Engine.IO v4 client over a websocket: every frame it receives, in order. */
function rawClient(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
  const frames: string[] = [];
  const socket = new WebSocket(url, options);
  socket.on('message', (data) => {
    const frame = String(data);
    if (frame === '2') socket.send('3'); // answer engine.io's ping
    frames.push(frame);
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  return { socket, frames, closed, opened };
}

describe('Socket.IO sessions belong to whoever opened them', () => {
  let app: TestApp;
  const clients: IoClient[] = [];
  const raws: WebSocket[] = [];

  beforeAll(async () => {
    app = await startApp(SessionsModule, { adapter: (nest) => new WsAuthIoAdapter(nest) });
  });
  afterAll(() => app.close());
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const raw of raws.splice(0)) raw.terminate();
  });

  const base = () => `http://127.0.0.1:${app.port}`;

  /** A victim on long-polling, whose sid is in every URL it requests. */
  async function pollingVictim(headers?: Record<string, string>): Promise<IoClient> {
    const victim = io(`${base()}/rec`, {
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
      auth: headers ? {} : { token: sign({ sub: 'victim' }) },
      ...(headers && { extraHeaders: headers }),
    });
    clients.push(victim);
    await new Promise<void>((resolve, reject) => {
      victim.once('connect', () => resolve());
      victim.once('connect_error', reject);
    });
    return victim;
  }

  test('a websocket upgrade with the victim’s sid from another address is refused and gets nothing', async () => {
    const victim = await pollingVictim();
    const sid = victim.io.engine.id;
    const victimGone = new Promise<string>((resolve) => victim.once('disconnect', resolve));
    const attacker = rawClient(`ws://127.0.0.1:${app.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`, {
      localAddress: '127.0.0.2',
    });
    raws.push(attacker.socket);
    await expect(attacker.opened).rejects.toThrow('HTTP 400');
    // The leaked sid is spent: the victim's session is closed (its client reconnects and authenticates anew).
    expect(await victimGone).toBe('transport close');
    expect(attacker.frames).toEqual([]);
    expect(seen.whoami).not.toContain('victim');
  });

  test('a polling POST with the victim’s sid from another address is refused; no handler runs', async () => {
    const victim = await pollingVictim();
    const sid = victim.io.engine.id;
    const before = seen.whoami.length;
    const victimGone = new Promise<string>((resolve) => victim.once('disconnect', resolve));
    const answer = await postFrom('127.0.0.2', `${base()}/socket.io/?EIO=4&transport=polling&sid=${sid}`, '42/rec,7["whoami",{}]');
    expect(answer.status).toBe(400);
    expect(await victimGone).toBe('transport close');
    expect(seen.whoami.length).toBe(before);
  });

  test('from the same address, a request without the Authorization header the session opened with is refused', async () => {
    const token = sign({ sub: 'victim' });
    const victim = await pollingVictim({ authorization: `Bearer ${token}` });
    const sid = victim.io.engine.id;
    const answer = await postFrom('127.0.0.1', `${base()}/socket.io/?EIO=4&transport=polling&sid=${sid}`, '42/rec,7["whoami",{}]');
    expect(answer.status).toBe(400);
    expect(seen.whoami).not.toContain('victim');
  });

  test('the owner’s own upgrade from polling to websocket still works', async () => {
    const owner = io(`${base()}/rec`, { reconnection: false, forceNew: true, auth: { token: sign({ sub: 'owner' }) } });
    clients.push(owner);
    await new Promise<void>((resolve) => owner.once('connect', () => resolve()));
    await until(() => owner.io.engine.transport.name === 'websocket');
    expect(await owner.timeout(2000).emitWithAck('whoami', {})).toEqual({ sub: 'owner' });
  });

  test('a browser-shaped client (Authorization on polling only, none on the upgrade) keeps its session through the upgrade', async () => {
    const token = sign({ sub: 'browser' });
    const client = io(`${base()}/rec`, {
      reconnection: false,
      forceNew: true,
      transportOptions: { polling: { extraHeaders: { authorization: `Bearer ${token}` } } },
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('connect_error', reject);
    });
    await until(() => client.io.engine.transport.name === 'websocket');
    expect(await client.timeout(2000).emitWithAck('whoami', {})).toEqual({ sub: 'browser' });
    expect(client.connected).toBe(true);
  });

  describe('connection state recovery (skipMiddlewares: false)', () => {
    /** A victim that was in its room, lost its transport, and missed a packet meanwhile. */
    async function victimAway(): Promise<{ pid: string; offset: string }> {
      const victim = io(`${base()}/rec`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token: sign({ sub: 'victim' }) },
      });
      clients.push(victim);
      await new Promise<void>((resolve) => victim.once('connect', () => resolve()));
      const gateway = app.app.get(RecoveryGateway);
      await until(() => gateway.server.adapter.rooms.get('user:victim')?.size === 1);
      gateway.server.to('user:victim').emit('secret', 'before');
      await new Promise<void>((resolve) => victim.once('secret', () => resolve()));
      const { _pid: pid, _lastOffset: offset } = victim as unknown as { _pid: string; _lastOffset: string };
      victim.io.engine.close(); // the transport drops: the server keeps the session
      await until(() => gateway.server.adapter.rooms.get('user:victim') === undefined);
      gateway.server.to('user:victim').emit('secret', 'for the victim only');
      return { pid, offset };
    }

    async function recoverAs(auth: Record<string, unknown>): Promise<string[]> {
      const raw = rawClient(`ws://127.0.0.1:${app.port}/socket.io/?EIO=4&transport=websocket`);
      raws.push(raw.socket);
      await raw.opened;
      await until(() => raw.frames.length > 0); // engine.io's open packet
      raw.socket.send(`40/rec,${JSON.stringify(auth)}`);
      await until(() => raw.frames.some((frame) => frame.startsWith('40/rec') || frame.startsWith('44/rec')));
      return raw.frames.filter((frame) => frame.startsWith('4'));
    }

    test('a client with no token gets its refusal and none of the victim’s packets', async () => {
      const frames = await recoverAs(await victimAway());
      expect(frames).toEqual(['44/rec,{"message":"Authentication required","data":{"status":401,"message":"Authentication required"}}']);
    });

    test('another user’s valid token does not recover the victim’s session', async () => {
      const session = await victimAway();
      const frames = await recoverAs({ ...session, token: sign({ sub: 'mallory' }) });
      expect(frames.join('\n')).not.toContain('for the victim only');
      expect(frames).toEqual([
        '44/rec,{"message":"Session belongs to another user","data":{"status":403,"message":"Session belongs to another user"}}',
      ]);
      expect(seen.connected.filter(({ sub }) => sub === 'mallory')).toEqual([]);
    });

    test('a recovered, connected client’s pid presented by someone else takes nothing from it: a fresh session, then the refusal', async () => {
      const session = await victimAway();
      const victimFrames = await recoverAs({ ...session, token: sign({ sub: 'victim' }) }); // the victim is back, live
      const sid = JSON.parse(victimFrames.find((frame) => frame.startsWith('40/rec,'))!.slice('40/rec,'.length)).sid as string;
      const gateway = app.app.get(RecoveryGateway);
      await until(() => gateway.server.sockets.has(sid));
      // The adapter still holds the stored session: someone else presents its pid while the victim is connected.
      expect(await recoverAs(session)).toEqual([
        '44/rec,{"message":"Authentication required","data":{"status":401,"message":"Authentication required"}}',
      ]);
      expect(gateway.server.sockets.has(sid)).toBe(true);
      expect(gateway.server.adapter.rooms.get('user:victim')?.has(sid)).toBe(true);
    });

    test('the same user recovers: missed packets, then the connect, recovered: true', async () => {
      const session = await victimAway();
      const frames = await recoverAs({ ...session, token: sign({ sub: 'victim' }) });
      expect(frames[0]).toMatch(/^42\/rec,\["secret","for the victim only","[^"]+"\]$/);
      expect(frames[1]).toMatch(new RegExp(`^40/rec,\\{"sid":"[^"]+","pid":"${session.pid}"\\}$`));
      await until(() => seen.connected.at(-1)?.sub === 'victim');
      expect(seen.connected.at(-1)).toEqual({ sub: 'victim', recovered: true });
    });
  });
});

/** A polling POST (an Engine.IO payload) from a chosen loopback address. */
async function postFrom(localAddress: string, url: string, body: string): Promise<{ status: number }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'text/plain;charset=UTF-8' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
