// The historical-bug switches of the metadata quorum (sim/kafka/bugs.ts), each found by random
// fault schedules. For every switch and quorum size, the seeds of the switch's swarm profile
// (raft-profiles.ts) run in turn with the switch on until one breaks the invariant the switch
// targets; the same seed and schedule must then break nothing with the switch off. Each budget is
// about twice the seeds it took when it was set (at least 10); a miss means the model, the faults
// or the checkers moved: measure again before raising it.

import { describe, expect, it } from 'vitest';
import type { TimedFault } from '../sim/faults.ts';
import { BUG_NAMES, BUG_SWITCHES, type BugName } from '../sim/kafka/bugs.ts';
import { type FaultScheduleOptions, sampleFaultSchedule } from './fault-arbitraries.ts';
import { observerIds, type QuorumRunResult, runQuorum, voterIds } from './raft-harness.ts';
import {
  BRIDGED_LEADER_PROFILE,
  FIGURE_8_PROFILE,
  POWER_CYCLED_VOTER_PROFILE,
  type QuorumProfile,
  STALE_VOTER_PROFILE,
} from './raft-profiles.ts';

const FAULT_PHASE_MS = 30_000;
const HEAL_PHASE_MS = 15_000;
const OBSERVERS = 2;

interface Hunt {
  readonly bug: BugName;
  readonly profile: QuorumProfile;
  /** [voters, seeds tried]; the comment says where the first find was when the budget was set. */
  readonly budgets: readonly (readonly [number, number])[];
}

const HUNTS: readonly Hunt[] = [
  // Found at seed 1 (3 voters) and 18 (5 voters).
  {
    bug: 'raft-vote-ignores-log',
    profile: STALE_VOTER_PROFILE,
    budgets: [
      [3, 10],
      [5, 35],
    ],
  },
  // Found at seed 11 (3 voters; 19 of 200) and 7 (5 voters; 12 of the first 500).
  {
    bug: 'raft-commit-old-epoch',
    profile: FIGURE_8_PROFILE,
    budgets: [
      [3, 25],
      [5, 15],
    ],
  },
  // Found at seed 1 (3 voters; 47 of 150) and 3 (5 voters; 18 of 150).
  {
    bug: 'raft-vote-not-persisted',
    profile: POWER_CYCLED_VOTER_PROFILE,
    budgets: [
      [3, 10],
      [5, 10],
    ],
  },
  // Found at seed 2 (3 voters; 31 of 150) and 6 (5 voters; 22 of 150).
  {
    bug: 'raft-no-check-quorum',
    profile: BRIDGED_LEADER_PROFILE,
    budgets: [
      [3, 10],
      [5, 12],
    ],
  },
];

function breaksOf(bug: BugName): string {
  return (BUG_SWITCHES.find((each) => each.name === bug) as (typeof BUG_SWITCHES)[number]).breaks;
}

function runSchedule(
  seed: number,
  voters: number,
  faults: readonly TimedFault[],
  bug: BugName | null,
  profile: QuorumProfile | null,
): QuorumRunResult {
  return runQuorum({
    seed,
    voters,
    observers: OBSERVERS,
    faultPhaseMs: FAULT_PHASE_MS,
    healPhaseMs: HEAL_PHASE_MS,
    faults,
    bugs: new Set(bug === null ? [] : [bug]),
    ...(profile?.raft === undefined ? {} : { raft: profile.raft }),
  });
}

/**
 * Runs seeds 1..budget with the switch on; returns the first seed whose run breaks the switch's
 * invariant, after checking that its schedule breaks nothing with the switch off.
 */
function hunt(
  bug: BugName,
  voters: number,
  budget: number,
  scheduleOf: (seed: number) => readonly TimedFault[],
  profile: QuorumProfile | null,
): number | null {
  const invariant = breaksOf(bug);
  for (let seed = 1; seed <= budget; seed++) {
    const faults = scheduleOf(seed);
    if (!runSchedule(seed, voters, faults, bug, profile).counts.has(invariant)) continue;
    console.log(`${bug} (${voters} voters): found at seed ${seed}`);
    const clean = runSchedule(seed, voters, faults, null, profile);
    expect(
      clean.violations,
      `seed ${seed} without ${bug}: ${clean.violations.map((violation) => violation.message).join('\n')}`,
    ).toEqual([]);
    return seed;
  }
  return null;
}

describe('historical-bug switches of the metadata quorum, found by random faults', () => {
  it('hunts every switch of the metadata quorum', () => {
    expect(HUNTS.map((each) => each.bug).sort()).toEqual(
      BUG_NAMES.filter((name) => name.startsWith('raft-')).sort(),
    );
  });

  for (const { bug, profile, budgets } of HUNTS) {
    for (const [voters, budget] of budgets) {
      it(`${bug}: ${profile.name} schedules break ${breaksOf(bug)} within ${budget} seeds (${voters} voters)`, {
        timeout: 120_000,
      }, () => {
        const found = hunt(
          bug,
          voters,
          budget,
          (seed) => sampleFaultSchedule(profile.faults(voters, FAULT_PHASE_MS), seed),
          profile,
        );
        expect(found, `no seed in 1..${budget} broke ${breaksOf(bug)}`).not.toBeNull();
      });
    }
  }

  // The general swarm (every fault family, no aim) finds the plainest one too. Found at seed 84
  // (3 voters) and 169 (5 voters).
  for (const [voters, budget] of [
    [3, 140],
    [5, 260],
  ] as const) {
    it(`raft-vote-ignores-log: general schedules lose a committed entry within ${budget} seeds (${voters} voters)`, {
      timeout: 120_000,
    }, () => {
      const options: FaultScheduleOptions = {
        nodes: [...voterIds(voters), ...observerIds(OBSERVERS), '@leader', '@leader', '@follower'],
        startMs: 0,
        endMs: FAULT_PHASE_MS,
        faultsMax: 20,
      };
      const found = hunt(
        'raft-vote-ignores-log',
        voters,
        budget,
        (seed) => sampleFaultSchedule(options, seed),
        null,
      );
      expect(found).not.toBeNull();
    });
  }

  it('raft-no-check-quorum: an isolated leader keeps serving a bridging broker stale metadata', () => {
    // The leader is cut off from the other voters but not from the brokers, which bridge the split.
    const faults: TimedFault[] = [
      { atMs: 5_000, kind: 'partition', groups: [['@leader'], ['c1', 'c2', 'c3']], mode: 'silent' },
    ];
    const run = (bug: BugName | null) =>
      runQuorum({
        seed: 1,
        voters: 3,
        observers: OBSERVERS,
        faultPhaseMs: FAULT_PHASE_MS,
        healPhaseMs: HEAL_PHASE_MS,
        faults,
        bugs: new Set(bug === null ? [] : [bug]),
      });
    expect(run('raft-no-check-quorum').counts.has('metadata-staleness-bounded')).toBe(true);
    expect(run(null).violations).toEqual([]);
  });
});
