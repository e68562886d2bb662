export {
  type ConnectAsOptions,
  type ConnectVia,
  type ExpectRefusedOptions,
  type Refusal,
  WsAuthTesting,
  type WsAuthTestingOptions,
  type WsAuthTestingTransport,
} from './ws-auth-testing.js';
export { type ClosedWith, type ConnectionPlan, type ReceivedEvent, type RefreshAnswer, WsAuthTestClient } from './test-client.js';
export { type GraphQLOperationEvent, GraphQLTestSubscription, GraphQLWsTestClient } from './graphql-test-client.js';
export { TestClock } from './test.clock.js';
export type { TokenSigner } from './token.minter.js';
export { WsAuthTestingError } from './ws-auth-testing.errors.js';
