import session from 'express-session';
import { config } from './config.js';

/** One express-session handler: mounted on the app (main.ts) and given to WsAuthModule (app.module.ts). */
export const sessionMiddleware = session({
  secret: config.sessionSecret,
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax' },
});
