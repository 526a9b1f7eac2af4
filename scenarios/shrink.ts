// Shrinking a failing scenario (`kafkasim shrink`): the smallest timeline, the shortest run and
// the smallest cluster and workload that still break the same invariant. First delta debugging
// over the timeline's steps (drop halves, then quarters, ..., then single steps, keeping every cut
// that still fails), then a shorter fault phase (and with it a shorter workload: producers write
// until the fault phase ends), then fewer clients, topics, partitions, brokers, controllers and
// settings (one at a time, each kept if it still fails: a run with less in it is a trace with less
// to read). Every
// candidate is validated (an invalid one is skipped, not run) and run with the same seed and bugs;
// the number of runs is bounded, and the result says when the bound cut it short.

import type { BugName } from '../sim/kafka/bugs.ts';
import type { Ms } from '../sim/kernel/time.ts';
import { runScenario, type ScenarioReport } from './run.ts';
import type { Scenario } from './scenario.ts';
import { ScenarioError } from './settings.ts';
import { validateScenario } from './validate.ts';

export interface ShrinkOptions {
  readonly seed: number;
  readonly bugs: readonly BugName[];
  readonly sets?: Readonly<Record<string, string>>;
  /** Runs allowed in all, the original's included (default 200). */
  readonly runsMax?: number;
}

/**
 * What must keep happening: an invariant that must still break, or any predicate on the report
 * (a report without its timeline: the search runs many candidates and reads only what broke).
 */
export type ShrinkTarget = string | ((report: ScenarioReport) => boolean);

export interface ShrinkResult {
  readonly scenario: Scenario;
  /** The last failing run, of `scenario` (without its timeline: `kafkasim run` shows it). */
  readonly report: ScenarioReport;
  readonly runs: number;
  readonly runsMax: number;
  /** The run bound stopped the search before it was done. */
  readonly cutShort: boolean;
  /** Candidates skipped because validation rejected them. */
  readonly invalid: number;
  /** Why the first of them was rejected (the scenario rule it broke), or null. */
  readonly invalidWhy: string | null;
  /**
   * What the shrinker tried to cut and kept, because the run without it no longer broke the
   * invariant (`the consumer of orders`, `broker b3`): part of the failure, or of its timing.
   */
  readonly needed: readonly string[];
  readonly stepsBefore: number;
  readonly stepsAfter: number;
  readonly faultPhaseMsBefore: Ms;
  readonly faultPhaseMsAfter: Ms;
  /** The cluster and workload before and after (see ScenarioSize). */
  readonly sizeBefore: ScenarioSize;
  readonly sizeAfter: ScenarioSize;
}

/** How much a scenario runs: its nodes, what the workload uses, and the settings it sets. */
export interface ScenarioSize {
  readonly controllers: number;
  readonly brokers: number;
  readonly topics: number;
  /** Partitions of every topic together. */
  readonly partitions: number;
  readonly producers: number;
  readonly consumers: number;
  /** Settings the scenario sets (the others are Kafka's defaults). */
  readonly settings: number;
}

export function sizeOf(scenario: Scenario): ScenarioSize {
  return {
    controllers: scenario.cluster.controllers,
    brokers: scenario.cluster.brokers,
    topics: scenario.topics.length,
    partitions: scenario.topics.reduce((sum, topic) => sum + topic.partitions, 0),
    producers: scenario.producers.length,
    consumers: scenario.consumers.length,
    settings: Object.keys(scenario.settings).length,
  };
}

export const SHRINK_RUNS_MAX = 200;
/** The fault phase is never cut below the last step plus this (a bounce's restart, a pause's end). */
const PHASE_MARGIN_MS = 1_000;
/** Stop halving the fault phase when the interval is this small. */
const PHASE_PRECISION_MS = 500;

class Search {
  runs = 0;
  invalid = 0;
  invalidWhy: string | null = null;
  cutShort = false;
  readonly #options: ShrinkOptions;
  readonly #stillFails: (report: ScenarioReport) => boolean;
  readonly runsMax: number;

  constructor(options: ShrinkOptions, stillFails: (report: ScenarioReport) => boolean) {
    this.#options = options;
    this.#stillFails = stillFails;
    this.runsMax = options.runsMax ?? SHRINK_RUNS_MAX;
  }

