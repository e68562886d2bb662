/**
 * The library's own work per guarded handshake, in process, without sockets:
 * `HandshakeAuthenticator.authenticate` (origin, credentials, the jwt
 * strategy, roles, the per-user limit) then `ConnectionRegistry.accept` and the
 * close, as a ws handshake runs them. Run: npm run bench:verdict
 *
 *   unique: every handshake carries its own freshly signed HS256 token (its own `sub`), as real clients do;
 *   shared: every handshake carries the same token, so the verified-token cache answers.
 *
 * Prints the median of ROUNDS rounds, in µs of CPU per handshake. Set PROFILE=1 to run
 * the unique case for longer under `node --cpu-prof`.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import jwt from 'jsonwebtoken';
import { createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClientTransport, ConnectionRegistry } from '../src/core/connection.registry.js';
import { HandshakeAuthenticator } from '../src/core/handshake.authenticator.js';
import type { HandshakeLink, Verdict } from '../src/core/handshake.interfaces.js';
import { CONNECTION_REGISTRY } from '../src/core/core.constants.js';
import { WsAuthModule } from '../src/ws-auth.module.js';
import { BENCH_SECRET } from './bench.constants.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const PER_ROUND = Number(process.env.PER_ROUND ?? 20_000);

@Module({ imports: [WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] } })] })
class VerdictBenchModule {}

class VerdictBenchGateway {}

const app = await NestFactory.createApplicationContext(VerdictBenchModule, { logger: ['error', 'warn'] });
const authenticator = app.get(HandshakeAuthenticator, { strict: false });
const registry = app.get<ConnectionRegistry>(CONNECTION_REGISTRY, { strict: false });
const policy = authenticator.policyFor(VerdictBenchGateway, {});

/** A socket that stays open: the handshake's link, and the client the registry tracks. */
const link: HandshakeLink = { isGone: () => false, onGone: () => {}, offGone: () => {} };
const transport: ClientTransport = {
  name: 'ws',
  isOpen: () => true,
  setUser: (client, user) => {
    (client as { user?: unknown }).user = user;
  },
  close: () => {},
  watch: () => {},
  unwatch: () => {},
};

/** What ws hands verifyClient: the upgrade request (only what the library reads of it). */
function upgradeRequest(token: string): IncomingMessage {
  const authorization = `Bearer ${token}`;
  return {
    url: '/echo',
    headers: { host: '127.0.0.1', upgrade: 'websocket', authorization },
    rawHeaders: ['Host', '127.0.0.1', 'Upgrade', 'websocket', 'Authorization', authorization],
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as IncomingMessage;
}

/** Signing with a KeyObject: jsonwebtoken would try to parse a string secret as a PEM key first (about 0.6 ms). */
const signingKey = createSecretKey(Buffer.from(BENCH_SECRET));
let signed = 0;
const freshTokens = (count: number) =>
  Array.from({ length: count }, () => {
    signed += 1;
    return jwt.sign({ sub: `user-${signed}` }, signingKey, { algorithm: 'HS256', expiresIn: 3600 });
  });

/** One handshake as the ws binding runs it: verdict, then the connection opens and closes. */
function handshake(request: IncomingMessage): void {
  const verdict = authenticator.authenticate({ request, link, transport: 'ws' }, policy) as Verdict;
  if (!('user' in verdict)) {
    throw new Error(`refused: ${JSON.stringify(verdict)}`);
  }
  const client = {};
  registry.accept(client, verdict, transport);
  registry.close(client, 1000, '', 'client');
}

/** CPU time (user + system) per handshake, in µs: on a shared machine, less noisy than the wall clock. */
function round(requests: IncomingMessage[]): number {
  const started = process.cpuUsage();
  for (const request of requests) handshake(request);
  const { user, system } = process.cpuUsage(started);
  return (user + system) / requests.length;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function measure(kind: 'unique' | 'shared', rounds: number, perRound: number): number {
  const shared = freshTokens(1)[0]!;
  const figures: number[] = [];
  round((kind === 'unique' ? freshTokens(perRound) : Array(perRound).fill(shared)).map(upgradeRequest)); // warm-up
  for (let index = 0; index < rounds; index += 1) {
    const requests = (kind === 'unique' ? freshTokens(perRound) : Array(perRound).fill(shared)).map(upgradeRequest);
    figures.push(round(requests));
  }
  return median(figures);
}

if (process.env.PROFILE) {
  console.log(`unique tokens (profiled): ${measure('unique', ROUNDS * 3, PER_ROUND).toFixed(2)} µs per handshake`);
} else {
  console.log(`unique tokens: ${measure('unique', ROUNDS, PER_ROUND).toFixed(2)} µs per handshake (median of ${ROUNDS} rounds of ${PER_ROUND})`);
  console.log(`shared token:  ${measure('shared', ROUNDS, PER_ROUND).toFixed(2)} µs per handshake`);
}
await app.close();
