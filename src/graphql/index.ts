// 'nest-ws-auth/graphql': the whole API and the GraphQL subscriptions binding (graphql-ws, as @nestjs/graphql serves
// it). Needs neither @nestjs/platform-ws nor @nestjs/platform-socket.io.
export * from '../public-api.js';
export { GraphQLWsCloseCode } from './graphql-ws.close-codes.js';
export {
  type GraphQLContextFactory,
  type GraphQLContextFunction,
  type GraphQLWsConnectionParams,
  type GraphQLWsContext,
  type GraphQLWsExtra,
  type GraphQLWsHooks,
  type GraphQLWsOptions,
  type GraphQLWsRequest,
  WsAuthGraphQL,
} from './ws-auth-graphql.js';
