import { BASELINE_OF, HANDSHAKES_ONLY, type ServerName } from './bench.constants.js';
import type { ClusterFigures } from './cluster.bench.js';

export interface Medians {
  /** With a fresh token per connection. */
  handshakesPerSecond: number;
  /** Server CPU time (user + system) per handshake with a fresh token, connect to close. */
  handshakeCpuMicros: number;
  /** With one token shared by every handshake (servers of SHARED_TOKEN_TOO; NaN for the others). */
  sharedHandshakesPerSecond: number;
  sharedCpuMicros: number;
  handshakeP50Ms: number;
  handshakeP99Ms: number;
  echoPerSecond: number;
  heapBytesPerIdleConnection: number;
  rssBytesPerIdleConnection: number;
  idleConnectionsHeld: number;
  floodRefusedPerSecond: number;
  /** Server CPU per handshake of the flood phase (refused ones, and the valid probes among them). */
  floodCpuMicros: number;
  validP99WithoutFloodMs: number;
  validP99UnderFloodMs: number;
}

export interface Target {
  what: string;
  goal: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  date: string;
  node: string;
  cpus: string;
  pinned: boolean;
  mode: 'quick' | 'full';
  plan: Record<string, number>;
  servers: Record<ServerName, string>;
  medians: Record<ServerName, Medians>;
  cluster?: ClusterFigures | undefined;
  targets: Target[];
  samples: unknown;
}

const ratio = (value: number, base: number) => value / base;
const fixed = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** `(name) what`, its figure as a ratio of `base`'s, against `goal`. */
function ratioTarget(what: string, name: ServerName, base: ServerName, value: number, baseValue: number, goal: number): Target {
  const measured = ratio(value, baseValue);
  return { what: `(${name}) ${what}`, goal: `≥ ${goal} × (${base})`, measured: `${fixed(measured, 2)} ×`, met: measured >= goal };
}

/** The guarded server's targets against the unguarded one of its transport: (b) vs (a) on ws, (f) vs (e) on Socket.IO. */
function transportTargets(guarded: ServerName, medians: Record<ServerName, Medians>, idleConnections: number): Target[] {
  const base = BASELINE_OF[guarded];
  const [g, u] = [medians[guarded], medians[base]];
  const extraHeap = g.heapBytesPerIdleConnection - u.heapBytesPerIdleConnection;
  return [
    ratioTarget('handshakes/s, a fresh token each', guarded, base, g.handshakesPerSecond, u.handshakesPerSecond, 0.95),
    ratioTarget('handshakes/s, one shared token', guarded, base, g.sharedHandshakesPerSecond, u.sharedHandshakesPerSecond, 0.95),
    ratioTarget('echo messages/s', guarded, base, g.echoPerSecond, u.echoPerSecond, 0.98),
    {
      what: `(${guarded}) heap per idle connection`,
      goal: `≤ (${base}) + 512 B`,
      measured: `(${base}) ${extraHeap >= 0 ? '+' : '−'} ${fixed(Math.abs(extraHeap))} B`,
      met: extraHeap <= 512,
    },
    {
      what: `(${guarded}) authenticated connections held`,
      goal: `${fixed(idleConnections)}`,
      measured: fixed(g.idleConnectionsHeld),
      met: g.idleConnectionsHeld >= idleConnections,
    },
  ];
}

