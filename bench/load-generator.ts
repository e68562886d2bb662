/**
 * The benchmark's clients, in a process of their own, driven over IPC by
 * run.ts. Handshakes are raw TCP upgrade requests (the client does the least
 * work it can, so that the server is what is measured); messages go through
 * `ws` clients. Each connection carries a token of its own unless the task
 * shares one (`TokenPlan`); fresh tokens are signed ahead, outside the
 * measured time.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import {
  ATTACKER_ADDRESS,
  type BenchAlgorithm,
  type BenchTransport,
  ECHO_PATH,
  type TokenPlan,
  tokenSigner,
  validAddress,
} from './bench.constants.js';

export type LoadTask =
  | { type: 'handshakes'; transport: BenchTransport; port: number; tokens: TokenPlan; concurrency: number; durationMs: number }
  | { type: 'echo'; transport: BenchTransport; port: number; tokens: TokenPlan; connections: number; inFlight: number; durationMs: number }
  | { type: 'open-idle'; transport: BenchTransport; port: number; tokens: TokenPlan; count: number }
  | { type: 'close-idle' }
  | {
      type: 'flood';
      port: number;
      tokens: TokenPlan;
      invalidToken: string;
      floodCount: number;
      concurrency: number;
      baselineProbes: number;
      /** The flood's own source address (no proxy); without it, the flood names its address in X-Forwarded-For. */
      attackerSource?: string;
    };

/** Fresh tokens, each with a `sub` never used before, signed ahead of the measured phases. */
class FreshTokens {
  private readonly ready: string[] = [];
  private signed = 0;

  constructor(private readonly sign: (sub: string) => string) {}

  /** Signs until `count` tokens are ready (RS256 signing costs about a millisecond each). */
  prepare(count: number): void {
    while (this.ready.length < count) this.ready.push(this.signNext());
  }

  take(): string {
    return this.ready.pop() ?? this.signNext();
  }

  private signNext(): string {
    this.signed += 1;
    return this.sign(`user-${process.pid}-${this.signed}`);
  }
}

const fresh = new Map<BenchAlgorithm, FreshTokens>();
/** RS256 tokens are signed with the run's private key, which run.ts hands this process only. */
const freshTokens = (algorithm: BenchAlgorithm): FreshTokens => {
  let tokens = fresh.get(algorithm);
  if (!tokens) {
    tokens = new FreshTokens(tokenSigner(algorithm, process.env.BENCH_RSA_PRIVATE));
    fresh.set(algorithm, tokens);
  }
  return tokens;
};

/** The token source of a plan: a fresh token per call, or the shared one. */
function tokensOf(plan: TokenPlan): () => string {
  if (plan.kind === 'shared') return () => plan.token;
  const source = freshTokens(plan.algorithm);
  return () => source.take();
}

/** Handshakes per second each server reached last time, to sign enough tokens ahead (with a margin) for the next run. */
const lastRate = new Map<number, number>();

function prepare(plan: TokenPlan, count: number): void {
  if (plan.kind === 'unique') freshTokens(plan.algorithm).prepare(count);
}

