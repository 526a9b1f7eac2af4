// A leader whose AlterPartition is refused goes back to the ISR the controller last confirmed only
// when the refusal says nothing was applied and the partition epoch was right (INELIGIBLE_REPLICA);
// on any other refusal (INVALID_UPDATE_VERSION, NOT_LEADER_OR_FOLLOWER, ...) a retry of the same
// proposal may have landed, so the change stays pending, its additions still counted by the
// maximal ISR, until the metadata says what the ISR is (Kafka's Partition.handleAlterPartitionError
// and KIP-497). Checked on fuzz seeds whose runs have such refusals.

import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { runScenario, scenarioSpec } from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
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
    // small seeds 7 and 102: the controller refused with INVALID_UPDATE_VERSION and
    // NOT_LEADER_OR_FOLLOWER (a scan of seeds 1–120's trace events).
    const refusals = [...refusalsOf(7), ...refusalsOf(102)];
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

describe('a refusal waits for what the controller has pending (QuorumController: a write of no records)', () => {
  it('small seed 20858 shrunk: an outgoing controller does not refuse a retry on a change a failover drops', () => {
    // `kafkasim shrink 20858` on the code that answered refusals at once. c3 received the leader's
    // AlterPartition and its retry together (a released clog), appended the first, and refused
    // the retry with INVALID_UPDATE_VERSION computed on that uncommitted change; c3 then lost the
    // quorum, the change was dropped, and the leader kept it pending for good: its ISR never grew
    // back, acked-fully-replicated at the end. A refusal now waits for the pending change to commit
    // (NOT_CONTROLLER when leadership goes first) and the leader retries with the next controller.
    const scenario: Scenario = {
      ...generateScenario(20858, 'small'),
      timeline: [
        { atMs: 8015, kind: 'isolate', node: '@follower', mode: 'silent', healAfterMs: 8847 },
        { atMs: 19188, kind: 'partition', groups: [['@controller', 'c5'], ['c2']], mode: 'silent' },
        { atMs: 19223, kind: 'clog', source: '@leader', target: '@controller' },
        {
          atMs: 24509,
          kind: 'partition',
          groups: [
            ['@controller', 'c5', 'c2'],
            ['@controller', 'c4', 'c1', 'c3'],
          ],
          mode: 'silent',
        },
        { atMs: 27170, kind: 'release' },
      ] as Scenario['timeline'],
    };
    const errors: string[] = [];
    const report = runScenario(scenario, {
      seed: 20858,
      bugs: [],
      sets: {},
      traceSink: (event) => {
        if (event.kind === 'replica.isr-change-failed')
          errors.push(String(event.fields?.['error']));
      },
    });
    expect(errors).not.toContain('INVALID_UPDATE_VERSION');
    expect(report.violations).toEqual([]);
    expect(report.partitions[0]?.isr).toHaveLength(3);
  }, 30_000);
});
