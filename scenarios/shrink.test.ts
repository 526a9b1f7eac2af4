// Shrinking: a failing fuzz seed under each of truncate-to-hw, no-elr and raft-vote-not-persisted
// comes down to a handful of steps that still break the same invariant, and the shrunk scenario, written as JSON and read
// back, breaks it again with the bug.

import { describe, expect, it } from 'vitest';
import type { BugName } from '../sim/kafka/bugs.ts';
import { generateScenario } from './generate.ts';
import { parseScenarioJson, scenarioToJson } from './json.ts';
import { runScenario } from './run.ts';
import { shrinkScenario } from './shrink.ts';

const CASES: readonly { seed: number; bug: BugName; invariant: string }[] = [
  { seed: 19, bug: 'truncate-to-hw', invariant: 'acked-write-durable' },
  { seed: 64, bug: 'no-elr', invariant: 'acked-write-durable' },
  // A metadata quorum bug (the zoo's find): 38 steps, the quorum layer's among them (28 runs to 2).
  { seed: 42, bug: 'raft-vote-not-persisted', invariant: 'raft-election-safety' },
];

describe('shrinkScenario', () => {
  for (const { seed, bug, invariant } of CASES) {
    it(`shrinks small seed ${seed} under ${bug} to at most 5 steps that still break ${invariant}`, () => {
      const scenario = generateScenario(seed, 'small');
      const result = shrinkScenario(scenario, { seed, bugs: [bug], runsMax: 60 }, invariant);
      expect(result.stepsBefore).toBe(scenario.timeline.length);
      expect(result.stepsAfter).toBeLessThanOrEqual(5);
      expect(result.stepsAfter).toBeLessThan(result.stepsBefore);
      expect(result.faultPhaseMsAfter).toBeLessThanOrEqual(result.faultPhaseMsBefore);
      expect(result.runs).toBeLessThanOrEqual(60);
      expect(result.report.counts[invariant]).toBeGreaterThan(0);
      // Never a larger cluster or workload; each of these seeds fails with one producer less.
      for (const key of Object.keys(result.sizeBefore) as (keyof typeof result.sizeBefore)[])
        expect(result.sizeAfter[key]).toBeLessThanOrEqual(result.sizeBefore[key]);
      expect(result.sizeAfter.producers).toBeLessThan(result.sizeBefore.producers);
      expect(result.scenario.producers.length).toBe(result.sizeAfter.producers);
      // The JSON form replays: same seed, same bug, the same invariant breaks.
      const replayed = parseScenarioJson(scenarioToJson(result.scenario), 'shrunk.json');
      expect(replayed.timeline).toEqual(result.scenario.timeline);
      const report = runScenario(replayed, { seed, bugs: [bug], sets: {} });
      expect(report.counts[invariant]).toBeGreaterThan(0);
      expect(report.traceHash).toBe(result.report.traceHash);
    }, 120_000);
  }

  it('keeps a client, topic or broker whose removal makes the failure go away', () => {
    // Seed 19 under truncate-to-hw needs neither its acks=1 producer nor its consumer; seed 42's
    // election-safety failure goes away without the consumer (the run is another run then), so
    // the consumer stays.
    const truncate = shrinkScenario(
      generateScenario(19, 'small'),
      { seed: 19, bugs: ['truncate-to-hw'], runsMax: 60 },
      'acked-write-durable',
    );
    expect(truncate.sizeBefore).toEqual({
      controllers: 5,
      brokers: 3,
      topics: 1,
      partitions: 1,
      producers: 2,
      consumers: 1,
      settings: 1,
    });
    // One controller is enough for a data-path bug; the fetch size setting is not needed.
    expect(truncate.sizeAfter).toEqual({
      controllers: 1,
      brokers: 3,
      topics: 1,
      partitions: 1,
      producers: 1,
      consumers: 0,
      settings: 0,
    });
    expect(truncate.scenario.producers.map((producer) => producer.acks)).toEqual(['all']);
    const election = shrinkScenario(
      generateScenario(42, 'small'),
      { seed: 42, bugs: ['raft-vote-not-persisted'], runsMax: 60 },
      'raft-election-safety',
    );
    expect(election.sizeAfter.consumers).toBe(1);
    // The shrinker says what it kept for that reason; seed 19 kept no client.
    expect(election.needed).toContain('the consumer of orders');
    expect(truncate.needed.filter((what) => what.startsWith('the consumer'))).toEqual([]);
    const withoutConsumer = runScenario(
      { ...election.scenario, consumers: [] },
      { seed: 42, bugs: ['raft-vote-not-persisted'], sets: {}, timeline: false },
    );
    expect(withoutConsumer.counts['raft-election-safety']).toBeUndefined();
  }, 120_000);

  it('says why a cut was not run: the scenario rule it would break', () => {
    // Seed 370 under no-broker-epoch: cutting to two brokers leaves a topic of three replicas.
    const result = shrinkScenario(
      generateScenario(370, 'small'),
      { seed: 370, bugs: ['no-broker-epoch'] },
      'acked-write-durable',
    );
    expect(result.invalid).toBeGreaterThan(0);
    expect(result.invalidWhy).toBe('topics[0].replicationFactor: 3 is more than the 2 brokers');
  }, 60_000);

  it('refuses a scenario that does not fail, and stops at the run bound', () => {
    const scenario = generateScenario(19, 'small');
    expect(() =>
      shrinkScenario(scenario, { seed: 19, bugs: [], runsMax: 5 }, 'acked-write-durable'),
    ).toThrow(/nothing to shrink/);
    const bounded = shrinkScenario(
      scenario,
      { seed: 19, bugs: ['truncate-to-hw'], runsMax: 3 },
      'acked-write-durable',
    );
    expect(bounded.runs).toBe(3);
    expect(bounded.cutShort).toBe(true);
    expect(bounded.report.counts['acked-write-durable']).toBeGreaterThan(0);
  }, 60_000);
});