export interface HandshakeResult {
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

export interface FloodResult {
  floodCount: number;
  baselineP99Ms: number;
  floodP99Ms: number;
  probesDuringFlood: number;
  refusedPerSecond: number;
  floodStatuses: Record<string, number>;
}

/** `from`: an X-Forwarded-For address (only a server with trustProxy reads it). */
function upgradeRequest(port: number, token: string, from?: string): Buffer {
  return Buffer.from(
    `GET ${ECHO_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${token}\r\n` +
      `${from ? `X-Forwarded-For: ${from}\r\n` : ''}\r\n`,
    'latin1',
  );
}

/** A masked, empty WebSocket close frame, as a client sends it. */
const CLOSE_FRAME = Buffer.from([0x88, 0x80, 0x12, 0x34, 0x56, 0x78]);

/**
 * Socket.IO over its websocket transport (engine.io 4): the upgrade request
 * carries no credentials; after engine.io's open packet the client sends
 * `40/echo,{"token":…}` (connect to the namespace with `auth: { token }`) and
 * the namespace answers `40/echo,{"sid":…}` (connected) or `44/echo,…`
 * (connect_error). Frames are built once, masked with a zero key.
 */
const IO_PATH = '/socket.io/?EIO=4&transport=websocket';
const IO_CONNECTED = `40${ECHO_PATH},`;
const IO_REFUSED = `44${ECHO_PATH},`;

function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const header =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

function ioUpgradeRequest(port: number): Buffer {
  return Buffer.from(
    `GET ${IO_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    'latin1',
  );
}

/**
 * One Socket.IO connect: upgrade, open packet, namespace connect; 101 when the
 * namespace accepted it, 401 when it answered connect_error. Then the client
 * closes the websocket, as in `handshake`.
 */
function ioHandshake(port: number, upgrade: Buffer, connectFrame: Buffer): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let seen = '';
    let state: 'upgrading' | 'connecting' | 'done' = 'upgrading';
    const finish = (status: number) => {
      if (state === 'done') return;
      state = 'done';
      resolve({ status, ms: performance.now() - started });
      socket.write(CLOSE_FRAME);
    };
    socket.write(upgrade);
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      if (state === 'upgrading' && seen.includes('"sid"')) {
        // engine.io's open packet arrived: connect to the namespace.
        state = 'connecting';
        seen = '';
        socket.write(connectFrame);
      } else if (state === 'connecting') {
        if (seen.includes(IO_CONNECTED)) finish(101);
        else if (seen.includes(IO_REFUSED)) finish(401);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => socket.destroy());
    socket.on('error', () => {
      socket.destroy();
      if (state !== 'done') {
        state = 'done';
        resolve({ status: 0, ms: performance.now() - started });
      }
    });
  });
}

/**
 * One handshake: the status line of the answer and how long it took. Then a
 * graceful close in which the server closes first (after a 101 the client
 * sends a close frame and ws ends the connection; a refusal ends it anyway),
 * so that TIME_WAIT stays on the server side: tens of thousands of client-side
 * TIME_WAIT sockets would exhaust the port range towards the server.
 */
function handshake(port: number, request: Buffer, localAddress?: string): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', noDelay: true, ...(localAddress && { localAddress }) });
    let answered = false;
    socket.write(request);
    socket.once('data', (chunk) => {
      answered = true;
      const status = Number(chunk.toString('latin1', 9, 12));
      resolve({ status, ms: performance.now() - started });
      if (status === 101) socket.write(CLOSE_FRAME);
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => socket.destroy());
    socket.on('error', () => {
      socket.destroy();
      if (!answered) resolve({ status: 0, ms: performance.now() - started });
    });
    socket.resume();
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
const sortNumbers = (values: number[]) => Float64Array.from(values).sort();

async function handshakes(task: Extract<LoadTask, { type: 'handshakes' }>): Promise<HandshakeResult> {
  // The first run against a server (a warm-up) signs as it goes; the measured ones find their tokens ready.
  const rate = lastRate.get(task.port);
  if (rate !== undefined) prepare(task.tokens, Math.ceil((rate * task.durationMs * 1.3) / 1000));
  const token = tokensOf(task.tokens);
  const ioUpgrade = ioUpgradeRequest(task.port);
  const once =
    task.transport === 'ws'
      ? () => handshake(task.port, upgradeRequest(task.port, token()))
      : () => ioHandshake(task.port, ioUpgrade, maskedTextFrame(`40${ECHO_PATH},${JSON.stringify({ token: token() })}`));
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + task.durationMs;
  await Promise.all(
    Array.from({ length: task.concurrency }, async () => {
      while (performance.now() < until) {
        const { status, ms } = await once();
        if (status === 101) latencies.push(ms);
        else failures += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const sorted = [...sortNumbers(latencies)];
  lastRate.set(task.port, (latencies.length + failures) / elapsed);
  return { count: latencies.length + failures, perSecond: latencies.length / elapsed, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), failures };
}

/** A Socket.IO client on the websocket transport, connected to the echo namespace; it answers engine.io's pings. */
function openIo(port: number, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${IO_PATH}`, { perMessageDeflate: false });
    const onMessage = (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('0')) {
        client.send(`40${ECHO_PATH},${JSON.stringify({ token })}`);
      } else if (text.startsWith(IO_CONNECTED)) {
        client.off('message', onMessage);
        resolve(client);
      } else if (text.startsWith(IO_REFUSED)) {
        reject(new Error(`connect_error: ${text}`));
      }
    };
    client.on('message', onMessage);
    client.on('message', (data: Buffer) => {
      if (data.length === 1 && data[0] === 0x32) client.send('3'); // engine.io ping → pong
    });
    client.once('error', reject);
  });
}

