// With no bug switched on, no fault schedule breaks an invariant of the data path: random
// schedules of every profile (data-profiles.ts) over the three replication settings KAFKA.md asks
// for, each run checked after every event and at the end, every loss classified as the durability
// contract allows (acks-0, acks-1, lossy-crashes, unclean-election) or reported.

import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATA_PROFILES,
  type DataProfile,
  dataFaultLayers,
  dataFaultSchedule,
  dataRunSpec,
  dataTraps,
  FAST_FAILOVER_PROFILE,
  GENERAL_PROFILE,
} from './data-profiles.ts';
import { faultProfileArbitrary } from './fault-arbitraries.ts';
import { type KafkaRunResult, runKafka } from './kafka-harness.ts';

const ALLOWED_REASONS = new Set([
  'acks-0',
  'acks-1',
  'lossy-crashes',
  'unclean-election',
  'offline-after-unclean-shutdowns',
]);

const SETTINGS = [
  { replicationFactor: 3, minInsyncReplicas: 2 },
  { replicationFactor: 2, minInsyncReplicas: 1 },
  { replicationFactor: 3, minInsyncReplicas: 1 },
] as const;

/** Every reason seen over the runs of this file: the classification is exercised, not vacuous. */
const reasonsSeen = new Set<string>();

function check(result: KafkaRunResult): void {
  expect(
    result.violations,
    result.violations.map((violation) => `${violation.invariant}: ${violation.message}`).join('\n'),
  ).toEqual([]);
  for (const loss of result.allowed) {
    expect(ALLOWED_REASONS.has(loss.reason), loss.reason).toBe(true);
    reasonsSeen.add(loss.reason);
  }
}

function scheduleArbitrary(profile: DataProfile) {
  return fc.tuple(
    fc.integer({ min: 1, max: 1_000_000 }),
    faultProfileArbitrary(dataFaultLayers(profile)),
  );
}

describe('the data path with no bug switched on', () => {
  for (const setting of SETTINGS) {
    const name = `RF ${setting.replicationFactor}, min ISR ${setting.minInsyncReplicas}`;
    for (const profile of [GENERAL_PROFILE, FAST_FAILOVER_PROFILE]) {
      test.prop([scheduleArbitrary(profile)], { numRuns: 8 })(
        `${name}: ${profile.name} schedules break no invariant`,
        ([seed, faults]) => {
          const schedule = [...faults, ...dataTraps(profile)];
          check(runKafka(dataRunSpec(seed, profile, schedule, new Set(), setting)));
        },
        120_000,
      );
    }
  }

  for (const profile of DATA_PROFILES) {
    it(`RF 3, min ISR 2: the ${profile.name} profile's first seeds break no invariant`, {
      timeout: 120_000,
    }, () => {
      for (let seed = 1; seed <= 5; seed++)
        check(runKafka(dataRunSpec(seed, profile, dataFaultSchedule(profile, seed), new Set())));
    });
  }

  it('replays exactly: the same seed and schedule give the same trace hash and history', {
    timeout: 60_000,
  }, () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 3; seed++) {
      const spec = () =>
        dataRunSpec(
          seed,
          FAST_FAILOVER_PROFILE,
          dataFaultSchedule(FAST_FAILOVER_PROFILE, seed),
          new Set(),
        );
      const first = runKafka(spec());
      const second = runKafka(spec());
      expect(second.traceHash).toBe(first.traceHash);
      expect(second.history.toJsonLines()).toBe(first.history.toJsonLines());
      hashes.add(first.traceHash);
    }
    expect(hashes.size).toBe(3);
  });

  it('classified losses of several kinds along the way', () => {
    expect(reasonsSeen.size, [...reasonsSeen].join(',')).toBeGreaterThanOrEqual(2);
  });
});
