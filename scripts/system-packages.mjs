#!/usr/bin/env node
// Makes sure the Debian programs some tests drive are installed:
//   node scripts/system-packages.mjs redis-server chromium
// Installs what is missing with apt-get when running as root (CI, dev
// containers); otherwise says what to install and fails.
import { execFileSync, spawnSync } from 'node:child_process';

const programs = process.argv.slice(2);
const missing = programs.filter((program) => spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0);
if (missing.length === 0) {
  process.exit(0);
}

const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
if (!canInstall) {
  console.error(`Missing: ${missing.join(', ')}. Install the Debian packages: sudo apt-get install ${missing.join(' ')}`);
  process.exit(1);
}

console.log(`Installing ${missing.join(', ')} with apt-get ...`);
const apt = (args) =>
  execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
apt(['update', '-qq']);
apt(['install', '-y', '-qq', ...missing]);
