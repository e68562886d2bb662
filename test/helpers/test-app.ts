import { type ConsoleLogger, type DynamicModule, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { WsAuthAdapter } from '../../src/index.js';

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

/** A real Nest app with WsAuthAdapter on a free loopback port. */
export async function startApp(
  module: Type | DynamicModule,
  {
    adapter = (app: INestApplication) => new WsAuthAdapter(app) as object,
    configure = (_app: INestApplication) => {},
  } = {},
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
