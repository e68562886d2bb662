import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import type { WebSocket } from 'ws';
import { WS_AUTH_CLOSED_EVENT, WS_AUTH_REFRESH_EVENT, WS_AUTH_REFRESHED_EVENT } from '../core/ws-auth.constants.js';
import type { GraphQLTestSubscription } from './graphql-test-client.js';
import { matchesPartially } from './partial-match.js';
import { WsAuthTestingError } from './ws-auth-testing.errors.js';

/** An event the client received: ws `{ event, data }` frames, Socket.IO events (first argument). */
export interface ReceivedEvent {
  readonly event: string;
  readonly data: unknown;
}

/** How the server closed the connection: the ws close code, or Socket.IO's `auth:closed` `{ code, reason }`. */
export interface ClosedWith {
  readonly code: number;
  readonly reason: string;
}

/** The answer to an in-band refresh, on either transport. */
export type RefreshAnswer =
  | { readonly ok: true; readonly exp: number }
  | { readonly ok: false; readonly message: string }
  | { readonly ok: false; readonly code: number; readonly reason: string };

/** What a client connected with; `expectRefused({ as: client })` sends the same again. */
export interface ConnectionPlan {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** ws subprotocols offered. */
  readonly protocols: readonly string[];
  /** graphql-ws `connection_init` payload. */
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  /** Socket.IO `auth` payload. */
  readonly auth?: Readonly<Record<string, unknown>>;
  /** The token the client presented, if any. */
  readonly token?: string;
}

interface Waiter {
  readonly accepts: (entry: ReceivedEvent) => boolean;
  readonly resolve: (entry: ReceivedEvent) => void;
}

const describeValue = (value: unknown): string => inspect(value, { depth: 6, breakLength: Infinity });

/**
 * One client of a gateway, connected by the kit. Its `expect*` methods wait (at
 * most `timeoutMs`, real time: they are about the network) and throw
 * `AssertionError`s, so they work in any test runner.
 */
export abstract class WsAuthTestClient<User = unknown> {
  private readonly inbox: ReceivedEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private closedWith: ClosedWith | undefined;
  private closeProblem: string | undefined;
  /** The close was checked by `expectClose`: later `expectNothing`s do not count it again. */
  private closeExpected = false;
  private readonly closeWaiters = new Set<() => void>();

  protected constructor(
    /** The user the client connected as (`connectAs`'s first argument). */
    readonly user: User,
    readonly plan: ConnectionPlan,
    protected readonly timeoutMs: number,
    private readonly renewToken: ((user: User) => Promise<string>) | undefined,
  ) {}

  /** The path (ws) or namespace (Socket.IO) it connected to. */
  get path(): string {
    return this.plan.path;
  }

  /** Whether the connection is open. */
  abstract get isOpen(): boolean;

  /** Sends `event` with `data` (ws: a `{ event, data }` frame; Socket.IO: `emit(event, data)`). */
  abstract send(event: string, data?: unknown): Promise<void>;

  /**
   * Sends `event` and resolves with the answer: ws, the data of the next `event`
   * frame; Socket.IO, the acknowledgement (a handler returning `{ event, data }`
   * sends an event instead: use `send` and `expectEvent`).
   */
  abstract request(event: string, data?: unknown): Promise<unknown>;

  /** Closes the connection from the client's side. */
  abstract close(): Promise<void>;

  /**
   * graphql-ws: starts a GraphQL operation (a subscription, usually) on the
   * connection, whose `expectNext`/`expectError`/`expectComplete` wait for its events.
   */
  subscribe(query: string, variables?: Record<string, unknown>): GraphQLTestSubscription;
  subscribe(): never {
    throw new WsAuthTestingError(`subscribe() runs GraphQL operations: start the kit with { transport: 'graphql-ws' }.`);
  }

  protected abstract sendRefresh(token: string): Promise<RefreshAnswer>;

