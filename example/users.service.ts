import { Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';

export interface User {
  id: string;
  name: string;
  roles: string[];
}

/** The demo's user store: in memory, passwords in clear. A real app has a database here. */
const USERS: ReadonlyArray<User & { password: string }> = [
  { id: 'alice', name: 'Alice', roles: ['admin'], password: 'alice' },
  { id: 'bob', name: 'Bob', roles: [], password: 'bob' },
];

@Injectable()
export class UsersService {
  findById(id: string | undefined): User | null {
    const found = USERS.find((user) => user.id === id);
    return found ? { id: found.id, name: found.name, roles: found.roles } : null;
  }

  verify(id: string, password: string): User | null {
    const found = USERS.find((user) => user.id === id);
    const same =
      found !== undefined &&
      found.password.length === password.length &&
      timingSafeEqual(Buffer.from(found.password), Buffer.from(password));
    return same ? this.findById(id) : null;
  }
}
