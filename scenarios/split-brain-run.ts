// The shrunk run of `small` seed 42 under raft-vote-not-persisted: a voter votes for two
// candidates of one epoch across a power failure, and nothing ends the split (two metadata
// leaders to the end). Shared by the tests of the end-of-run quorum table
// (scenarios/timeline.test.ts) and of which stories are told (scenarios/explain.test.ts).

import type { BugName } from '../sim/kafka/bugs.ts';
import { generateScenario } from './generate.ts';
import type { Scenario } from './scenario.ts';

export const SPLIT_BRAIN_SEED = 42;
export const SPLIT_BRAIN_BUG: BugName = 'raft-vote-not-persisted';

/** What `kafkasim shrink 42 --bug raft-vote-not-persisted` writes. */
export function splitBrainScenario(): Scenario {
  return {
    ...generateScenario(SPLIT_BRAIN_SEED, 'small'),
    producers: [{ topic: 'orders', acks: 'all', idempotent: true, everyMs: 35 }],
    timeline: [
      { atMs: 8006, kind: 'bounce', node: '@controller', crash: 'kill', downMs: 109 },
      {
        atMs: 8960,
        kind: 'bounce',
        node: '@voted-controller',
        crash: 'powerFailure',
        downMs: 1,
        awaitMs: 42000,
      },
    ],
    faultPhaseMs: 10311,
  };
}
