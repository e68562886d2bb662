import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  /** The unix socket it listens on: no port to collide with. */
  readonly socket: string;
  /** Stops it; `keep` leaves its folder, to start it again on the same socket. */
  stop(keep?: { keep: boolean }): Promise<void>;
}

/**
 * Starts a throw-away redis-server (Debian package `redis-server`; `npm test`
 * installs it when missing) without persistence, on a unix socket.
 */
export async function startRedis(at?: string): Promise<RedisServer> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    throw new Error('redis-server is not installed: run `node scripts/system-packages.mjs redis-server` (npm test does)');
  }
  // Started again in the same folder, it listens on the same socket, and starts empty (no persistence).
  const directory = at ?? mkdtempSync(join(tmpdir(), 'nest-ws-auth-redis-'));
  const socket = join(directory, 'redis.sock');
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', directory],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not get ready: ${output}`)), 5000);
    server.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready to accept connections/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    socket,
    stop: ({ keep } = { keep: false }) =>
      new Promise((resolve) => {
        server.once('exit', () => {
          if (!keep) rmSync(directory, { recursive: true, force: true });
          resolve();
        });
        server.kill('SIGTERM');
      }),
  };
}
