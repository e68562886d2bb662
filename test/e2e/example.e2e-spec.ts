import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runExample, type RunningExample } from '../helpers/example-app.js';
import { connect, nextEvent, refusedStatus } from '../helpers/ws-client.js';

let example: RunningExample;
beforeAll(async () => {
  example = await runExample();
});
afterAll(() => example.stop());

test('prints a dev token and a client command that works', async () => {
  const command = /node example\/client\.mjs (\S+) (\S+)/.exec(example.output());
  expect(command).not.toBeNull();
  const [, url, token] = command!;
  const client = await connect(url!, [], { headers: { authorization: `Bearer ${token}` } });
  const whoami = nextEvent(client, 'whoami');
  client.send(JSON.stringify({ event: 'whoami' }));
  expect(await whoami).toEqual({ event: 'whoami', data: { id: 'alice', name: 'Alice', roles: ['admin'] } });
  const said = nextEvent(client, 'message');
  client.send(JSON.stringify({ event: 'say', data: 'hi' }));
  expect(await said).toEqual({ event: 'message', data: { from: 'Alice', text: 'hi' } });
  client.close();
});

test('the printed client command runs as printed', async () => {
  const [, url, token] = /node example\/client\.mjs (\S+) (\S+)/.exec(example.output())!;
  const refused = await promisify(execFile)(process.execPath, [fileURLToPath(new URL('../../example/client.mjs', import.meta.url)), url!, 'forged'], {
    env: { ...process.env, NODE_OPTIONS: '' },
  }).catch((error: { stderr: string; code: number }) => error);
  expect(refused).toMatchObject({ code: 1 });
  expect((refused as { stderr: string }).stderr).toContain('refused: HTTP 401');
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
});

test('the client leaves and exits on end of input', async () => {
  const [, url, token] = /node example\/client\.mjs (\S+) (\S+)/.exec(example.output())!;
  const client = execFile(process.execPath, [fileURLToPath(new URL('../../example/client.mjs', import.meta.url)), url!, token!], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let output = '';
  client.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('connected')) client.stdin!.end('hello\n');
  });
  const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
  expect(code).toBe(0);
  expect(output).toContain('closed: 1000 bye');
});

test('refuses a client without credentials', async () => {
  expect(await refusedStatus(`ws://127.0.0.1:${example.port}/chat`)).toBe(401);
});
