import {
  type CanActivate,
  type DynamicModule,
  ForbiddenException,
  Injectable,
  Module,
  type PipeTransform,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import {
  WsAuthConnections,
  WsAuthGateway,
  WsAuthModule,
  type WsAuthModuleOptions,
  WsRoles,
  WsUser,
} from '../../src/index.js';
import type { Transport } from '../helpers/transports.js';
import { jwtOptions } from '../helpers/tokens.js';

export interface Person {
  id: string;
  name: string;
  roles: string[];
  /** One role as a string, for apps whose rolesOf reads it. */
  role?: string;
}

export const PEOPLE: Readonly<Record<string, Person>> = {
  alice: { id: 'alice', name: 'Alice', roles: ['admin'], role: 'admin' },
  bob: { id: 'bob', name: 'Bob', roles: [] },
  carol: { id: 'carol', name: 'Carol', roles: ['sysadmin'], role: 'sysadmin' },
};

/** What reached the app: who connected to which gateway, and which handlers ran. */
export interface Seen {
  connections: Array<{ gateway: string; user: unknown }>;
  handlers: string[];
  /**
   * The async guard and pipe of the 'held' handlers: how many messages wait in them, how many went through
   * them once released (their handler, if any, is then one microtask chain away), and letting them go.
   */
  held: { waiting: number; passed: number; release(): void };
}

/** An app's ordinary passport strategy, registered the @nestjs/passport way. */
@Injectable()
class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, 'api-key') {
  constructor() {
    super({ header: 'x-api-key', prefix: '' }, false);
  }

  /** As the NestJS docs write validate(): Nest's exceptions for refusals. */
  validate(apiKey: string): Person | null {
    switch (apiKey) {
      case 'key-revoked':
        throw new UnauthorizedException('API key revoked');
      case 'key-suspended':
        throw new ForbiddenException('Account suspended');
      case 'key-store-down':
        throw new Error('key store down');
      default:
        return apiKey === 'key-of-bob' ? PEOPLE.bob! : null;
    }
  }
}

/**
 * The same gateways on either transport: ws routes by path, Socket.IO by
 * namespace. Each call defines new classes, so each app has its own.
 */
export function transportApp(
  transport: Transport,
  options: Partial<WsAuthModuleOptions<Person>> = {},
): { module: DynamicModule; seen: Seen } {
  const waiters: Array<() => void> = [];
  const seen: Seen = {
    connections: [],
    handlers: [],
    held: {
      waiting: 0,
      passed: 0,
      release() {
        this.waiting = 0;
        for (const letGo of waiters.splice(0)) letGo();
      },
    },
  };
  const hold = async () => {
    await new Promise<void>((resolve) => {
      seen.held.waiting += 1;
      waiters.push(resolve);
    });
    seen.held.passed += 1;
  };
  /** An app's async guard (a database lookup, say): messages wait in it. */
  class HeldGuard implements CanActivate {
    async canActivate(): Promise<boolean> {
      await hold();
      return true;
    }
  }
  /** An app's async pipe, likewise. */
  class HeldPipe implements PipeTransform {
    async transform(value: unknown): Promise<unknown> {
      await hold();
      return value;
    }
  }

  abstract class Recording implements OnGatewayConnection {
    handleConnection(client: { user?: unknown }): void {
      seen.connections.push({ gateway: this.constructor.name, user: client.user });
    }

    @SubscribeMessage('whoami')
    whoami(@WsUser() user: Person | null) {
      seen.handlers.push('whoami');
      return { event: 'whoami', data: user };
    }

    @SubscribeMessage('name')
    name(@WsUser('name') name: string | undefined) {
      return { event: 'name', data: name ?? null };
    }
  }

  @WsAuthGateway(transport.route('/chat'))
  class ChatGateway extends Recording {
    @WebSocketServer() server: unknown;

    constructor(private readonly connections: WsAuthConnections) {
      super();
    }

    @SubscribeMessage('purge')
    @WsRoles('admin')
    purge() {
      seen.handlers.push('purge');
      return { event: 'purged', data: true };
    }

    /** What `@WebSocketServer()` injected: ws's server, or Socket.IO's namespace. */
    @SubscribeMessage('server')
    serverName() {
      const { name, constructor } = this.server as { name?: string; constructor: Function };
      return { event: 'server', data: { kind: constructor.name, name: name ?? null } };
    }

    @SubscribeMessage('logout-everywhere')
    logoutEverywhere(@WsUser('id') id: string) {
      return { event: 'closed', data: this.connections.disconnectUser(id) };
    }

    @SubscribeMessage('held-guard')
    @UseGuards(new HeldGuard())
    heldByGuard() {
      seen.handlers.push('held-guard');
      return { event: 'held', data: true };
    }

    @SubscribeMessage('held-pipe')
    heldByPipe(@MessageBody(new HeldPipe()) data: unknown) {
      seen.handlers.push('held-pipe');
      return { event: 'held', data };
    }
  }

  /** A handler copied onto the gateway after its decoration, as the TypeScript handbook's applyMixins does. */
  class HeldMixin {
    @SubscribeMessage('held-mixin')
    @UseGuards(new HeldGuard())
    heldByMixin() {
      seen.handlers.push('held-mixin');
      return { event: 'held', data: true };
    }
  }
  Object.defineProperty(ChatGateway.prototype, 'heldByMixin', Object.getOwnPropertyDescriptor(HeldMixin.prototype, 'heldByMixin')!);

  @WsAuthGateway({ ...transport.route('/lobby'), auth: { optional: true } })
  class LobbyGateway extends Recording {}

  @WsAuthGateway({ ...transport.route('/keys'), auth: { strategies: ['api-key'] } })
  class KeysGateway extends Recording {}

  @WsAuthGateway({ ...transport.route('/admin'), auth: { roles: ['admin'] } })
  class AdminGateway extends Recording {}

  @WebSocketGateway(transport.route('/plain'))
  class PlainGateway {
    @SubscribeMessage('whoami')
    whoami(@ConnectedSocket() client: { user?: unknown }) {
      return { event: 'whoami', data: client.user ?? 'nobody' };
    }
  }

  @Module({})
  class TransportAppModule {}

  return {
    seen,
    module: {
      module: TransportAppModule,
      imports: [
        WsAuthModule.forRoot({
          jwt: jwtOptions,
          resolveUser: (claims) => PEOPLE[claims.sub ?? ''] ?? null,
          ...options,
        }),
      ],
      providers: [ChatGateway, LobbyGateway, KeysGateway, AdminGateway, PlainGateway, ApiKeyStrategy],
    },
  };
}
