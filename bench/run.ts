/**
 * npm run bench [-- --quick] [-- --rounds N] [-- --only handshakes,echo,...] [-- --profile [b,f,...]]
 *
 * The servers of bench.constants.ts (SERVERS), each in its own process pinned
 * to CPU 0, and one load generator pinned to CPU 1. Every connection carries a
 * freshly signed token of its own (its own `sub`), as real clients do; the
 * transports' pairs are measured with one shared token too. Rounds alternate
 * between the servers (a b c …, b c … a, ...); figures are medians over the
 * rounds, ratios against the unguarded gateway of the same transport ((a) or
 * (e)). Writes bench/results/{results.json,results.md,chart.svg} (a full run
 * also refreshes the table in bench/README.md); --quick writes under
 * bench/results/quick/. --profile (default: b) ends with a CPU profile of each
 * named server while it takes handshakes with fresh tokens: the guarded,
 * uncached path, written to results/profiles/ and summarised.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { summariseProfile, type CpuProfile } from './profile-summary.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { measureRevocationList, measurePropagation, type ClusterFigures } from './cluster.bench.js';
import {
  ATTACKER_SOURCE,
  BASELINE_OF,
  FLOODED,
  HANDSHAKES_ONLY,
  invalidToken,
  RS256_SERVERS,
  SERVERS,
  SHARED_TOKEN_TOO,
  TRANSPORT_OF,
  type ServerName,
  type ServerReply,
  type ServerRequest,
  type TokenPlan,
  tokenSigner,
} from './bench.constants.js';
import type { FloodResult, HandshakeResult, LoadTask } from './load-generator.js';
import { type BenchResults, evaluateTargets, type Medians, renderChart, renderTable } from './report.js';

const root = join(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string) => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
/** --profile [b,f]: the servers whose uncached handshake path is profiled at the end (b when none is named). */
const profiled: ServerName[] = args.includes('--profile')
  ? ((option('--profile')?.startsWith('--') ?? true) ? 'b' : option('--profile')!).split(',').map((name) => name as ServerName)
  : [];
/** --only handshakes,flood: run some of the measurements (--only profile: just the profiles). */
const only = option('--only')?.split(',');
const measuring = (metric: 'handshakes' | 'echo' | 'memory' | 'flood' | 'cluster') => !only || only.includes(metric);

const plan = quick
  ? { rounds: 1, warmupMs: 500, handshakeMs: 1500, echoMs: 1500, idleConnections: 2000, floodCount: 3000, baselineProbes: 200, profileMs: 3000 }
  : { rounds: 4, warmupMs: 3000, handshakeMs: 4000, echoMs: 4000, idleConnections: 10_000, floodCount: 10_000, baselineProbes: 500, profileMs: 8000 };
plan.rounds = Number(option('--rounds') ?? plan.rounds);
const CONCURRENCY = 50;
const ECHO_CONNECTIONS = 50;
const ECHO_IN_FLIGHT = 4;

const outDir = join(root, 'bench/results', quick ? 'quick' : '');
mkdirSync(join(outDir, 'profiles'), { recursive: true });

const pin = spawnSync('sh', ['-c', 'command -v taskset']).status === 0 && cpus().length >= 2;
/** The cluster servers (g, i) and the propagation nodes share one throw-away redis-server (Debian's), pinned beside the load generator. */
const redis = await startRedis();
/** The RS256 servers (l, m) verify with this key pair's public key; tokens are signed here. */
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPrivatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
function start(cpu: number, script: string, scriptArgs: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): ChildProcess {
  const command = [process.execPath, ...nodeArgs, join(root, 'dist-bench/bench', script), ...scriptArgs];
  const [file, ...rest] = pin ? ['taskset', '-c', String(cpu), ...command] : command;
  return spawn(file!, rest, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      REDIS_SOCKET: redis.socket,
      BENCH_RSA_PUBLIC: rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      ...env,
    },
  });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a benchmark process exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}

interface BenchServer {
  readonly port: number;
  ask(request: ServerRequest): Promise<ServerReply>;
  process: ChildProcess;
}

async function startServer(name: ServerName | 'node'): Promise<BenchServer> {
  const child = start(0, 'bench.server.js', [name], ['--expose-gc']);
  const ready = await nextMessage<ServerReply>(child);
  if (ready.type !== 'ready') throw new Error(`server ${name} did not start`);
  return {
    port: ready.port,
    process: child,
    ask: (request) => {
      const reply = nextMessage<ServerReply>(child);
      child.send(request);
      return reply;
    },
  };
}

