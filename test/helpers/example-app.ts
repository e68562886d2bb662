import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunningExample {
  readonly port: number;
  /** Everything the app printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the built example app (`npm run build:example`) on a free port. */
export async function runExample(env: Record<string, string> = {}): Promise<RunningExample> {
  let printed = '';
  const child: ChildProcess = spawn(process.execPath, [join(root, 'dist-example/main.js')], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not start:\n${printed}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}:\n${printed}`)));
    const poll = setInterval(() => {
      const match = /ws:\/\/localhost:(\d+)\//.exec(printed);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    }, 20);
  });
  return {
    port,
    output: () => printed,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
