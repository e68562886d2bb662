import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import { matchesPartially } from './partial-match.js';
import { type ConnectionPlan, type RefreshAnswer, WsAuthTestClient } from './test-client.js';
import { WsAuthTestingError } from './ws-auth-testing.errors.js';

/**
 * What the kit uses of a graphql-ws `Client`, typed here: the declarations of
 * nest-ws-auth/testing then compile (`skipLibCheck: false`) in apps without graphql-ws.
 */
export interface GraphQLWsClientLike {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> | null },
    sink: { next(value: unknown): void; error(error: unknown): void; complete(): void },
  ): () => void;
  dispose(): void | Promise<void>;
}

/** What one operation received: a `next` result, an `error` (GraphQL errors, or the close that ended it), `complete`. */
export type GraphQLOperationEvent =
  | { readonly kind: 'next'; readonly result: { data?: unknown; errors?: readonly unknown[] } }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'complete' };

const describeValue = (value: unknown): string => inspect(value, { depth: 6, breakLength: Infinity });

/**
 * One GraphQL operation of a kit client (`client.subscribe(query)`), with
 * expectations that wait (at most `timeoutMs`, real time) and throw `AssertionError`s.
 */
export class GraphQLTestSubscription {
  private readonly inbox: GraphQLOperationEvent[] = [];
  private readonly waiters = new Set<(event: GraphQLOperationEvent) => boolean>();
  private readonly stop: () => void;

  /** @internal */
  constructor(
    client: GraphQLWsClientLike,
    readonly query: string,
    variables: Record<string, unknown> | undefined,
    private readonly timeoutMs: number,
  ) {
    const push = (event: GraphQLOperationEvent) => {
      for (const waiter of this.waiters) {
        if (waiter(event)) return;
      }
      this.inbox.push(event);
    };
    this.stop = client.subscribe(
      { query, ...(variables && { variables }) },
      {
        next: (result) => push({ kind: 'next', result: result as { data?: unknown; errors?: readonly unknown[] } }),
        error: (error) => push({ kind: 'error', error }),
        complete: () => push({ kind: 'complete' }),
      },
    );
  }

  /**
   * The next event is a result whose `data` has everything `expected` has (objects may hold more
   * keys); resolves with the data. A result with errors, an error or a complete fails it.
   */
  async expectNext(expected?: unknown): Promise<unknown> {
    const event = await this.next('expectNext');
    if (event.kind !== 'next' || event.result.errors !== undefined || (expected !== undefined && !matchesPartially(event.result.data, expected))) {
      throw this.failure('expectNext', `a result${expected === undefined ? '' : ` with data matching ${describeValue(expected)}`}`, event, expected);
    }
    return event.result.data;
  }

  /**
   * The next event is an error: GraphQL errors (a result with `errors`, or graphql-ws's `error`
   * message), or the close that ended the operation. With `message`, one of the errors has it.
   * Resolves with the errors (or the close: `{ code, reason }`).
   */
  async expectError(message?: string): Promise<unknown> {
    const event = await this.next('expectError');
    const errors = event.kind === 'next' ? event.result.errors : event.kind === 'error' ? event.error : undefined;
    const list = Array.isArray(errors) ? (errors as { message?: unknown }[]) : errors === undefined ? [] : [errors as { message?: unknown }];
    if (list.length === 0 || (message !== undefined && !list.some((error) => error?.message === message))) {
      throw this.failure('expectError', `an error${message === undefined ? '' : ` '${message}'`}`, event, message);
    }
    return isCloseEvent(errors) ? { code: errors.code, reason: errors.reason } : errors;
  }

  /** The next event is `complete`. */
  async expectComplete(): Promise<void> {
    const event = await this.next('expectComplete');
    if (event.kind !== 'complete') {
      throw this.failure('expectComplete', 'complete', event, 'complete');
    }
  }

  /** Waits `ms` (real time) and checks that nothing arrived that no `expect*` took. */
  async expectNothing(ms = 100): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.inbox.length > 0) {
      throw new AssertionError({ message: `${this.query}: expected nothing, got ${describeValue(this.inbox)}`, actual: [...this.inbox], expected: [], operator: 'expectNothing' });
    }
  }

  /** Stops the operation (graphql-ws `complete` from the client). */
  unsubscribe(): void {
    this.stop();
  }

  private next(operator: string): Promise<GraphQLOperationEvent> {
    const queued = this.inbox.shift();
    if (queued) {
      return Promise.resolve(queued);
    }
    return new Promise((resolve, reject) => {
      const waiter = (event: GraphQLOperationEvent) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(event);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new AssertionError({ message: `${this.query}: ${operator}: nothing arrived within ${this.timeoutMs} ms`, operator }));
      }, this.timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private failure(operator: string, wanted: string, event: GraphQLOperationEvent, expected: unknown): AssertionError {
    const got = isCloseEvent((event as { error?: unknown }).error)
      ? `the connection closed (${(event as { error: { code: number; reason: string } }).error.code} ${(event as { error: { reason: string } }).error.reason})`
      : describeValue(event);
    return new AssertionError({ message: `${this.query}: expected ${wanted}, got ${got}`, actual: event, expected, operator });
  }
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number' && 'reason' in value;
}

/**
 * A graphql-ws client of `@nestjs/graphql`'s subscription server, connected (and
 * acknowledged) by the kit. Operations: `subscribe(query)`; `request(query, variables)`
 * runs a query or mutation over the socket and resolves with its data.
 */
export class GraphQLWsTestClient<User = unknown> extends WsAuthTestClient<User> {
  private open = true;

  /** @internal */
  constructor(
    private readonly client: GraphQLWsClientLike,
    user: User,
    plan: ConnectionPlan,
    timeoutMs: number,
    /** Registers the listener of the client's close (graphql-ws `on.closed`). */
    onClosed: (listener: (closed: { code: number; reason: string }) => void) => void,
  ) {
    super(user, plan, timeoutMs, undefined);
    onClosed((closed) => {
      this.open = false;
      this.closedBy(closed);
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Starts a GraphQL operation (a subscription, usually) on the connection. */
  override subscribe(query: string, variables?: Record<string, unknown>): GraphQLTestSubscription {
    return new GraphQLTestSubscription(this.client, query, variables, this.timeoutMs);
  }

  /** Runs `query` (a query or mutation, `event` in the other transports' words) over the socket; resolves with its data. */
  async request(query: string, variables?: unknown): Promise<unknown> {
    const operation = this.subscribe(query, variables as Record<string, unknown> | undefined);
    const data = await operation.expectNext();
    return data;
  }

  send(): Promise<void> {
    throw new WsAuthTestingError(`graphql-ws clients have no events to send: use client.subscribe(query) or client.request(query).`);
  }

  async close(): Promise<void> {
    if (!this.open) {
      return;
    }
    const closed = this.expectClose(undefined, undefined).catch(() => undefined);
    await this.client.dispose();
    await closed;
  }

  protected sendRefresh(): Promise<RefreshAnswer> {
    throw new WsAuthTestingError(`graphql-ws connections have no in-band refresh: connect again with a fresh token (connectionParams).`);
  }
}
