import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  esmNote,
  existingTestAdapter,
  installArgs,
  quickStartFiles,
  section,
  testingDevDependencies,
  testingExample,
  toEsm,
  TRANSPORTS,
  type Transport,
} from '../../scripts/readme.mjs';

/**
 * Every TypeScript snippet of the README compiles as pasted: complete imports, no undefined names, against the built
 * package imported by name. The README's conventions (scripts/readme.mjs, which `npm run test:compat` builds apps
 * from) are checked here first, in seconds:
 *   - the quick start and the testing example of each transport form one app (src/ and test/), type-checked as a
 *     CommonJS app and, with the README's note applied (`.js` on relative imports), as an ESM app;
 *   - the other snippets: each starts with a `// file.ts` comment; consecutive snippets form one app folder (until a
 *     file name repeats), so that they import each other for real; a relative import no snippet of the folder
 *     provides gets a stub.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const workspace = join(root, '.cache/readme-snippets');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Snippet {
  readonly file: string;
  readonly code: string;
  readonly line: number;
}

/** The ts snippets outside the quick start and the testing section, which scripts/readme.mjs reads. */
function otherSnippets(): Snippet[] {
  const owned = ['Quick start', 'Testing your gateways'].map((heading) => section(readme, heading));
  const found: Snippet[] = [];
  for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const line = readme.slice(0, match.index).split('\n').length;
    if (owned.some(({ text, line: start }) => line >= start && line < start + text.split('\n').length)) continue;
    const code = match[1]!;
    found.push({ file: /^\/\/ ([\w./-]+\.ts)\b/.exec(code)?.[1] ?? '', code, line });
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

/** `export` stubs for what the files of a folder import from a sibling none of them provides. */
function stubsFor(files: ReadonlyArray<{ path: string; code: string }>): Map<string, Set<string>> {
  const provided = new Set(files.map(({ path }) => path.replace(/\.ts$/, '')));
  const stubs = new Map<string, Set<string>>();
  for (const { path, code } of files) {
    for (const [, names, from] of code.matchAll(/import (?:type )?\{([^}]*)\} from '(\.{1,2}\/[\w./-]+)'/g)) {
      const target = join(dirname(path), from!.replace(/\.js$/, ''));
      if (provided.has(target)) continue;
      const set = stubs.get(target) ?? new Set<string>();
      for (const name of names!.split(',')) set.add(name.replace(/^\s*type\s+/, '').trim());
      stubs.set(target, set);
    }
  }
  return stubs;
}

function writeFolder(folder: string, files: ReadonlyArray<{ path: string; code: string }>, type: 'commonjs' | 'module'): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), `${JSON.stringify({ type })}\n`);
  for (const { path, code } of files) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), code);
  }
  for (const [file, names] of stubsFor(files)) {
    const exports = [...names].map((name) => `export const ${name}: any = undefined;\nexport type ${name} = any;`);
    writeFileSync(join(folder, `${file}.ts`), `${exports.join('\n')}\n`);
  }
}

