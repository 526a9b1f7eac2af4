// The history keeps sends and reads in columns and builds its entry objects only when `entries`
// is read (sim/kafka/clients/history.ts). The checkers read it by index: a checker that read
// `entries` during a run would build every entry again and keep them all, and nothing but the
// speed would show it. This holds them to it, over a run with faults, acks=all and acks=1
// producers and a consumer.

import { afterEach, describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { scenarioSpec } from '../scenarios/run.ts';
import { History } from '../sim/kafka/clients/history.ts';
import { runKafka } from './kafka-harness.ts';

const entries = Object.getOwnPropertyDescriptor(History.prototype, 'entries');

afterEach(() => {
  if (entries !== undefined) Object.defineProperty(History.prototype, 'entries', entries);
});

describe('the checkers read the history by index', () => {
  it('never build its entry objects during a run, its end-of-run checks included', () => {
    const getter = entries?.get;
    expect(getter).toBeDefined();
    let reads = 0;
    Object.defineProperty(History.prototype, 'entries', {
      ...entries,
      get(this: History) {
        reads++;
        return getter?.call(this);
      },
    });
    const { spec } = scenarioSpec(generateScenario(7, 'small'), { seed: 7, bugs: [], sets: {} });
    const result = runKafka(spec);
    expect(result.history.length).toBeGreaterThan(100);
    expect(reads).toBe(0);
    // The objects are still there for whoever asks after the run.
    expect(result.history.entries).toHaveLength(result.history.length);
    expect(reads).toBe(1);
  });
});
