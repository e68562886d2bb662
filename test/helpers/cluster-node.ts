import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_ISSUER, TEST_SECRET } from './tokens.js';

const script = fileURLToPath(new URL('../fixtures/cluster-node.app.mjs', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeOptions {
  redisSocket: string;
  client: 'ioredis' | 'redis';
  prefix?: string;
  limit?: number;
  leaseTtlMs?: number;
  /** GraphQL subscriptions (graphql-ws) at /graphql beside the /chat gateway. */
  graphql?: boolean;
}

/** One app process of the cluster: a separate Node process, driven over IPC. */
export interface ClusterNode {
  readonly port: number;
  readonly process: ChildProcess;
  url(path: string): string;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** SIGTERM (a clean stop) or SIGKILL (a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  const child = fork(script, [], {
    cwd: root,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      REDIS_SOCKET: options.redisSocket,
      REDIS_CLIENT: options.client,
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      ...(options.prefix && { PREFIX: options.prefix }),
      ...(options.limit && { LIMIT: String(options.limit) }),
      ...(options.leaseTtlMs && { LEASE_TTL_MS: String(options.leaseTtlMs) }),
      ...(options.graphql && { GRAPHQL: '1' }),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a cluster node exited with ${code} before listening`)));
    child.on('message', (message: { ready?: number }) => {
      if (message.ready) resolve(message.ready);
    });
  });
  let next = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    process: child,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    call: (op, ...args) =>
      new Promise((resolve, reject) => {
        const id = (next += 1);
        const onMessage = (message: { id?: number; result?: unknown; error?: string }) => {
          if (message.id !== id) return;
          child.off('message', onMessage);
          if (message.error) reject(new Error(message.error));
          else resolve(message.result as never);
        };
        child.on('message', onMessage);
        child.send({ id, op, args });
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
