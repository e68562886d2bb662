#!/usr/bin/env node
// Builds the package twice from the whole src/ tree (spec files excluded):
//   dist/esm  ES modules + declarations      (tsconfig.build.json)
//   dist/cjs  CommonJS + declarations        (tsconfig.build.cjs.json)
// Each folder gets a package.json with its "type", so Node and TypeScript read
// dist/cjs/**/*.js and *.d.ts as CommonJS even though the package is "type": "module".
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const builds = [
  { project: 'tsconfig.build.json', outDir: 'dist/esm', type: 'module' },
  { project: 'tsconfig.build.cjs.json', outDir: 'dist/cjs', type: 'commonjs' },
];

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const run = (project) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc -p ${project} exited with ${code}`))));
  });
try {
  await Promise.all(builds.map(({ project }) => run(project)));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
for (const { outDir, type } of builds) {
  mkdirSync(new URL(`../${outDir}`, import.meta.url), { recursive: true });
  writeFileSync(new URL(`../${outDir}/package.json`, import.meta.url), `${JSON.stringify({ type }, null, 2)}\n`);
}