  /**
   * Waits for an `event` whose data has everything `expected` has (objects may hold
   * more keys), consumes it and resolves with its data. Without `expected`, any
   * `event` does.
   */
  async expectEvent(event: string, expected?: unknown, { timeoutMs = this.timeoutMs }: { timeoutMs?: number } = {}): Promise<unknown> {
    const accepts = (entry: ReceivedEvent) =>
      entry.event === event && (expected === undefined || matchesPartially(entry.data, expected));
    const index = this.inbox.findIndex(accepts);
    if (index !== -1) {
      return this.inbox.splice(index, 1)[0]!.data;
    }
    const entry = await new Promise<ReceivedEvent | undefined>((resolve) => {
      const finish = (value: ReceivedEvent | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        this.closeWaiters.delete(onClose);
        resolve(value);
      };
      const waiter: Waiter = { accepts, resolve: finish };
      const onClose = () => finish(undefined);
      const timer = setTimeout(onClose, timeoutMs);
      this.waiters.add(waiter);
      if (this.closedWith || this.closeProblem) {
        finish(undefined);
      } else {
        this.closeWaiters.add(onClose);
      }
    });
    if (entry) {
      return entry.data;
    }
    const others = this.inbox.filter((other) => other.event === event).map((other) => describeValue(other.data));
    throw new AssertionError({
      message:
        `${this.who()}: expected a "${event}" event${expected === undefined ? '' : ` matching ${describeValue(expected)}`}` +
        (this.closedWith ? `, but the connection closed (${this.closedWith.code} ${this.closedWith.reason})` : ` within ${timeoutMs} ms`) +
        (others.length > 0 ? `; got "${event}" with ${others.join(', ')}` : this.inbox.length > 0 ? `; got ${this.inbox.map((other) => `"${other.event}"`).join(', ')}` : '; got none'),
      actual: others,
      expected,
      operator: 'expectEvent',
    });
  }

