import { ConnectedSocket } from '@nestjs/websockets';
import { isClosedByLibrary } from './core/closed-clients.js';
import { MESSAGE_MAPPING_METADATA, PARAM_ARGS_METADATA, SOCKET_PARAM } from './nest-metadata.keys.js';

/*
 * The library's only run-time patches of gateway classes, kept in this one file.
 * Both stand where Nest offers no public seam:
 *
 * - Message handlers. Nest composes guards, interceptors and pipes around a
 *   `@SubscribeMessage` method and hands the adapter the finished callback
 *   (`bindMessageHandlers`), so a check there runs before an async guard, not
 *   after it. The gate must sit between the last of them and the method: only
 *   the method itself is there.
 * - `afterInit`. A plain IoAdapter gives a namespaced gateway a namespace of an
 *   existing server, where no option of the gateway applies; Nest calls the
 *   gateway's `afterInit(server)` with it before the app listens, the one moment
 *   a refusing middleware can still go in front of every client.
 */

type Handler = (this: unknown, ...args: unknown[]) => unknown;
type ParamsMetadata = Record<string, { index: number }>;

const gates = new WeakSet<Function>();

/**
 * Puts a gate in front of every `@SubscribeMessage` method of a guarded
 * gateway: once the library closed a client (expiry, revocation, a failed
 * `auth:refresh`), no handler of that client starts, not even for a message
 * that was already waiting behind an async guard, interceptor or pipe. Nest
 * runs those before the method and keeps no hook in between, so the gate is
 * the method itself: a wrapper with the method's metadata that reads the
 * client from its `@ConnectedSocket()` argument, the one Nest passes by
 * default, or one it adds after the method's own parameters (and strips
 * again before the call).
 */
export function gateMessageHandlers(gateway: Function): void {
  const prototype = gateway.prototype as Record<string, unknown>;
  const seen = new Set<string>();
  for (let owner = prototype; owner && owner !== Object.prototype; owner = Object.getPrototypeOf(owner)) {
    for (const name of Object.getOwnPropertyNames(owner)) {
      if (name === 'constructor' || seen.has(name)) {
        continue;
      }
      seen.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(owner, name)!;
      const handler: unknown = descriptor.value;
      if (typeof handler !== 'function' || gates.has(handler) || Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler) === undefined) {
        continue;
      }
      Object.defineProperty(prototype, name, { ...descriptor, value: gate(gateway, name, handler as Handler) });
    }
  }
}

function gate(gateway: Function, name: string, handler: Handler): Handler {
  const params = Reflect.getMetadata(PARAM_ARGS_METADATA, gateway, name) as ParamsMetadata | undefined;
  const keys = Object.keys(params ?? {});
  // Without parameter decorators Nest calls handler(client, data, ...).
  let index = 0;
  let added = false;
  if (keys.length > 0) {
    const socketKey = keys.find((key) => key.split(':')[0] === SOCKET_PARAM);
    if (socketKey !== undefined) {
      index = params![socketKey]!.index;
    } else {
      index = Math.max(...keys.map((key) => params![key]!.index)) + 1;
      ConnectedSocket()(gateway.prototype as object, name, index);
      added = true;
    }
  }
  const gated: Handler = added
    ? function (this: unknown, ...args: unknown[]) {
        return isClosedByLibrary(args[index]) ? undefined : handler.apply(this, args.slice(0, index));
      }
    : function (this: unknown, ...args: unknown[]) {
        return isClosedByLibrary(args[index]) ? undefined : handler.apply(this, args);
      };
  for (const key of Reflect.getOwnMetadataKeys(handler)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, handler), gated);
  }
  Object.defineProperty(gated, 'name', { value: handler.name });
  gates.add(gated);
  return gated;
}

/** Servers and namespaces a WsAuth adapter guards. */
const served = new WeakSet<object>();

/** Called by the WsAuth adapters for the server or namespace they guard. */
export function markServed(server: object): void {
  served.add(server);
}

type IoRefusal = (request: unknown, refuse: (error: string | null | undefined, allowed: boolean) => void) => void;

/**
 * Fail closed on Socket.IO even without WsAuthModule: a namespace no WsAuth
 * adapter guards gets, in `afterInit`, a middleware that refuses everyone.
 */
export function refuseUnservedNamespaceAfterInit(target: Function, refuseEveryClient: IoRefusal): void {
  const prototype = target.prototype as { afterInit?: (server: unknown, ...rest: unknown[]) => unknown };
  const own = prototype.afterInit;
  Object.defineProperty(prototype, 'afterInit', {
    configurable: true,
    writable: true,
    value: function afterInit(this: unknown, server: unknown, ...rest: unknown[]): unknown {
      if (isSocketIoServer(server) && !served.has(server)) {
        server.use((_socket, next) =>
          refuseEveryClient(undefined, (message) => next(Object.assign(new Error(message ?? ''), { data: { status: 500, message } }))),
        );
      }
      return own?.call(this, server, ...rest);
    },
  });
}

type UsableServer = { use(middleware: (socket: unknown, next: (error?: Error) => void) => void): unknown };

function isSocketIoServer(server: unknown): server is UsableServer {
  const candidate = server as { use?: unknown; to?: unknown } | null;
  return typeof candidate?.use === 'function' && typeof candidate.to === 'function';
}
