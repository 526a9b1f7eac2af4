// Every named scenario, one file each, named as a sentence. `kafkasim list` shows them in this
// order; `kafkasim run NAME` runs one.

import acksAllSurvivesALeaderCrash from './acks-all-survives-a-leader-crash.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIOS: readonly Scenario[] = [acksAllSurvivesALeaderCrash];

/** The flagship scenario: what `npm start` runs. */
export const FLAGSHIP = 'acks-all-survives-a-leader-crash';

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
