import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { type CanActivate, Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { peerAddress } from '../core/failed-handshakes.limiter.js';
import type { GuardCheck, GuardVerdict, HandshakeGuardsPort } from '../core/handshake.interfaces.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { HandshakeRejection, WsAuthConfigurationError } from '../core/ws-auth.exceptions.js';
import { WS_AUTH_SETTINGS } from '../ws-auth.internal-constants.js';
import type { WsAuthGuard } from '../ws-auth-module-options.interface.js';
import { guardList, type WsAuthSettings } from '../ws-auth-options.resolver.js';
import { handshake, HandshakeExecutionContext, HandshakeResponse } from './handshake-execution-context.js';

const FORBIDDEN = new HandshakeRejection(403, 'Forbidden resource');
const STARTING = new HandshakeRejection(503, 'Server starting');

/** The upgrade request as HTTP-shaped guards read it: Express's `ip`/`ips`, and the strategies' `user`. */
type GuardedRequest = IncomingMessage & { user?: unknown; ip?: string; ips?: string[] };

/**
 * The app's guards at the handshake (`forRoot({ guards })`, then a gateway's
 * `auth.guards`). Gateways are set up by the adapters while Nest connects them,
 * synchronously; guard classes are built afterwards, when the module
 * initialises, through the gateway's own module (as `@UseGuards` builds them):
 * `Reflector` and the app's providers are injectable. Clients are only let in
 * once the app has initialised, so no handshake meets an unbuilt guard.
 */
@Injectable()
export class HandshakeGuards implements HandshakeGuardsPort, OnModuleInit {
  private readonly unbuilt: GuardChain[] = [];
  /** Instances per module, so that a guard class listed by several gateways of a module is built once. */
  private readonly built = new Map<ModuleRef, Map<Function, CanActivate>>();

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings,
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
  ) {}

  forGateway(gateway: Function, own: unknown): GuardCheck | undefined {
    const guards = [...this.settings.guards, ...(own === undefined ? [] : guardList(own, `${gateway.name} auth.guards`))];
    if (guards.length === 0) {
      return undefined;
    }
    const chain = new GuardChain(gateway as Type<unknown>, guards, this.settings.trustedProxies);
    this.unbuilt.push(chain);
    return chain.check;
  }

  async onModuleInit(): Promise<void> {
    for (const chain of this.unbuilt.splice(0)) {
      const moduleRef = this.moduleRefOf(chain.gateway);
      chain.use(await Promise.all(chain.guards.map((guard) => this.instanceOf(guard, chain.gateway, moduleRef))));
    }
  }

  private async instanceOf(guard: WsAuthGuard, gateway: Function, moduleRef: ModuleRef): Promise<CanActivate> {
    if (typeof guard !== 'function') {
      return guard;
    }
    let instances = this.built.get(moduleRef);
    if (!instances) {
      instances = new Map();
      this.built.set(moduleRef, instances);
    }
    let instance = instances.get(guard);
    if (!instance) {
      instance = await this.build(guard, gateway, moduleRef);
      instances.set(guard, instance);
    }
    return instance;
  }

  /** A provided guard as it is; otherwise a new one with its dependencies from the gateway's module. */
  private async build(guard: Type<CanActivate>, gateway: Function, moduleRef: ModuleRef): Promise<CanActivate> {
    try {
      return moduleRef.get(guard, { strict: false });
    } catch {
      // not a provider: built like @UseGuards(Guard) builds it
    }
    try {
      return await moduleRef.create(guard);
    } catch (error) {
      throw new WsAuthConfigurationError(
        `${gateway.name}: the handshake guard ${guard.name} cannot be built: ${(error as Error).message} ` +
          `Provide what it injects in ${gateway.name}'s module (or provide ${guard.name} itself: providers: [${guard.name}]).`,
      );
    }
  }

  private moduleRefOf(gateway: Function): ModuleRef {
    const wrapper = this.discovery.getProviders().find((candidate) => candidate.metatype === gateway);
    const own = wrapper?.host?.getProviderByKey<ModuleRef>(ModuleRef)?.instance;
    return own ?? this.moduleRef;
  }
}

/** One gateway's guards, in order, and the check the core runs with them. */
class GuardChain {
  private instances: readonly CanActivate[] | undefined;
  private readonly handler: Function;

