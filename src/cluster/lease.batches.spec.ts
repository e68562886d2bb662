import { expect, test } from '@jest/globals';
import { LeaseBatches } from './lease.batches.js';

type Call = { script: string; keys: readonly string[]; args: ReadonlyArray<string | number> };

function batches(answer: (call: Call) => Promise<unknown>) {
  const calls: Call[] = [];
  const leases = new LeaseBatches(
    (script, keys, args) => {
      const call = { script, keys, args };
      calls.push(call);
      return answer(call);
    },
    { reserve: 'RESERVE', release: 'RELEASE' },
    15_000,
  );
  return { leases, calls };
}

test('the places asked for in one turn go to Redis in one call, and each gets its own answer', async () => {
  const { leases, calls } = batches(async () => [1, 0, 1]);
  const answers = await Promise.all([leases.reserve('k:a', 2, 'n:1'), leases.reserve('k:b', 1, 'n:2'), leases.reserve('k:a', 2, 'n:3')]);
  expect(answers).toEqual([true, false, true]);
  expect(calls).toEqual([{ script: 'RESERVE', keys: ['k:a', 'k:b', 'k:a'], args: [15_000, 2, 'n:1', 1, 'n:2', 2, 'n:3'] }]);
});

test('places given back in one turn go in one call; a later turn makes a new batch', async () => {
  const { leases, calls } = batches(async () => 1);
  leases.release('k:a', 'n:1');
  leases.release('k:b', 'n:2');
  await new Promise((resolve) => setImmediate(resolve));
  leases.release('k:c', 'n:3');
  await new Promise((resolve) => setImmediate(resolve));
  expect(calls.map(({ script, keys, args }) => [script, keys, args])).toEqual([
    ['RELEASE', ['k:a', 'k:b'], ['n:1', 'n:2']],
    ['RELEASE', ['k:c'], ['n:3']],
  ]);
});

test('a failed call rejects every place of its batch; stop rejects what is queued and sends nothing', async () => {
  const { leases, calls } = batches(async () => {
    throw new Error('Redis did not answer');
  });
  await expect(Promise.all([leases.reserve('k:a', 1, 'n:1'), leases.reserve('k:b', 1, 'n:2')])).rejects.toThrow('Redis did not answer');
  const queued = leases.reserve('k:c', 1, 'n:3');
  leases.stop();
  await expect(queued).rejects.toThrow('cluster: stopped');
  expect(calls).toHaveLength(1);
});