/** The load generator signs the clients' tokens: it alone gets the RSA private key. */
const loader = start(1, 'load-generator.js', [], [], { BENCH_RSA_PRIVATE: rsaPrivatePem });
await nextMessage(loader);
async function load<T>(task: LoadTask): Promise<T> {
  const reply = nextMessage<{ ok: boolean; result: T; error?: string }>(loader);
  loader.send(task);
  const { ok, result, error } = await reply;
  if (!ok) throw new Error(error);
  return result;
}

/** --servers a,b,n: some servers only (each with the baseline it is compared with); nothing is written. */
const chosen = option('--servers')?.split(',') as ServerName[] | undefined;
const names = (Object.keys(SERVERS) as ServerName[]).filter(
  (name) => !chosen || chosen.includes(name) || chosen.some((other) => BASELINE_OF[other] === name),
);
/** Lets a server finish closing connections (and collect them) before the next measurement. */
const settle = (ms = 1000) => new Promise((resolve) => setTimeout(resolve, ms));
const servers = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await startServer(name)] as const))) as Record<
  ServerName,
  BenchServer
>;
const algorithmOf = (name: ServerName) => (RS256_SERVERS.has(name) ? 'RS256' : 'HS256');
/** By default every connection carries a fresh token of its own (its own sub), which each server accepts. */
const unique = (name: ServerName): TokenPlan => ({ kind: 'unique', algorithm: algorithmOf(name) });
const sharedTokens = { HS256: tokenSigner('HS256')('bench-user'), RS256: tokenSigner('RS256', rsaPrivatePem)('bench-user') };
/** One token for every handshake: the verified-token cache answers after the first. */
const shared = (name: ServerName): TokenPlan => ({ kind: 'shared', token: sharedTokens[algorithmOf(name)] });

type Sample = {
  handshakes: HandshakeResult;
  handshakeCpuMicros: number;
  sharedHandshakes: HandshakeResult;
  sharedCpuMicros: number;
  echoPerSecond: number;
  heapPerConnection: number;
  rssPerConnection: number;
  idleOpened: number;
  flood: FloodResult;
  floodCpuMicros: number;
};
const samples = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<ServerName, Array<Partial<Sample>>>;
/** The invalid-token flood is measured on the ws servers: it is about the cost of a refusal, the same core on both. */
const flooded = (name: ServerName) => FLOODED.has(name);

const log = (line: string) => process.stdout.write(`${line}\n`);
log(`nest-ws-auth benchmark: ${quick ? 'quick' : 'full'}, ${plan.rounds} round(s), ${cpus().length} CPUs${pin ? ', pinned' : ''}`);

if (only || chosen) {
  // A partial run is for profiling: print what was measured, write nothing.
  process.on('exit', () => log('(--only: partial run, no results written)'));
}
for (const name of names) {
  const transport = TRANSPORT_OF[name];
  await load({ type: 'handshakes', transport, port: servers[name].port, tokens: unique(name), concurrency: CONCURRENCY, durationMs: plan.warmupMs });
  if (!HANDSHAKES_ONLY.has(name)) {
    await load({ type: 'echo', transport, port: servers[name].port, tokens: unique(name), connections: ECHO_CONNECTIONS, inFlight: ECHO_IN_FLIGHT, durationMs: plan.warmupMs });
  }
}

