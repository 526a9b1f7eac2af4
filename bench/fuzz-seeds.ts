// Small-profile fuzz seeds as the fuzzer runs them: a scenario drawn from the seed, run with every
// check on and no bugs.

import { generateScenario } from '../scenarios/generate.ts';
import { runScenario } from '../scenarios/run.ts';

export interface FuzzSeedsResult {
  readonly seeds: number;
  readonly events: number;
  readonly simulatedMs: number;
  /** Seeds whose outcome was not the expected one (none, with no bugs switched on). */
  readonly unexpected: number;
}

/** Runs seeds `firstSeed` .. `firstSeed + seeds - 1` of the small profile. */
export function runSmallSeeds(firstSeed: number, seeds: number): FuzzSeedsResult {
  let events = 0;
  let simulatedMs = 0;
  let unexpected = 0;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const report = runScenario(generateScenario(seed, 'small'), {
      seed,
      bugs: [],
      sets: {},
      timeline: false,
    });
    events += report.stats.events;
    simulatedMs += report.stats.simulatedMs;
    if (!report.ok) unexpected++;
  }
  return { seeds, events, simulatedMs, unexpected };
}