  /**
   * Waits until the server closes the connection, and checks the code (and the
   * reason, when given). On Socket.IO: the `auth:closed` event `{ code, reason }`,
   * then a server-side disconnect.
   */
  async expectClose(code?: number, reason?: string, { timeoutMs = this.timeoutMs }: { timeoutMs?: number } = {}): Promise<ClosedWith> {
    if (!this.closedWith && !this.closeProblem) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.closeWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.closeWaiters.add(done);
      });
    }
    if (this.closeProblem) {
      throw new AssertionError({ message: `${this.who()}: ${this.closeProblem}`, actual: this.closedWith, expected: { code, reason }, operator: 'expectClose' });
    }
    const closed = this.closedWith;
    if (!closed) {
      throw new AssertionError({ message: `${this.who()}: expected the server to close the connection${code === undefined ? '' : ` with ${code}`} within ${timeoutMs} ms; it is still open`, actual: undefined, expected: { code, reason }, operator: 'expectClose' });
    }
    if ((code !== undefined && closed.code !== code) || (reason !== undefined && closed.reason !== reason)) {
      throw new AssertionError({
        message: `${this.who()}: expected a close with ${code ?? 'any code'}${reason === undefined ? '' : ` '${reason}'`}, got ${closed.code} '${closed.reason}'`,
        actual: closed,
        expected: { ...(code !== undefined && { code }), ...(reason !== undefined && { reason }) },
        operator: 'expectClose',
      });
    }
    this.closeExpected = true;
    return closed;
  }

  /**
   * Waits `ms` (real time) and checks that no event arrived that no `expectEvent`
   * consumed, and that the connection did not close (a close `expectClose` already
   * checked is not news: `await c.expectClose(4401); await c.expectNothing(200);` passes).
   */
  async expectNothing(ms = 100): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.inbox.length > 0) {
      throw new AssertionError({
        message: `${this.who()}: expected nothing, got ${this.inbox.map((entry) => `"${entry.event}" ${describeValue(entry.data)}`).join(', ')}`,
        actual: [...this.inbox],
        expected: [],
        operator: 'expectNothing',
      });
    }
    if ((this.closedWith && !this.closeExpected) || this.closeProblem) {
      throw new AssertionError({
        message: `${this.who()}: expected nothing, but the connection closed${this.closedWith ? ` (${this.closedWith.code} ${this.closedWith.reason})` : ''}`,
        actual: this.closedWith,
        expected: undefined,
        operator: 'expectNothing',
      });
    }
  }

  /**
   * Swaps the connection's token in-band (`auth:refresh`): with `token`, or a new
   * token of the same user minted at the kit clock's time.
   */
  async refresh(token?: string): Promise<RefreshAnswer> {
    if (token === undefined) {
      if (!this.renewToken) {
        throw new AssertionError({ message: `${this.who()}: refresh() needs a token: the kit cannot mint one for this client`, operator: 'refresh' });
      }
      token = await this.renewToken(this.user);
    }
    return this.sendRefresh(token);
  }

  /** Events received and not consumed by an `expectEvent` yet. */
  get received(): readonly ReceivedEvent[] {
    return [...this.inbox];
  }

  protected deliver(entry: ReceivedEvent): void {
    for (const waiter of this.waiters) {
      if (waiter.accepts(entry)) {
        waiter.resolve(entry);
        return;
      }
    }
    this.inbox.push(entry);
  }

  /** Takes the first received event `accepts` matches, now or when it comes (undefined after `timeoutMs`). */
  protected take(accepts: (entry: ReceivedEvent) => boolean, timeoutMs: number): Promise<ReceivedEvent | undefined> {
    const index = this.inbox.findIndex(accepts);
    if (index !== -1) {
      return Promise.resolve(this.inbox.splice(index, 1)[0]);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        accepts,
        resolve: (entry) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(entry);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  protected closedBy(closed: ClosedWith | undefined, problem?: string): void {
    this.closedWith ??= closed;
    this.closeProblem ??= problem;
    for (const waiter of [...this.closeWaiters]) {
      waiter();
    }
  }

  protected get closeRecord(): ClosedWith | undefined {
    return this.closedWith;
  }

  protected who(): string {
    const { id, sub } = (this.user ?? {}) as { id?: unknown; sub?: unknown };
    return `${String(id ?? sub ?? 'client')} on ${this.plan.path}`;
  }
}

/** A `ws` client. */
export class WsTestClient<User = unknown> extends WsAuthTestClient<User> {
  constructor(
    private readonly socket: WebSocket,
    user: User,
    plan: ConnectionPlan,
    timeoutMs: number,
    renewToken: ((user: User) => Promise<string>) | undefined,
  ) {
    super(user, plan, timeoutMs, renewToken);
    socket.on('message', (raw: Buffer, binary: boolean) => {
      const text = raw.toString();
      let frame: { event?: unknown; data?: unknown } | undefined;
      try {
        frame = binary ? undefined : (JSON.parse(text) as typeof frame);
      } catch {
        frame = undefined;
      }
      this.deliver(
        typeof frame === 'object' && frame !== null && typeof frame.event === 'string'
          ? { event: frame.event, data: frame.data }
          : { event: 'message', data: text },
      );
    });
    socket.on('close', (code: number, reason: Buffer) => this.closedBy({ code, reason: reason.toString() }));
    socket.on('error', () => {}); // reported by the close that follows
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(event: string, data: unknown = {}): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(JSON.stringify({ event, data }), (error) => (error ? reject(error) : resolve())));
  }

  async request(event: string, data: unknown = {}): Promise<unknown> {
    const answer = this.take((entry) => entry.event === event, this.timeoutMs);
    await this.send(event, data);
    const entry = await answer;
    if (!entry) {
      throw new AssertionError({ message: `${this.who()}: no "${event}" answer within ${this.timeoutMs} ms`, operator: 'request' });
    }
    return entry.data;
  }

  close(): Promise<void> {
    if (this.socket.readyState === this.socket.CLOSED) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }

  /** Closes at once, without a close handshake. */
  terminate(): void {
    this.socket.terminate();
  }

  protected async sendRefresh(token: string): Promise<RefreshAnswer> {
    const answer = this.take(
      (entry) =>
        entry.event === WS_AUTH_REFRESHED_EVENT ||
        (entry.event === 'exception' && (entry.data as { cause?: { pattern?: unknown } } | null)?.cause?.pattern === WS_AUTH_REFRESH_EVENT),
      this.timeoutMs,
    );
    const closed = new Promise<ClosedWith | undefined>((resolve) => this.socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    await this.send(WS_AUTH_REFRESH_EVENT, { token });
    const first = await Promise.race([answer.then((entry) => ({ entry })), closed.then((close) => ({ close }))]);
    if ('close' in first) {
      return { ok: false, code: first.close!.code, reason: first.close!.reason };
    }
    if (!first.entry) {
      throw new AssertionError({ message: `${this.who()}: no answer to auth:refresh within ${this.timeoutMs} ms`, operator: 'refresh' });
    }
    const data = first.entry.data as { exp?: number; message?: string };
    return first.entry.event === WS_AUTH_REFRESHED_EVENT ? { ok: true, exp: data.exp! } : { ok: false, message: data.message! };
  }
}

/**
 * What the kit uses of a socket.io-client `Socket`, typed here: the declarations of nest-ws-auth/testing then
 * compile (`skipLibCheck: false`) in a ws app, which has no socket.io-client.
 */
interface IoClientSocket {
  readonly connected: boolean;
  readonly active: boolean;
  onAny(listener: (event: string, data: unknown) => void): unknown;
  on(event: 'disconnect', listener: (reason: string) => void): unknown;
  emit(event: string, data: unknown): unknown;
  timeout(ms: number): { emitWithAck(event: string, data: unknown): Promise<unknown> };
  close(): unknown;
}

/** A socket.io-client socket. */
export class IoTestClient<User = unknown> extends WsAuthTestClient<User> {
  private told: ClosedWith | undefined;

  constructor(
    private readonly socket: IoClientSocket,
    user: User,
    plan: ConnectionPlan,
    timeoutMs: number,
    renewToken: ((user: User) => Promise<string>) | undefined,
  ) {
    super(user, plan, timeoutMs, renewToken);
    socket.onAny((event: string, data: unknown) => {
      if (event === WS_AUTH_CLOSED_EVENT) {
        this.told = data as ClosedWith;
      } else {
        this.deliver({ event, data });
      }
    });
    socket.on('disconnect', (reason: string) => {
      if (reason === 'io client disconnect') {
        this.closedBy({ code: 1000, reason });
      } else if (!this.told) {
        this.closedBy(undefined, `disconnected ("${reason}") without an auth:closed event`);
      } else if (reason !== 'io server disconnect' || socket.active) {
        this.closedBy(this.told, `got auth:closed ${describeValue(this.told)}, then a disconnect by "${reason}" (active: ${socket.active}), not by the server`);
      } else {
        this.closedBy(this.told);
      }
    });
  }

  get isOpen(): boolean {
    return this.socket.connected;
  }

  async send(event: string, data: unknown = {}): Promise<void> {
    this.socket.emit(event, data);
  }

  request(event: string, data: unknown = {}): Promise<unknown> {
    return this.socket.timeout(this.timeoutMs).emitWithAck(event, data);
  }

  async close(): Promise<void> {
    this.socket.close();
  }

  protected sendRefresh(token: string): Promise<RefreshAnswer> {
    return this.socket.timeout(this.timeoutMs).emitWithAck(WS_AUTH_REFRESH_EVENT, { token }) as Promise<RefreshAnswer>;
  }
}
