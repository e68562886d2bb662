import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { sign, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens.js';
import { connect, request } from '../helpers/ws-client.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('package manifest', () => {
  const entries = { '.': 'index', './ws': 'ws/index', './socket.io': 'socket-io/index', './testing': 'testing/index', './graphql': 'graphql/index' };

  test('exports ".", "./ws", "./socket.io", "./testing" and "./graphql" as ES modules and CommonJS, each with its own declarations, all built', () => {
    expect(Object.keys(manifest.exports)).toEqual([...Object.keys(entries), './package.json']);
    for (const [subpath, file] of Object.entries(entries)) {
      expect(manifest.exports[subpath]).toEqual({
        import: { types: `./dist/esm/${file}.d.ts`, default: `./dist/esm/${file}.js` },
        require: { types: `./dist/cjs/${file}.d.ts`, default: `./dist/cjs/${file}.js` },
      });
      for (const format of ['esm', 'cjs']) {
        for (const extension of ['.js', '.d.ts']) {
          expect(existsSync(join(root, 'dist', format, `${file}${extension}`))).toBe(true);
        }
      }
    }
    // Node and TypeScript read dist/cjs as CommonJS although the package is "type": "module".
    expect(manifest.type).toBe('module');
    expect(JSON.parse(readFileSync(join(root, 'dist/esm/package.json'), 'utf8'))).toEqual({ type: 'module' });
    expect(JSON.parse(readFileSync(join(root, 'dist/cjs/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    expect(manifest.main).toBe('./dist/cjs/index.js');
    expect(manifest.types).toBe('./dist/cjs/index.d.ts');
    expect(manifest.files).toEqual(['dist']);
  });

  test('every package src/ imports is a declared dependency or peer', () => {
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
    );
    expect(sources).toContain('index.ts');
    const imported = new Set<string>();
    for (const file of sources) {
      for (const [, specifier] of readFileSync(join(root, 'src', file), 'utf8').matchAll(/from '([^'.][^']*)'/g)) {
        const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
        if (!name.startsWith('node:') && !builtinModules.includes(name)) imported.add(name);
      }
    }
    const undeclared = [...imported].filter((name) => !declared.has(name) && !declared.has(`@types/${name}`));
    expect(undeclared).toEqual([]);
  });

  test('npm pack ships both builds with declarations, and no sources or tests', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }));
    const files: string[] = packed.files.map((file: { path: string }) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        ...['esm', 'cjs'].flatMap((format) => ['index.js', 'index.d.ts', 'package.json'].map((file) => `dist/${format}/${file}`)),
        'package.json',
        'README.md',
        'LICENSE',
      ]),
    );
    expect(files.filter((file) => /^(src|test|example|bench|compat)\/|\.spec\./.test(file))).toEqual([]);
  });

  test('@arethetypeswrong/cli and publint --strict find no problem in the packed package', () => {
    const run = (bin: string, args: string[]) => {
      const result = spawnSync(join(root, 'node_modules/.bin', bin), args, { cwd: root, encoding: 'utf8' });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };
    const attw = run('attw', ['--pack', '.', '--format', 'table-flipped']);
    expect(attw).toEqual({ status: 0, output: expect.stringContaining('No problems found') });
    const publint = run('publint', ['--strict']);
    expect(publint).toEqual({ status: 0, output: expect.stringContaining('All good!') });
  }, 60_000);

  test('require() and import give the same exports', () => {
    const names = (args: string[]) =>
      execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const required = names(['-e', "console.log(Object.keys(require('nest-ws-auth')).sort().join())"]);
    const imported = names(['--input-type=module', '-e', "console.log(Object.keys(await import('nest-ws-auth')).sort().join())"]);
    expect(required).toBe(imported);
    expect(required).toContain('WsAuthModule');
  });

  test('every entry point exports the whole transport-independent API; WsAuthAdapter stays in nest-ws-auth', async () => {
    // By name, as an app imports them (the built package: a variable keeps the type-check from needing dist/).
    const load = (entry: string): Promise<Record<string, unknown>> => import(entry);
    const main = await load('nest-ws-auth');
    const io = await load('nest-ws-auth/socket.io');
    const ws = await load('nest-ws-auth/ws');
    const graphql = await load('nest-ws-auth/graphql');
    const shared = Object.keys(main).filter((name) => name !== 'WsAuthAdapter');
    expect(shared).toContain('WsAuthModule');
    for (const name of shared) {
      expect([name, io[name]]).toEqual([name, main[name]]);
      expect([name, ws[name]]).toEqual([name, main[name]]);
      expect([name, graphql[name]]).toEqual([name, main[name]]);
    }
    expect(main.WsAuthAdapter).toBe(ws.WsAuthAdapter);
    expect(Object.keys(graphql).filter((name) => !shared.includes(name)).sort()).toEqual(['GraphQLWsCloseCode', 'WsAuthGraphQL']);
  });

  test('no entry point loads graphql, graphql-ws or @nestjs/graphql (optional peers a ws or Socket.IO app does not install)', () => {
    const blocked = /^(graphql|graphql-ws|@nestjs\/graphql)(\/|$)/;
    const node = (args: string[]) =>
      spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const entries = ['nest-ws-auth', 'nest-ws-auth/ws', 'nest-ws-auth/socket.io', 'nest-ws-auth/testing', 'nest-ws-auth/graphql'];
    const required = node([
      '-e',
      `const Module = require('node:module');
       const resolve = Module._resolveFilename;
       Module._resolveFilename = function (request, ...rest) {
         if (${blocked}.test(request)) throw new Error('loads ' + request);
         return resolve.call(this, request, ...rest);
       };
       ${entries.map((entry) => `require('${entry}');`).join('\n')}`,
    ]);
    const hook = `export async function resolve(specifier, context, next) {
      if (${blocked}.test(specifier)) throw new Error('loads ' + specifier);
      return next(specifier, context);
    }`;
    const imported = node([
      '--input-type=module',
      '-e',
      `import { register } from 'node:module';
       register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
       ${entries.map((entry) => `await import('${entry}');`).join('\n')}`,
    ]);
    expect({ require: required.status === 0 ? 'ok' : required.stderr, import: imported.status === 0 ? 'ok' : imported.stderr }).toEqual({ require: 'ok', import: 'ok' });
  });

  test('a Socket.IO app never loads @nestjs/platform-ws, an optional peer it does not install; the ws entries do', () => {
    const node = (args: string[]) =>
      spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    // A Socket.IO app: resolving @nestjs/platform-ws throws, as it does where the package is not installed.
    const withoutPlatformWs = (entries: string[]) => {
      const required = node([
        '-e',
        `const Module = require('node:module');
         const resolve = Module._resolveFilename;
         Module._resolveFilename = function (request, ...rest) {
           if (request.startsWith('@nestjs/platform-ws')) throw new Error('loads @nestjs/platform-ws');
           return resolve.call(this, request, ...rest);
         };
         ${entries.map((entry) => `require('${entry}');`).join('\n')}`,
      ]);
      const hook = `export async function resolve(specifier, context, next) {
        if (specifier.startsWith('@nestjs/platform-ws')) throw new Error('loads @nestjs/platform-ws');
        return next(specifier, context);
      }`;
      const imported = node([
        '--input-type=module',
        '-e',
        `import { register } from 'node:module';
         register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
         ${entries.map((entry) => `await import('${entry}');`).join('\n')}`,
      ]);
      const loads = (result: { status: number | null; stderr: string }) => result.status !== 0 && result.stderr.includes('loads @nestjs/platform-ws');
      return { require: loads(required) ? 'loads it' : required.status === 0 ? 'ok' : required.stderr, import: loads(imported) ? 'loads it' : imported.status === 0 ? 'ok' : imported.stderr };
    };
    expect(withoutPlatformWs(['nest-ws-auth/socket.io', 'nest-ws-auth/testing'])).toEqual({ require: 'ok', import: 'ok' });
    // 'nest-ws-auth' keeps its WsAuthAdapter (an existing name); Socket.IO apps import from 'nest-ws-auth/socket.io'.
    expect(withoutPlatformWs(['nest-ws-auth'])).toEqual({ require: 'loads it', import: 'loads it' });
    expect(withoutPlatformWs(['nest-ws-auth/ws'])).toEqual({ require: 'loads it', import: 'loads it' });
  });
});

describe('the built package, imported by name in a plain Node process', () => {
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    child = spawn(process.execPath, [join(root, 'test/fixtures/built-package.app.mjs')], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', JWT_SECRET: TEST_SECRET, JWT_ISSUER: TEST_ISSUER },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the app exited with ${code}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  test('refuses without credentials and authenticates with a token', async () => {
    expect((await rawUpgrade(port, '/built')).status).toBe(401);
    const client = await connect(`ws://127.0.0.1:${port}/built`, ['app', `bearer.${sign({ sub: 'carol' })}`]);
    expect(await request(client, 'whoami')).toEqual({ event: 'whoami', data: 'carol' });
    client.close();
  });

  test('a gateway decorated by the CommonJS copy is guarded by the ES module copy (the dual-package case)', async () => {
    expect((await rawUpgrade(port, '/dual')).status).toBe(401);
    const client = await connect(`ws://127.0.0.1:${port}/dual`, ['app', `bearer.${sign({ sub: 'dave' })}`]);
    expect(await request(client, 'whoami')).toEqual({ event: 'whoami', data: 'dave' });
    client.close();
  });
});
