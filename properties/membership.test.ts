import { describe, expect, it } from 'vitest';
import { activeController } from '../sim/kafka/kraft/cluster.ts';
import { runKafka } from './kafka-harness.ts';

describe('removing a broker', () => {
  it('unregisters it even when the controller quorum is down at the time (asked again until answered)', () => {
    const retries: string[] = [];
    const result = runKafka({
      seed: 5,
      controllers: 3,
      brokers: 4,
      topics: [{ name: 't', partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 }],
      producers: [{ topic: 't', acks: 'all', everyMs: 50 }],
      consumers: [],
      faults: [
        // Two of three voters down until the heal: no controller answers for 50 s, longer than
        // the admin client's own attempts last.
        { atMs: 10_000, kind: 'crash', node: 'c1', crash: 'kill' },
        { atMs: 10_000, kind: 'crash', node: 'c2', crash: 'kill' },
        { atMs: 12_000, kind: 'remove-broker', node: 'b4' },
      ],
      faultPhaseMs: 60_000,
      healPhaseMs: 30_000,
      trace: {
        sink: (event) => retries.push(String(event.fields?.error)),
        sinkFilter: (kind) => kind === 'operation.remove-broker-retry',
      },
    });
    expect(result.violations).toEqual([]);
    expect(retries.length).toBeGreaterThan(0);
    const image = activeController(result.cluster)?.image;
    expect(image).toBeDefined();
    expect(image?.broker('b4')).toBeUndefined();
    expect(image?.broker('b1')).toBeDefined();
  });
});
