import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { config } from './config.js';
import type { User } from './users.service.js';

export interface IssuedToken {
  token: string;
  exp: number;
}

@Injectable()
export class TokensService {
  /** A signed access token for `user`, valid `seconds`. */
  issue(user: User, seconds = config.tokenSeconds): IssuedToken {
    const exp = Math.floor(Date.now() / 1000) + seconds;
    const token = jwt.sign({ name: user.name, exp }, config.jwtSecret, {
      algorithm: 'HS256',
      subject: user.id,
      issuer: config.issuer,
      audience: config.issuer,
    });
    return { token, exp };
  }

  /** The user id of a valid token, for the HTTP refresh endpoint. */
  subjectOf(token: string): string | undefined {
    try {
      const claims = jwt.verify(token, config.jwtSecret, { algorithms: ['HS256'], issuer: config.issuer, audience: config.issuer });
      return typeof claims === 'object' ? claims.sub : undefined;
    } catch {
      return undefined;
    }
  }
}
