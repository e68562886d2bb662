import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import passport, { type Strategy } from 'passport';
import { type Credentials, readCredentials } from '../core/credentials.extractor.js';
import { HandshakeDeadlines } from '../core/handshake-deadlines.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { SessionStrategy } from '../strategies/session.strategy.js';
import {
  type Authenticate,
  AuthFailure,
  runPassportStrategy,
  type StrategyOutcome,
} from '../strategies/passport-strategy.runner.js';
import { HandshakeRejection, loggable, WsAuthConfigurationError } from '../ws-auth.exceptions.js';
import { HANDSHAKE, WS_AUTH_SETTINGS } from '../ws-auth.internal-constants.js';
import { type AcceptedHandshake, WsAuthConnections } from '../ws-auth-connections.service.js';
import type { WsAuthGatewayOptions } from '../ws-auth-module-options.interface.js';
import { assertOriginChecked, strategyList, type WsAuthSettings } from '../ws-auth-options.resolver.js';
import { holdsAnyRole } from '../ws-roles.guard.js';

/** One gateway's handshake rules, fixed at start-up. */
export interface GatewayPolicy {
  readonly gateway: string;
  readonly strategies: ReadonlyArray<readonly [name: string, authenticate: Authenticate]>;
  readonly optional: boolean;
  readonly roles?: readonly string[];
}

/** ws's asynchronous `verifyClient`. */
export type VerifyClient = (
  info: { req: IncomingMessage },
  done: (verified: boolean, status?: number, message?: string, headers?: Record<string, string>) => void,
) => void;

type CarriesHandshake = IncomingMessage & { [HANDSHAKE]?: AcceptedHandshake };

type Verdict = AcceptedHandshake | HandshakeRejection;

/** `passport._strategy(name)`: how passport itself looks strategies up; @types/passport leaves it out. */
const registeredStrategy = (name: string): Strategy | undefined =>
  (passport as unknown as { _strategy(name: string): Strategy | undefined })._strategy(name);

const ORIGIN_NOT_ALLOWED = new HandshakeRejection(403, 'Origin not allowed');
const INSUFFICIENT_ROLE = new HandshakeRejection(403, 'Insufficient role');
const AUTHENTICATION_FAILED = new HandshakeRejection(500, 'Authentication failed');
const TIMED_OUT = new HandshakeRejection(503, 'Authentication timed out');
const SHUTTING_DOWN = new HandshakeRejection(503, 'Server shutting down');
const ANONYMOUS: AcceptedHandshake = Object.freeze({ user: null });

const MISSING_STRATEGY_FIX = (name: string): string =>
  name === 'jwt'
    ? `configure the built-in one with WsAuthModule.forRoot({ jwt: { secret, algorithms } }), or provide a PassportStrategy(Strategy, 'jwt')`
    : name === 'session'
      ? `pass the app's express-session handler as WsAuthModule.forRoot({ session })`
      : `provide a class extending PassportStrategy(Strategy, '${name}') in a module of the app`;

/**
 * Decides, during the HTTP upgrade, who may open a connection to a
 * `@WsAuthGateway`: origin, credentials, strategies in order, roles and the
 * per-user limit, all within `handshakeTimeoutMs`. A refusal is an HTTP
 * response; an accepted client reaches the gateway with `client.user` set.
 */
