import { afterAll, beforeAll } from '@jest/globals';
import { type ConsoleLogger, type DynamicModule, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { WsAuthAdapter } from '../../src/ws/index.js';

/** Every line the app logs, to check what reaches logs (never a token). */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(...parts: unknown[]) { this.record('log', parts); }
  error(...parts: unknown[]) { this.record('error', parts); }
  warn(...parts: unknown[]) { this.record('warn', parts); }
  debug(...parts: unknown[]) { this.record('debug', parts); }
  verbose(...parts: unknown[]) { this.record('verbose', parts); }
  fatal(...parts: unknown[]) { this.record('fatal', parts); }
  private record(level: string, parts: unknown[]) {
    this.lines.push(`${level} ${parts.map((part) => (part instanceof Error ? part.stack : String(part))).join(' ')}`);
  }
  errors(): string[] { return this.lines.filter((line) => line.startsWith('error')); }
}

/**
 * Nest's Logger is process-wide (the last app created takes it over), so every
 * app of a test file logs into this one.
 */
export const logger = new RecordingLogger();

export interface TestApp {
  readonly app: INestApplication;
  readonly port: number;
  readonly logger: RecordingLogger;
  url(path: string): string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The WebSocket adapter. @default WsAuthAdapter */
  adapter?: (app: INestApplication) => object;
  /** Runs before listen(), e.g. to mount middleware. */
  configure?: (app: INestApplication) => void;
}

/** A real Nest app with WsAuthAdapter on a free loopback port. */
export async function startApp(
  module: Type | DynamicModule,
  { adapter = (app) => new WsAuthAdapter(app as INestApplication), configure = () => {} }: StartOptions = {},
): Promise<TestApp> {
  const app = await NestFactory.create(module, { logger: logger as LoggerService as ConsoleLogger, abortOnError: false });
  app.useWebSocketAdapter(adapter(app) as WsAuthAdapter);
  configure(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    port,
    logger,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    close: () => app.close(),
  };
}

/**
 * One app for the enclosing `describe` (or file): started before its tests,
 * closed after them. The handle reads the app that is running.
 */
export function useApp(module: () => Type | DynamicModule, options?: StartOptions): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startApp(module(), options);
  });
  afterAll(() => started?.close());
  const running = (): TestApp => {
    if (!started) throw new Error('the app starts in beforeAll: use it inside a test');
    return started;
  };
  return {
    get app() {
      return running().app;
    },
    get port() {
      return running().port;
    },
    logger,
    url: (path) => running().url(path),
    close: () => running().close(),
  };
}

/** Runs `use` against an app of its own, closed afterwards whatever happens. */
export async function withApp<T>(
  module: Type | DynamicModule,
  use: (app: TestApp) => Promise<T>,
  options?: StartOptions,
): Promise<T> {
  const app = await startApp(module, options);
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}
