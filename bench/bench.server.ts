/**
 * One benchmark server per process: node bench.server.js <a…m | node>
 * (`node`: one node of the revocation-propagation cluster).
 * Listens on a free loopback port, says `ready` over IPC, and answers
 * `memory` (after a full GC), `cpu` and `profile` requests until told to stop.
 */
import 'reflect-metadata';
import { type CanActivate, type ExecutionContext, type INestApplication, Injectable, Module, SetMetadata } from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import jwt from 'jsonwebtoken';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { isWsAuthClient, WsAuthConnections, WsAuthGateway, WsAuthModule } from 'nest-ws-auth';
import { WsAuthAdapter } from 'nest-ws-auth/ws';
import { WsAuthIoAdapter } from 'nest-ws-auth/socket.io';
import { createPublicKey, createSecretKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { WebSocketServer } from 'ws';
import { Redis } from 'ioredis';
import { BENCH_LIMIT, BENCH_SECRET, ECHO_PATH, type ServerName, type ServerReply, type ServerRequest } from './bench.constants.js';

class EchoHandlers {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }
}

/** (a) what NestJS offers today: no authentication at all. */
@WebSocketGateway({ path: ECHO_PATH })
class UnguardedGateway extends EchoHandlers {}

@Module({ providers: [UnguardedGateway] })
class UnguardedModule {}

/** (b) nest-ws-auth's built-in strategy, configured with a plain string secret. */
@WsAuthGateway({ path: ECHO_PATH })
class GuardedGateway extends EchoHandlers {}

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] } })],
  providers: [GuardedGateway],
})
class BuiltInJwtModule {}

/** (c) the passport-jwt strategy apps write today, string secret and all, named in `strategies`. */
@Injectable()
class HandWrittenJwtStrategy extends PassportStrategy(JwtStrategy, 'hand-written-jwt') {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: BENCH_SECRET, algorithms: ['HS256'] });
  }

  validate(payload: { sub: string }) {
    return payload;
  }
}

@WsAuthGateway({ path: ECHO_PATH })
class HandWrittenGateway extends EchoHandlers {}

@Module({
  imports: [WsAuthModule.forRoot({ strategies: ['hand-written-jwt'] })],
  providers: [HandWrittenGateway, HandWrittenJwtStrategy],
})
class HandWrittenStrategyModule {}

/** (e) Socket.IO, what NestJS offers today: no authentication at all. */
@WebSocketGateway({ namespace: ECHO_PATH })
class UnguardedIoGateway extends EchoHandlers {}

@Module({ providers: [UnguardedIoGateway] })
class UnguardedIoModule {}

/** (f) nest-ws-auth on Socket.IO: the built-in strategy, token in `auth: { token }`. */
@WsAuthGateway({ namespace: ECHO_PATH })
class GuardedIoGateway extends EchoHandlers {}

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] } })],
  providers: [GuardedIoGateway],
})
class GuardedIoModule {}

/** (j) (b) with events on and nobody listening: an event nobody listens for must cost nothing. */
@WsAuthGateway({ path: ECHO_PATH })
class EventsGateway extends EchoHandlers {}

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] }, events: true })],
  providers: [EventsGateway],
})
class EventsWithoutListenerModule {}

/** (n) (b) with one handshake guard: a roles guard as apps write it, reading @Roles() on the gateway with Reflector. */
const Roles = (...roles: string[]) => SetMetadata('roles', roles);

@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>('roles', [context.getHandler(), context.getClass()]);
    const user = context.switchToHttp().getRequest<{ user?: { roles?: string[] } }>().user;
    return !roles || roles.some((role) => user?.roles?.includes(role) === true);
  }
}

@WsAuthGateway({ path: ECHO_PATH, auth: { guards: [RolesGuard] } })
@Roles('member')
class HandshakeGuardGateway extends EchoHandlers {}

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] } })],
  providers: [HandshakeGuardGateway],
})
class HandshakeGuardModule {}

/** (o) (b) under the Nest docs' global AuthGuard('jwt') honouring @Public(), with the one line for nest-ws-auth. */
@Injectable()
class GlobalJwtAuthGuard extends AuthGuard('hand-written-jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (isWsAuthClient(context)) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>('isPublic', [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }
}

@WsAuthGateway({ path: ECHO_PATH })
class GloballyGuardedGateway extends EchoHandlers {}

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] } })],
  providers: [GloballyGuardedGateway, HandWrittenJwtStrategy, { provide: APP_GUARD, useClass: GlobalJwtAuthGuard }],
})
class GlobalGuardModule {}

/** (g)-(i): (b) with the cluster link and/or the per-user limit; Redis on the unix socket run.ts started. */
function clusteredModule(cluster: boolean, limit: boolean, prefix = `bench-${process.pid}:`): object {
  @WsAuthGateway({ path: ECHO_PATH })
  class ClusteredGateway extends EchoHandlers {}

  @Module({
    imports: [
      WsAuthModule.forRoot({
        jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] },
        ...(limit && { maxConnectionsPerUser: BENCH_LIMIT }),
        ...(cluster && { cluster: { redis: new Redis({ path: process.env.REDIS_SOCKET }), prefix } }),
      }),
    ],
    providers: [ClusteredGateway],
  })
  class ClusteredModule {}
  return ClusteredModule;
}

