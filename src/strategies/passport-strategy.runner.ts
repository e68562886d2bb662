import type { Strategy } from 'passport';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { StrategyOutcome } from '../core/strategy.contract.js';

/** The methods passport adds to the per-request copy of a strategy. */
interface StrategyAttempt {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(error: unknown): void;
  pass(): void;
  redirect(url: string, status?: number): void;
  authenticate(request: object, options?: object): void;
}

/**
 * Runs a passport strategy against the upgrade request the way
 * `passport.authenticate()` does (a fresh `Object.create(strategy)` per attempt),
 * but without a response object: a handshake has none until it is answered.
 * Strategies that decide synchronously (passport-jwt does) give their outcome
 * at once; the others, a promise of it.
 */
export function runPassportStrategy(strategy: Strategy, request: object): MaybePromise<StrategyOutcome> {
  let outcome: StrategyOutcome | undefined;
  let later: ((outcome: StrategyOutcome) => void) | undefined;
  const decide = (decided: StrategyOutcome) => {
    if (outcome === undefined) {
      outcome = decided;
      later?.(decided);
    }
  };
  const attempt: StrategyAttempt = Object.create(strategy);
  attempt.success = (user, info) => decide({ kind: 'success', user, info });
  attempt.fail = (challenge) => decide({ kind: 'fail', challenge });
  attempt.error = (error) => decide({ kind: 'error', error });
  attempt.pass = () => decide({ kind: 'fail' });
  attempt.redirect = () =>
    decide({
      kind: 'error',
      error: new Error(`strategy "${strategy.name}" redirects, which a WebSocket handshake cannot follow`),
    });
  try {
    attempt.authenticate(request, { session: false });
  } catch (error) {
    decide({ kind: 'error', error });
  }
  return outcome ?? new Promise((resolve) => (later = resolve));
}
