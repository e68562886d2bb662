/**
 * Where a server's time went:
 *   node dist-bench/bench/profile-summary.js <file.cpuprofile> [--under pattern] [--per count] [pattern ...]
 * Prints the busy time by owner (nest-ws-auth, each package, Node's own code,
 * the garbage collector), the functions with the most self time (with
 * --under, only time spent inside a frame that matches it: one code path), and
 * the inclusive time of the functions whose name or file matches each pattern.
 * With --per, times are also given per unit of work (e.g. per handshake).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface SummaryOptions {
  /** Count only time spent inside frames that match. */
  readonly under?: RegExp;
  readonly patterns?: readonly RegExp[];
  /** Units of work done while profiled: times are also shown per unit, in µs. */
  readonly per?: number;
  readonly top?: number;
}

const label = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
  `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|dist-bench)\//, '$1/')}:${lineNumber + 1}`;

/** Who a frame's code belongs to. */
function ownerOf({ callFrame: { functionName, url } }: ProfileNode): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (its own JavaScript)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg) return pkg;
  if (/\/dist\/(esm|cjs)\//.test(url)) return 'nest-ws-auth';
  return 'benchmark server';
}

export function summariseProfile(profile: CpuProfile, options: SummaryOptions = {}): string {
  const { under, patterns = [], per, top = 25 } = options;
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const owners = new Map<string, number>();
  let focused = 0;
  const visit = (node: ProfileNode, inside: boolean): void => {
    const counted = inside || !under || under.test(label(node));
    const ms = (node.hitCount ?? 0) * msPerSample;
    if (counted && ms > 0 && ownerOf(node) !== '(idle)') {
      self.set(label(node), (self.get(label(node)) ?? 0) + ms);
      owners.set(ownerOf(node), (owners.get(ownerOf(node)) ?? 0) + ms);
      focused += ms;
    }
    for (const child of node.children ?? []) visit(byId.get(child)!, counted);
  };
  visit(profile.nodes[0]!, false);

  const line = (ms: number, what: string) =>
    `  ${ms.toFixed(1).padStart(8)} ms ${((ms / focused) * 100).toFixed(1).padStart(5)}%` +
    `${per ? `${((ms * 1000) / per).toFixed(1).padStart(8)} µs` : ''}  ${what}`;
  const lines = [
    `${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled, ${focused.toFixed(0)} ms busy` +
      `${under ? ` under /${under.source}/` : ''}${per ? `, ${per} units: ${((focused * 1000) / per).toFixed(1)} µs each` : ''}`,
    '',
    'By owner:',
    ...[...owners].sort((x, y) => y[1] - x[1]).map(([owner, ms]) => line(ms, owner)),
    '',
    'Top self time:',
    ...[...self].sort((x, y) => y[1] - x[1]).slice(0, top).map(([name, ms]) => line(ms, name)),
  ];
  if (patterns.length > 0) {
    /** Inclusive time of matching frames, not counting a frame nested in another match twice. */
    const inclusive = (pattern: RegExp): number => {
      const total = (node: ProfileNode, inside: boolean): number => {
        const matches = !inside && pattern.test(label(node));
        const own = matches || inside ? (node.hitCount ?? 0) * msPerSample : 0;
        return own + (node.children ?? []).reduce((sum, child) => sum + total(byId.get(child)!, inside || matches), 0);
      };
      return total(profile.nodes[0]!, false);
    };
    lines.push('', 'Inclusive time:', ...patterns.map((pattern) => line(inclusive(pattern), `/${pattern.source}/`)));
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const take = (flag: string) => {
    const at = args.indexOf(flag);
    return at === -1 ? undefined : args.splice(at, 2)[1];
  };
  const under = take('--under');
  const per = take('--per');
  const [file, ...patterns] = args;
  if (!file) {
    console.error('usage: profile-summary <file.cpuprofile> [--under pattern] [--per count] [pattern ...]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(
    `${file}: ${summariseProfile(profile, {
      ...(under && { under: new RegExp(under) }),
      ...(per && { per: Number(per) }),
      patterns: patterns.map((pattern) => new RegExp(pattern)),
    })}`,
  );
}
