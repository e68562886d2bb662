import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
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
  test.each(['.', './socket.io', './testing'])('exports "%s" with types and import, both built', (subpath) => {
    const entry = manifest.exports[subpath];
    expect(Object.keys(entry)).toEqual(['types', 'import', 'default']);
    for (const file of [entry.types, entry.import]) {
      expect(existsSync(join(root, file))).toBe(true);
    }
    expect(manifest.type).toBe('module');
    expect(manifest.files).toEqual(['dist']);
  });

  test('every package src/ imports is a declared dependency or peer', () => {
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const sources = (readdirSync(join(root, 'src'), { recursive: true }) as string[]).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
    );
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

  test('npm pack ships dist with declarations, and no sources or tests', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }));
    const files: string[] = packed.files.map((file: { path: string }) => file.path);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'package.json', 'README.md']));
    expect(files.filter((file) => /^(src|test|example|bench)\/|\.spec\./.test(file))).toEqual([]);
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
});
