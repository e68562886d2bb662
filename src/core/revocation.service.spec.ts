import { describe, expect, test } from '@jest/globals';
import type { ConnectionRegistry } from './connection.registry.js';
import { RevocationService } from './revocation.service.js';
import type { CoreSettings } from './core.settings.js';

describe('RevocationService.revokeUser', () => {
  const now = 1_800_000_000_000;
  const service = (clockTolerance: number) => {
    const closed: string[] = [];
    const registry = { disconnectUser: (userId: string) => (closed.push(userId), 0) } as unknown as ConnectionRegistry;
    const settings = { revocationTtlSeconds: 3600, jwt: { clockTolerance } } as unknown as CoreSettings;
    const revocations = new RevocationService(settings, registry, null, { now: () => now } as never);
    return { revocations, closed };
  };

  test('refuses tokens issued up to jwt.clockTolerance seconds after it (an issuer whose clock runs ahead), not later', async () => {
    const { revocations, closed } = service(5);
    await revocations.revokeUser('alice', 'revoked', undefined);
    expect(closed).toEqual(['alice']);
    const second = Math.floor(now / 1000);
    expect(revocations.refusal('alice', { iat: second + 5 })).toBe('user');
    expect(revocations.refusal('alice', { iat: second + 6 })).toBeUndefined();
    await revocations.onApplicationShutdown();
  });

  test('without a tolerance, a token of the next second is not refused', async () => {
    const { revocations } = service(0);
    await revocations.revokeUser('alice', 'revoked', undefined);
    const second = Math.floor(now / 1000);
    expect(revocations.refusal('alice', { iat: second })).toBe('user');
    expect(revocations.refusal('alice', { iat: second + 1 })).toBeUndefined();
    await revocations.onApplicationShutdown();
  });
});
