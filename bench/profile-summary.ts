/**
 * Where a server's time went: node dist-bench/bench/profile-summary.js <file.cpuprofile> [pattern ...]
 * Prints the functions with the most self time, and the inclusive time of
 * the functions whose name or file matches each pattern.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const [file, ...patterns] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [pattern ...]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const totalMs = (profile.endTime - profile.startTime) / 1000;
const msPerSample = totalMs / profile.samples.length;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const label = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
  `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|dist-bench)\//, '$1/')}:${lineNumber + 1}`;

const self = new Map<string, number>();
for (const node of profile.nodes) {
  self.set(label(node), (self.get(label(node)) ?? 0) + (node.hitCount ?? 0) * msPerSample);
}
const busy = [...self].filter(([name]) => !name.startsWith('(idle)')).reduce((sum, [, ms]) => sum + ms, 0);

console.log(`${file}: ${totalMs.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy\n\nTop self time:`);
for (const [name, ms] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 25)) {
  console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${((ms / busy) * 100).toFixed(1).padStart(5)}%  ${name}`);
}

/** Inclusive time of matching frames, not counting a frame nested in another match twice. */
function inclusive(pattern: RegExp): number {
  const total = (node: ProfileNode, inside: boolean): number => {
    const matches = !inside && pattern.test(label(node));
    const own = matches || inside ? (node.hitCount ?? 0) * msPerSample : 0;
    return own + (node.children ?? []).reduce((sum, child) => sum + total(byId.get(child)!, inside || matches), 0);
  };
  return total(profile.nodes[0]!, false);
}
if (patterns.length > 0) {
  console.log('\nInclusive time:');
  for (const pattern of patterns) {
    const ms = inclusive(new RegExp(pattern));
    console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${((ms / busy) * 100).toFixed(1).padStart(5)}%  /${pattern}/`);
  }
}