/** The issues' targets: (b) against (a) on ws, (f) against (e) on Socket.IO, and the flood on ws. */
export function evaluateTargets(
  medians: Record<ServerName, Medians>,
  idleConnections: number,
  cluster: ClusterFigures | undefined,
): Target[] {
  const { b } = medians;
  const flood = b.validP99UnderFloodMs / b.validP99WithoutFloodMs;
  const handshakes = (name: ServerName) => medians[name].handshakesPerSecond;
  return [
    ...transportTargets('b', medians, idleConnections),
    ...transportTargets('f', medians, idleConnections),
    ratioTarget('handshakes/s, RS256 with a static key', 'l', 'a', handshakes('l'), handshakes('a'), 0.9),
    ratioTarget('handshakes/s, RS256 from a jwksUri', 'm', 'a', handshakes('m'), handshakes('a'), 0.9),
    ratioTarget('handshakes/s, RS256 from a jwksUri', 'm', 'l', handshakes('m'), handshakes('l'), 0.97),
    ratioTarget('handshakes/s, cluster without a limit', 'g', 'b', handshakes('g'), handshakes('b'), 0.95),
    ratioTarget('handshakes/s, limit across nodes', 'i', 'h', handshakes('i'), handshakes('h'), 0.85),
    {
      what: '(k) valid p99 under a flood from one address, failedHandshakes on',
      goal: '≤ 2 × without flood',
      measured: `${fixed(medians.k.validP99UnderFloodMs, 2)} ms vs ${fixed(medians.k.validP99WithoutFloodMs, 2)} ms = ${fixed(medians.k.validP99UnderFloodMs / medians.k.validP99WithoutFloodMs, 1)} ×`,
      met: medians.k.validP99UnderFloodMs / medians.k.validP99WithoutFloodMs <= 2,
    },
    {
      what: '(t) valid p99 under a flood from one address, failedHandshakes on, no proxy',
      goal: '≤ 3 × without flood',
      measured: `${fixed(medians.t.validP99UnderFloodMs, 2)} ms vs ${fixed(medians.t.validP99WithoutFloodMs, 2)} ms = ${fixed(medians.t.validP99UnderFloodMs / medians.t.validP99WithoutFloodMs, 1)} ×`,
      met: medians.t.validP99UnderFloodMs / medians.t.validP99WithoutFloodMs <= 3,
    },
    ratioTarget('handshakes/s, events on, no listener', 'j', 'b', handshakes('j'), handshakes('b'), 0.98),
    ...(cluster
      ? [
          {
            what: `revocation reaching 2 other nodes (${cluster.propagation.count} revocations)`,
            goal: 'p99 ≤ 50 ms',
            measured: `p50 ${fixed(cluster.propagation.p50Ms, 2)} ms, p99 ${fixed(cluster.propagation.p99Ms, 2)} ms`,
            met: cluster.propagation.p99Ms <= 50,
          },
          {
            what: `${fixed(cluster.revocationList.entries)} revoked users in memory`,
            goal: 'O(1) check',
            measured: `${fixed(cluster.revocationList.bytesPerEntry)} B each, ${fixed(cluster.revocationList.checkNs)} ns a check`,
            met: true,
          },
        ]
      : []),
    {
      what: '(b) valid p99 handshake under the invalid-token flood',
      goal: '≤ 3 × without flood',
      measured: `${fixed(b.validP99UnderFloodMs, 2)} ms vs ${fixed(b.validP99WithoutFloodMs, 2)} ms = ${fixed(flood, 1)} ×`,
      met: flood <= 3,
    },
  ];
}

export function renderTable(results: BenchResults): string {
  const { medians, servers } = results;
  const rows = (Object.keys(servers) as ServerName[]).map((name) => {
    const m = medians[name];
    const base = medians[BASELINE_OF[name]];
    const flood =
      name === BASELINE_OF[name]
        ? 'accepts all'
        : Number.isNaN(m.floodRefusedPerSecond)
          ? '—'
          : `${fixed(m.floodRefusedPerSecond)} (${fixed(m.floodCpuMicros)} µs)`;
    const p99 = Number.isNaN(m.validP99WithoutFloodMs) ? '—' : `${fixed(m.validP99WithoutFloodMs, 2)} → ${fixed(m.validP99UnderFloodMs, 2)}`;
    const echo = Number.isNaN(m.echoPerSecond) ? '—' : `${fixed(m.echoPerSecond)} (${fixed(ratio(m.echoPerSecond, base.echoPerSecond), 2)}×)`;
    const heap = Number.isNaN(m.heapBytesPerIdleConnection) ? '—' : fixed(m.heapBytesPerIdleConnection);
    const shared = Number.isNaN(m.sharedHandshakesPerSecond)
      ? '—'
      : `${fixed(m.sharedHandshakesPerSecond)} (${fixed(ratio(m.sharedHandshakesPerSecond, base.sharedHandshakesPerSecond), 2)}×), ${fixed(m.sharedCpuMicros)} µs`;
    return (
      `| (${name}) ${servers[name]} | ${fixed(m.handshakesPerSecond)} (${fixed(ratio(m.handshakesPerSecond, base.handshakesPerSecond), 2)}×) ` +
      `| ${fixed(m.handshakeCpuMicros)} ` +
      `| ${shared} ` +
      `| ${fixed(m.handshakeP50Ms, 2)} / ${fixed(m.handshakeP99Ms, 2)} ` +
      `| ${echo} ` +
      `| ${heap} ` +
      `| ${flood} ` +
      `| ${p99} |`
    );
  });
  const targets = results.targets.map((target) => `| ${target.what} | ${target.goal} | ${target.measured} | ${target.met ? 'met' : '**missed**'} |`);
  return [
    `Medians of ${results.plan.rounds} round(s), ${results.mode} run, ${results.date.slice(0, 10)}, Node ${results.node}, ${results.cpus}` +
      `${results.pinned ? ' (servers on CPU 0, load generator on CPU 1)' : ''}. ` +
      `Every connection carries a freshly signed token of its own (its own sub); the shared-token column sends one token on every handshake (the verified-token cache answers). ` +
      `Handshakes at concurrency ${results.plan.concurrency}; echo over ${results.plan.echoConnections} connections; ` +
      `${fixed(results.plan.idleConnections)} idle connections; flood of ${fixed(results.plan.floodCount)} invalid-token handshakes at concurrency ${results.plan.concurrency} (ws servers). ` +
      `Ratios against the unguarded gateway of the same transport, (a) for ws and (e) for Socket.IO; (g) against (b), (i) against (h) (the same gateway without cluster), ` +
      `(j) against (b), (m) against (l).`,
    '',
    '| server | handshakes/s, fresh tokens (vs baseline) | server CPU µs / handshake | one shared token: handshakes/s (vs baseline), CPU µs each | handshake p50 / p99 ms | echo msgs/s (vs baseline) | heap B / idle conn | flood: refused/s (server CPU each) | valid p99 ms: alone → under flood |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    '| target | goal | measured | |',
    '|---|---|---|---|',
    ...targets,
    '',
  ].join('\n');
}

