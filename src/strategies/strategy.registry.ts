import passport, { type Strategy } from 'passport';
import type { Authenticate, StrategyRegistry, TokenVerifier } from '../core/strategy.contract.js';
import { WsAuthConfigurationError } from '../core/ws-auth.exceptions.js';
import type { JwtStrategy } from './jwt.strategy.js';
import { runPassportStrategy } from './passport-strategy.runner.js';
import type { SessionStrategy } from './session.strategy.js';

/** `passport._strategy(name)`: how passport itself looks strategies up; @types/passport leaves it out. */
const registeredStrategy = (name: string): Strategy | undefined =>
  (passport as unknown as { _strategy(name: string): Strategy | undefined })._strategy(name);

const MISSING_STRATEGY_FIX = (name: string): string =>
  name === 'jwt'
    ? `configure the built-in one with WsAuthModule.forRoot({ jwt: { secret, algorithms } }), or provide a PassportStrategy(Strategy, 'jwt')`
    : name === 'session'
      ? `pass the app's express-session handler as WsAuthModule.forRoot({ session })`
      : `provide a class extending PassportStrategy(Strategy, '${name}') in a module of the app`;

/**
 * The strategies gateways name, as the core runs them: the built-in `jwt` and
 * `session` when their options configure them, otherwise the passport strategy
 * the app registered under that name (a `PassportStrategy` class of
 * `@nestjs/passport`), run on the upgrade request. Looked up once per gateway,
 * at start-up.
 */
export class PassportStrategyRegistry implements StrategyRegistry {
  private readonly strategies = new Map<string, Authenticate>();

  constructor(
    private readonly jwt: JwtStrategy | null,
    private readonly session: SessionStrategy | null,
  ) {}

  get tokenVerifier(): TokenVerifier | null {
    return this.jwt;
  }

  strategy(name: string, gateway: string): Authenticate {
    let authenticate = this.strategies.get(name);
    if (!authenticate) {
      authenticate = this.builtIn(name) ?? this.registered(name, gateway);
      this.strategies.set(name, authenticate);
    }
    return authenticate;
  }

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
}
