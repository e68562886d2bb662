import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { config } from './config.js';
import type { User } from './users.service.js';

@Injectable()
export class TokensService {
  /** A signed access token for `user`, valid `seconds`. */
  issue(user: User, seconds: number): string {
    return jwt.sign({ name: user.name }, config.jwtSecret, {
      algorithm: 'HS256',
      subject: user.id,
      issuer: config.issuer,
      audience: config.issuer,
      expiresIn: seconds,
    });
  }
}
