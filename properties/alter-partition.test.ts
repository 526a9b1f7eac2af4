// A leader whose AlterPartition is refused goes back to the ISR the controller last confirmed only
// when the refusal says nothing was applied and the partition epoch was right (INELIGIBLE_REPLICA);
// on any other refusal (INVALID_UPDATE_VERSION, NOT_LEADER_OR_FOLLOWER, ...) a retry of the same
// proposal may have landed, so the change stays pending, its additions still counted by the
// maximal ISR, until the metadata says what the ISR is (Kafka's Partition.handleAlterPartitionError
// and KIP-497). Checked on fuzz seeds whose runs have such refusals.

import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { scenarioSpec } from '../scenarios/run.ts';
import { brokerOf } from '../sim/kafka/kraft/cluster.ts';
import { runKafka } from './kafka-harness.ts';

interface Refusal {
  readonly node: string;
  readonly partition: string;
  readonly error: string;
  readonly atMs: number;
}

/** Each refusal of the run, and whether the leader still had its proposal pending right after. */
function refusalsOf(seed: number): { refusal: Refusal; pending: boolean }[] {
  const { spec } = scenarioSpec(generateScenario(seed, 'small'), { seed, bugs: [], sets: {} });
  const seen: { refusal: Refusal; pending: boolean }[] = [];
  let fresh: Refusal[] = [];
  runKafka({
    ...spec,
    trace: {
      sink: (event) => {
        if (event.kind !== 'replica.isr-change-failed') return;
        fresh.push({
          node: event.node,
          partition: String(event.fields?.['partition']),
          error: String(event.fields?.['error']),
          atMs: event.atMs,
        });
      },
    },
    // After the event that refused it: what the leader does with its proposal.
    sample: (cluster) => {
      for (const refusal of fresh) {
        const broker = brokerOf(cluster, refusal.node);
        const replica = broker?.replicaManager
          .replicas()
          .find((each) => each.key === refusal.partition);
        seen.push({ refusal, pending: replica?.leaderState?.pendingIsr != null });
      }
      fresh = [];
    },
  });
  return seen;
}

describe('a refused AlterPartition (KIP-497, Partition.handleAlterPartitionError)', () => {
  it('keeps the change pending after INVALID_UPDATE_VERSION or NOT_LEADER_OR_FOLLOWER: the metadata decides', () => {
    // small seeds 4 and 7: the controller refused with NOT_LEADER_OR_FOLLOWER and
    // INVALID_UPDATE_VERSION (a fuzz campaign's trace events, seeds 1–200).
    const refusals = [...refusalsOf(4), ...refusalsOf(7)];
    const errors = new Set(refusals.map(({ refusal }) => refusal.error));
    expect(errors).toContain('INVALID_UPDATE_VERSION');
    expect(errors).toContain('NOT_LEADER_OR_FOLLOWER');
    for (const { refusal, pending } of refusals)
      expect(pending, JSON.stringify(refusal)).toBe(true);
  }, 30_000);

  it('goes back to the committed ISR after INELIGIBLE_REPLICA: nothing was applied', () => {
    const refusals = refusalsOf(290);
    expect(refusals.map(({ refusal }) => refusal.error)).toContain('INELIGIBLE_REPLICA');
    for (const { refusal, pending } of refusals)
      if (refusal.error === 'INELIGIBLE_REPLICA') expect(pending).toBe(false);
  }, 30_000);
});
