// A whole KRaft-mode cluster under random faults: the metadata quorum's invariants after every
// event (brokers as observers), and after healing every broker running and unfenced, every image
// the committed metadata, every partition valid with a leader.

import { describe, expect, it } from 'vitest';
import { sampleFaultSchedule } from './fault-arbitraries.ts';
import { runKraft } from './kraft-harness.ts';

function nodes(controllers: number, brokers: number): string[] {
  const ids = [
    ...Array.from({ length: controllers }, (_, index) => `c${index + 1}`),
    ...Array.from({ length: brokers }, (_, index) => `b${index + 1}`),
  ];
  return [...ids, '@leader', '@leader', '@follower'];
}

function run(seed: number, controllers: number, brokers: number) {
  const faults = sampleFaultSchedule(
    { nodes: nodes(controllers, brokers), startMs: 5_000, endMs: 35_000, faultsMax: 15 },
    seed,
  );
  return runKraft({
    seed,
    controllers,
    brokers,
    faults,
    faultPhaseMs: 35_000,
    healPhaseMs: 30_000,
  });
}

describe('KRaft cluster under random faults', () => {
  for (const [controllers, brokers, seeds] of [
    [3, 4, 30],
    [5, 3, 15],
  ] as const) {
    it(`breaks no invariant over ${seeds} seeds (${controllers} controllers, ${brokers} brokers)`, {
      timeout: 120_000,
    }, () => {
      for (let seed = 1; seed <= seeds; seed++) {
        const result = run(seed, controllers, brokers);
        const messages = result.violations.map(
          (violation) => `${violation.invariant}: ${violation.message}`,
        );
        expect(messages, `seed ${seed}`).toEqual([]);
      }
    });
  }

  it('replays exactly: the same seed gives the same trace hash', () => {
    expect(run(7, 3, 4).traceHash).toBe(run(7, 3, 4).traceHash);
    expect(run(8, 3, 4).traceHash).not.toBe(run(7, 3, 4).traceHash);
  });
});
