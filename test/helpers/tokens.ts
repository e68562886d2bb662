import jwt, { type SignOptions } from 'jsonwebtoken';

/** 32 random-looking bytes: long enough for HS256. */
export const TEST_SECRET = 'test-secret-0123456789abcdef-0123456789';
export const TEST_ISSUER = 'nest-ws-auth-tests';

export const jwtOptions = {
  secret: TEST_SECRET,
  algorithms: ['HS256' as const],
  issuer: TEST_ISSUER,
  audience: TEST_ISSUER,
};

/** A token the test apps accept, unless the options say otherwise (`expiresIn: null`: no exp). */
export function sign(
  claims: Record<string, unknown> = { sub: 'alice' },
  { expiresIn = 60, ...options }: Omit<SignOptions, 'expiresIn'> & { expiresIn?: SignOptions['expiresIn'] | null } = {},
  secret = TEST_SECRET,
): string {
  return jwt.sign(claims, secret, {
    algorithm: 'HS256',
    issuer: TEST_ISSUER,
    audience: TEST_ISSUER,
    ...(expiresIn !== null && 'exp' in claims === false && { expiresIn }),
    ...options,
  });
}
