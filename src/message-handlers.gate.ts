import { ConnectedSocket } from '@nestjs/websockets';
import { isClosedByLibrary } from './core/closed-clients.js';

/**
 * Metadata keys Nest reads, which its public entry points do not export:
 * `MESSAGE_MAPPING_METADATA` of @nestjs/websockets (set by `@SubscribeMessage`)
 * and `ROUTE_ARGS_METADATA` of @nestjs/common (parameter decorators). Both
 * have kept their values since Nest 5.
 */
const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
const PARAM_ARGS_METADATA = '__routeArguments__';
/** `WsParamtype.SOCKET`: the `@ConnectedSocket()` parameter. */
const SOCKET_PARAM = '0';

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
