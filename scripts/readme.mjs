// Reads the README's conventions (the contract of issue 16), for scripts/compat.mjs and
// test/e2e/readme-snippets.e2e-spec.ts:
//   - `## Install`: a bash block of `npm install …` lines, each under a `# <transport>[, Nest <major>]` comment;
//   - `## Quick start`: `ts` blocks whose first line is `// <file>.ts` (a file of src/); a line starting with
//     **ws** or **Socket.IO** begins that transport's blocks, blocks before the first marker are common;
//     the note on ESM apps (relative imports end in `.js`);
//   - `## Testing your gateways`: the example is the first `ts` block whose first line names its file (a transport's
//     own block replaces it), its devDependencies are in backticks in a sentence saying devDependencies, and the line
//     an existing e2e test needs is inline code `app.useWebSocketAdapter(new …(app))`.
// Every function throws a ReadmeError saying which convention the README broke.

export const TRANSPORTS = ['ws', 'socket.io'];
const MARKERS = { '**ws**': 'ws', '**Socket.IO**': 'socket.io' };
const TRANSPORT_NAMES = { ws: 'ws', 'socket.io': 'Socket.IO' };

export class ReadmeError extends Error {
  name = 'ReadmeError';
}

/** The text between `## <heading>` and the next `## ` heading, with the line number it starts at. */
export function section(readme, heading) {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line === `## ${heading}`);
  if (start < 0) throw new ReadmeError(`README.md has no "## ${heading}" section.`);
  let end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  if (end < 0) end = lines.length;
  return { text: lines.slice(start + 1, end).join('\n'), line: start + 2 };
}

/**
 * The fenced blocks of a section, each with the transport it belongs to (`null`: common, before the first marker),
 * its language, its code, its first line's file name (if it names one) and its line in the README.
 */
export function blocks({ text, line: firstLine }) {
  const found = [];
  const lines = text.split('\n');
  let transport = null;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index];
    const marker = Object.keys(MARKERS).find((bold) => line.startsWith(bold));
    if (marker) transport = MARKERS[marker];
    const fence = /^```(\w*)$/.exec(line);
    if (!fence) continue;
    const end = lines.findIndex((other, at) => at > index && other === '```');
    if (end < 0) throw new ReadmeError(`README.md:${firstLine + index}: a code block is never closed.`);
    const code = `${lines.slice(index + 1, end).join('\n')}\n`;
    const file = /^\/\/ ([\w./-]+\.ts)\b/.exec(code)?.[1] ?? null;
    found.push({ transport, lang: fence[1], code, file, line: firstLine + index });
    index = end;
  }
  return found;
}

/** A transport's blocks of a section: the common ones, then the transport's own. */
function blocksFor(sectionBlocks, transport) {
  return sectionBlocks.filter((block) => block.transport === null || block.transport === transport);
}

function checkTransport(transport) {
  if (!TRANSPORTS.includes(transport)) throw new ReadmeError(`unknown transport ${transport}`);
}

/**
 * The `npm install` arguments of the install line for `transport` and the app's Nest major: the line under
 * `# <Transport>, Nest <major>`, else the one under `# <Transport>`.
 */
export function installArgs(readme, { transport, nest }) {
  checkTransport(transport);
  const bash = blocks(section(readme, 'Install')).filter((block) => block.lang === 'bash');
  if (bash.length !== 1) throw new ReadmeError('"## Install" must have exactly one bash block.');
  const lines = bash[0].code.trim().split('\n');
  const wanted = [`# ${TRANSPORT_NAMES[transport]}, Nest ${nest}`, `# ${TRANSPORT_NAMES[transport]}`];
  for (const comment of wanted) {
    const at = lines.findIndex((line) => line.trim() === comment);
    if (at < 0) continue;
    const command = lines[at + 1]?.trim() ?? '';
    const words = command.split(/\s+/);
    if (words[0] !== 'npm' || words[1] !== 'install' || !words.includes('nest-ws-auth')) {
      throw new ReadmeError(`"${comment}" in "## Install" must be followed by an \`npm install nest-ws-auth …\` line; got "${command}".`);
    }
    return words.slice(2);
  }
  throw new ReadmeError(`"## Install" has no line for ${wanted.map((comment) => `"${comment}"`).join(' or ')}.`);
}

/** The files the quick start writes for `transport`: `[{ path: 'src/<file>.ts', code, line }]`, the transport's own replacing a common one. */
export function quickStartFiles(readme, transport) {
  checkTransport(transport);
  const files = new Map();
  for (const block of blocksFor(blocks(section(readme, 'Quick start')), transport)) {
    if (block.lang !== 'ts') continue;
    if (!block.file) throw new ReadmeError(`README.md:${block.line}: a quick-start ts block must start with "// <file>.ts".`);
    if (block.file.includes('/')) throw new ReadmeError(`README.md:${block.line}: a quick-start file is a file of src/: "// ${block.file}".`);
    if (files.has(block.file) && files.get(block.file).transport === transport) {
      throw new ReadmeError(`README.md:${block.line}: ${block.file} is written twice for ${TRANSPORT_NAMES[transport]}.`);
    }
    files.set(block.file, { path: `src/${block.file}`, code: block.code, line: block.line, transport: block.transport });
  }
  if (!files.has('main.ts')) throw new ReadmeError(`the quick start has no main.ts for ${TRANSPORT_NAMES[transport]}.`);
  return [...files.values()].map(({ path, code, line }) => ({ path, code, line }));
}

