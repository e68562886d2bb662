/**
 * Cluster figures for `npm run bench`: how fast a revocation reaches the other
 * nodes, and what revoked users cost in memory and per check.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { RevocationList } from '../src/core/revocation.list.js';
import { ECHO_PATH, type ServerReply, type ServerRequest, validToken } from './bench.constants.js';

export interface ClusterFigures {
  propagation: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  revocationList: { entries: number; bytesPerEntry: number; checkNs: number };
}

interface Node {
  readonly port: number;
  ask(request: ServerRequest): Promise<ServerReply>;
}

function openClient(port: number, userId: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${ECHO_PATH}`, {
      headers: { authorization: `Bearer ${validToken(userId)}` },
    });
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

const closeOf = (client: WebSocket) => new Promise<number>((resolve) => client.once('close', () => resolve(performance.now())));

/** `count` revocations, each of a user connected to nodes B and C: from revokeUser() on A to the later of the two closes. */
export async function measurePropagation([a, b, c]: Node[], count: number): Promise<ClusterFigures['propagation']> {
  const delays: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const userId = `propagation-${index}`;
    const clients = await Promise.all([openClient(b!.port, userId), openClient(c!.port, userId)]);
    const closes = Promise.all(clients.map(closeOf));
    const started = performance.now();
    await a!.ask({ type: 'revoke', userId });
    const closed = await closes;
    delays.push(Math.max(...closed) - started);
  }
  const sorted = delays.sort((x, y) => x - y);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
  return { count, p50Ms: at(50), p99Ms: at(99), maxMs: sorted[sorted.length - 1]! };
}

/** `entries` revoked users held in memory: heap bytes per entry, and the cost of a check (a hit or a miss). */
export function measureRevocationList(entries: number): ClusterFigures['revocationList'] {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const list = new RevocationList();
  const now = Date.now();
  for (let index = 0; index < entries; index += 1) {
    list.revokeUser(`user-${index}`, { before: now, expiresAt: now + 3_600_000 });
  }
  gc?.();
  const bytesPerEntry = (process.memoryUsage().heapUsed - before) / entries;
  const checks = 1_000_000;
  const credential = { iat: Math.floor(now / 1000) + 10 };
  // Half hits (revoked users, a fresh token), half misses (users never revoked).
  const ids = Array.from({ length: entries * 2 }, (_, index) => `user-${index}`);
  let refused = 0;
  const started = performance.now();
  for (let index = 0; index < checks; index += 1) {
    if (list.refusal(ids[index % ids.length]!, credential)) refused += 1;
  }
  const checkNs = ((performance.now() - started) * 1e6) / checks;
  if (refused !== 0) throw new Error('a fresh token was refused');
  return { entries, bytesPerEntry, checkNs };
}
