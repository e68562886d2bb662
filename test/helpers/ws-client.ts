import { WebSocket, type ClientOptions } from 'ws';

/** A `{ event, data }` frame as Nest's ws adapter sends it. */
export interface Frame {
  readonly event: string;
  readonly data: unknown;
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** Opens a client and waits for `open`; rejects with the HTTP status of a refused handshake. */
export function connect(url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, protocols, options);
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`handshake refused with ${response.statusCode}`), { status: response.statusCode }));
      response.resume();
      client.terminate();
    });
    client.once('error', reject);
  });
}

/** The HTTP status a refused handshake got. */
export async function refusedStatus(url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<number> {
  try {
    const client = await connect(url, protocols, options);
    client.terminate();
    throw new Error(`${url} accepted the connection`);
  } catch (error) {
    const { status } = error as { status?: number };
    if (status === undefined) throw error;
    return status;
  }
}

/** The next JSON message the client receives. */
export function nextMessage<T = Frame>(client: WebSocket, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message arrived')), timeoutMs);
    client.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(data.toString()) as T);
    });
  });
}

/** Sends `{ event, data }` and waits for the reply. */
export async function request<T = Frame>(client: WebSocket, event: string, data: unknown = {}): Promise<T> {
  const reply = nextMessage<T>(client);
  client.send(JSON.stringify({ event, data }));
  return reply;
}

/** The close code and reason; call it before the close can happen. */
export function closed(client: WebSocket): Promise<Closed> {
  if (client.readyState === WebSocket.CLOSED) {
    return Promise.reject(new Error('already closed: wait for the close before causing it'));
  }
  return new Promise((resolve) => {
    client.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** The next message with this event, skipping others (broadcasts). */
export function nextEvent<T = Frame>(client: WebSocket, event: string, timeoutMs = 5000): Promise<{ event: string; data: T }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no "${event}" message arrived`));
    }, timeoutMs);
    const onMessage = (raw: Buffer) => {
      const message = JSON.parse(raw.toString());
      if (message.event === event) {
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve(message);
      }
    };
    client.on('message', onMessage);
  });
}
