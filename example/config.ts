import { randomBytes } from 'node:crypto';

const port = Number(process.env.PORT ?? 3000);

/** Embedded defaults, so that `npm start` runs with nothing set. */
export const config = {
  port,
  /** Generated at each start unless set: tokens and sessions do not survive a restart. */
  jwtSecret: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  sessionSecret: process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
  issuer: 'nest-ws-auth-example',
  /** Browser tokens live this long (seconds); the page refreshes them in-band before they expire. */
  tokenSeconds: Number(process.env.TOKEN_SECONDS ?? 120),
  /** Pages may open the chat from these origins only: a cookie authenticates (CSWSH). */
  allowedOrigins: process.env.ALLOWED_ORIGINS?.split(',') ?? [`http://localhost:${port}`, `http://127.0.0.1:${port}`],
} as const;