@Injectable()
export class WsHandshakeGuard implements OnModuleDestroy {
  private readonly logger = new Logger('WsAuth');
  private readonly guarded = new Set<Function>();
  private readonly strategies = new Map<string, Authenticate>();
  private readonly deadlines: HandshakeDeadlines;
  private readonly unauthorizedAnswers = new Map<string, HandshakeRejection>();
  private readonly tooManyConnections: HandshakeRejection;

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings,
    private readonly connections: WsAuthConnections,
    @Inject(JwtStrategy) private readonly jwt: JwtStrategy | null,
    @Inject(SessionStrategy) private readonly session: SessionStrategy | null,
  ) {
    this.deadlines = new HandshakeDeadlines(settings.handshakeTimeoutMs);
    this.tooManyConnections = new HandshakeRejection(
      429,
      `Too many connections (at most ${settings.maxConnectionsPerUser} per user)`,
    );
  }

  /** Validates a gateway's `auth` options and strategy names; throws at start-up. */
  policyFor(gateway: Function, auth: WsAuthGatewayOptions): GatewayPolicy {
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
    this.guarded.add(gateway);
    return {
      gateway: gateway.name,
      strategies: names.map((name) => [name, this.strategy(name, gateway.name)] as const),
      optional: auth.optional === true,
      ...(auth.roles?.length && { roles: [...auth.roles] }),
    };
  }

  /** Whether `policyFor` ran for `gateway`, i.e. a WsAuthAdapter serves it. */
  isGuarded(gateway: Function): boolean {
    return this.guarded.has(gateway);
  }

  /** The ws `verifyClient` of one gateway. */
  verifyClient(policy: GatewayPolicy): VerifyClient {
    return ({ req: request }, done) => {
      const answer = (verdict: Verdict): void => {
        // A client gone mid-authentication gets no answer: its socket is already destroyed.
        if (request.socket.destroyed) {
          return;
        }
        if (verdict instanceof HandshakeRejection) {
          done(false, verdict.status, verdict.body, verdict.headers as Record<string, string>);
        } else {
          (request as CarriesHandshake)[HANDSHAKE] = verdict;
          done(true);
        }
      };
      let verdict: MaybePromise<Verdict>;
      try {
        verdict = this.authenticate(request, policy);
      } catch (error) {
        verdict = this.serverError(policy, 'failed', error, request);
      }
      if (!isPromiseLike(verdict)) {
        answer(verdict);
        return;
      }
      // Node cancels its request timers once a request asks to upgrade, so a stuck
      // strategy would hold the socket forever: this deadline is the only one.
      const pending = this.deadlines.start((why) => {
        if (why === 'timeout') {
          this.logger.warn(
            `${policy.gateway}: authentication took longer than handshakeTimeoutMs (${this.settings.handshakeTimeoutMs} ms); answered 503.`,
          );
        }
        answer(why === 'timeout' ? TIMED_OUT : SHUTTING_DOWN);
      });
      verdict.then(
        (settled) => this.deadlines.finish(pending) && answer(settled),
        (error: unknown) => this.deadlines.finish(pending) && answer(this.serverError(policy, 'failed', error, request)),
      );
    };
  }

  /** The handshake `verifyClient` accepted for this request, if any. */
  handshakeOf(request: IncomingMessage): AcceptedHandshake | undefined {
    return (request as CarriesHandshake)[HANDSHAKE];
  }

  /** The app is closing: handshakes still authenticating get their answer now (503), not never. */
  onModuleDestroy(): void {
    this.deadlines.interruptAll();
  }

  private authenticate(request: IncomingMessage, policy: GatewayPolicy): MaybePromise<Verdict> {
    const origin = request.headers.origin ?? request.headers['sec-websocket-origin'];
    if (this.settings.origins && !this.settings.origins.allows(origin as string | undefined)) {
      return ORIGIN_NOT_ALLOWED;
    }
    const credentials = readCredentials(request, this.settings.jwt?.cookie);
    return credentials.malformed ?? this.tryStrategies(request, policy, credentials, 0, []);
  }

  /** Strategies in order from `from`, synchronously as long as they answer synchronously. */
  private tryStrategies(
    request: IncomingMessage,
    policy: GatewayPolicy,
    credentials: Credentials,
    from: number,
    failures: unknown[],
  ): MaybePromise<Verdict> {
    for (let index = from; index < policy.strategies.length; index += 1) {
      const [name, authenticate] = policy.strategies[index]!;
      const outcome = authenticate(request);
      if (isPromiseLike(outcome)) {
        return Promise.resolve(outcome).then(
          (settled) =>
            this.verdictOf(request, policy, name, settled, failures) ??
            this.tryStrategies(request, policy, credentials, index + 1, failures),
        );
      }
      const verdict = this.verdictOf(request, policy, name, outcome, failures);
      if (verdict) {
        return verdict;
      }
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
    request: IncomingMessage,
    policy: GatewayPolicy,
    name: string,
    outcome: StrategyOutcome,
    failures: unknown[],
  ): Verdict | undefined {
    switch (outcome.kind) {
      case 'success':
        return this.admit(request, policy, outcome.user, outcome.info);
      case 'error':
        return this.serverError(policy, `strategy "${name}" failed`, outcome.error, request);
      default:
        failures.push(outcome.challenge);
        return undefined;
    }
  }

  private admit(request: IncomingMessage, policy: GatewayPolicy, user: unknown, info: unknown): Verdict {
    let userId: string;
    try {
      if (policy.roles && !holdsAnyRole(this.settings.rolesOf(user), policy.roles)) {
        return INSUFFICIENT_ROLE;
      }
      userId = this.settings.userId(user);
    } catch (error) {
      return this.serverError(policy, 'userId/rolesOf failed', error, request);
    }
    const release = this.connections.reserve(userId, request.socket);
    if (!release) {
      return this.tooManyConnections;
    }
    const exp = (info as { exp?: unknown } | undefined)?.exp;
    return { user, userId, release, expiresAt: typeof exp === 'number' ? exp : undefined };
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

  private strategy(name: string, gateway: string): Authenticate {
    let authenticate = this.strategies.get(name);
    if (!authenticate) {
      authenticate = this.builtIn(name) ?? this.registered(name, gateway);
      this.strategies.set(name, authenticate);
    }
    return authenticate;
  }

  /** `'jwt'` and `'session'` when their options configure them; otherwise the name is the app's. */
  private builtIn(name: string): Authenticate | undefined {
    return name === 'jwt' ? this.jwt?.authenticate : name === 'session' ? this.session?.authenticate : undefined;
  }

  private registered(name: string, gateway: string): Authenticate {
    // passport's own 'session' strategy only restores a user for the next middleware: it never decides.
    const strategy = name === 'session' ? undefined : registeredStrategy(name);
    if (!strategy) {
      throw new WsAuthConfigurationError(`${gateway} uses strategy '${name}', which is not registered: ${MISSING_STRATEGY_FIX(name)}.`);
    }
    return (request) => runPassportStrategy(strategy, request);
  }

  /** Logs a server-side failure without any credential in it, and answers 500. */
  private serverError(policy: GatewayPolicy, what: string, error: unknown, request: IncomingMessage): HandshakeRejection {
    const { token } = readCredentials(request, this.settings.jwt?.cookie);
    this.logger.error(`${policy.gateway}: ${what}; answered 500. ${loggable(error, token)}`);
    return AUTHENTICATION_FAILED;
  }
}