  /** The candidate's failing report, or null (it holds, is invalid, or the bound is spent). */
  attempt(candidate: Scenario): ScenarioReport | null {
    try {
      validateScenario(candidate);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      this.invalid++;
      this.invalidWhy ??= error.message;
      return null;
    }
    if (this.runs >= this.runsMax) {
      this.cutShort = true;
      return null;
    }
    this.runs++;
    let report: ScenarioReport;
    try {
      report = runScenario(candidate, {
        seed: this.#options.seed,
        bugs: this.#options.bugs,
        sets: this.#options.sets ?? {},
        timeline: false,
      });
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      this.invalid++;
      this.invalidWhy ??= error.message;
      return null;
    }
    return this.#stillFails(report) ? report : null;
  }

  /** The bound is spent: the search stops here, with work left (so: cut short). */
  get spent(): boolean {
    if (this.runs < this.runsMax) return false;
    this.cutShort = true;
    return true;
  }
}

function predicateFor(target: ShrinkTarget): (report: ScenarioReport) => boolean {
  if (typeof target === 'string') return (report) => report.counts[target] !== undefined;
  return target;
}

/** Shrinks `scenario` while `target` still fails; throws ScenarioError when it does not fail at all. */
export function shrinkScenario(
  scenario: Scenario,
  options: ShrinkOptions,
  target: ShrinkTarget,
): ShrinkResult {
  const search = new Search(options, predicateFor(target));
  const original = search.attempt(scenario);
  if (original === null)
    throw new ScenarioError(
      `${scenario.name} does not break ${typeof target === 'string' ? target : 'the target'} with seed ${options.seed}${options.bugs.length === 0 ? '' : ` and --bug ${options.bugs.join(' --bug ')}`}: nothing to shrink`,
    );
  let best = { scenario, report: original };
  best = shrinkSteps(best, search);
  best = shiftEarlier(best, search);
  best = shrinkFaultPhase(best, search);
  const workload = shrinkWorkload(best, search);
  best = workload.best;
  // A second pass: a shorter phase or a smaller cluster may make more steps removable.
  if (!search.spent) best = shrinkSteps(best, search);
  return {
    scenario: best.scenario,
    report: best.report,
    runs: search.runs,
    runsMax: search.runsMax,
    cutShort: search.cutShort,
    invalid: search.invalid,
    invalidWhy: search.invalidWhy,
    needed: workload.needed,
    stepsBefore: scenario.timeline.length,
    stepsAfter: best.scenario.timeline.length,
    faultPhaseMsBefore: scenario.faultPhaseMs,
    faultPhaseMsAfter: best.scenario.faultPhaseMs,
    sizeBefore: sizeOf(scenario),
    sizeAfter: sizeOf(best.scenario),
  };
}

interface Best {
  readonly scenario: Scenario;
  readonly report: ScenarioReport;
}

/** Delta debugging over the steps: remove chunks of n/2, n/4, ..., 1 while the failure stays. */
function shrinkSteps(start: Best, search: Search): Best {
  let best = start;
  let chunk = Math.max(1, Math.floor(best.scenario.timeline.length / 2));
  for (let round = 0; round < 64 && best.scenario.timeline.length > 0; round++) {
    let removedAny = false;
    let index = 0;
    while (index < best.scenario.timeline.length && !search.spent) {
      const timeline = best.scenario.timeline;
      const candidate = {
        ...best.scenario,
        timeline: [...timeline.slice(0, index), ...timeline.slice(index + chunk)],
      };
      const report = search.attempt(candidate);
      if (report === null) index += chunk;
      else {
        best = { scenario: candidate, report };
        removedAny = true;
      }
    }
    if (search.spent) return best;
    if (chunk === 1 && !removedAny) return best;
    if (chunk > 1) chunk = Math.max(1, Math.floor(chunk / 2));
  }
  return best;
}

/** The earliest the steps may start: after the cluster is up and the workload has begun. */
const STEPS_FROM_MS = 8_000;

/**
 * Starts the faults earlier (every step and the end of the fault phase moved back by the same
 * amount): less workload before the faults, a shorter run. Binary search on the shift.
 */
function shiftEarlier(start: Best, search: Search): Best {
  let best = start;
  const original = start.scenario;
  if (original.timeline.length === 0) return best;
  const firstStepMs = Math.min(...original.timeline.map((step) => step.atMs));
  let low = 0;
  let high = Math.max(0, firstStepMs - STEPS_FROM_MS);
  if (high <= PHASE_PRECISION_MS) return best;
  // Try the whole shift first: often the faults need no history before them.
  const shifted = (by: Ms): Scenario => ({
    ...original,
    timeline: original.timeline.map((step) => ({ ...step, atMs: step.atMs - by })),
    faultPhaseMs: original.faultPhaseMs - by,
  });
  const whole = search.attempt(shifted(high));
  if (whole !== null) return { scenario: shifted(high), report: whole };
  for (let round = 0; round < 32 && high - low > PHASE_PRECISION_MS && !search.spent; round++) {
    const middle = Math.floor((low + high) / 2);
    const report = search.attempt(shifted(middle));
    if (report === null) high = middle;
    else {
      best = { scenario: shifted(middle), report };
      low = middle;
    }
  }
  return best;
}

