import { type Client, createClient } from 'graphql-ws';
import { WebSocket } from 'ws';

/** How the server closed a graphql-ws connection. */
export interface GqlClosed {
  readonly code: number;
  readonly reason: string;
}

/** What one subscription received, in order. */
export type GqlEvent = { kind: 'next'; data: unknown } | { kind: 'error'; error: unknown } | { kind: 'complete' };

export interface GqlSubscription {
  /** The next event (waits for it), or fails after `timeoutMs`. */
  take(timeoutMs?: number): Promise<GqlEvent>;
  /** Events received and not taken. */
  readonly pending: readonly GqlEvent[];
  unsubscribe(): void;
}

export interface GqlConnection {
  readonly client: Client;
  /** Resolves once the server acknowledged `connection_init`, rejects with the close if it closed first. */
  readonly acknowledged: Promise<void>;
  /** Resolves with the server's close. */
  readonly closed: Promise<GqlClosed>;
  subscribe(query: string): GqlSubscription;
  dispose(): Promise<void>;
}

export interface GqlConnectOptions {
  path?: string;
  /** Headers of the upgrade request. */
  headers?: Record<string, string>;
  connectionParams?: Record<string, unknown>;
}

/** A real graphql-ws client (over `ws`) on 127.0.0.1:`port`, connecting at once and never retrying. */
export function gqlConnect(port: number, { path = '/graphql', headers = {}, connectionParams }: GqlConnectOptions = {}): GqlConnection {
  let ack!: () => void;
  let refuse!: (closed: GqlClosed) => void;
  let close!: (closed: GqlClosed) => void;
  const acknowledged = new Promise<void>((resolve, reject) => {
    ack = resolve;
    refuse = reject;
  });
  acknowledged.catch(() => {});
  const closed = new Promise<GqlClosed>((resolve) => (close = resolve));
  class HeaderedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const client = createClient({
    url: `ws://127.0.0.1:${port}${path}`,
    webSocketImpl: HeaderedWebSocket,
    lazy: false,
    retryAttempts: 0,
    keepAlive: 0,
    onNonLazyError: () => {},
    ...(connectionParams !== undefined && { connectionParams }),
    on: {
      connected: () => ack(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        refuse({ code, reason });
        close({ code, reason });
      },
    },
  });
  return {
    client,
    acknowledged,
    closed,
    subscribe(query) {
      const events: GqlEvent[] = [];
      const waiters: Array<(event: GqlEvent) => void> = [];
      const push = (event: GqlEvent) => {
        const waiter = waiters.shift();
        if (waiter) waiter(event);
        else events.push(event);
      };
      const unsubscribe = client.subscribe(
        { query },
        {
          next: (value) => push({ kind: 'next', data: value.data ?? value }),
          error: (error) => push({ kind: 'error', error }),
          complete: () => push({ kind: 'complete' }),
        },
      );
      return {
        pending: events,
        take(timeoutMs = 3000) {
          const queued = events.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise<GqlEvent>((resolve, reject) => {
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(onEvent), 1);
              reject(new Error(`no event for ${query} within ${timeoutMs} ms`));
            }, timeoutMs);
            const onEvent = (event: GqlEvent) => {
              clearTimeout(timer);
              resolve(event);
            };
            waiters.push(onEvent);
          });
        },
        unsubscribe,
      };
    },
    dispose: () => Promise.resolve(client.dispose()),
  };
}

/** A bare WebSocket speaking graphql-transport-ws by hand, for what a well-behaved client never sends. */
export async function rawGraphqlSocket(port: number, headers: Record<string, string> = {}, path = '/graphql'): Promise<{
  socket: WebSocket;
  closed: Promise<GqlClosed>;
  send(message: object): void;
  messages: unknown[];
}> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, 'graphql-transport-ws', { headers });
  const messages: unknown[] = [];
  socket.on('message', (raw) => messages.push(JSON.parse(String(raw))));
  const closed = new Promise<GqlClosed>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, closed, send: (message) => socket.send(JSON.stringify(message)), messages };
}
