import type { IncomingMessage } from 'node:http';
import jwt from 'jsonwebtoken';
import { Strategy as PassportJwtStrategy } from 'passport-jwt';
import { readCredentials } from './credentials.extractor.js';
import type { JwtSettings } from './jwt-options.resolver.js';
import { type Authenticate, AuthFailure, runPassportStrategy } from './passport-strategy.runner.js';
import type { JwtClaims, ResolveUser } from './ws-auth-module-options.interface.js';

/** A token that passed every check, and the user it belongs to. */
export interface VerifiedToken {
  readonly user: unknown;
  readonly exp: number;
}

const NO_TOKEN = new AuthFailure('Authentication required', false);
const TOKEN_TOO_LARGE = new AuthFailure('Token too large');

/**
 * The built-in `jwt` strategy: passport-jwt with a `KeyObject`, pinned
 * algorithms and the claim rules jsonwebtoken leaves out (`exp` required,
 * object payloads only). In-band refreshes go through the same rules.
 */
export class JwtStrategy {
  private readonly passportStrategy: PassportJwtStrategy;

  constructor(
    private readonly settings: JwtSettings,
    private readonly resolveUser: ResolveUser | undefined,
  ) {
    const { algorithms, issuer, audience } = settings.verifyOptions;
    this.passportStrategy = new PassportJwtStrategy(
      {
        jwtFromRequest: (request: IncomingMessage) => readCredentials(request, settings.cookie).token ?? null,
        // jsonwebtoken 9 verifies with a KeyObject; passport-jwt's typings predate that.
        secretOrKey: settings.key as unknown as Buffer,
        algorithms,
        issuer,
        audience: audience as string | string[] | undefined,
        jsonWebTokenOptions: settings.verifyOptions,
        passReqToCallback: true,
      },
      (request: IncomingMessage, claims: unknown, done: (error: unknown, user?: unknown, info?: unknown) => void) => {
        this.accept(claims, request).then(
          (verdict) => (verdict instanceof AuthFailure ? done(null, false, verdict) : done(null, verdict.user, verdict)),
          (error: unknown) => done(error),
        );
      },
    );
  }

  /** Runs at the handshake, under the name `'jwt'`. */
  readonly authenticate: Authenticate = async (request) => {
    const { token } = readCredentials(request, this.settings.cookie);
    if (token === undefined) {
      return { kind: 'fail', challenge: NO_TOKEN };
    }
    if (Buffer.byteLength(token) > this.settings.maxTokenBytes) {
      return { kind: 'fail', challenge: TOKEN_TOO_LARGE };
    }
    const outcome = await runPassportStrategy(this.passportStrategy, request);
    return outcome.kind === 'fail' ? { kind: 'fail', challenge: failureOf(outcome.challenge) } : outcome;
  };

  /** Checks a token sent on an open connection (`auth:refresh`); rejects only if `resolveUser` throws. */
  async verify(token: string): Promise<VerifiedToken | AuthFailure> {
    if (Buffer.byteLength(token) > this.settings.maxTokenBytes) {
      return TOKEN_TOO_LARGE;
    }
    let claims: unknown;
    try {
      claims = jwt.verify(token, this.settings.key, this.settings.verifyOptions);
    } catch (error) {
      return failureOf(error);
    }
    return this.accept(claims, undefined);
  }

  private async accept(claims: unknown, request: IncomingMessage | undefined): Promise<VerifiedToken | AuthFailure> {
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      return new AuthFailure('Token payload is not a JSON object');
    }
    const { exp } = claims as Partial<JwtClaims>;
    if (typeof exp !== 'number') {
      return new AuthFailure('Token has no exp claim');
    }
    const user = this.resolveUser ? await this.resolveUser(claims as JwtClaims, request) : claims;
    return user === null || user === undefined ? new AuthFailure('Unknown user') : { user, exp };
  }
}

/** By name: passport-jwt may load its own copy of jsonwebtoken. */
function failureOf(challenge: unknown): AuthFailure {
  if (challenge instanceof AuthFailure) {
    return challenge;
  }
  switch ((challenge as Error | undefined)?.name) {
    case 'TokenExpiredError':
      return new AuthFailure('Token expired');
    case 'NotBeforeError':
      return new AuthFailure('Token not active yet');
    default:
      return new AuthFailure('Invalid token');
  }
}