/** The shortest fault phase (binary search above the last step's time) that still fails. */
function shrinkFaultPhase(start: Best, search: Search): Best {
  let best = start;
  const lastStepMs = Math.max(0, ...best.scenario.timeline.map((step) => step.atMs));
  let low = lastStepMs + PHASE_MARGIN_MS;
  let high = best.scenario.faultPhaseMs;
  for (let round = 0; round < 32 && high - low > PHASE_PRECISION_MS && !search.spent; round++) {
    const middle = Math.floor((low + high) / 2);
    const candidate = { ...best.scenario, faultPhaseMs: middle };
    const report = search.attempt(candidate);
    if (report === null) low = middle;
    else {
      best = { scenario: candidate, report };
      high = middle;
    }
  }
  return best;
}

/**
 * Fewer consumers, producers, topics, partitions, brokers, controllers and settings, each cut
 * tried alone and kept while the failure stays: the last client first (the others keep their
 * names), a topic once no client uses it, a topic's partitions down to one, the last broker while
 * every topic still fits, the last controller, each setting (back to Kafka's default).
 */
function shrinkWorkload(start: Best, search: Search): { best: Best; needed: string[] } {
  let best = start;
  const needed: string[] = [];
  /**
   * Keeps `candidate` if it still fails; whether it did. A candidate that ran and broke nothing
   * makes `what` (the part it cut) needed.
   */
  const attempt = (candidate: Scenario, what: string): boolean => {
    if (search.spent) return false;
    const ran = search.runs;
    const invalid = search.invalid;
    const report = search.attempt(candidate);
    if (report === null) {
      if (search.runs > ran && search.invalid === invalid) needed.push(what);
      return false;
    }
    best = { scenario: candidate, report };
    return true;
  };
  for (let index = best.scenario.consumers.length - 1; index >= 0; index--)
    attempt(
      { ...best.scenario, consumers: without(best.scenario.consumers, index) },
      `the consumer of ${(best.scenario.consumers[index] ?? []).join(', ')}`,
    );
  for (let index = best.scenario.producers.length - 1; index >= 0; index--) {
    const producer = best.scenario.producers[index] as Scenario['producers'][number];
    attempt(
      { ...best.scenario, producers: without(best.scenario.producers, index) },
      `the acks=${producer.acks} producer to ${producer.topic}`,
    );
  }
  for (let index = best.scenario.topics.length - 1; index >= 0; index--) {
    const name = (best.scenario.topics[index] as Scenario['topics'][number]).name;
    const used =
      best.scenario.producers.some((producer) => producer.topic === name) ||
      best.scenario.consumers.some((topics) => topics.includes(name));
    if (!used)
      attempt({ ...best.scenario, topics: without(best.scenario.topics, index) }, `topic ${name}`);
  }
  best.scenario.topics.forEach((topic, index) => {
    if (topic.partitions <= 1) return;
    const topics = [...best.scenario.topics];
    topics[index] = { ...topic, partitions: 1 };
    attempt({ ...best.scenario, topics }, `${topic.name}'s ${topic.partitions} partitions`);
  });
  // One fewer at a time, while each cut still fails.
  const cluster = () => best.scenario.cluster;
  while (
    cluster().brokers > 1 &&
    attempt(
      { ...best.scenario, cluster: { ...cluster(), brokers: cluster().brokers - 1 } },
      `broker b${cluster().brokers}`,
    )
  );
  while (
    cluster().controllers > 1 &&
    attempt(
      { ...best.scenario, cluster: { ...cluster(), controllers: cluster().controllers - 1 } },
      `controller c${cluster().controllers}`,
    )
  );
  for (const key of Object.keys(best.scenario.settings).sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const { [key]: _dropped, ...settings } = best.scenario.settings;
    attempt({ ...best.scenario, settings }, `the setting ${key}=${best.scenario.settings[key]}`);
  }
  return { best, needed };
}

function without<T>(items: readonly T[], index: number): T[] {
  return [...items.slice(0, index), ...items.slice(index + 1)];
}
