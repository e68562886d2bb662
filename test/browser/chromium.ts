import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium), with no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Waits until `read()` returns a non-empty list (DevTools events arrive on their own schedule). */
export async function eventually<T>(read: () => T[], timeoutMs = 3000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (read().length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return read();
}

export interface HandshakeLog {
  /** HTTP statuses of refused WebSocket handshakes, which the page itself only sees as 1006. */
  readonly refusedWith: number[];
  /** Sec-WebSocket-Protocol of accepted handshakes' responses. */
  readonly selectedProtocols: Array<string | undefined>;
}

/** Watches a page's WebSocket handshakes through the DevTools protocol. */
export async function watchHandshakes(page: Page): Promise<HandshakeLog> {
  const log = { refusedWith: [] as number[], selectedProtocols: [] as Array<string | undefined> };
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameError', ({ errorMessage }) => {
    // Chromium words a 401 (a challenge it cannot answer) apart from other statuses.
    const status = /Unexpected response code: (\d+)/.exec(errorMessage)?.[1] ?? (/HTTP Authentication failed/.test(errorMessage) ? '401' : undefined);
    if (status) log.refusedWith.push(Number(status));
  });
  cdp.on('Network.webSocketHandshakeResponseReceived', ({ response }) => {
    const headers = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]));
    log.selectedProtocols.push(headers['sec-websocket-protocol'] as string | undefined);
  });
  return log;
}
