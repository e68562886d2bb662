import { type CanActivate, Controller, type ExecutionContext, Get, type INestApplication, Injectable, Module, Req, SetMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { SubscribeMessage } from '@nestjs/websockets';
import { isWsAuthClient, WsAuthGateway, WsAuthModule, WsUser } from 'nest-ws-auth';
import { WsAuthAdapter } from 'nest-ws-auth/ws';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { WebSocket } from 'ws';

/**
 * The Nest docs' "enable authentication globally" recipe (APP_GUARD = a JwtAuthGuard extends AuthGuard('jwt')
 * honouring @Public(), over the app's own passport-jwt strategy) beside guarded gateways, and a handshake guard.
 */
const NEST_RUNS_GLOBAL_GUARDS_ON_MESSAGES = true;
const JWT_SECRET = 'compat-fixture-secret-not-for-production';

const IS_PUBLIC_KEY = 'isPublic';
const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
const Roles = (...roles: string[]) => SetMetadata('roles', roles);

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: JWT_SECRET, algorithms: ['HS256'] });
  }

  validate(payload: { sub: string; roles?: string[] }) {
    return { sub: payload.sub, roles: payload.roles ?? [] };
  }
}

function globalGuard(withTheLine: boolean) {
  @Injectable()
  class JwtAuthGuard extends AuthGuard('jwt') {
    constructor(private readonly reflector: Reflector) {
      super();
    }

    override canActivate(context: ExecutionContext) {
      if (withTheLine && isWsAuthClient(context)) return true; // authenticated at the handshake by nest-ws-auth
      const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
      return isPublic ? true : super.canActivate(context);
    }
  }
  return JwtAuthGuard;
}

/** A handshake guard, as apps write roles guards: request.user against @Roles() on the gateway class. */
@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>('roles', [context.getHandler(), context.getClass()]);
    const user = context.switchToHttp().getRequest<{ user?: { roles?: string[] } }>().user;
    return !roles || roles.some((role) => user?.roles?.includes(role));
  }
}

@WsAuthGateway({ path: '/chat' })
class ChatGateway {
  @SubscribeMessage('whoami')
  whoami(@WsUser('sub') sub: string) {
    return { event: 'whoami', data: sub };
  }
}

@WsAuthGateway({ path: '/admin', auth: { guards: [RolesGuard] } })
@Roles('admin')
class AdminGateway {
  @SubscribeMessage('whoami')
  whoami(@WsUser('sub') sub: string) {
    return { event: 'whoami', data: sub };
  }
}

@Controller()
class MeController {
  @Get('me')
  me(@Req() request: { user?: unknown }) {
    return request.user;
  }

  @Get('health')
  @Public()
  health() {
    return 'ok';
  }
}

function appModule(withTheLine: boolean) {
  @Module({
    imports: [WsAuthModule.forRoot({ jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } })],
    controllers: [MeController],
    providers: [JwtStrategy, ChatGateway, AdminGateway, { provide: APP_GUARD, useClass: globalGuard(withTheLine) }],
  })
  class AppModule {}
  return AppModule;
}

function sign(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iat: now, exp: now + 300, ...claims })}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}

/** Opens a socket (token in the Authorization header); resolves with its HTTP status if refused. */
function open(url: string, token: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    client.once('error', reject);
  });
}

function ask(client: WebSocket, event: string): Promise<{ event: string; data: unknown }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 5000);
    client.once('message', (frame) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(frame)));
    });
    client.send(JSON.stringify({ event, data: {} }));
  });
}

async function start(withTheLine: boolean): Promise<{ app: INestApplication; port: number }> {
  const moduleRef = await Test.createTestingModule({ imports: [appModule(withTheLine)] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(new WsAuthAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

describe('the global AuthGuard recipe with the one line, and a handshake guard', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => ({ app, port } = await start(true)));
  afterAll(() => app.close());

  it('messages of authenticated clients reach their handlers', async () => {
    const client = (await open(`ws://127.0.0.1:${port}/chat`, sign({ sub: 'alice' }))) as WebSocket;
    expect(await ask(client, 'whoami')).toEqual({ event: 'whoami', data: 'alice' });
    client.close();
  });

  it('HTTP routes stay protected; @Public() ones open', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/me`)).status).toBe(401);
    const me = await fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${sign({ sub: 'alice' })}` } });
    expect(await me.json()).toEqual({ sub: 'alice', roles: [] });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  it('the handshake guard refuses a user without the role (403) and lets an admin in', async () => {
    expect(await open(`ws://127.0.0.1:${port}/admin`, sign({ sub: 'bob' }))).toBe(403);
    const admin = (await open(`ws://127.0.0.1:${port}/admin`, sign({ sub: 'root', roles: ['admin'] }))) as WebSocket;
    expect(await ask(admin, 'whoami')).toEqual({ event: 'whoami', data: 'root' });
    admin.close();
  });

  it('no token: 401 at the handshake', async () => {
    expect(await open(`ws://127.0.0.1:${port}/chat`, 'not-a-token')).toBe(401);
  });
});

describe('the recipe without the line', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => ({ app, port } = await start(false)));
  afterAll(() => app.close());

  it(NEST_RUNS_GLOBAL_GUARDS_ON_MESSAGES ? 'Nest 12 runs the global guard on every message: refused' : 'Nest 11 never runs global guards on gateways: answered', async () => {
    const client = (await open(`ws://127.0.0.1:${port}/chat`, sign({ sub: 'alice' }))) as WebSocket;
    const answer = await ask(client, 'whoami');
    if (NEST_RUNS_GLOBAL_GUARDS_ON_MESSAGES) {
      expect(answer.event).toBe('exception');
    } else {
      expect(answer).toEqual({ event: 'whoami', data: 'alice' });
    }
    client.close();
  });
});
