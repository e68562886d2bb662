import type { INestApplication } from '@nestjs/common';
import { io, type Socket as IoClient } from 'socket.io-client';
import type { WebSocket } from 'ws';
import { WsAuthAdapter } from '../../src/ws/index.js';
import { WsAuthIoAdapter } from '../../src/socket-io/index.js';
import { rawUpgrade } from './raw-upgrade.js';
import { closed as wsClosed, connect as wsConnect, nextEvent } from './ws-client.js';

export type TransportName = 'ws' | 'socket.io';

/** How a test client authenticates. */
export interface ClientCredentials {
  /** Sent as `Authorization: Bearer` (ws) or `auth: { token }` (Socket.IO). */
  readonly token?: string;
  readonly headers?: Record<string, string>;
}

/** How a close reached the client: the ws close code, or Socket.IO's `auth:closed` before its disconnect. */
export interface ClientClosed {
  readonly code: number;
  readonly reason: string;
}

/** An in-band refresh's answer, as either transport gives it. */
export type RefreshAnswer =
  | { ok: true; exp: number }
  | { ok: false; message: string }
  | { ok: false; code: number; reason: string };

/** A refused handshake: the HTTP status (ws) or `connect_error`'s `err.data` (Socket.IO). */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  /** `Retry-After` (ws) or `err.data.retryAfter` (Socket.IO), when the answer has one. */
  readonly retryAfter?: number;
}

/** One connected client, whatever the transport. */
export interface TestClient {
  /** Sends `event` and resolves with the data of the `reply` event that comes back. */
  request(event: string, data?: unknown, reply?: string): Promise<unknown>;
  /** Sends `event` without waiting for anything. */
  send(event: string, data?: unknown): void;
  /** The data of the next `event`. */
  next(event: string, timeoutMs?: number): Promise<unknown>;
  /** Resolves when the server closed the connection; call it before causing the close. */
  closed(): Promise<ClientClosed>;
  refresh(token: string): Promise<RefreshAnswer>;
  isOpen(): boolean;
  close(): void;
}

export interface Transport {
  readonly name: TransportName;
  adapter(app: INestApplication): WsAuthAdapter | WsAuthIoAdapter;
  /** `@WebSocketGateway` options that put a gateway at `route`. */
  route(route: string): { path: string } | { namespace: string };
  connect(port: number, route: string, credentials?: ClientCredentials): Promise<TestClient>;
  refusal(port: number, route: string, credentials?: ClientCredentials): Promise<Refusal>;
}

const ws: Transport = {
  name: 'ws',
  adapter: (app) => new WsAuthAdapter(app),
  route: (path) => ({ path }),
  async connect(port, route, { token, headers = {} } = {}) {
    const client = await wsConnect(`ws://127.0.0.1:${port}${route}`, [], {
      headers: { ...headers, ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    });
    return wsTestClient(client);
  },
  async refusal(port, route, { token, headers = {} } = {}) {
    const { status, body, headers: answer } = await rawUpgrade(port, route, {
      ...headers,
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
    });
    if (status === 101) throw new Error(`${route} accepted the connection`);
    const retryAfter = answer['retry-after'];
    return { status, message: JSON.parse(body).message, ...(retryAfter !== undefined && { retryAfter: Number(retryAfter) }) };
  },
};

function wsTestClient(client: WebSocket): TestClient {
  return {
    async request(event, data = {}, reply = event) {
      const answer = nextEvent(client, reply);
      client.send(JSON.stringify({ event, data }));
      return (await answer).data;
    },
    send(event, data = {}) {
      client.send(JSON.stringify({ event, data }));
    },
    async next(event, timeoutMs) {
      return (await nextEvent(client, event, timeoutMs)).data;
    },
    closed: () => wsClosed(client),
    async refresh(token) {
      const outcome = new Promise<RefreshAnswer>((resolve) => {
        const onMessage = (raw: Buffer) => {
          const { event, data } = JSON.parse(raw.toString());
          if (event === 'auth:refreshed' || event === 'exception') {
            client.off('message', onMessage);
            resolve(event === 'auth:refreshed' ? { ok: true, exp: data.exp } : { ok: false, message: data.message });
          }
        };
        client.on('message', onMessage);
        client.once('close', (code, reason) => resolve({ ok: false, code, reason: reason.toString() }));
      });
      client.send(JSON.stringify({ event: 'auth:refresh', data: { token } }));
      return outcome;
    },
    isOpen: () => client.readyState === client.OPEN,
    close: () => client.close(),
  };
}

/** socket.io-client options of the tests: a connection of its own, websocket transport unless said otherwise. */
export function ioOptions(credentials: ClientCredentials = {}, extra: Parameters<typeof io>[1] = {}): Parameters<typeof io>[1] {
  return {
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    ...(credentials.token !== undefined && { auth: { token: credentials.token } }),
    ...(credentials.headers && { extraHeaders: credentials.headers }),
    ...extra,
  };
}

/** Connects, or rejects with the `connect_error`. */
export function ioConnect(url: string, options: Parameters<typeof io>[1]): Promise<IoClient> {
  const socket = io(url, options);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

const socketIo: Transport = {
  name: 'socket.io',
  adapter: (app) => new WsAuthIoAdapter(app),
  route: (namespace) => ({ namespace }),
  async connect(port, route, credentials) {
    return ioTestClient(await ioConnect(`http://127.0.0.1:${port}${route}`, ioOptions(credentials)));
  },
  async refusal(port, route, credentials) {
    try {
      (await socketIo.connect(port, route, credentials)).close();
    } catch (error) {
      const data = (error as { data?: Refusal }).data;
      if (data?.status !== undefined) return data;
      throw error;
    }
    throw new Error(`${route} accepted the connection`);
  },
};

export function ioTestClient(socket: IoClient): TestClient {
  return {
    async request(event, data = {}, reply = event) {
      const answer = ioTestClient(socket).next(reply);
      socket.emit(event, data);
      return answer;
    },
    send(event, data = {}) {
      socket.emit(event, data);
    },
    next(event, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.off(event, onEvent);
          reject(new Error(`no "${event}" event arrived`));
        }, timeoutMs);
        const onEvent = (data: unknown) => {
          clearTimeout(timer);
          resolve(data);
        };
        socket.once(event, onEvent);
      });
    },
    closed() {
      if (socket.disconnected) {
        return Promise.reject(new Error('already disconnected: wait for the close before causing it'));
      }
      const told = new Promise<ClientClosed>((resolve) => socket.once('auth:closed', resolve));
      const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      return Promise.all([told, disconnected]).then(([closed, reason]) => {
        // A server-side disconnect: socket.io-client does not reconnect by itself.
        if (reason !== 'io server disconnect' || socket.active) {
          throw new Error(`disconnected by "${reason}" (active: ${socket.active}), not by the server`);
        }
        return closed;
      });
    },
    async refresh(token) {
      return socket.timeout(5000).emitWithAck('auth:refresh', { token });
    },
    isOpen: () => socket.connected,
    close: () => socket.close(),
  };
}

export const TRANSPORTS: readonly Transport[] = [ws, socketIo];
export const WS_TRANSPORT = ws;
export const IO_TRANSPORT = socketIo;
