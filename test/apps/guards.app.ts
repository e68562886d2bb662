import {
  type CanActivate,
  Controller,
  type DynamicModule,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  Req,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { SubscribeMessage } from '@nestjs/websockets';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { createSecretKey } from 'node:crypto';
import { isWsAuthClient, WsAuthGateway, WsAuthModule, type WsAuthModuleOptions, WsUser } from '../../src/index.js';
import type { Transport } from '../helpers/transports.js';
import { jwtOptions, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens.js';

export interface Member {
  id: string;
  roles: string[];
}

/** The Nest docs' `@Public()` and `@Roles()`, as an app writes them. */
export const IS_PUBLIC_KEY = 'isPublic';
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
export const ROLES_KEY = 'roles';
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

/** What the app's guards and handlers saw. */
export interface GuardsSeen {
  handlers: string[];
  /** `request.user` as the per-message HTTP-shaped guard read it. */
  httpUsers: unknown[];
  /** Calls of the app's UsersService (a provider the handshake guard injects). */
  lookups: string[];
}

/**
 * An app that authorizes with its own guards, the NestJS way: passport-jwt
 * registered as 'app-jwt' with `AuthGuard`, a `RolesGuard` reading `@Roles()`
 * with `Reflector`, @nestjs/throttler; optionally the docs' "enable
 * authentication globally" recipe (APP_GUARD + `@Public()`), with or without the
 * one line for nest-ws-auth.
 */
export function guardsApp(
  transport: Transport,
  { globalGuard, options = {} }: { globalGuard?: 'recipe' | 'recipe+line'; options?: Partial<WsAuthModuleOptions> } = {},
): { module: DynamicModule; seen: GuardsSeen } {
  const seen: GuardsSeen = { handlers: [], httpUsers: [], lookups: [] };

  @Injectable()
  class UsersService {
    isActive(id: string): boolean {
      seen.lookups.push(id);
      return id !== 'suspended';
    }
  }

  /** The app's own passport-jwt strategy (not the library's built-in one). */
  @Injectable()
  class AppJwtStrategy extends PassportStrategy(Strategy, 'app-jwt') {
    constructor() {
      super({
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: createSecretKey(Buffer.from(TEST_SECRET)) as unknown as string,
        algorithms: ['HS256'],
        issuer: TEST_ISSUER,
        audience: TEST_ISSUER,
      });
    }

    validate(payload: { sub: string; roles?: string[] }): Member {
      return { id: payload.sub, roles: payload.roles ?? [] };
    }
  }

  @Injectable()
  class JwtAuthGuard extends AuthGuard('app-jwt') {}

  /** The docs' global guard: every route needs a JWT unless @Public(). */
  @Injectable()
  class GlobalJwtAuthGuard extends AuthGuard('app-jwt') {
    constructor(private readonly reflector: Reflector) {
      super();
    }

    override canActivate(context: ExecutionContext) {
      if (globalGuard === 'recipe+line' && isWsAuthClient(context)) return true; // the one line
      const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
      return isPublic ? true : super.canActivate(context);
    }
  }

  /** An HTTP-shaped roles guard, as apps write it: `request.user.roles` against `@Roles()`. */
  @Injectable()
  class RolesGuard implements CanActivate {
    constructor(
      private readonly reflector: Reflector,
      private readonly users: UsersService,
    ) {}

    canActivate(context: ExecutionContext): boolean {
      const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
      const user = context.switchToHttp().getRequest<{ user?: Member }>().user;
      seen.httpUsers.push(user);
      if (!user || !this.users.isActive(user.id)) return false;
      return !roles || roles.some((role) => user.roles.includes(role));
    }
  }

  /** A guard that fails (a database down, say): 500, logged without a stack. */
  const failingGuard: CanActivate = {
    canActivate: () => {
      throw new Error('user store down');
    },
  };

  /** A guard written for HTTP routes that answers itself (a redirect to a login page): a handshake has no body. */
  const redirectingGuard: CanActivate = {
    canActivate: (context) => {
      context.switchToHttp().getResponse<{ redirect(url: string): void }>().redirect('/login');
      return false;
    },
  };

  /** An async guard that never answers: the handshake deadline applies. */
  const stuckGuard: CanActivate = { canActivate: () => new Promise<boolean>(() => {}) };

  @WsAuthGateway({ ...transport.route('/chat') })
  class ChatGateway {
    @SubscribeMessage('whoami')
    whoami(@WsUser() user: Member) {
      seen.handlers.push('whoami');
      return { event: 'whoami', data: user };
    }

    @SubscribeMessage('admin-only')
    @UseGuards(RolesGuard)
    @Roles('admin')
    adminOnly(@WsUser('id') id: string) {
      seen.handlers.push('admin-only');
      return { event: 'admin-only', data: id };
    }
  }

  @WsAuthGateway({ ...transport.route('/admin'), auth: { guards: [RolesGuard] } })
  @Roles('admin')
  class AdminGateway {
    @SubscribeMessage('whoami')
    whoami(@WsUser() user: Member) {
      return { event: 'whoami', data: user };
    }
  }

  /** No strategy: the app's AuthGuard alone authenticates; client.user is the request.user it set. */
  @WsAuthGateway({ ...transport.route('/guarded-only'), auth: { strategies: [], guards: [JwtAuthGuard] } })
  class GuardOnlyGateway {
    @SubscribeMessage('whoami')
    whoami(@WsUser() user: Member) {
      return { event: 'whoami', data: user };
    }
  }

  @WsAuthGateway({ ...transport.route('/failing'), auth: { guards: [failingGuard] } })
  class FailingGateway {}

  @WsAuthGateway({ ...transport.route('/stuck'), auth: { guards: [stuckGuard] } })
  class StuckGateway {}

  @WsAuthGateway({ ...transport.route('/redirecting'), auth: { guards: [redirectingGuard] } })
  class RedirectingGateway {}

  @Controller()
  class HttpController {
    @Get('me')
    me(@Req() request: { user?: Member }) {
      return request.user ?? null;
    }

    @Get('health')
    @Public()
    health() {
      return 'ok';
    }
  }

  @Module({})
  class GuardsAppModule {}

  return {
    seen,
    module: {
      module: GuardsAppModule,
      imports: [
        WsAuthModule.forRoot({
          jwt: jwtOptions,
          resolveUser: (claims) => ({ id: claims.sub, roles: (claims.roles as string[] | undefined) ?? [] }),
          handshakeTimeoutMs: 500,
          ...options,
        }),
      ],
      controllers: [HttpController],
      providers: [
        UsersService,
        AppJwtStrategy,
        ChatGateway,
        AdminGateway,
        GuardOnlyGateway,
        FailingGateway,
        StuckGateway,
        RedirectingGateway,
        ...(globalGuard ? [{ provide: APP_GUARD, useClass: GlobalJwtAuthGuard }] : []),
      ],
    },
  };
}
