import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KraftCluster } from '../sim/kafka/kraft/cluster.ts';
import { activeController, brokerOf, controllerOf } from '../sim/kafka/kraft/cluster.ts';
import { replicaIndexOf } from './data-roles.ts';
import type { Step } from './kafka-harness.ts';
import { runKafka } from './kafka-harness.ts';

interface Moment {
  /** The leader of t-0 has an AlterPartition in flight. */
  readonly inFlight: boolean;
  readonly activeController: string | null;
}

function momentOf(cluster: KraftCluster): Moment {
  const active = activeController(cluster);
  const activeId = cluster.controllers.find((id) => controllerOf(cluster, id) === active) ?? null;
  const inFlight = cluster.brokers.some((id) => {
    const replica = brokerOf(cluster, id)?.replicaManager.replicas()[0];
    return replica?.role === 'leader' && replica.alterPartitionInFlight !== null;
  });
  return { inFlight, activeController: activeId };
}

/**
 * Runs t-0 (RF 3, min ISR 2) with an acks=all producer; a follower is cut off at 10 s, so the
 * leader shrinks the ISR (an AlterPartition) once the lag time passes. Returns the state of the
 * cluster when each isolate fault fired (sampled after the event that let it fire).
 */
function isolations(step: Step): { target: string; atMs: number; moment: Moment }[] {
  let last: Moment = { inFlight: false, activeController: null };
  const fired: { target: string; atMs: number; moment: Moment }[] = [];
  const result = runKafka({
    seed: 3,
    controllers: 3,
    brokers: 3,
    topics: [{ name: 't', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
    producers: [{ topic: 't', acks: 'all', everyMs: 50 }],
    consumers: [],
    faults: [
      { atMs: 10_000, kind: 'isolate', node: '@follower', mode: 'silent', healAfterMs: 40_000 },
      step,
    ],
    faultPhaseMs: 60_000,
    healPhaseMs: 30_000,
    sample: (cluster) => {
      last = momentOf(cluster);
    },
    trace: {
      sink: (event) => {
        if (event.kind === 'fault.isolate')
          fired.push({ target: String(event.fields?.target), atMs: event.atMs, moment: last });
      },
      sinkFilter: (kind) => kind === 'fault.isolate',
    },
  });
  expect(result.violations).toEqual([]);
  return fired;
}

describe('protocol moments for faults that wait', () => {
  it('@controller-during-alter-partition cuts off the active controller while an ISR change is in flight', () => {
    const fired = isolations({
      atMs: 10_000,
      awaitMs: 50_000,
      kind: 'isolate',
      node: '@controller-during-alter-partition',
      mode: 'silent',
      healAfterMs: 5_000,
    });
    const [follower, controller] = fired as [(typeof fired)[0], (typeof fired)[0]];
    expect(fired).toHaveLength(2);
    expect(follower.target).toMatch(/^b/);
    expect(controller.target).toMatch(/^c/);
    // Only once the ISR shrink was proposed: not when the follower was cut off.
    expect(controller.atMs).toBeGreaterThan(follower.atMs + 1_000);
    expect(controller.moment).toEqual({ inFlight: true, activeController: controller.target });
  });

  it('the alter-partition-in-flight trigger holds back a step until that moment', () => {
    const fired = isolations({
      atMs: 10_000,
      when: 'alter-partition-in-flight',
      kind: 'isolate',
      node: '@controller',
      mode: 'silent',
      healAfterMs: 5_000,
    });
    const controller = fired[1];
    expect(fired).toHaveLength(2);
    expect(controller?.moment.inFlight).toBe(true);
    expect(controller?.target).toBe(controller?.moment.activeController);
  });
});

describe('the metadata quorum roles in a whole cluster', () => {
  /** The Raft state of every controller when each crash fault fired, in order. */
  function crashes(faults: readonly Step[]) {
    let last: Record<string, { role: string; newLeader: boolean; voted: boolean }> = {};
    const fired: { target: string; atMs: number; before: typeof last }[] = [];
    const result = runKafka({
      seed: 2,
      controllers: 3,
      brokers: 3,
      topics: [{ name: 't', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
      producers: [{ topic: 't', acks: 'all', everyMs: 100 }],
      consumers: [],
      faults,
      faultPhaseMs: 40_000,
      healPhaseMs: 30_000,
      sample: (cluster) => {
        last = Object.fromEntries(
          cluster.controllers.map((id) => {
            const raft = controllerOf(cluster, id)?.raft;
            return [
              id,
              {
                role: raft?.role ?? 'down',
                newLeader: raft?.role === 'leader' && raft.highWatermark <= raft.epochStartOffset,
                voted: raft?.role === 'unattached' && raft.votedId !== null && raft.votedId !== id,
              },
            ];
          }),
        );
      },
      trace: {
        sink: (event) => {
          if (event.kind === 'fault.crash')
            fired.push({ target: String(event.fields?.target), atMs: event.atMs, before: last });
        },
        sinkFilter: (kind) => kind === 'fault.crash',
      },
    });
    expect(result.violations).toEqual([]);
    return fired;
  }

  it('@controller-follower, @new-controller and @voted-controller name controllers at those moments', () => {
    const fired = crashes([
      { atMs: 8_000, kind: 'bounce', node: '@controller-follower', crash: 'kill', downMs: 1_000 },
      { atMs: 12_000, kind: 'crash', node: '@controller', crash: 'kill' },
      // Waits for the election that follows: the winner, before its epoch commits anything.
      { atMs: 12_000, kind: 'crash', node: '@new-controller', crash: 'kill', awaitMs: 20_000 },
      { atMs: 20_000, kind: 'restart', node: 'c1' },
      { atMs: 20_000, kind: 'restart', node: 'c2' },
      { atMs: 20_000, kind: 'restart', node: 'c3' },
      {
        atMs: 20_000,
        kind: 'bounce',
        node: '@voted-controller',
        crash: 'powerFailure',
        downMs: 1,
        awaitMs: 10_000,
      },
    ] as Step[]);
    const [follower, active, newLeader, voted] = fired as [
      (typeof fired)[0],
      (typeof fired)[0],
      (typeof fired)[0],
      (typeof fired)[0],
    ];
    expect(fired.length).toBeGreaterThanOrEqual(4);
    expect(follower.before[follower.target]?.role).toBe('follower');
    expect(active.before[active.target]?.role).toBe('leader');
    expect(newLeader.target).not.toBe(active.target);
    expect(newLeader.atMs).toBeGreaterThan(12_000);
    expect(newLeader.before[newLeader.target]?.newLeader).toBe(true);
    expect(voted.atMs).toBeGreaterThanOrEqual(20_000);
    expect(voted.before[voted.target]?.voted).toBe(true);
  });
});

describe('@replica-N', () => {
  // The role's index is read digit by digit (it is asked after every event while a fault awaits
  // it); the validator's pattern says which references are well formed.
  const pattern = /^@replica-(\d+)$/;

  it('names the index a reference of the form @replica-N gives, and nothing else', () => {
    expect(replicaIndexOf('@replica-0')).toBe(0);
    expect(replicaIndexOf('@replica-2')).toBe(2);
    expect(replicaIndexOf('@replica-12')).toBe(12);
    expect(replicaIndexOf('@replica-007')).toBe(7);
    for (const reference of ['@replica-', '@replica-1x', '@replica--1', '@replica-+1', '@leader'])
      expect(replicaIndexOf(reference)).toBeNull();
  });

  it('agrees with the pattern on any reference', () => {
    const digits = fc.stringMatching(/^[0-9]{0,4}$/);
    const tail = fc.oneof(
      digits,
      fc.string({ maxLength: 6 }),
      digits.map((d) => `${d}x`),
    );
    const reference = fc.oneof(
      tail.map((t) => `@replica-${t}`),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(reference, (text) => {
        const match = pattern.exec(text);
        expect(replicaIndexOf(text)).toBe(match === null ? null : Number(match[1]));
      }),
      { numRuns: 500, seed: 6 },
    );
  });
});
