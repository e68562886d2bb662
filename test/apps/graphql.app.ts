import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type CanActivate, type DynamicModule, type ExecutionContext, Injectable, Module, UseGuards } from '@nestjs/common';
import { Context, GqlExecutionContext, GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { AuthGuard, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import { SubscribeMessage } from '@nestjs/websockets';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { type GraphQLWsHooks, WsAuthGraphQL } from '../../src/graphql/index.js';
import type { WsAuthGatewayOptions } from '../../src/index.js';
import { isWsAuthClient, WsAuthGateway, WsAuthModule, type WsAuthModuleOptions, wsAuthUserId, WsRoles, WsUser } from '../../src/index.js';
import { jwtOptions, TEST_SECRET } from '../helpers/tokens.js';

export interface Member {
  id: string;
  name: string;
  roles: string[];
}

export const MEMBERS: Readonly<Record<string, Member>> = {
  alice: { id: 'alice', name: 'Alice', roles: ['admin'] },
  bob: { id: 'bob', name: 'Bob', roles: [] },
  carol: { id: 'carol', name: 'Carol', roles: [] },
};

const typeDefs = /* GraphQL */ `
  type Query {
    me: String
    probed: String
  }
  type Subscription {
    ticks: Int
    whoami: String
    admin: String
    guarded: String
    jwtGuarded: String
    contextKeys: [String]
  }
`;

/** A minimal publish/subscribe: every subscriber of a channel gets what is published after it subscribed. */
export class Channel<T> {
  private readonly subscribers = new Set<(value: T) => void>();

  get size(): number {
    return this.subscribers.size;
  }

  publish(value: T): void {
    for (const push of this.subscribers) push(value);
  }

  iterator(wrap: (value: T) => unknown): AsyncIterableIterator<unknown> {
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const push = (value: T) => {
      queue.push(wrap(value));
      wake?.();
    };
    this.subscribers.add(push);
    const finish = () => {
      done = true;
      this.subscribers.delete(push);
      wake?.();
    };
    const iterator: AsyncIterableIterator<unknown> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (queue.length === 0 && !done) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        return queue.length > 0 ? { value: queue.shift(), done: false } : { value: undefined, done: true };
      },
      return: async () => {
        finish();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }
}

/** What reached the app's resolvers and hooks. */
export interface GraphQLSeen {
  /** Subscribe resolvers that ran: `<field> <user id>`. */
  resolved: string[];
  /** The app's own graphql-ws hooks that ran. */
  hooks: string[];
  /** What a guard's isWsAuthClient / wsAuthUserId said, per operation. */
  probes: Array<{ field: string; client: boolean; userId: string | undefined }>;
  ticks: Channel<number>;
}

export interface GraphQLAppOptions {
  module?: Partial<WsAuthModuleOptions<Member>>;
  /** The app's own graphql-ws hooks, chained after the library's. */
  hooks?: GraphQLWsHooks;
  /** The app's own context factory. @default one adding `app: 'own'` */
  context?: (...args: never[]) => unknown;
  /** The `auth` options of the subscription server (graphqlWs's second argument). */
  auth?: WsAuthGatewayOptions;
  /** A ws gateway at /chat beside GraphQL subscriptions at /graphql, on the same port. */
  withGateway?: boolean;
}

/** What a passport session keeps of a member (the id), and how the member comes back. */
@Injectable()
export class MemberSerializer extends PassportSerializer {
  serializeUser(user: Member, done: (error: unknown, id?: string) => void): void {
    done(null, user.id);
  }

  deserializeUser(id: string, done: (error: unknown, user?: Member | null) => void): void {
    done(null, MEMBERS[id] ?? null);
  }
}

/** The app's own passport-jwt strategy, for its HTTP routes; reads the Authorization header. */
@Injectable()
class AppJwtStrategy extends PassportStrategy(JwtStrategy, 'app-jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: TEST_SECRET,
      algorithms: ['HS256'],
      issuer: jwtOptions.issuer,
      audience: jwtOptions.audience,
    });
  }

  validate(claims: { sub: string }): Member | null {
    return MEMBERS[claims.sub] ?? null;
  }
}

/** The NestJS docs' GraphQL JWT guard, unmodified: AuthGuard over context.req. */
@Injectable()
class GqlJwtGuard extends AuthGuard('app-jwt') {
  override getRequest(context: ExecutionContext) {
    return GqlExecutionContext.create(context).getContext<{ req: unknown }>().req;
  }
}

