import jwt from 'jsonwebtoken';
import { createPrivateKey, createSecretKey } from 'node:crypto';

/** A plain string secret, the way apps configure one today. */
export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256';
/** What the clients sign with: a KeyObject (jsonwebtoken would try a string secret as a PEM key first, about 0.6 ms). */
const SIGNING_KEY = createSecretKey(Buffer.from(BENCH_SECRET));

export const ECHO_PATH = '/echo';

export const SERVERS = {
  a: 'unguarded @WebSocketGateway (WsAdapter)',
  b: "@WsAuthGateway, built-in 'jwt', string secret",
  c: '@WsAuthGateway, hand-written PassportStrategy(passport-jwt)',
  d: 'raw ws + jsonwebtoken at the upgrade (no Nest)',
  e: 'unguarded @WebSocketGateway (IoAdapter, Socket.IO)',
  f: "@WsAuthGateway on WsAuthIoAdapter, built-in 'jwt', auth: { token }",
  g: '(b) with cluster (Redis), no per-user limit',
  h: '(b) with maxConnectionsPerUser, one process',
  i: '(b) with maxConnectionsPerUser across nodes (cluster, Redis leases)',
  j: '(b) with events: true and no listener',
  k: '(b) with failedHandshakes (trustProxy: the flood comes from one address)',
  l: "@WsAuthGateway, built-in 'jwt', RS256 with a static publicKey",
  m: "@WsAuthGateway, built-in 'jwt', RS256 from a jwksUri (keys cached)",
  n: '(b) with one handshake guard (a roles guard reading @Roles() with Reflector)',
  o: "(b) under the Nest docs' global AuthGuard (APP_GUARD, with isWsAuthClient)",
  t: '(b) with failedHandshakes, no proxy: the flood comes from 127.0.0.2, valid clients from 127.0.0.1',
} as const;

export type ServerName = keyof typeof SERVERS;
export type BenchTransport = 'ws' | 'socket.io';

/** The transport each server speaks, and the unguarded server of that transport its ratios are against. */
export const TRANSPORT_OF: Record<ServerName, BenchTransport> = {
  a: 'ws',
  b: 'ws',
  c: 'ws',
  d: 'ws',
  e: 'socket.io',
  f: 'socket.io',
  g: 'ws',
  h: 'ws',
  i: 'ws',
  j: 'ws',
  k: 'ws',
  l: 'ws',
  m: 'ws',
  n: 'ws',
  o: 'ws',
  t: 'ws',
};
/**
 * The cluster servers are compared with the same gateway without cluster: (g) with (b), (i) with (h);
 * events on without a listener (j) with events off (b).
 */
export const BASELINE_OF: Record<ServerName, ServerName> = {
  a: 'a',
  b: 'a',
  c: 'a',
  d: 'a',
  e: 'e',
  f: 'e',
  g: 'b',
  h: 'a',
  i: 'h',
  j: 'b',
  k: 'b',
  l: 'a',
  m: 'l',
  n: 'b',
  o: 'b',
  t: 'b',
};
/** Servers also measured with one token shared by every handshake (the verified-token cache answers): the transports' pairs. */
export const SHARED_TOKEN_TOO: ReadonlySet<ServerName> = new Set(['a', 'b', 'e', 'f']);
/** Servers measured on handshakes only (the cluster, events and key sources cost nothing on the message path). */
export const HANDSHAKES_ONLY: ReadonlySet<ServerName> = new Set(['g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 't']);
/** Servers under the forged-token flood: the ws ones, and (k), (t) with the failed-handshake limit. */
export const FLOODED: ReadonlySet<ServerName> = new Set(['a', 'b', 'c', 'd', 'k', 't']);
/** The flood of (t) comes from this loopback address (no proxy: the server sees the TCP peer). */
export const ATTACKER_SOURCE = '127.0.0.2';
/** Servers whose tokens are RS256 (signed with RSA_KEYS.privateKey). */
export const RS256_SERVERS: ReadonlySet<ServerName> = new Set(['l', 'm']);
/** The flood's one attacking address (X-Forwarded-For), and the addresses valid clients come from. */
export const ATTACKER_ADDRESS = '203.0.113.7';
export const validAddress = (index: number) => `198.51.100.${(index % 250) + 1}`;
/** A limit high enough that the benchmark's one user is never refused: what is measured is the cost of holding places. */
export const BENCH_LIMIT = 10_000;

/** Messages between the orchestrator and a server process. */
export type ServerRequest =
  | { type: 'memory' }
  | { type: 'cpu' }
  | { type: 'stop' }
  | { type: 'revoke'; userId: string }
  /** Starts the CPU profiler (`start`), or stops it and writes the profile to `file`. */
  | { type: 'profile'; action: 'start' }
  | { type: 'profile'; action: 'stop'; file: string };
export type ServerReply =
  | { type: 'ready'; port: number }
  | { type: 'revoked' }
  | { type: 'memory'; heapUsed: number; rss: number; external: number }
  | { type: 'cpu'; micros: number }
  | { type: 'profiled' };

export type BenchAlgorithm = 'HS256' | 'RS256';

/**
 * The tokens a load task's clients carry: by default one freshly signed token
 * per connection, each with a `sub` of its own, as real clients do (so every
 * handshake is verified afresh); or one token shared by all, which after the
 * first handshake the verified-token cache answers.
 */
export type TokenPlan = { readonly kind: 'unique'; readonly algorithm: BenchAlgorithm } | { readonly kind: 'shared'; readonly token: string };

/**
 * Signs tokens valid for an hour: HS256 with the bench secret, RS256 with the
 * private key (PEM) of the run's key pair, whose public key servers (l) and
 * (m) read from the environment.
 */
export function tokenSigner(algorithm: BenchAlgorithm, rsaPrivateKeyPem?: string): (sub: string) => string {
  const key = algorithm === 'HS256' ? SIGNING_KEY : createPrivateKey(rsaPrivateKeyPem!);
  const options: jwt.SignOptions = { algorithm, expiresIn: 3600, ...(algorithm === 'RS256' && { keyid: 'bench-key' }) };
  // `roles`: what the handshake roles guard of server (n) reads.
  return (sub) => jwt.sign({ sub, roles: ['member'] }, key, options);
}

export function validToken(sub = 'bench-user', seconds = 3600): string {
  return jwt.sign({ sub, roles: ['member'] }, BENCH_SECRET, { algorithm: 'HS256', expiresIn: seconds });
}

/**
 * Signed with another secret: every server that checks tokens refuses it after
 * verifying the signature. The load generator varies its last characters so
 * that each request of a flood carries a different token, as an attacker's would.
 */
export function invalidToken(sub = 'attacker'): string {
  return jwt.sign({ sub }, createSecretKey(Buffer.from('not-the-bench-secret-but-just-as-long-123')), { algorithm: 'HS256', expiresIn: 3600 });
}
