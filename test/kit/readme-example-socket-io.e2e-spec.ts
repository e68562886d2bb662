// The README's testing example for Socket.IO ("Testing your gateways"), as printed there but for the import lines:
// @jest/globals (this repository runs jest in ESM mode) and the quick start's app module. readme-snippets checks
// that the rest is the README's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WsAuthTesting } from 'nest-ws-auth/testing';
import { IoAppModule as AppModule } from './apps/quick-start.app.js';

describe('ChatGateway (e2e)', () => {
  let kit: WsAuthTesting;

  beforeAll(async () => {
    kit = await WsAuthTesting.start(AppModule); // on a free port, with the adapter of the gateways' transport
  });

  afterAll(async () => {
    await kit.close();
  });

  it('lets alice in, refuses a client without a token, closes alice’s socket when her token expires', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/chat'); // a token signed with the app's own jwt settings
    expect(await alice.request('whoami')).toBe('alice'); // the whoami handler's answer (ws) or acknowledgement (Socket.IO)
    await kit.expectRefused('/chat', {}, 401); // no credentials
    await kit.clock.advance(59_999); // the token lives 60 s on the kit's clock: no real waiting
    await alice.expectNothing(50);
    await kit.clock.advance(1);
    await alice.expectClose(4401, 'token expired'); // Socket.IO: auth:closed, then the server's disconnect
  });
});
