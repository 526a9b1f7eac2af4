// A follower takes its leader's high watermark, bounded by its own log end, lower too: Kafka's
// UnifiedLog.maybeUpdateHighWatermark is not monotonic on a follower (a new leader's high
// watermark can lag the old one's until it reaches its epoch start offset). Small seed 13 has such
// a failover: its follower's high watermark goes down by one.

import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { scenarioSpec } from '../scenarios/run.ts';
import { brokerOf } from '../sim/kafka/kraft/cluster.ts';
import { runKafka } from './kafka-harness.ts';

describe("a follower's high watermark", () => {
  it("follows its leader's down as well as up, never past its own log end", () => {
    const seed = 13;
    const { spec } = scenarioSpec(generateScenario(seed, 'small'), { seed, bugs: [], sets: {} });
    const last = new Map<string, { incarnation: number; highWatermark: number }>();
    const lowered: string[] = [];
    const pastEnd: string[] = [];
    runKafka({
      ...spec,
      sample: (cluster) => {
        for (const id of cluster.brokers) {
          const broker = brokerOf(cluster, id);
          if (broker === null) continue;
          const incarnation = cluster.world.node(id).incarnation;
          for (const replica of broker.replicaManager.replicas()) {
            const key = `${id}/${replica.key}`;
            const before = last.get(key);
            const { highWatermark } = replica;
            if (highWatermark > replica.logEndOffset) pastEnd.push(key);
            if (
              before?.incarnation === incarnation &&
              replica.role === 'follower' &&
              highWatermark < before.highWatermark
            )
              lowered.push(`${key} ${before.highWatermark} → ${highWatermark}`);
            last.set(key, { incarnation, highWatermark });
          }
        }
      },
    });
    expect(lowered.length).toBeGreaterThan(0);
    expect(pastEnd).toEqual([]);
  }, 30_000);
});