describe('README', () => {
  const others = otherSnippets();

  test('every other TypeScript snippet names its file', () => {
    expect(others.length).toBeGreaterThanOrEqual(8);
    expect(others.filter((snippet) => snippet.file === '').map((snippet) => `README.md:${snippet.line}`)).toEqual([]);
  });

  test.each(TRANSPORTS)('the conventions scripts/compat.mjs builds a %s app from', (transport) => {
    for (const nest of [11, 12]) {
      const args = installArgs(readme, { transport, nest });
      expect(args).toContain('nest-ws-auth');
      expect(args).toContain(transport === 'ws' ? `@nestjs/platform-ws@${nest}` : `@nestjs/platform-socket.io@${nest}`);
      expect(args).not.toContain(transport === 'ws' ? '@nestjs/platform-socket.io' : '@nestjs/platform-ws');
      expect(args.filter((word) => word.startsWith('-'))).toEqual([]); // npm's default peer handling: no --force, no --legacy-peer-deps
    }
    const files = quickStartFiles(readme, transport).map(({ path }) => path);
    expect(files).toEqual(expect.arrayContaining(['src/app.module.ts', 'src/main.ts', 'src/chat.gateway.ts', 'src/token.ts']));
    const main = quickStartFiles(readme, transport).find(({ path }) => path === 'src/main.ts')!.code;
    expect(main).toMatch(/^async function bootstrap\(\) \{$/m); // as nest new writes it: no top-level await (CommonJS)
    expect(main).not.toMatch(/^await /m);
    expect(esmNote(readme)).toContain('"type": "module"');
    // Written for CommonJS (nest new's Jest set-up cannot resolve './x.js'); the ESM note adds the suffix.
    const suffixed = [...quickStartFiles(readme, transport), testingExample(readme, transport)].filter(({ code }) =>
      /from '\.{1,2}\/[^']*\.js'/.test(code),
    );
    expect(suffixed.map(({ path, line }) => `${path} (README.md:${line})`)).toEqual([]);
    expect(testingExample(readme, transport).path).toBe('test/chat.e2e-spec.ts');
    expect(testingDevDependencies(readme, transport)).toEqual(transport === 'ws' ? [] : ['socket.io-client']);
    expect(existingTestAdapter(readme, transport).importLine).toBe(
      transport === 'ws' ? "import { WsAuthAdapter } from 'nest-ws-auth/ws';" : "import { WsAuthIoAdapter } from 'nest-ws-auth/socket.io';",
    );
  });

  test.each<[Transport, string]>([
    ['ws', 'test/kit/readme-example.e2e-spec.ts'],
    ['socket.io', 'test/kit/readme-example-socket-io.e2e-spec.ts'],
  ])('the %s testing example runs in this repository as %s (all but its import lines)', (transport, file) => {
    const body = (code: string) => code.slice(code.search(/^(?!import |\/\/)/m)).trim();
    expect(body(readFileSync(join(root, file), 'utf8'))).toBe(body(testingExample(readme, transport).code));
  });

  test('every TypeScript snippet type-checks as pasted (strict, against the built package)', () => {
    rmSync(workspace, { recursive: true, force: true });
    // The folders have package.json files of their own (CommonJS or ESM), so nest-ws-auth is installed, not self-referenced.
    mkdirSync(join(workspace, 'node_modules'), { recursive: true });
    symlinkSync(root, join(workspace, 'node_modules', 'nest-ws-auth'), 'dir');
    const where: string[] = [];
    // The quick start with the testing example, per transport, as a CommonJS app and as an ESM app.
    for (const transport of TRANSPORTS as Transport[]) {
      const example = testingExample(readme, transport);
      const files = [...quickStartFiles(readme, transport), example];
      for (const type of ['commonjs', 'module'] as const) {
        const folder = `quick-start-${transport}-${type}`;
        writeFolder(
          join(workspace, folder),
          files.map(({ path, code }) => ({ path, code: type === 'module' ? toEsm(code) : code })),
          type,
        );
        where.push(`${folder}: ${files.map(({ path, line }) => `${path} (README.md:${line})`).join(', ')}`);
      }
    }
    // The runners' globals the testing example uses (jest's and vitest's alike).
    writeFileSync(
      join(workspace, 'runner-globals.d.ts'),
      `import type * as runner from '@jest/globals';\ndeclare global {\n${['describe', 'it', 'expect', 'beforeAll', 'afterAll']
        .map((name) => `  const ${name}: typeof runner.${name};`)
        .join('\n')}\n}\n`,
    );
    folders(others).forEach((group, index) => {
      writeFolder(join(workspace, `app-${index}`), group.map(({ file, code }) => ({ path: file, code })), 'commonjs');
      where.push(`app-${index}: ${group.map((s) => `${s.file} (README.md:${s.line})`).join(', ')}`);
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
        include: ['**/*.ts'],
      }),
    );
    const result = spawnSync(process.execPath, [tsc, '-p', join(workspace, 'tsconfig.json')], { encoding: 'utf8' });
    expect({ status: result.status, errors: result.stdout.trim(), where: result.status === 0 ? [] : where }).toEqual({
      status: 0,
      errors: '',
      where: [],
    });
  }, 90_000);
});