for (let round = 0; round < plan.rounds; round += 1) {
  const sample = Object.fromEntries(names.map((name) => [name, {} as Partial<Sample>])) as Record<ServerName, Partial<Sample>>;
  // Each round starts with the next server (a b c d, b c d a, ...): none always follows the same one.
  const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
  /** Handshakes for plan.handshakeMs, and the server CPU they cost each. */
  const measureHandshakes = async (name: ServerName, tokens: TokenPlan) => {
    const before = await servers[name].ask({ type: 'cpu' });
    const result = await load<HandshakeResult>({
      type: 'handshakes',
      transport: TRANSPORT_OF[name],
      port: servers[name].port,
      tokens,
      concurrency: CONCURRENCY,
      durationMs: plan.handshakeMs,
    });
    // Let the last connections close before reading the CPU spent on them.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await servers[name].ask({ type: 'cpu' });
    if (before.type !== 'cpu' || after.type !== 'cpu') throw new Error('no CPU reading');
    const cpuMicros = (after.micros - before.micros) / result.count;
    log(
      `round ${round + 1} ${name}: ${result.perSecond.toFixed(0)} handshakes/s, ${cpuMicros.toFixed(0)} µs server CPU each ` +
        `(${tokens.kind === 'unique' ? 'a fresh token each' : 'one shared token'})`,
    );
    return { result, cpuMicros };
  };
  for (const name of measuring('handshakes') ? order : []) {
    const { result, cpuMicros } = await measureHandshakes(name, unique(name));
    sample[name].handshakes = result;
    sample[name].handshakeCpuMicros = cpuMicros;
  }
  for (const name of measuring('handshakes') ? order.filter((name) => SHARED_TOKEN_TOO.has(name)) : []) {
    const { result, cpuMicros } = await measureHandshakes(name, shared(name));
    sample[name].sharedHandshakes = result;
    sample[name].sharedCpuMicros = cpuMicros;
  }
  const full = order.filter((name) => !HANDSHAKES_ONLY.has(name));
  for (const name of measuring('echo') ? full : []) {
    const { perSecond } = await load<{ perSecond: number }>({
      type: 'echo',
      transport: TRANSPORT_OF[name],
      port: servers[name].port,
      tokens: unique(name),
      connections: ECHO_CONNECTIONS,
      inFlight: ECHO_IN_FLIGHT,
      durationMs: plan.echoMs,
    });
    sample[name].echoPerSecond = perSecond;
    log(`round ${round + 1} ${name}: ${perSecond.toFixed(0)} echo messages/s`);
  }
  for (const name of measuring('memory') ? full : []) {
    const before = await servers[name].ask({ type: 'memory' });
    const { opened } = await load<{ opened: number }>({
      type: 'open-idle',
      transport: TRANSPORT_OF[name],
      port: servers[name].port,
      tokens: unique(name),
      count: plan.idleConnections,
    });
    const held = await servers[name].ask({ type: 'memory' });
    await load({ type: 'close-idle' });
    await settle();
    if (before.type !== 'memory' || held.type !== 'memory') throw new Error('no memory reading');
    sample[name].idleOpened = opened;
    sample[name].heapPerConnection = (held.heapUsed - before.heapUsed) / opened;
    sample[name].rssPerConnection = (held.rss - before.rss) / opened;
    log(`round ${round + 1} ${name}: ${opened} idle connections, ${sample[name].heapPerConnection!.toFixed(0)} heap bytes each`);
  }
  for (const name of measuring('flood') ? order.filter(flooded) : []) {
    const before = await servers[name].ask({ type: 'cpu' });
    sample[name].flood = await load<FloodResult>({
      type: 'flood',
      port: servers[name].port,
      tokens: unique(name),
      invalidToken: invalidToken(),
      floodCount: plan.floodCount,
      concurrency: CONCURRENCY,
      baselineProbes: plan.baselineProbes,
      ...(name === 't' && { attackerSource: ATTACKER_SOURCE }),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await servers[name].ask({ type: 'cpu' });
    if (before.type !== 'cpu' || after.type !== 'cpu') throw new Error('no CPU reading');
    const { refusedPerSecond, baselineP99Ms, floodP99Ms, floodCount, probesDuringFlood } = sample[name].flood!;
    // Includes the baseline probes and those during the flood: every handshake the phase sent.
    sample[name].floodCpuMicros = (after.micros - before.micros) / (floodCount + probesDuringFlood + plan.baselineProbes);
    log(
      `round ${round + 1} ${name}: flood ${refusedPerSecond.toFixed(0)} refused/s (${sample[name].floodCpuMicros!.toFixed(0)} µs server CPU per handshake), ` +
        `valid p99 ${baselineP99Ms.toFixed(2)} → ${floodP99Ms.toFixed(2)} ms`,
    );
  }
  for (const name of names) samples[name].push(sample[name]);
}

/** The guarded, uncached path of each --profile server: its CPU profile while it takes handshakes with fresh tokens. */
const profiles: Partial<Record<ServerName, string>> = {};
for (const name of profiled) {
  const file = join(outDir, 'profiles', `${name}-fresh-tokens.cpuprofile`);
  await servers[name].ask({ type: 'profile', action: 'start' });
  const result = await load<HandshakeResult>({
    type: 'handshakes',
    transport: TRANSPORT_OF[name],
    port: servers[name].port,
    tokens: unique(name),
    concurrency: CONCURRENCY,
    durationMs: plan.profileMs,
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await servers[name].ask({ type: 'profile', action: 'stop', file });
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  profiles[name] = summariseProfile(profile, { per: result.count, patterns: [/dist\/esm\//, /^\(garbage collector\)/] });
  writeFileSync(file.replace(/\.cpuprofile$/, '.txt'), profiles[name]!);
  log(`\nCPU profile of (${name}), ${result.count} handshakes with fresh tokens: ${file}\n${profiles[name]}`);
}

await Promise.all(
  names.map(async (name) => {
    const exited = new Promise((resolve) => servers[name].process.once('exit', resolve));
    servers[name].process.send({ type: 'stop' });
    await exited;
  }),
);

/** Revocation across nodes: three node processes, the time from revokeUser() on A to the close on B and C. */
let cluster: ClusterFigures | undefined;
if (measuring('cluster')) {
  const nodes = await Promise.all([0, 1, 2].map(() => startServer('node')));
  cluster = {
    propagation: await measurePropagation(nodes, quick ? 50 : 200),
    revocationList: measureRevocationList(100_000),
  };
  log(
    `revocation propagation over ${cluster.propagation.count}: p50 ${cluster.propagation.p50Ms.toFixed(2)} ms, p99 ${cluster.propagation.p99Ms.toFixed(2)} ms; ` +
      `100,000 revoked users: ${cluster.revocationList.bytesPerEntry.toFixed(0)} B each, a check ${cluster.revocationList.checkNs.toFixed(0)} ns`,
  );
  await Promise.all(nodes.map((node) => node.ask({ type: 'stop' }).catch(() => undefined)));
}
loader.kill();
await redis.stop();

if (only || chosen) {
  // Medians over the rounds, and each server's ratio to the server it is compared with.
  const mid = (values: number[]) => {
    const sorted = values.filter(Number.isFinite).sort((x, y) => x - y);
    return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  };
  const of = (name: ServerName, read: (sample: Partial<Sample>) => number | undefined) => mid(samples[name].map((sample) => read(sample) ?? NaN));
  for (const name of names) {
    const base = BASELINE_OF[name];
    const ratio = (read: (sample: Partial<Sample>) => number | undefined) =>
      base === name || !names.includes(base) ? '' : ` (${(of(name, read) / of(base, read)).toFixed(2)}× ${base})`;
    log(
      `median ${name}: ${of(name, (x) => x.handshakes?.perSecond).toFixed(0)} handshakes/s${ratio((x) => x.handshakes?.perSecond)}, ` +
        `${of(name, (x) => x.handshakeCpuMicros).toFixed(0)} µs CPU each; ${of(name, (x) => x.echoPerSecond).toFixed(0)} echo/s${ratio((x) => x.echoPerSecond)}; ` +
        `${of(name, (x) => x.heapPerConnection).toFixed(0)} heap B/idle connection`,
    );
  }
  process.exit(0);
}

const median = (values: number[]) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const medians = Object.fromEntries(
  names.map((name) => {
    const rounds = samples[name] as Sample[];
    // Servers measured on handshakes only have no echo or memory figures: NaN, shown as —.
    const pick = (read: (sample: Sample) => number) => median(rounds.map(read).filter(Number.isFinite));
    const pickFlood = (read: (sample: Sample) => number) => (flooded(name) ? pick(read) : NaN);
    const value: Medians = {
      handshakesPerSecond: pick((sample) => sample.handshakes.perSecond),
      handshakeCpuMicros: pick((sample) => sample.handshakeCpuMicros),
      sharedHandshakesPerSecond: SHARED_TOKEN_TOO.has(name) ? pick((sample) => sample.sharedHandshakes.perSecond) : NaN,
      sharedCpuMicros: SHARED_TOKEN_TOO.has(name) ? pick((sample) => sample.sharedCpuMicros) : NaN,
      handshakeP50Ms: pick((sample) => sample.handshakes.p50Ms),
      handshakeP99Ms: pick((sample) => sample.handshakes.p99Ms),
      echoPerSecond: pick((sample) => sample.echoPerSecond),
      heapBytesPerIdleConnection: pick((sample) => sample.heapPerConnection),
      rssBytesPerIdleConnection: pick((sample) => sample.rssPerConnection),
      idleConnectionsHeld: Math.min(...rounds.map((sample) => sample.idleOpened)),
      floodRefusedPerSecond: pickFlood((sample) => sample.flood.refusedPerSecond),
      floodCpuMicros: pickFlood((sample) => sample.floodCpuMicros),
      validP99WithoutFloodMs: pickFlood((sample) => sample.flood.baselineP99Ms),
      validP99UnderFloodMs: pickFlood((sample) => sample.flood.floodP99Ms),
    };
    return [name, value];
  }),
) as Record<ServerName, Medians>;

const results: BenchResults = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  pinned: pin,
  mode: quick ? 'quick' : 'full',
  plan: { ...plan, concurrency: CONCURRENCY, echoConnections: ECHO_CONNECTIONS, echoInFlight: ECHO_IN_FLIGHT },
  servers: SERVERS,
  medians,
  cluster,
  targets: evaluateTargets(medians, plan.idleConnections, cluster),
  samples,
};
const table = renderTable(results);
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, 'results.md'), table);
writeFileSync(join(outDir, 'chart.svg'), renderChart(results));

// Profiles are taken after every measurement, so a full run with --profile refreshes the README too.
if (!quick) {
  const readme = join(root, 'bench/README.md');
  const text = readFileSync(readme, 'utf8');
  const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
  if (marked.test(text)) writeFileSync(readme, text.replace(marked, `<!-- bench:start -->\n${table}<!-- bench:end -->`));
}

log(`\n${table}`);
log(`Written to ${outDir}${profiled.length > 0 ? ` (CPU profiles of ${profiled.join(', ')} in profiles/)` : ''}`);
