// A named scenario: a cluster, its topics and clients, a timeline of faults and operations (each
// at a time, or at the first moment after it that a protocol trigger holds), and the outcome the
// scenario exists to show. Written in TypeScript with `defineScenario` (one file per scenario,
// named as a sentence) or as a JSON file of the same shape (json.ts); both are checked the same way.

import type { ProducerSpec, Step, TopicSpec } from '../properties/kafka-harness.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import type { Ms } from '../sim/kernel/time.ts';

export interface ScenarioCluster {
  readonly controllers: number;
  readonly brokers: number;
}

/** What a run of the scenario must show: exactly these broken invariants, and at least these allowed losses. */
export interface Expectation {
  /** Invariant ids the scenario breaks on purpose; empty: every invariant holds. */
  readonly violations: readonly string[];
  /** Allowed-loss reasons (acks-1, unclean-election, ...) the run must show. */
  readonly allowed: readonly string[];
}

/** What the scenario shows with one historical bug switched back on (`--bug`). */
export interface Demonstration extends Expectation {
  readonly bug: BugName;
}

export interface Scenario {
  /** Kebab-case, a sentence: `acks-all-survives-a-leader-crash`. */
  readonly name: string;
  /** One line for `kafkasim list`. */
  readonly summary: string;
  /** What Kafka concept it shows, what happens and what to look for in the output. */
  readonly description: string;
  /**
   * The seed the scenario is meant to be run with when `--seed` is not given (a file written by
   * `fuzz --out` or `shrink` records the seed that found it); absent: 1.
   */
  readonly seed?: number;
  readonly cluster: ScenarioCluster;
  readonly topics: readonly TopicSpec[];
  readonly producers: readonly ProducerSpec[];
  /** Each consumer reads every partition of its topics. */
  readonly consumers: readonly (readonly string[])[];
  /** Faults and operations of the fault phase; nodes may be ids or roles (`@leader`, `@replica-1`). */
  readonly timeline: readonly Step[];
  readonly faultPhaseMs: Ms;
  readonly healPhaseMs: Ms;
  /** Cluster and client settings, by Kafka's names (settings.ts); `--set` overrides them. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly expect: Expectation;
  /** Outcomes with a bug switched back on. */
  readonly demonstrates: readonly Demonstration[];
}

/** The fields a scenario file writes; the rest have defaults. */
export type ScenarioInput = Pick<Scenario, 'name' | 'summary' | 'description' | 'topics'> &
  Partial<Omit<Scenario, 'name' | 'summary' | 'description' | 'topics' | 'expect'>> & {
    readonly expect?: Partial<Expectation>;
  };

export const SCENARIO_DEFAULTS = {
  cluster: { controllers: 3, brokers: 3 },
  faultPhaseMs: 40_000,
  healPhaseMs: 40_000,
} as const;

/** A scenario with its defaults filled in (validation: validate.ts). */
export function defineScenario(input: ScenarioInput): Scenario {
  return {
    name: input.name,
    summary: input.summary,
    description: input.description,
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    cluster: input.cluster ?? SCENARIO_DEFAULTS.cluster,
    topics: input.topics,
    producers: input.producers ?? [],
    consumers: input.consumers ?? [],
    timeline: input.timeline ?? [],
    faultPhaseMs: input.faultPhaseMs ?? SCENARIO_DEFAULTS.faultPhaseMs,
    healPhaseMs: input.healPhaseMs ?? SCENARIO_DEFAULTS.healPhaseMs,
    settings: input.settings ?? {},
    expect: { violations: input.expect?.violations ?? [], allowed: input.expect?.allowed ?? [] },
    demonstrates: input.demonstrates ?? [],
  };
}

/** The outcome a run with `bugs` must show: the demonstration of exactly those bugs, or the plain expectation. */
export function expectationFor(scenario: Scenario, bugs: readonly BugName[]): Expectation {
  if (bugs.length === 0) return scenario.expect;
  const match = scenario.demonstrates.find((each) => bugs.length === 1 && each.bug === bugs[0]);
  return match ?? scenario.expect;
}
