import { randomBytes } from 'node:crypto';

/** Embedded defaults, so that `npm start` runs with nothing set. */
export const config = {
  port: Number(process.env.PORT ?? 3000),
  /** Generated at each start unless JWT_SECRET is set: tokens do not survive a restart. */
  jwtSecret: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  issuer: 'nest-ws-auth-example',
} as const;
