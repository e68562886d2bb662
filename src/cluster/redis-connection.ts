import type { RedisClientLike } from '../ws-auth-module-options.interface.js';

/**
 * The few things the cluster link does with Redis, over either client Nest
 * apps use: ioredis (`call`, `'message'` events) or node-redis (`sendCommand`,
 * a listener per channel, `connect()`). Each connection is a duplicate of the
 * app's client that fails commands at once while Redis is away (no offline
 * queue), so that nothing of the library waits on a Redis that is down.
 */
export interface RedisConnection {
  command(args: ReadonlyArray<string | number>): Promise<unknown>;
  /** Subscribes; `listener` gets each message. Re-subscribed by the client after a reconnect. */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  /** Called on every (re)connection. */
  onReady(listener: () => void): void;
  /** Called when the connection drops. */
  onLost(listener: () => void): void;
  close(): Promise<void>;
}

interface IoRedisLike {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  duplicate(options?: object): IoRedisLike;
  quit(): Promise<unknown>;
  disconnect(): void;
  status: string;
}

interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  duplicate(options?: object): NodeRedisLike;
  connect(): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
  isOpen: boolean;
}

/** A duplicate of the app's client: ioredis or node-redis, told apart by their API. */
export async function duplicateConnection(client: RedisClientLike, onError: (error: unknown) => void): Promise<RedisConnection> {
  if (typeof (client as Partial<IoRedisLike>).call === 'function') {
    return ioRedisConnection(client as unknown as IoRedisLike, onError);
  }
  if (typeof (client as Partial<NodeRedisLike>).sendCommand === 'function') {
    return nodeRedisConnection(client as unknown as NodeRedisLike, onError);
  }
  throw new TypeError('cluster.redis is neither an ioredis nor a node-redis client');
}

function ioRedisConnection(app: IoRedisLike, onError: (error: unknown) => void): RedisConnection {
  // No offline queue: a command fails at once while disconnected, instead of waiting for Redis.
  const redis = app.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false });
  redis.on('error', onError);
  const channels = new Map<string, (message: string) => void>();
  redis.on('message', (channel, message) => channels.get(channel as string)?.(message as string));
  return {
    command: ([name, ...args]) => redis.call(String(name), ...args),
    subscribe: async (channel, listener) => {
      channels.set(channel, listener);
      await redis.subscribe(channel);
    },
    onReady: (listener) => {
      redis.on('ready', listener);
      if (redis.status === 'ready') queueMicrotask(listener);
    },
    onLost: (listener) => {
      redis.on('close', listener);
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

async function nodeRedisConnection(app: NodeRedisLike, onError: (error: unknown) => void): Promise<RedisConnection> {
  const redis = app.duplicate({ disableOfflineQueue: true });
  redis.on('error', onError);
  const ready: Array<() => void> = [];
  redis.on('ready', () => ready.forEach((listener) => listener()));
  // node-redis connects on request; it keeps reconnecting by itself afterwards.
  redis.connect().catch(onError);
  return {
    command: (args) => redis.sendCommand(args.map(String)),
    subscribe: async (channel, listener) => {
      await redis.subscribe(channel, listener);
    },
    onReady: (listener) => {
      ready.push(listener);
      if (redis.isOpen) queueMicrotask(listener);
    },
    onLost: (listener) => {
      redis.on('end', listener);
      redis.on('reconnecting', listener);
    },
    close: async () => {
      if (typeof redis.destroy === 'function') {
        redis.destroy();
      } else {
        await (redis.disconnect ?? redis.quit)?.call(redis).catch(() => {});
      }
    },
  };
}
