import { describe, expect, it } from 'vitest';
import { runKafka } from './kafka-harness.ts';

describe('the end-of-run verdicts', () => {
  it('writes-resolve: a send still waiting after the heal is reported, with its producer and value', () => {
    const result = runKafka({
      seed: 2,
      controllers: 1,
      brokers: 3,
      topics: [{ name: 't', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
      producers: [
        { topic: 't', acks: 'all', everyMs: 100 },
        // A topic nobody creates: the send waits for its metadata, past the end of the run.
        { topic: 'missing', acks: 'all', everyMs: 1_000, count: 1, startMs: 28_000 },
      ],
      consumers: [['t']],
      faults: [],
      faultPhaseMs: 20_000,
      healPhaseMs: 10_000,
    });
    expect(result.violations.map((violation) => violation.message)).toEqual([
      "p2's write p2-0 to missing (no partition chosen yet) is still unresolved after healing",
    ]);
    // The other producer's writes all resolved: nothing else is open.
    expect(result.history.openCount).toBe(1);
  });
});
