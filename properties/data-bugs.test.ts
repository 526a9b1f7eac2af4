// The historical-bug switches of the data path (sim/kafka/bugs.ts), each found by random fault
// schedules. For every switch, the seeds of its swarm profile (data-profiles.ts) run in turn with
// the switch on until one breaks the invariant the switch targets; the same seed and schedule
// must then break nothing with the switch off. Each budget is about twice the seeds it took when
// it was set (at least 10); a miss means the model, the faults or the checkers moved: measure
// again before raising it.

import { describe, expect, it } from 'vitest';
import { BUG_NAMES, BUG_SWITCHES, type BugName } from '../sim/kafka/bugs.ts';
import {
  type DataProfile,
  dataFaultSchedule,
  dataRunSpec,
  LAGGING_JOINER_PROFILE,
  LAST_REPLICA_PROFILE,
  LEADER_CHURN_PROFILE,
  MIN_ISR_SQUEEZE_PROFILE,
  SKIPPED_EPOCH_PROFILE,
  STALE_INCARNATION_PROFILE,
} from './data-profiles.ts';
import { runKafka } from './kafka-harness.ts';

interface Hunt {
  readonly bug: BugName;
  readonly profile: DataProfile;
  readonly budget: number;
}

// The comment says where the first find was, and how often, when the budget was set.
const HUNTS: readonly Hunt[] = [
  // Seed 1; 9 of the first 60 seeds.
  { bug: 'truncate-to-hw', profile: LEADER_CHURN_PROFILE, budget: 10 },
  // Seed 6; 8 of 60.
  { bug: 'epoch-lookup-kip101', profile: SKIPPED_EPOCH_PROFILE, budget: 12 },
  // Seed 1; 3 of 60.
  { bug: 'isr-join-stale-hw', profile: LAGGING_JOINER_PROFILE, budget: 10 },
  // Seed 5; 5 of 60.
  { bug: 'hw-ignores-min-isr', profile: MIN_ISR_SQUEEZE_PROFILE, budget: 12 },
  // Seed 1; 8 of 60.
  { bug: 'no-elr', profile: LAST_REPLICA_PROFILE, budget: 10 },
  // Seed 33; 1 of 60.
  { bug: 'no-broker-epoch', profile: STALE_INCARNATION_PROFILE, budget: 66 },
];

function breaksOf(bug: BugName): string {
  return (BUG_SWITCHES.find((each) => each.name === bug) as (typeof BUG_SWITCHES)[number]).breaks;
}

/**
 * Runs seeds 1..budget with the switch on; returns the first seed whose run breaks the switch's
 * invariant, after checking that its schedule breaks nothing with the switch off.
 */
function hunt({ bug, profile, budget }: Hunt): number | null {
  const invariant = breaksOf(bug);
  for (let seed = 1; seed <= budget; seed++) {
    const faults = dataFaultSchedule(profile, seed);
    if (!runKafka(dataRunSpec(seed, profile, faults, new Set([bug]))).counts.has(invariant))
      continue;
    console.log(`${bug}: found at seed ${seed}`);
    const clean = runKafka(dataRunSpec(seed, profile, faults, new Set()));
    expect(
      clean.violations,
      `seed ${seed} without ${bug}: ${clean.violations.map((violation) => violation.message).join('\n')}`,
    ).toEqual([]);
    return seed;
  }
  return null;
}

describe('historical-bug switches of the data path, found by random faults', () => {
  it('hunts every switch of the data path', () => {
    expect(HUNTS.map((each) => each.bug).sort()).toEqual(
      BUG_NAMES.filter((name) => !name.startsWith('raft-')).sort(),
    );
  });

  for (const each of HUNTS) {
    it(`${each.bug}: ${each.profile.name} schedules break ${breaksOf(each.bug)} within ${each.budget} seeds`, {
      timeout: 180_000,
    }, () => {
      expect(hunt(each), `no seed in 1..${each.budget} broke ${breaksOf(each.bug)}`).not.toBeNull();
    });
  }
});