function open(port: number, token: string, transport: BenchTransport = 'ws'): Promise<WebSocket> {
  if (transport === 'socket.io') return openIo(port, token);
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${ECHO_PATH}`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

async function openMany(port: number, tokens: TokenPlan, count: number, transport: BenchTransport, parallel = 100): Promise<WebSocket[]> {
  prepare(tokens, count);
  const token = tokensOf(tokens);
  const clients: WebSocket[] = [];
  for (let start = 0; start < count; start += parallel) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, () => open(port, token(), transport)))));
  }
  return clients;
}

async function closeAll(clients: WebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.readyState === WebSocket.CLOSED) return resolve();
          client.once('close', () => resolve());
          client.close();
        }),
    ),
  );
}

async function echo(task: Extract<LoadTask, { type: 'echo' }>): Promise<{ perSecond: number }> {
  const clients = await openMany(task.port, task.tokens, task.connections, task.transport);
  const frame =
    task.transport === 'ws'
      ? JSON.stringify({ event: 'echo', data: 'hello, echo' })
      : `42${ECHO_PATH},${JSON.stringify(['echo', 'hello, echo'])}`;
  let replies = 0;
  let running = true;
  const started = performance.now();
  for (const client of clients) {
    client.on('message', (data: Buffer) => {
      if (task.transport === 'socket.io' && data[0] !== 0x34) return; // engine.io pings are not replies
      replies += 1;
      if (running) client.send(frame);
    });
    for (let index = 0; index < task.inFlight; index += 1) client.send(frame);
  }
  await new Promise((resolve) => setTimeout(resolve, task.durationMs));
  running = false;
  const perSecond = replies / ((performance.now() - started) / 1000);
  await closeAll(clients);
  return { perSecond };
}

let idle: WebSocket[] = [];

async function flood(task: Extract<LoadTask, { type: 'flood' }>): Promise<FloodResult> {
  // Valid clients come from many addresses, the attacker from one (only servers with trustProxy can tell).
  prepare(task.tokens, task.baselineProbes * 3);
  const token = tokensOf(task.tokens);
  // A different invalid token for each request (the signature's tail varies), as an attacker's would be.
  const stem = task.invalidToken.slice(0, -6);
  const source = task.attackerSource;
  const invalid = (index: number) =>
    upgradeRequest(task.port, stem + index.toString(36).padStart(6, '0'), source ? undefined : ATTACKER_ADDRESS);
  let probes = 0;
  const probe = async (keepGoing: () => boolean): Promise<number[]> => {
    const latencies: number[] = [];
    while (keepGoing()) {
      const { status, ms } = await handshake(task.port, upgradeRequest(task.port, token(), source ? undefined : validAddress((probes += 1))));
      if (status === 101) latencies.push(ms);
    }
    return latencies;
  };

  const baseline = await probe(((count) => () => count-- > 0)(task.baselineProbes));

  const floodStatuses: Record<string, number> = {};
  let sent = 0;
  let flooding = true;
  const started = performance.now();
  const attackers = Promise.all(
    Array.from({ length: task.concurrency }, async () => {
      while (sent < task.floodCount) {
        sent += 1;
        const { status } = await handshake(task.port, invalid(sent), source);
        floodStatuses[status] = (floodStatuses[status] ?? 0) + 1;
      }
    }),
  ).then(() => {
    flooding = false;
    return (performance.now() - started) / 1000;
  });
  const [during, floodSeconds] = await Promise.all([probe(() => flooding), attackers]);
  const refused = Object.entries(floodStatuses)
    .filter(([status]) => status !== '101')
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    floodCount: sent,
    baselineP99Ms: percentile([...sortNumbers(baseline)], 99),
    floodP99Ms: percentile([...sortNumbers(during)], 99),
    probesDuringFlood: during.length,
    refusedPerSecond: refused / floodSeconds,
    floodStatuses,
  };
}

async function run(task: LoadTask): Promise<unknown> {
  switch (task.type) {
    case 'handshakes':
      return handshakes(task);
    case 'echo':
      return echo(task);
    case 'open-idle':
      idle = await openMany(task.port, task.tokens, task.count, task.transport);
      return { opened: idle.length };
    case 'close-idle':
      await closeAll(idle);
      idle = [];
      return {};
    case 'flood':
      return flood(task);
  }
}

process.on('message', (task: LoadTask) => {
  run(task).then(
    (result) => process.send!({ ok: true, result }),
    (error: Error) => process.send!({ ok: false, error: error.stack ?? String(error) }),
  );
});
process.send!({ ready: true });