/**
 * The quick start's note for ESM apps, which must say that relative imports end in `.js` in an app with
 * `"type": "module"`: `toEsm` applies exactly that.
 */
export function esmNote(readme) {
  const note = section(readme, 'Quick start')
    .text.split('\n\n')
    .find((paragraph) => paragraph.includes('"type": "module"') && /relative imports end in `\.js`/.test(paragraph));
  if (!note) {
    throw new ReadmeError('the quick start must say, for ESM apps ("type": "module"), that "relative imports end in `.js`".');
  }
  return note.replace(/\s+/g, ' ').trim();
}

/** Adds `.js` to every relative import without an extension, as the ESM note says. */
export function toEsm(code) {
  return code.replace(/ from '(\.{1,2}\/[^']+)'/g, (whole, specifier) => (/\.(c|m)?js$|\.json$/.test(specifier) ? whole : ` from '${specifier}.js'`));
}

/** The testing example for `transport`: `{ path, code, line }`, its path from its first line (`// test/x.e2e-spec.ts …`). */
export function testingExample(readme, transport) {
  checkTransport(transport);
  const named = blocksFor(blocks(section(readme, 'Testing your gateways')), transport).filter((block) => block.lang === 'ts' && block.file);
  const example = named.find((block) => block.transport === transport) ?? named.find((block) => block.transport === null);
  if (!example) throw new ReadmeError('"## Testing your gateways" has no ts block whose first line names its file.');
  if (!/\.e2e-spec\.ts$/.test(example.file)) {
    throw new ReadmeError(`README.md:${example.line}: the testing example must be a file nest new's e2e runner finds (*.e2e-spec.ts); got ${example.file}.`);
  }
  return { path: example.file, code: example.code, line: example.line };
}

/** The devDependencies the testing example needs on `transport`: package names in backticks in sentences saying devDependencies. */
export function testingDevDependencies(readme, transport) {
  checkTransport(transport);
  const { text } = section(readme, 'Testing your gateways');
  const names = new Set();
  let current = null;
  for (const paragraph of text.split(/\n\s*\n/)) {
    const marker = Object.keys(MARKERS).find((bold) => paragraph.startsWith(bold));
    if (marker) current = MARKERS[marker];
    if (paragraph.startsWith('```') || (current !== null && current !== transport)) continue;
    for (const sentence of paragraph.replace(/\s+/g, ' ').split(/(?<=[.:;])\s/)) {
      if (!sentence.includes('devDependencies')) continue;
      for (const [, name] of sentence.matchAll(/`((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)`/g)) names.add(name);
    }
  }
  return [...names];
}

const ADAPTERS = { ws: 'WsAuthAdapter', 'socket.io': 'WsAuthIoAdapter' };

/**
 * What an existing e2e test (nest new's test/app.e2e-spec.ts) needs on `transport`: the README's inline
 * `app.useWebSocketAdapter(new <Adapter>(app))` and the import of `<Adapter>` from the quick start's main.ts.
 */
export function existingTestAdapter(readme, transport) {
  checkTransport(transport);
  const adapter = ADAPTERS[transport];
  const statement = `app.useWebSocketAdapter(new ${adapter}(app))`;
  if (!section(readme, 'Testing your gateways').text.includes(`\`${statement}\``)) {
    throw new ReadmeError(`"## Testing your gateways" must show \`${statement}\` for existing e2e tests.`);
  }
  const main = quickStartFiles(readme, transport).find((file) => file.path === 'src/main.ts');
  const importLine = main.code.split('\n').find((line) => new RegExp(`^import \\{[^}]*\\b${adapter}\\b[^}]*\\} from '[^.][^']*';$`).test(line));
  if (!importLine) throw new ReadmeError(`the quick start's main.ts for ${TRANSPORT_NAMES[transport]} does not import ${adapter}.`);
  const from = /from '([^']+)'/.exec(importLine)[1];
  return { statement: `${statement};`, importLine: `import { ${adapter} } from '${from}';` };
}

/**
 * nest new's test/app.e2e-spec.ts with the adapter line after `createNestApplication()` and its import after the
 * others, as a reader of the README edits it.
 */
export function withAdapter(spec, { statement, importLine }) {
  const lines = spec.split('\n');
  const created = lines.findIndex((line) => /=\s*moduleFixture\.createNestApplication\(\);/.test(line));
  if (created < 0) throw new Error('test/app.e2e-spec.ts has no `moduleFixture.createNestApplication();` line');
  const indent = /^\s*/.exec(lines[created])[0];
  lines.splice(created + 1, 0, `${indent}${statement}`);
  const lastImport = lines.findLastIndex((line) => line.startsWith('import '));
  lines.splice(lastImport + 1, 0, importLine);
  return lines.join('\n');
}
