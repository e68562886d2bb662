// The example of the README's "Testing your gateways", as it is printed there (but for the app module's path).
import { afterAll, beforeAll, test } from '@jest/globals';
import { WsAuthTesting } from 'nest-ws-auth/testing';
import { AppModule } from './apps/chat.app.js';

let kit: WsAuthTesting;
beforeAll(async () => (kit = await WsAuthTesting.start(AppModule)));
afterAll(() => kit.close());

test('alice chats, bob is refused, alice’s token expires', async () => {
  const alice = await kit.connectAs({ id: 'alice', roles: ['member'] }, '/chat');
  await alice.send('whoami', {});
  await alice.expectEvent('whoami', { id: 'alice', roles: ['member'] });
  await kit.expectRefused('/admin', { as: { id: 'bob', roles: ['member'] } }, 403);
  await kit.clock.advance(59_999);
  await alice.expectNothing(50);
  await kit.clock.advance(1); // the token lived 60 s: no real waiting
  await alice.expectClose(4401, 'token expired');
});