/** (k): (b) with the failed-handshake limit, behind one (simulated) proxy; (t): without a proxy. */
function limitedModule(behindProxy = true): object {
  @WsAuthGateway({ path: ECHO_PATH })
  class LimitedGateway extends EchoHandlers {}

  @Module({
    imports: [
      WsAuthModule.forRoot({ jwt: { secret: BENCH_SECRET, algorithms: ['HS256'] }, failedHandshakes: true, trustProxy: behindProxy }),
    ],
    providers: [LimitedGateway],
  })
  class LimitedModule {}
  return LimitedModule;
}

/** (l) and (m): RS256 with the public key given, or fetched from a JWKS served on loopback by this process. */
async function rsaModule(fromJwks: boolean): Promise<object> {
  const publicKey = createPublicKey(process.env.BENCH_RSA_PUBLIC!);
  let jwksUri: string | undefined;
  if (fromJwks) {
    const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench-key', alg: 'RS256', use: 'sig' }] });
    const keyServer = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks.json`;
  }

  @WsAuthGateway({ path: ECHO_PATH })
  class RsaGateway extends EchoHandlers {}

  @Module({
    imports: [WsAuthModule.forRoot({ jwt: { ...(jwksUri ? { jwksUri } : { publicKey }), algorithms: ['RS256'] } })],
    providers: [RsaGateway],
  })
  class RsaModule {}
  return RsaModule;
}

type AdapterOf = (app: INestApplication) => WsAdapter | IoAdapter;

async function nestServer(module: object, adapter: AdapterOf): Promise<Server> {
  const app = await NestFactory.create(module as never, { logger: ['error', 'warn'] });
  app.useWebSocketAdapter(adapter(app));
  await app.listen(0, '127.0.0.1');
  return app.getHttpServer();
}

/** (d) the floor without Nest: ws with a jsonwebtoken check in the 'upgrade' event, KeyObject key. */
function rawServer(): Promise<Server> {
  const key = createSecretKey(Buffer.from(BENCH_SECRET));
  const server = createServer();
  const sockets = new WebSocketServer({ noServer: true });
  const bearer = (request: IncomingMessage) => /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
  server.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    try {
      jwt.verify(bearer(request), key, { algorithms: ['HS256'] });
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (client) => {
      client.on('message', (data) => {
        const { event, data: payload } = JSON.parse(data.toString());
        if (event === 'echo') client.send(JSON.stringify({ event: 'echo', data: payload }));
      });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const variants: Record<ServerName, () => Promise<Server>> = {
  a: () => nestServer(UnguardedModule, (app) => new WsAdapter(app)),
  b: () => nestServer(BuiltInJwtModule, (app) => new WsAuthAdapter(app)),
  c: () => nestServer(HandWrittenStrategyModule, (app) => new WsAuthAdapter(app)),
  d: rawServer,
  e: () => nestServer(UnguardedIoModule, (app) => new IoAdapter(app)),
  f: () => nestServer(GuardedIoModule, (app) => new WsAuthIoAdapter(app)),
  g: () => nestServer(clusteredModule(true, false), (app) => new WsAuthAdapter(app)),
  h: () => nestServer(clusteredModule(false, true), (app) => new WsAuthAdapter(app)),
  i: () => nestServer(clusteredModule(true, true), (app) => new WsAuthAdapter(app)),
  k: () => nestServer(limitedModule(), (app) => new WsAuthAdapter(app)),
  l: async () => nestServer(await rsaModule(false), (app) => new WsAuthAdapter(app)),
  m: async () => nestServer(await rsaModule(true), (app) => new WsAuthAdapter(app)),
  j: () => nestServer(EventsWithoutListenerModule, (app) => new WsAuthAdapter(app)),
  n: () => nestServer(HandshakeGuardModule, (app) => new WsAuthAdapter(app)),
  o: () => nestServer(GlobalGuardModule, (app) => new WsAuthAdapter(app)),
  t: () => nestServer(limitedModule(false), (app) => new WsAuthAdapter(app)),
};

const name = process.argv[2] as ServerName | 'node';
let connections: WsAuthConnections | undefined;
const server =
  name === 'node'
    ? await nestServer(clusteredModule(true, false, 'bench-propagation:'), (app) => {
        connections = app.get(WsAuthConnections);
        return new WsAuthAdapter(app);
      })
    : await variants[name]();
const send = (reply: ServerReply) => process.send!(reply);
const gc = (globalThis as { gc?: () => void }).gc!;

/** The CPU profiler, over the inspector protocol: it samples only the phase run.ts asks for (one workload). */
const profiler = new Session();
async function profile(request: Extract<ServerRequest, { type: 'profile' }>): Promise<void> {
  if (request.action === 'start') {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
    await profiler.post('Profiler.start');
  } else {
    const { profile: result } = await profiler.post('Profiler.stop');
    writeFileSync(request.file, JSON.stringify(result));
    profiler.disconnect();
  }
  send({ type: 'profiled' });
}

process.on('message', (request: ServerRequest) => {
  if (request.type === 'profile') {
    void profile(request);
  } else if (request.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', micros: user + system });
  } else if (request.type === 'revoke') {
    void connections!.revokeUser(request.userId).then(() => send({ type: 'revoked' }));
  } else if (request.type === 'memory') {
    gc();
    gc();
    const { heapUsed, rss, external } = process.memoryUsage();
    send({ type: 'memory', heapUsed, rss, external });
  } else {
    process.exit(0);
  }
});
send({ type: 'ready', port: (server.address() as AddressInfo).port });
