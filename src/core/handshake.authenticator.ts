import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import { type Credentials, readCredentials } from './credentials.extractor.js';
import { clientAddress, FailedHandshakesLimiter } from './failed-handshakes.limiter.js';
import { LogThrottle } from './log-throttle.js';
import { HandshakeDeadlines } from './handshake-deadlines.js';
import { isPromiseLike, type MaybePromise, settle } from './maybe-promise.js';
import { AuthFailure, type StrategyOutcome, type StrategyRegistry } from './strategy.contract.js';
import { HandshakeRejection, loggable, ServiceUnavailableError, WsAuthConfigurationError } from './ws-auth.exceptions.js';
import { AUTH_OBSERVER, CONNECTION_REGISTRY, HANDSHAKE_GUARDS, STRATEGY_REGISTRY, WS_AUTH_SETTINGS } from './core.constants.js';
import type { AuthObserver, WsAuthTransportName } from './core.interfaces.js';
import type { ConnectionRegistry } from './connection.registry.js';
import type {
  AcceptedHandshake,
  GatewayPolicy,
  GuardVerdict,
  HandshakeGuardsPort,
  HandshakeRequest,
  HandshakeStart,
  Reservation,
  Verdict,
} from './handshake.interfaces.js';
import type { IssuedCredential } from './revocation.list.js';
import { RevocationService } from './revocation.service.js';
import { performance } from 'node:perf_hooks';
import { assertOriginChecked, type CoreSettings, type GatewayAuthRules, strategyList } from './core.settings.js';
import { holdsAnyRole } from './roles.js';

type Outcome = MaybePromise<Verdict>;
/** A handshake being judged: when it started counts against disconnects that happen meanwhile. */
type Judged = HandshakeRequest & { readonly startedAt: HandshakeStart };

const ORIGIN_NOT_ALLOWED = new HandshakeRejection(403, 'Origin not allowed');
const INSUFFICIENT_ROLE = new HandshakeRejection(403, 'Insufficient role');
const AUTHENTICATION_FAILED = new HandshakeRejection(500, 'Authentication failed');
const TIMED_OUT = new HandshakeRejection(503, 'Authentication timed out');
const SHUTTING_DOWN = new HandshakeRejection(503, 'Server shutting down');
const TOKEN_REVOKED = new HandshakeRejection(401, 'Token revoked', {
  'WWW-Authenticate': 'Bearer error="invalid_token", error_description="Token revoked"',
});
const DISCONNECTED = new HandshakeRejection(403, 'Disconnected while authenticating');
const ANONYMOUS: AcceptedHandshake = Object.freeze({ user: null });

/** What `failedHandshakes` counts: refusals of credentials (401) and of access (403). */
const isFailure = (verdict: Verdict): boolean =>
  verdict instanceof HandshakeRejection && (verdict.status === 401 || verdict.status === 403);

/**
 * Decides who may open a connection to a guarded gateway, for any transport:
 * origin, credentials, strategies in order, roles and the per-user limit, all
 * within `handshakeTimeoutMs`. Its verdict is an accepted handshake or a
 * `HandshakeRejection` (an HTTP status); each transport words it in its own way.
 */
