/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { runExample, type RunningExample } from '../helpers/example-app.js';
import { freePort } from '../helpers/free-port.js';
import { eventually, launchChromium, watchHandshakes } from './chromium.js';

const SCREENSHOTS = fileURLToPath(new URL('screenshots', import.meta.url));

let browser: Browser;
let example: RunningExample;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  example = await runExample({ PORT: String(port) });
});
afterAll(async () => {
  await browser?.close();
  await example?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}

/** Logs in through the login form, as a person does, and waits for the chat to connect. */
async function logIn(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('input[name=id]', user);
  await page.fill('input[name=password]', user);
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/chat.html');
  await page.waitForSelector('#status.ok');
}

const base = () => `http://localhost:${example.port}`;

describe('the chat demo in Chromium', () => {
  test('log in, and the chat works and shows who wrote what', async () => {
    const page = await newPage();
    await logIn(page, base(), 'alice');
    await expect(page.textContent('#me')).resolves.toBe('Alice (admin)');
    await page.fill('#text', 'Hello from Chromium');
    await page.click('#composer button');
    await page.waitForSelector('#messages li:has-text("Alice: Hello from Chromium")');
    expect(await page.textContent('#status')).toContain('session cookie');
    await page.screenshot({ path: join(SCREENSHOTS, 'chat.png'), fullPage: true });
  });

  test('a page that is not logged in cannot open the socket, and says so', async () => {
    const page = await newPage();
    const handshakes = await watchHandshakes(page);
    await page.goto(`${base()}/chat.html`);
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toContain('you are not logged in');
    expect(await page.isVisible('#login-link')).toBe(true);
    expect(await eventually(() => handshakes.refusedWith)).toEqual([401]);
  });

  test('the token client: a token in Sec-WebSocket-Protocol works in Chrome and is never echoed', async () => {
    const page = await newPage();
    const handshakes = await watchHandshakes(page);
    await page.goto(`${base()}/chat.html?mode=token`);
    await page.click('#token-login button');
    await page.waitForSelector('#status.ok');
    expect(await page.textContent('#status')).toContain('token in Sec-WebSocket-Protocol; subprotocol "chat"');
    await expect(page.textContent('#me')).resolves.toBe('Bob');
    await page.fill('#text', 'token mode');
    await page.click('#composer button');
    await page.waitForSelector('#messages li:has-text("Bob: token mode")');
    expect(await eventually(() => handshakes.selectedProtocols)).toEqual(['chat']);
  });

  test('logging out closes the socket, and the page says why', async () => {
    const page = await newPage();
    await logIn(page, base(), 'bob');
    await page.click('#logout');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toBe('Disconnected: you logged out.');
  });

  test("an admin revokes a user: the user's page is closed and says why", async () => {
    const bob = await newPage();
    await logIn(bob, base(), 'bob');
    const alice = await newPage();
    await logIn(alice, base(), 'alice');
    await alice.click('#online li:has-text("Bob") button');
    await bob.waitForSelector('#status.error');
    expect(await bob.textContent('#status')).toBe('Disconnected: your access was withdrawn (revoked by Alice).');
    await alice.waitForSelector('#messages li:has-text("Revoked bob: 1 connection(s) closed")');
  });
});

describe('Cross-Site WebSocket Hijacking', () => {
  let attacker: Server;
  let attackerOrigin: string;
  let permissive: RunningExample;

  beforeAll(async () => {
    // Another origin (another port of localhost): same site, so Chromium sends the victim's cookie along.
    attacker = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<script>
        const target = new URLSearchParams(location.search).get('target');
        const socket = new WebSocket(target, ['chat']);
        socket.onopen = () => socket.send(JSON.stringify({ event: 'whoami' }));
        socket.onmessage = (message) => { const { event, data } = JSON.parse(message.data); if (event === 'whoami') document.title = 'STOLEN ' + data.name; };
        socket.onclose = (event) => { if (!document.title) document.title = 'CLOSED ' + event.code; };
      </script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerOrigin = `http://localhost:${(attacker.address() as { port: number }).port}`;
    // The control: the same app with the attacker's origin on its allow-list.
    const port = await freePort();
    permissive = await runExample({ PORT: String(port), ALLOWED_ORIGINS: `http://localhost:${port},${attackerOrigin}` });
  });
  afterAll(async () => {
    attacker?.close();
    await permissive?.stop();
  });

  async function attack(target: RunningExample): Promise<{ title: string; refusedWith: number[] }> {
    const page = await newPage();
    await logIn(page, `http://localhost:${target.port}`, 'alice');
    const evil = await page.context().newPage();
    const handshakes = await watchHandshakes(evil);
    await evil.goto(`${attackerOrigin}/?target=ws://localhost:${target.port}/chat`);
    await evil.waitForFunction(() => document.title !== '');
    const title = await evil.title();
    return { title, refusedWith: title.startsWith('CLOSED') ? await eventually(() => handshakes.refusedWith) : handshakes.refusedWith };
  }

  test("a page from another origin with the victim's cookie is refused (403; the page sees 1006)", async () => {
    expect(await attack(example)).toEqual({ title: 'CLOSED 1006', refusedWith: [403] });
  });

  test('the control: with that origin allowed, the same page would act as the victim', async () => {
    expect(await attack(permissive)).toEqual({ title: 'STOLEN Alice', refusedWith: [] });
  });
});

describe('tokens with a short life, refreshed in-band', () => {
  let shortLived: RunningExample;
  beforeAll(async () => {
    const port = await freePort();
    shortLived = await runExample({ PORT: String(port), TOKEN_SECONDS: '3' });
  });
  afterAll(() => shortLived?.stop());

  test('the token client refreshes before expiry and stays connected past the first token', async () => {
    const page = await newPage();
    await page.goto(`http://localhost:${shortLived.port}/chat.html?mode=token`);
    await page.click('#token-login button');
    await page.waitForSelector('#status.ok');
    await page.waitForSelector('#messages li:has-text("Token refreshed in-band")', { timeout: 5000 });
    await page.waitForTimeout(3500);
    expect(await page.getAttribute('#status', 'class')).toBe('ok');
    await page.fill('#text', 'still here');
    await page.click('#composer button');
    await page.waitForSelector('#messages li:has-text("Bob: still here")');
  });
});