/** An app's guard reading the user the GraphQL way. */
@Injectable()
class GqlMemberGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { req } = GqlExecutionContext.create(context).getContext<{ req: { user?: Member } }>();
    return req.user?.roles.includes('admin') ?? false;
  }
}

/**
 * A real Apollo app (schema first) whose subscriptions run over graphql-ws with
 * WsAuthGraphQL. Each call defines new classes, so each app has its own.
 */
export function graphqlApp(options: GraphQLAppOptions = {}): { module: DynamicModule; seen: GraphQLSeen } {
  const seen: GraphQLSeen = { resolved: [], hooks: [], probes: [], ticks: new Channel<number>() };

  /** A global-guard-like probe: what isWsAuthClient and wsAuthUserId say for a GraphQL operation. */
  class ProbeGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      seen.probes.push({ field: GqlExecutionContext.create(context).getInfo<{ fieldName: string }>().fieldName, client: isWsAuthClient(context), userId: wsAuthUserId(context) });
      return true;
    }
  }
  const once = (value: Record<string, unknown>): AsyncIterableIterator<unknown> => {
    const iterator = seen.ticks.iterator(() => value);
    queueMicrotask(() => seen.ticks.publish(0));
    return iterator;
  };

  @Resolver()
  class FeedResolver {
    @Query('me')
    me(@WsUser('id') id: string | undefined) {
      return id ?? 'anonymous';
    }

    @Query('probed')
    @UseGuards(ProbeGuard)
    probed() {
      return 'ok';
    }

    @Subscription('ticks')
    @UseGuards(ProbeGuard)
    ticks(@WsUser() user: Member) {
      seen.resolved.push(`ticks ${user?.id}`);
      return seen.ticks.iterator((tick) => ({ ticks: tick }));
    }

    @Subscription('whoami')
    whoami(@Context('req') req: { user: Member }) {
      seen.resolved.push(`whoami ${req.user?.id}`);
      return once({ whoami: req.user.id });
    }

    @Subscription('admin')
    @WsRoles('admin')
    admin(@WsUser('id') id: string) {
      seen.resolved.push(`admin ${id}`);
      return once({ admin: id });
    }

    @Subscription('guarded')
    @UseGuards(GqlMemberGuard)
    guarded(@WsUser('id') id: string) {
      seen.resolved.push(`guarded ${id}`);
      return once({ guarded: id });
    }

    @Subscription('jwtGuarded')
    @UseGuards(GqlJwtGuard)
    jwtGuarded(@Context('req') req: { user: Member }) {
      seen.resolved.push(`jwtGuarded ${req.user?.id}`);
      return once({ jwtGuarded: req.user.id });
    }

    @Subscription('contextKeys')
    contextKeys(@Context() context: Record<string, unknown>) {
      return once({ contextKeys: Object.keys(context).sort() });
    }
  }

  @WsAuthGateway({ path: '/chat' })
  class ChatGateway {
    @SubscribeMessage('whoami')
    whoami(@WsUser('id') id: string) {
      return { event: 'whoami', data: id };
    }
  }

  const hooks: GraphQLWsHooks = {
    ...options.hooks,
    onConnect: async (ctx) => {
      seen.hooks.push(`onConnect ${(ctx.extra.request as { user?: Member }).user?.id}`);
      return options.hooks?.onConnect ? options.hooks.onConnect(ctx) : undefined;
    },
  };

  @Module({
    imports: [
      WsAuthModule.forRoot({
        jwt: jwtOptions,
        resolveUser: (claims) => MEMBERS[claims.sub as string] ?? null,
        ...options.module,
      }),
      GraphQLModule.forRootAsync<ApolloDriverConfig>({
        driver: ApolloDriver,
        inject: [WsAuthGraphQL],
        useFactory: (auth: WsAuthGraphQL) => ({
          typeDefs,
          subscriptions: { 'graphql-ws': auth.graphqlWs(hooks, options.auth) },
          context: auth.context(options.context ?? (({ req }: { req?: unknown }) => ({ app: 'own', ...(req === undefined ? {} : { req }) }))),
        }),
      }),
    ],
    providers: [FeedResolver, AppJwtStrategy, MemberSerializer, ...(options.withGateway ? [ChatGateway] : [])],
  })
  class GraphQLAppModule {}

  return { module: { module: GraphQLAppModule }, seen };
}
