import { Injectable } from '@nestjs/common';
import { PassportSerializer } from '@nestjs/passport';
import { type User, UsersService } from './users.service.js';

/** What the session keeps (the id) and how to get the user back: used by HTTP routes and the chat alike. */
@Injectable()
export class SessionSerializer extends PassportSerializer {
  constructor(private readonly users: UsersService) {
    super();
  }

  serializeUser(user: User, done: (error: unknown, id?: string) => void): void {
    done(null, user.id);
  }

  deserializeUser(id: string, done: (error: unknown, user?: User | null) => void): void {
    done(null, this.users.findById(id));
  }
}