@Injectable()
export class HandshakeAuthenticator implements OnModuleDestroy {
  private readonly logger = new Logger('WsAuth');
  private readonly served = new Set<Function>();
  private readonly deadlines: HandshakeDeadlines;
  private readonly unauthorizedAnswers = new Map<string, HandshakeRejection>();
  /** The refusals app strategies' HttpExceptions asked for, built once each. */
  private readonly appRefusals = new Map<string, HandshakeRejection>();
  private readonly tooManyConnections: HandshakeRejection;
  /** 429s of the failed-handshake limit, by Retry-After seconds. */
  private readonly tooManyFailures = new Map<number, HandshakeRejection>();
  private readonly unavailable = new Map<string, HandshakeRejection>();
  /** Warnings that a flood would repeat (timeouts, a key set down): a few lines a minute per gateway. */
  private readonly warnings = new LogThrottle((line) => this.logger.warn(line));

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: CoreSettings,
    @Inject(CONNECTION_REGISTRY) private readonly registry: ConnectionRegistry,
    private readonly revocations: RevocationService,
    @Inject(STRATEGY_REGISTRY) private readonly strategies: StrategyRegistry,
    @Inject(FailedHandshakesLimiter) private readonly limiter: FailedHandshakesLimiter | null,
    @Optional() @Inject(AUTH_OBSERVER) private readonly observer: AuthObserver | null = null,
    @Optional() @Inject(HANDSHAKE_GUARDS) private readonly guards: HandshakeGuardsPort | null = null,
  ) {
    this.deadlines = new HandshakeDeadlines(settings.handshakeTimeoutMs);
    this.tooManyConnections = new HandshakeRejection(
      429,
      `Too many connections (at most ${settings.maxConnectionsPerUser} per user)`,
    );
  }

  /**
   * Validates a gateway's `auth` options and strategy names (throws at start-up),
   * and notes that a WsAuth adapter serves the gateway.
   */
  policyFor(gateway: Function, auth: GatewayAuthRules): GatewayPolicy {
    const where = `${gateway.name} auth`;
    const names = auth.strategies === undefined ? this.settings.strategies : strategyList(auth.strategies, `${where}.strategies`);
    if (auth.roles !== undefined && (!Array.isArray(auth.roles) || !auth.roles.every((role) => typeof role === 'string'))) {
      throw new WsAuthConfigurationError(`${where}.roles must be an array of role names.`);
    }
    if (auth.optional && auth.roles?.length) {
      throw new WsAuthConfigurationError(
        `${where} is optional and requires roles, which anonymous clients never hold. Drop one of the two.`,
      );
    }
    if (names.includes('session')) {
      assertOriginChecked(this.settings, `${gateway.name} (strategy 'session')`);
    }
    const guards = this.guards?.forGateway(gateway, auth.guards);
    if (names.length === 0 && !guards && !auth.optional) {
      throw new WsAuthConfigurationError(
        `${gateway.name} has no strategy and no guard, so nobody can be authenticated: list strategies, or guards that set request.user (auth.guards, or WsAuthModule.forRoot({ guards })).`,
      );
    }
    this.served.add(gateway);
    return {
      gateway: gateway.name,
      strategies: names.map((name) => [name, this.strategies.strategy(name, gateway.name)] as const),
      optional: auth.optional === true,
      ...(auth.roles?.length && { roles: [...auth.roles] }),
      ...(guards && { guards }),
    };
  }

  /**
   * The 429 of `failedHandshakes` if the client's address is locked out now, and
   * nothing else read: a transport that can answer before its server parses the
   * handshake (ws, before the upgrade reaches ws) asks this first, so a flood
   * from a locked address costs as little as the platform allows. `undefined`
   * otherwise (and without the option): `authenticate` then judges as usual.
   */
  lockedOut(
    request: IncomingMessage,
    remoteAddress: string | undefined,
    policy: GatewayPolicy,
    transport: WsAuthTransportName,
  ): HandshakeRejection | undefined {
    if (!this.limiter) {
      return undefined;
    }
    const retryAfter = this.limiter.retryAfter(clientAddress(request, remoteAddress, this.settings.trustedProxies));
    if (retryAfter === undefined) {
      return undefined;
    }
    const refusal = this.tooManyFailuresFor(retryAfter);
    this.observer?.judged(policy.gateway, refusal, 0, request, remoteAddress, transport);
    return refusal;
  }

  /** Whether `policyFor` ran for `gateway`, i.e. a WsAuth adapter serves it. */
  isServed(gateway: Function): boolean {
    return this.served.has(gateway);
  }

  /**
   * The verdict on one handshake: at once when no strategy needs I/O, otherwise
   * a promise that settles by the deadline. Node cancels its request timers once
   * a request asks to upgrade, so a stuck strategy would hold the socket forever:
   * this deadline is the only one.
   */
  authenticate(handshake: HandshakeRequest, policy: GatewayPolicy): Outcome {
    if (!this.observer) {
      return this.authenticateLimited(handshake, policy);
    }
    const observer = this.observer;
    const started = performance.now();
    return settle(this.authenticateLimited(handshake, policy), (verdict) => {
      observer.judged(
        policy.gateway,
        verdict,
        (performance.now() - started) / 1000,
        handshake.request,
        handshake.remoteAddress,
        handshake.transport,
      );
      return verdict;
    });
  }

  private authenticateLimited(handshake: HandshakeRequest, policy: GatewayPolicy): Outcome {
    if (!this.limiter) {
      return this.authenticateOnce(handshake, policy);
    }
    // Before any strategy runs: an address over the limit costs nothing more.
    const address = clientAddress(handshake.request, handshake.remoteAddress, this.settings.trustedProxies);
    const retryAfter = this.limiter.retryAfter(address);
    if (retryAfter !== undefined) {
      return this.tooManyFailuresFor(retryAfter);
    }
    const limiter = this.limiter;
    let judged = false;
    const verdict = this.authenticateOnce(handshake, policy, (strategiesVerdict) => {
      // Judged asynchronously: until the strategies' own verdict (not the deadline's 503, which may come first),
      // this handshake counts against the address, so concurrent guesses cannot all run before one fails.
      judged = true;
      limiter.begin(address);
      strategiesVerdict.then(
        (settled) => limiter.settled(address, isFailure(settled)),
        () => limiter.settled(address, false),
      );
    });
    if (!judged && !isPromiseLike(verdict) && isFailure(verdict)) {
      limiter.recordFailure(address);
    }
    return verdict;
  }

  /** `pending`, if given, is handed the strategies' verdict when it is asynchronous, before any deadline races it. */
  private authenticateOnce(
    handshake: HandshakeRequest,
    policy: GatewayPolicy,
    pending?: (verdict: PromiseLike<Verdict>) => void,
  ): Outcome {
    let credentials: Credentials | undefined;
    let verdict: Outcome;
    try {
      credentials = this.credentialsOf(handshake);
      verdict = this.judge({ ...handshake, startedAt: performance.now() }, policy, credentials);
    } catch (error) {
      return this.serverError(policy, 'failed', error, handshake, credentials);
    }
    if (!isPromiseLike(verdict)) {
      return verdict;
    }
    pending?.(verdict);
    return new Promise<Verdict>((resolve) => {
      const pending = this.deadlines.start((why) => {
        if (why === 'timeout') {
          this.warnings.report(
            `${policy.gateway} timeout`,
            `${policy.gateway}: authentication took longer than handshakeTimeoutMs (${this.settings.handshakeTimeoutMs} ms); answered 503.`,
          );
        }
        resolve(why === 'timeout' ? TIMED_OUT : SHUTTING_DOWN);
      });
      verdict.then(
        (settled) => {
          if (this.deadlines.finish(pending)) {
            resolve(settled);
          } else if (!(settled instanceof HandshakeRejection)) {
            settled.reservation?.release(); // answered 503 already
          }
        },
        (error: unknown) =>
          this.deadlines.finish(pending) && resolve(this.serverError(policy, 'failed', error, handshake, credentials)),
      );
    });
  }

  /** The app is closing: handshakes still authenticating get their answer now (503), not never. */
  onModuleDestroy(): void {
    this.deadlines.interruptAll();
    this.warnings.stop();
  }

  private credentialsOf({ request, authToken }: HandshakeRequest): Credentials {
    return readCredentials(request, this.settings.jwt?.cookie, authToken);
  }

  private judge(handshake: Judged, policy: GatewayPolicy, credentials: Credentials): Outcome {
    const { headers } = handshake.request;
    const origin = headers.origin ?? headers['sec-websocket-origin'];
    if (this.settings.origins && !this.settings.origins.allows(origin as string | undefined)) {
      return ORIGIN_NOT_ALLOWED;
    }
    return credentials.malformed ?? this.tryStrategies(handshake, policy, credentials, 0, []);
  }

  /** Strategies in order from `from`, synchronously as long as they answer synchronously. */
  private tryStrategies(
    handshake: Judged,
    policy: GatewayPolicy,
    credentials: Credentials,
    from: number,
    failures: unknown[],
  ): Outcome {
    for (let index = from; index < policy.strategies.length; index += 1) {
      const [name, authenticate] = policy.strategies[index]!;
      const outcome = authenticate(handshake.request, credentials);
      if (isPromiseLike(outcome)) {
        return Promise.resolve(outcome).then(
          (settled) =>
            this.verdictOf(handshake, policy, name, settled, failures, credentials) ??
            this.tryStrategies(handshake, policy, credentials, index + 1, failures),
        );
      }
      const verdict = this.verdictOf(handshake, policy, name, outcome, failures, credentials);
      if (verdict) {
        return verdict;
      }
    }
    if (policy.strategies.length === 0) {
      return this.admit(handshake, policy, undefined, undefined, credentials); // guards alone decide
    }
    const presented =
      credentials.presented || failures.some((failure) => failure instanceof AuthFailure && failure.presented);
    if (policy.optional && !presented) {
      return ANONYMOUS;
    }
    return this.unauthorized(presented, credentials.token !== undefined, failures);
  }

  /** The verdict a strategy's outcome settles, or undefined (after noting the failure) to try the next. */
  private verdictOf(
    handshake: Judged,
    policy: GatewayPolicy,
    name: string,
    outcome: StrategyOutcome,
    failures: unknown[],
    credentials: Credentials,
  ): Outcome | undefined {
    switch (outcome.kind) {
      case 'success':
        return this.admit(handshake, policy, outcome.user, outcome.info, credentials);
      case 'error':
        if (outcome.error instanceof ServiceUnavailableError) {
          return this.serviceUnavailable(policy, name, outcome.error, handshake, credentials);
        }
        return this.refusalOf(outcome.error) ?? this.serverError(policy, `strategy "${name}" failed`, outcome.error, handshake, credentials);
      default:
        failures.push(outcome.challenge);
        return undefined;
    }
  }

  /** The app's guards, if the gateway has any, then the user's admission. */
  private admit(
    handshake: Judged,
    policy: GatewayPolicy,
    user: unknown,
    info: unknown,
    credentials: Credentials,
  ): Outcome {
    if (policy.guards === undefined) {
      return this.admitUser(handshake, policy, user, info, credentials);
    }
    const afterGuards = (verdict: GuardVerdict): Outcome =>
      verdict instanceof HandshakeRejection ? verdict : this.admitUser(handshake, policy, verdict.user, info, credentials);
    const failed = (error: unknown): Verdict => this.serverError(policy, 'a handshake guard failed', error, handshake, credentials);
    let verdict;
    try {
      verdict = policy.guards(handshake.request, handshake.remoteAddress, user, handshake.transport === 'socket.io');
    } catch (error) {
      return failed(error);
    }
    return isPromiseLike(verdict) ? Promise.resolve(verdict).then(afterGuards, failed) : afterGuards(verdict);
  }

  /** Roles, the user id, revocations and the per-user limit, for the user the strategies (and guards) settled on. */
  private admitUser(
    handshake: Judged,
    policy: GatewayPolicy,
    user: unknown,
    info: unknown,
    credentials: Credentials,
  ): Outcome {
    if (user === null || user === undefined) {
      // Only guards can get here without a user (no strategy, or guards that took it away).
      return policy.optional ? ANONYMOUS : this.unauthorized(credentials.presented, credentials.token !== undefined, []);
    }
    let userId: string;
    try {
      if (policy.roles && !holdsAnyRole(this.settings.rolesOf(user), policy.roles)) {
        return INSUFFICIENT_ROLE;
      }
      userId = this.settings.userId(user);
    } catch (error) {
      return this.serverError(policy, 'userId/rolesOf failed', error, handshake, credentials);
    }
    const { exp, iat, jti } = (info ?? {}) as { exp?: unknown; iat?: unknown; jti?: unknown };
    const credential: IssuedCredential = {
      ...(typeof iat === 'number' && { iat }),
      ...(typeof jti === 'string' && { jti }),
    };
    if (this.revocations.refusal(userId, credential)) {
      return TOKEN_REVOKED;
    }
    if (this.registry.disconnectedSince(userId, handshake.startedAt)) {
      return DISCONNECTED;
    }
    const accepted = (reservation: Reservation | undefined): Verdict =>
      reservation
        ? { user, userId, policy, reservation, credential, startedAt: handshake.startedAt, expiresAt: typeof exp === 'number' ? exp : undefined }
        : this.tooManyConnections;
    const reservation = this.registry.reserve(userId, handshake.link);
    return isPromiseLike(reservation) ? Promise.resolve(reservation).then(accepted) : accepted(reservation);
  }
  /** 401, with the challenge RFC 6750 asks for; the few distinct answers are built once. */
  private unauthorized(presented: boolean, sentToken: boolean, failures: unknown[]): HandshakeRejection {
    const reason =
      failures.find((failure): failure is AuthFailure => failure instanceof AuthFailure && failure.presented)?.message ??
      (presented ? 'Invalid credentials' : 'Authentication required');
    // Strategies of the app may name their own schemes (passport's string challenges).
    const challenges = failures.filter((failure): failure is string => typeof failure === 'string');
    const bearer = sentToken ? `Bearer error="invalid_token", error_description="${reason}"` : 'Bearer';
    const challenge = [bearer, ...challenges].join(', ');
    const key = `${reason}\n${challenge}`;
    let rejection = this.unauthorizedAnswers.get(key);
    if (!rejection) {
      rejection = new HandshakeRejection(401, reason, { 'WWW-Authenticate': challenge });
      if (this.unauthorizedAnswers.size < 64) {
        this.unauthorizedAnswers.set(key, rejection);
      }
    }
    return rejection;
  }

  /** Logs a server-side failure without any credential in it, and answers 500. */
  private serverError(
    policy: GatewayPolicy,
    what: string,
    error: unknown,
    handshake: HandshakeRequest,
    credentials: Credentials | undefined,
  ): HandshakeRejection {
    // One line per failed handshake, without the stack: a failing database must not write a trace per client.
    const line = error instanceof Error ? `${error.name}: ${error.message}` : error;
    this.logger.error(`${policy.gateway}: ${what}; answered 500. ${loggable(line, credentials?.token, handshake.request)}`);
    return AUTHENTICATION_FAILED;
  }

  /**
   * An app strategy that throws Nest's `UnauthorizedException`, `ForbiddenException`
   * or a 429 (the idiom of the NestJS docs for `validate()`) refuses the handshake
   * with that status and message, as it would an HTTP request.
   */
  private refusalOf(error: unknown): HandshakeRejection | undefined {
    const status = typeof (error as { getStatus?: unknown })?.getStatus === 'function' ? (error as { getStatus(): unknown }).getStatus() : undefined;
    if (status !== 401 && status !== 403 && status !== 429) {
      return undefined;
    }
    const message = (error as Error).message || STATUS_CODES[status]!;
    const key = `${status} ${message}`;
    let rejection = this.appRefusals.get(key);
    if (!rejection) {
      rejection = new HandshakeRejection(status, message, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
      if (this.appRefusals.size < 64) this.appRefusals.set(key, rejection);
    }
    return rejection;
  }

  /** A service the strategy needs is down (the issuer's key set): 503, logged a few times a minute at most. */
  private serviceUnavailable(
    policy: GatewayPolicy,
    name: string,
    error: ServiceUnavailableError,
    handshake: HandshakeRequest,
    credentials: Credentials,
  ): HandshakeRejection {
    this.warnings.report(
      `${policy.gateway} ${name} unavailable`,
      `${policy.gateway}: strategy "${name}": ${error.message}; answered 503. ${loggable(error.cause, credentials.token, handshake.request)}`,
    );
    let rejection = this.unavailable.get(error.message);
    if (!rejection) {
      rejection = new HandshakeRejection(503, error.message);
      if (this.unavailable.size < 16) {
        this.unavailable.set(error.message, rejection);
      }
    }
    return rejection;
  }

  /** 429 of the failed-handshake limit; one answer per Retry-After value. */
  private tooManyFailuresFor(retryAfter: number): HandshakeRejection {
    let rejection = this.tooManyFailures.get(retryAfter);
    if (!rejection) {
      rejection = new HandshakeRejection(429, 'Too many failed handshakes', {}, retryAfter);
      this.tooManyFailures.set(retryAfter, rejection);
    }
    return rejection;
  }
}
