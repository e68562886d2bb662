import { expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `src/core/` depends on nothing above it: transports, strategies, options and
 * observability plug into its ports, never the other way round. So the core
 * can be tested (and a third transport bound to it) without ws, Socket.IO or
 * passport, and an import that runs upward fails here rather than in review.
 */
const core = dirname(fileURLToPath(import.meta.url));

/** Packages that belong to a transport or a strategy, never to the core. */
const FORBIDDEN_PACKAGES = [
  /^ws$/,
  /^socket\.io(-client)?$/,
  /^engine\.io/,
  /^passport(-|$)/,
  /^@nestjs\/(passport|websockets|platform-)/,
  /^jsonwebtoken$/,
  /^jose$/,
];

/** Every module specifier of a file: `import … from`, `export … from`, side-effect imports and `import()`. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /^\s*import\s+['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      found.push(match[1]!);
    }
  }
  return found;
}

function coreFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return coreFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

test('the core has files to check', () => {
  expect(coreFiles(core).length).toBeGreaterThan(10);
});

test.each(coreFiles(core).map((path) => [relative(core, path), path]))('%s imports nothing outside src/core', (_name, path) => {
  const wrong = specifiers(readFileSync(path, 'utf8')).filter((specifier) => {
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(path), specifier);
      return relative(core, target).startsWith('..');
    }
    return FORBIDDEN_PACKAGES.some((forbidden) => forbidden.test(specifier));
  });
  expect(wrong).toEqual([]);
});

test('the check sees an upward import, a forbidden package and a dynamic import', () => {
  const source = `import type { X } from '../strategies/x.js';\nimport { WebSocket } from 'ws';\nconst jose = import('jose');`;
  expect(specifiers(source)).toEqual(['../strategies/x.js', 'ws', 'jose']);
});