  constructor(
    readonly gateway: Type<unknown>,
    readonly guards: readonly WsAuthGuard[],
    private readonly trustedProxies: number,
  ) {
    const handleConnection = (gateway.prototype as { handleConnection?: unknown }).handleConnection;
    this.handler = typeof handleConnection === 'function' ? handleConnection : handshake;
  }

  use(instances: readonly CanActivate[]): void {
    this.instances = instances;
  }

  readonly check: GuardCheck = (request, remoteAddress, user, shared) => {
    if (this.instances === undefined) {
      return STARTING;
    }
    // Socket.IO's namespaces of one connection share socket.request: there each handshake gets a view of its own,
    // so that one namespace's guards never see, or set, the user of another's. A ws upgrade request belongs to one
    // handshake: it is used as it is.
    const guarded: GuardedRequest = shared ? requestView(request) : request;
    guarded.user = user;
    guarded.ip = peerAddress(request, remoteAddress, this.trustedProxies);
    guarded.ips = [];
    const response = new HandshakeResponse();
    return this.runFrom(0, new HandshakeExecutionContext(guarded, response, this.gateway, this.handler), guarded, response);
  };

  /** The guards from `index` on, synchronously as long as they answer synchronously. */
  private runFrom(
    index: number,
    context: HandshakeExecutionContext,
    request: GuardedRequest,
    response: HandshakeResponse,
  ): MaybePromise<GuardVerdict> {
    const guards = this.instances!;
    for (let at = index; at < guards.length; at += 1) {
      const guard = guards[at]!;
      let allowed: MaybePromise<boolean> | ReturnType<CanActivate['canActivate']>;
      try {
        allowed = guard.canActivate(context);
      } catch (error) {
        return this.refusal(guard, error, response);
      }
      if (isObservable(allowed)) {
        allowed = lastValueFrom(allowed);
      }
      if (isPromiseLike(allowed)) {
        return Promise.resolve(allowed).then(
          (settled) => (settled ? this.runFrom(at + 1, context, request, response) : FORBIDDEN),
          (error: unknown) => this.refusal(guard, error, response),
        );
      }
      if (!allowed) {
        return FORBIDDEN;
      }
    }
    return { user: request.user };
  }

  /**
   * A guard's `HttpException` refuses with its status and message, and the headers the
   * guard set (`Retry-After` of a 429); anything else is the app's failure (500, logged).
   */
  private refusal(guard: CanActivate, error: unknown, response: HandshakeResponse): HandshakeRejection {
    const status = typeof (error as { getStatus?: unknown })?.getStatus === 'function' ? (error as { getStatus(): unknown }).getStatus() : undefined;
    if (typeof status !== 'number' || status < 400 || status > 599) {
      throw new GuardFailure(guard, error);
    }
    const retryAfter = Number(response.headers['Retry-After'] ?? response.headers['retry-after']);
    return new HandshakeRejection(
      status,
      (error as Error).message || STATUS_CODES[status] || 'Error',
      { ...(status === 401 && { 'WWW-Authenticate': 'Bearer' }), ...response.headers },
      Number.isFinite(retryAfter) ? retryAfter : undefined,
    );
  }
}

/**
 * A request of its own for one handshake's guards: what they read comes from `request` unless they set it
 * (`user`, `ip`, whatever passport adds), and what they set stays in the view. A Proxy, not
 * `Object.create(request)`: V8 slows down every later access to an object once it serves as a prototype
 * (measured: +45 µs per handshake).
 */
function requestView(request: IncomingMessage): GuardedRequest {
  const own: Record<PropertyKey, unknown> = {};
  return new Proxy(request, {
    get: (target, key) => (Object.hasOwn(own, key) ? own[key] : Reflect.get(target, key, target)),
    set: (_target, key, value) => {
      own[key] = value;
      return true;
    },
    has: (target, key) => Object.hasOwn(own, key) || Reflect.has(target, key),
  }) as GuardedRequest;
}

/** A guard threw something that is no HttpException: logged (one line, no stack) and answered 500. */
class GuardFailure extends Error {
  override readonly name = 'GuardFailure';

  constructor(guard: CanActivate, cause: unknown) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`handshake guard ${guard.constructor.name} threw ${what}`, { cause });
  }
}
