import type { ExecutionContext, Type } from '@nestjs/common';

/** The argument hosts of Nest's ArgumentsHost, as its root entry point does not export them by name. */
type HttpArgumentsHost = ReturnType<ExecutionContext['switchToHttp']>;
type WsArgumentsHost = ReturnType<ExecutionContext['switchToWs']>;
type RpcArgumentsHost = ReturnType<ExecutionContext['switchToRpc']>;
import type { IncomingMessage } from 'node:http';

/** RFC 9110 §5.1: a header name is a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `ExecutionContext.getType()` of a handshake guard: the handshake is an HTTP request (the upgrade). */
export const HANDSHAKE_CONTEXT_TYPE = 'http';

/**
 * What a guard that answers HTTP requests finds in `getResponse()` at a
 * handshake: headers it sets (`header()`, `setHeader()`, as @nestjs/throttler
 * does) go out with a refusal (`Retry-After` of a 429). A handshake has no
 * response body to write: `status()`, `json()`, `send()`, `redirect()` and
 * `end()` throw an error that names the guard's mistake.
 */
export class HandshakeResponse {
  readonly headers: Record<string, string> = {};

  header(name: string, value: unknown): this {
    const text = String(value);
    // ws writes a refusal's headers as they are: a name or value that could end the header line is dropped.
    if (HEADER_NAME.test(name) && !/[\r\n\0]/.test(text)) {
      this.headers[name] = text;
    }
    return this;
  }

  setHeader(name: string, value: unknown): this {
    return this.header(name, value);
  }

  getHeader(name: string): string | undefined {
    return this.headers[name];
  }

  status(): never {
    return cannot('status()');
  }

  json(): never {
    return cannot('json()');
  }

  send(): never {
    return cannot('send()');
  }

  redirect(): never {
    return cannot('redirect()');
  }

  end(): never {
    return cannot('end()');
  }
}

function cannot(method: string): never {
  throw new Error(
    `a handshake guard called response.${method}, which a WebSocket handshake cannot answer: throw an HttpException (e.g. ` +
      `UnauthorizedException) or return false instead.`,
  );
}

/**
 * The `ExecutionContext` of a guard run at a handshake: `getType()` is
 * `'http'`; `switchToHttp().getRequest()` is the upgrade request (on Socket.IO,
 * whose namespaces share one, a view of it per handshake), with `ip`, and `user` as the strategies set it; `getResponse()` a
 * `HandshakeResponse`; `getClass()` the gateway; `getHandler()` the gateway's
 * `handleConnection` if it has one, else a stand-in named `handshake`, so
 * `Reflector` finds metadata put on the gateway class (or on handleConnection).
 */
export class HandshakeExecutionContext implements ExecutionContext, HttpArgumentsHost {
  constructor(
    private readonly request: IncomingMessage,
    readonly response: HandshakeResponse,
    private readonly gateway: Type<unknown>,
    private readonly handler: Function,
  ) {}

  getType<T extends string = string>(): T {
    return HANDSHAKE_CONTEXT_TYPE as T;
  }

  getClass<T = unknown>(): Type<T> {
    return this.gateway as Type<T>;
  }

  getHandler(): Function {
    return this.handler;
  }

  getArgs<T extends unknown[] = unknown[]>(): T {
    return [this.request, this.response] as T;
  }

  getArgByIndex<T = unknown>(index: number): T {
    return this.getArgs()[index] as T;
  }

  switchToHttp(): HttpArgumentsHost {
    return this;
  }

  getRequest<T = unknown>(): T {
    return this.request as T;
  }

  getResponse<T = unknown>(): T {
    return this.response as T;
  }

  getNext<T = unknown>(): T {
    return undefined as T;
  }

  /** No client exists yet: `getClient()` is the upgrade request too, `getData()` undefined. */
  switchToWs(): WsArgumentsHost {
    return {
      getClient: <T>() => this.request as T,
      getData: <T>() => undefined as T,
      getPattern: () => 'handshake',
    };
  }

  switchToRpc(): RpcArgumentsHost {
    return { getData: <T>() => undefined as T, getContext: <T>() => undefined as T };
  }
}

/** The stand-in `getHandler()` of a gateway without `handleConnection`. */
export function handshake(): void {}