/** Throughput relative to the unguarded gateway of each server's transport, as grouped bars, with each target as a dashed line. */
export function renderChart(results: BenchResults): string {
  // The cluster servers (g-i) have a table of their own; the chart compares the transports.
  const names = (Object.keys(results.servers) as ServerName[]).filter((name) => !HANDSHAKES_ONLY.has(name));
  const colors: Record<ServerName, string> = {
    a: '#98a2b3',
    b: '#2e90fa',
    c: '#f79009',
    d: '#12b76a',
    e: '#d0d5dd',
    f: '#7a5af8',
    g: '#53b1fd',
    h: '#1570ef',
    i: '#175cd3',
    j: '#84caff',
    k: '#b2ddff',
    l: '#fdb022',
    m: '#dc6803',
    n: '#6172f3',
    o: '#ee46bc',
    t: '#98a2b3',
  };
  const relative = (name: ServerName, key: 'handshakesPerSecond' | 'echoPerSecond') =>
    ratio(results.medians[name][key], results.medians[BASELINE_OF[name]][key]);
  const groups = [
    { label: 'handshakes/s', key: 'handshakesPerSecond' as const, target: 0.95 },
    { label: 'echo messages/s', key: 'echoPerSecond' as const, target: 0.98 },
  ];
  const width = 720;
  const height = 450;
  const top = 50;
  const bottom = 290;
  const left = 60;
  const values = groups.flatMap((group) => names.map((name) => relative(name, group.key)));
  const max = Math.max(1.2, ...values) * 1.05;
  const y = (value: number) => bottom - (value / max) * (bottom - top);
  const groupWidth = (width - left - 40) / groups.length;
  const barWidth = (groupWidth - 60) / names.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="600">Throughput relative to the unguarded gateway of the same transport ((a) ws, (e) Socket.IO), medians of ${results.plan.rounds} round(s)</text>`,
  ];
  for (let tick = 0; tick <= max; tick += 0.2) {
    parts.push(
      `<line x1="${left}" x2="${width - 20}" y1="${y(tick)}" y2="${y(tick)}" stroke="#eaecf0"/>`,
      `<text x="${left - 8}" y="${y(tick) + 4}" text-anchor="end" fill="#475467">${tick.toFixed(1)}×</text>`,
    );
  }
  groups.forEach((group, index) => {
    const x0 = left + index * groupWidth + 30;
    names.forEach((name, position) => {
      const value = relative(name, group.key);
      const x = x0 + position * barWidth;
      parts.push(
        `<rect x="${x + 4}" y="${y(value)}" width="${barWidth - 8}" height="${bottom - y(value)}" fill="${colors[name]}"/>`,
        `<text x="${x + barWidth / 2}" y="${y(value) - 5}" text-anchor="middle">${value.toFixed(2)}</text>`,
      );
    });
    parts.push(
      `<line x1="${x0}" x2="${x0 + names.length * barWidth}" y1="${y(group.target)}" y2="${y(group.target)}" stroke="#d92d20" stroke-dasharray="5 4"/>`,
      `<text x="${x0 + (names.length * barWidth) / 2}" y="${bottom + 20}" text-anchor="middle">` +
        `<tspan font-weight="600">${group.label}</tspan><tspan fill="#d92d20"> (target for b and f: ≥ ${group.target}, dashed)</tspan></text>`,
    );
  });
  names.forEach((name, index) => {
    const x = left;
    const legendY = bottom + 44 + index * 17;
    parts.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${colors[name]}"/>`,
      `<text x="${x + 18}" y="${legendY}">(${name}) ${results.servers[name]}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
