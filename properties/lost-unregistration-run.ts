// The shrunk run of `standard` seed 26944 (properties/lost-unregistration.test.ts tells it): a
// removed broker whose unregistration a controller failover dropped, left the only ELR member of
// two partitions, which stay offline. Shared by the tests of the checker's rule and of the story
// `repro` tells of a partition left without a leader (scenarios/explain-heal.test.ts).

import { generateScenario } from '../scenarios/generate.ts';
import type { Scenario } from '../scenarios/scenario.ts';

export const LOST_UNREGISTRATION_SEED = 26944;

export function lostUnregistrationScenario(): Scenario {
  return {
    ...generateScenario(LOST_UNREGISTRATION_SEED, 'standard'),
    timeline: [
      {
        atMs: 8007,
        kind: 'partition-one-way',
        sources: ['c3', 'b2', 'b3', '@leader'],
        targets: ['c1', '@follower', 'b1', 'c2'],
        mode: 'silent',
      },
      { atMs: 8009, kind: 'bounce', node: '@replica-2', crash: 'diskLoss', downMs: 3997 },
      { atMs: 21309, kind: 'remove-broker', node: 'b5' },
      { atMs: 22495, kind: 'partition', groups: [['c1'], ['c2']], mode: 'silent' },
      { atMs: 38903, kind: 'bounce', node: '@replica-1', crash: 'diskLoss', downMs: 2484 },
    ] as Scenario['timeline'],
    faultPhaseMs: 47451,
  };
}
