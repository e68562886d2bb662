import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Every TypeScript snippet of the README compiles as pasted: complete imports,
 * no undefined names, against the built package imported by name. Each snippet
 * starts with a `// file.ts` comment; consecutive snippets form one app folder
 * (until a file name repeats), so that they import each other for real; a
 * relative import no snippet of the folder provides gets a stub.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const workspace = join(root, '.cache/readme-snippets');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Snippet {
  readonly file: string;
  readonly code: string;
  readonly line: number;
}

function snippets(): Snippet[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const found: Snippet[] = [];
  for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const code = match[1]!;
    const file = /^\/\/ ([\w.-]+\.ts)\b/.exec(code)?.[1];
    const line = readme.slice(0, match.index).split('\n').length;
    found.push({ file: file ?? '', code, line });
  }
  return found;
}

function folders(all: Snippet[]): Snippet[][] {
  const groups: Snippet[][] = [];
  let current: Snippet[] = [];
  for (const snippet of all) {
    if (current.some((other) => other.file === snippet.file)) {
      groups.push(current);
      current = [];
    }
    current.push(snippet);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** `export` stubs for what a snippet imports from a sibling no snippet of the folder provides. */
function stubsFor(group: Snippet[]): Map<string, Set<string>> {
  const provided = new Set(group.map((snippet) => snippet.file.replace(/\.ts$/, '.js')));
  const stubs = new Map<string, Set<string>>();
  for (const { code } of group) {
    for (const [, names, from] of code.matchAll(/import (?:type )?\{([^}]*)\} from '\.\/([\w.-]+\.js)'/g)) {
      if (provided.has(from!)) continue;
      const set = stubs.get(from!) ?? new Set<string>();
      for (const name of names!.split(',')) set.add(name.replace(/^\s*type\s+/, '').trim());
      stubs.set(from!, set);
    }
  }
  return stubs;
}

describe('README', () => {
  const all = snippets();

  test('every TypeScript snippet names its file', () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(all.filter((snippet) => snippet.file === '').map((snippet) => `README.md:${snippet.line}`)).toEqual([]);
  });

  test('every TypeScript snippet type-checks as pasted (strict, against the built package)', () => {
    rmSync(workspace, { recursive: true, force: true });
    const groups = folders(all);
    groups.forEach((group, index) => {
      const folder = join(workspace, `app-${index}`);
      mkdirSync(folder, { recursive: true });
      for (const snippet of group) writeFileSync(join(folder, snippet.file), snippet.code);
      for (const [file, names] of stubsFor(group)) {
        const exports = [...names].map((name) => `export const ${name}: any = undefined;\nexport type ${name} = any;`);
        writeFileSync(join(folder, file.replace(/\.js$/, '.ts')), `${exports.join('\n')}\n`);
      }
    });
    writeFileSync(
      join(workspace, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          lib: ['es2023', 'dom'],
          types: ['node'],
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['app-*/**/*.ts'],
      }),
    );
    const result = spawnSync(process.execPath, [tsc, '-p', join(workspace, 'tsconfig.json')], { encoding: 'utf8' });
    const where = groups.map((group, index) => `app-${index}: ${group.map((s) => `${s.file} (README.md:${s.line})`).join(', ')}`);
    expect({ status: result.status, errors: result.stdout.trim(), where: result.status === 0 ? [] : where }).toEqual({
      status: 0,
      errors: '',
      where: [],
    });
  }, 60_000);
});
