import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { WsAuthConfigurationError } from './ws-auth.exceptions.js';
import { WS_AUTH_SETTINGS } from './ws-auth.internal-constants.js';
import type { WsAuthSettings } from './ws-auth-options.resolver.js';

/** The transport a connection uses. */
export type WsAuthTransportName = 'ws' | 'socket.io' | 'graphql-ws';

/** `ws-auth.connected`: a client passed the handshake and its connection opened. */
export interface WsAuthConnectedEvent {
  readonly gateway: string;
  /** `null` for an anonymous client of an `optional` gateway. */
  readonly userId: string | null;
  readonly transport: WsAuthTransportName;
}

/** `ws-auth.refused`: a handshake was refused (once per handshake). */
export interface WsAuthRefusedEvent {
  readonly gateway: string;
  /** The HTTP status of the answer (Socket.IO: `err.data.status`). */
  readonly status: number;
  /** The answer's message, e.g. `Token expired`; never a credential. */
  readonly reason: string;
  /** The client's address, as `failedHandshakes` counts it (`trustProxy` applies; IPv6 by /64). */
  readonly address: string;
  readonly transport: WsAuthTransportName | undefined;
}

/** `ws-auth.expired`: a connection was closed at its token's `exp` (4401). */
export interface WsAuthExpiredEvent {
  readonly gateway: string;
  readonly userId: string;
  readonly transport: WsAuthTransportName;
}

/** `ws-auth.revoked`: a connection was closed by `disconnectUser`, `revokeUser` or `revokeToken`. */
export interface WsAuthRevokedEvent {
  readonly gateway: string;
  readonly userId: string;
  readonly transport: WsAuthTransportName;
  readonly code: number;
  readonly reason: string;
}

/** `ws-auth.refreshed`: an in-band `auth:refresh` was accepted; the connection now expires at `exp`. */
export interface WsAuthRefreshedEvent {
  readonly gateway: string;
  readonly userId: string;
  readonly transport: WsAuthTransportName;
  /** The new expiry, unix seconds. */
  readonly exp: number;
}

/** Every event and its payload. None carries a credential. */
export interface WsAuthEventMap {
  'ws-auth.connected': WsAuthConnectedEvent;
  'ws-auth.refused': WsAuthRefusedEvent;
  'ws-auth.expired': WsAuthExpiredEvent;
  'ws-auth.revoked': WsAuthRevokedEvent;
  'ws-auth.refreshed': WsAuthRefreshedEvent;
}

export type WsAuthEventName = keyof WsAuthEventMap;

export type WsAuthEventListener<Name extends WsAuthEventName> = (event: WsAuthEventMap[Name]) => void;

/** What the library uses of `@nestjs/event-emitter`'s `EventEmitter2`. */
interface EventEmitterLike {
  emit(event: string, payload: unknown): unknown;
  hasListeners(event: string): boolean;
  listenersAny(): unknown[];
}

/**
 * The library's auth events (`WsAuthModule.forRoot({ events: true })`): listen
 * with `on(name, listener)`, or with `@OnEvent('ws-auth.connected')` when the app
 * imports `EventEmitterModule` (the events then go through its `EventEmitter2`
 * too). An event is only built when somebody listens for it.
 */
@Injectable()
export class WsAuthEvents implements OnModuleInit {
  private readonly logger = new Logger('WsAuth');
  private readonly listeners = new Map<string, Set<(event: never) => void>>();
  private emitter: EventEmitterLike | undefined;

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Finds the app's `EventEmitter2` (`@nestjs/event-emitter`), if it has one. */
  async onModuleInit(): Promise<void> {
    if (!this.settings.events) {
      return;
    }
    let token: unknown;
    try {
      token = (await import('@nestjs/event-emitter')).EventEmitter2;
    } catch {
      return; // not installed: the listener API of this class only
    }
    try {
      this.emitter = this.moduleRef.get(token as Function, { strict: false }) as EventEmitterLike;
    } catch {
      // installed, but the app does not import EventEmitterModule
    }
  }

  /** Calls `listener` for every `name` event; returns what stops it. */
  on<Name extends WsAuthEventName>(name: Name, listener: WsAuthEventListener<Name>): () => void {
    if (!this.settings.events) {
      throw new WsAuthConfigurationError(`WsAuthEvents.on('${name}') needs events turned on: WsAuthModule.forRoot({ ..., events: true }).`);
    }
    let listeners = this.listeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(name, listeners);
    }
    listeners.add(listener as (event: never) => void);
    return () => this.off(name, listener);
  }

  off<Name extends WsAuthEventName>(name: Name, listener: WsAuthEventListener<Name>): void {
    const listeners = this.listeners.get(name);
    if (listeners?.delete(listener as (event: never) => void) && listeners.size === 0) {
      this.listeners.delete(name);
    }
  }

  /** @internal Whether an event `name` would reach anybody: only then is it built. */
  listening(name: WsAuthEventName): boolean {
    if (this.listeners.has(name)) {
      return true;
    }
    const emitter = this.emitter;
    return emitter !== undefined && (emitter.hasListeners(name) || emitter.listenersAny().length > 0);
  }

  /** @internal A listener that throws is logged; the connection it is about goes on. */
  emit<Name extends WsAuthEventName>(name: Name, event: WsAuthEventMap[Name]): void {
    const listeners = this.listeners.get(name);
    if (listeners) {
      for (const listener of listeners) {
        try {
          (listener as WsAuthEventListener<Name>)(event);
        } catch (error) {
          this.failed(name, error);
        }
      }
    }
    if (this.emitter) {
      try {
        this.emitter.emit(name, event);
      } catch (error) {
        this.failed(name, error);
      }
    }
  }

  private failed(name: string, error: unknown): void {
    this.logger.error(`a listener of ${name} threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
