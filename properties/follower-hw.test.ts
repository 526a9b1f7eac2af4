// A follower takes its leader's high watermark, bounded by its own log end, lower too: Kafka's
// UnifiedLog.maybeUpdateHighWatermark is not monotonic on a follower (a new leader's high
// watermark can lag the old one's until it reaches its epoch start offset). Small seed 13 has such
// a failover: its follower's high watermark goes down by one. One restored from the checkpoint
// commits nothing in the data checker until a leader sets it (small seed 36149).

import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { runScenario, scenarioSpec } from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
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

  it('restored from a checkpoint that predates a lossy crash, commits nothing until a leader sets it', () => {
    // `kafkasim shrink 36149` on a checker that took any replica's HW as a commitment. b3 lost its
    // log in a power failure (its HW checkpoint, written durably, kept 731), led leader epoch 3
    // from an empty log, was killed 0.4 s later, before its next checkpoint, and came back with
    // 195 records and so the HW 195 (Kafka clamps a checkpointed HW to the log end, as we do).
    // Fenced meanwhile, it returned as a follower of b2, whose log ends at 44: until its first
    // fetch answer truncated it, that HW seemed to commit records at 44–194 no leader's HW ever
    // covered, and the truncation to lose them (acked-write-durable, committed-read-stable).
    const scenario: Scenario = {
      ...generateScenario(36149, 'small'),
      timeline: [
        { atMs: 8000, kind: 'bounce', node: 'c3', crash: 'kill', downMs: 3012 },
        { atMs: 8007, kind: 'slow', node: 'c1', extraLatencyMs: 40 },
        { atMs: 8200, kind: 'slow', node: 'c5', extraLatencyMs: 23 },
        { atMs: 8991, kind: 'slow', node: 'c2', extraLatencyMs: 50 },
        {
          atMs: 10007,
          kind: 'bounce',
          node: '@new-controller',
          crash: 'kill',
          downMs: 8015,
          awaitMs: 42000,
        },
        { atMs: 10162, kind: 'bounce', node: 'c5', crash: 'powerFailure', downMs: 9083 },
        { atMs: 18575, kind: 'isolate', node: '@controller', mode: 'silent', healAfterMs: 7627 },
        { atMs: 24753, kind: 'bounce', node: '@new-controller', crash: 'kill', downMs: 6391 },
        { atMs: 24964, kind: 'bounce', node: '@leader', crash: 'kill', downMs: 6713 },
        { atMs: 30512, kind: 'bounce', node: 'c1', crash: 'powerFailure', downMs: 11997 },
        { atMs: 30523, kind: 'bounce', node: '@follower', crash: 'powerFailure', downMs: 11992 },
        { atMs: 35417, kind: 'bounce', node: 'c4', crash: 'powerFailure', downMs: 3448 },
        { atMs: 49371, kind: 'bounce', node: '@leader', crash: 'kill', downMs: 12869 },
      ] as Scenario['timeline'],
      faultPhaseMs: 50660,
    };
    const staleFollowers: number[] = [];
    const report = runScenario(scenario, {
      seed: 36149,
      bugs: [],
      sets: {},
      traceSink: (event) => {
        if (event.kind !== 'replica.follower' || event.node !== 'b3') return;
        const highWatermark = Number(event.fields?.['highWatermark']);
        if (highWatermark > 44) staleFollowers.push(highWatermark);
      },
    });
    expect(staleFollowers).toEqual([195]);
    expect(report.violations).toEqual([]);
  }, 30_000);
});
