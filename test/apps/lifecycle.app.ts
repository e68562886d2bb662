import {
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import { SubscribeMessage } from '@nestjs/websockets';
import {
  type AuthenticatedWebSocket,
  WsAuthConnections,
  WsAuthGateway,
  WsAuthModule,
  type WsAuthModuleOptions,
  WsRoles,
  WsUser,
} from '../../src/index.js';
import { jwtOptions } from '../helpers/tokens.js';

export interface Member {
  id: string;
  name: string;
  roles: string[];
  suspended?: boolean;
}

export const MEMBERS: Readonly<Record<string, Member>> = {
  alice: { id: 'alice', name: 'Alice', roles: ['admin'] },
  bob: { id: 'bob', name: 'Bob', roles: [] },
  carol: { id: 'carol', name: 'Carol', roles: ['admin'], suspended: true },
  dave: { id: 'dave', name: 'Dave', roles: ['moderator'] },
};

/** An ordinary Nest guard of the app's that reads client.user. */
@Injectable()
export class NotSuspendedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return !context.switchToWs().getClient<AuthenticatedWebSocket<Member>>().user.suspended;
  }
}

/** How often each handler ran. */
export const calls = { echo: 0, ban: 0, purge: 0 };

@WsAuthGateway({ path: '/room' })
export class RoomGateway {
  constructor(private readonly connections: WsAuthConnections) {}

  @SubscribeMessage('echo')
  echo(@WsUser('id') id: string) {
    calls.echo += 1;
    return { event: 'echo', data: id };
  }

  @SubscribeMessage('ban')
  @WsRoles('admin', 'moderator')
  ban() {
    calls.ban += 1;
    return { event: 'banned', data: true };
  }

  @SubscribeMessage('purge')
  @WsRoles('admin')
  @UseGuards(NotSuspendedGuard)
  purge() {
    calls.purge += 1;
    return { event: 'purged', data: true };
  }


  @SubscribeMessage('logout-everywhere')
  logoutEverywhere(@WsUser('id') id: string) {
    return { event: 'closed', data: this.connections.disconnectUser(id) };
  }
}

@WsAuthGateway({ path: '/admin', auth: { roles: ['admin'] } })
export class AdminGateway {
  @SubscribeMessage('echo')
  echo(@WsUser('id') id: string) {
    return { event: 'echo', data: id };
  }
}

@WsAuthGateway({ path: '/lobby', auth: { optional: true } })
export class LobbyGateway {}

@Module({})
export class LifecycleAppModule {
  static with(options: Partial<WsAuthModuleOptions<Member>> = {}): DynamicModule {
    return {
      module: LifecycleAppModule,
      imports: [
        WsAuthModule.forRoot({
          jwt: jwtOptions,
          resolveUser: (claims) => MEMBERS[claims.sub ?? ''] ?? null,
          ...options,
        }),
      ],
      providers: [RoomGateway, AdminGateway, LobbyGateway, NotSuspendedGuard],
    };
  }
}
