import { describe, expect, it } from 'vitest';
import { activeController } from '../sim/kafka/kraft/cluster.ts';
import { runKafka } from './kafka-harness.ts';

describe('removing a broker', () => {
  it('unregisters it even when the controller quorum is down at the time (asked again until answered)', () => {
    const retries: string[] = [];
    const answers: string[] = [];
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
        sink: (event) =>
          (event.kind === 'operation.remove-broker-retry' ? retries : answers).push(
            String(event.fields?.error),
          ),
        sinkFilter: (kind) =>
          kind === 'operation.remove-broker-retry' || kind === 'operation.remove-broker-answered',
      },
    });
    expect(result.violations).toEqual([]);
    expect(retries.length).toBeGreaterThan(0);
    // Answered once, when a controller could commit the unregistration.
    expect(answers).toEqual(['NONE']);
    const image = activeController(result.cluster)?.image;
    expect(image).toBeDefined();
    expect(image?.broker('b4')).toBeUndefined();
    expect(image?.broker('b1')).toBeDefined();
  });
});

describe('a broker restarting after a crash, before the controller fenced it', () => {
  // The controller fences the old registration and moves its leaderships away as it registers
  // the new incarnation. Those records must come before the registration record: the broker
  // starts its replicas once it has replayed its registration, and with one metadata entry a
  // fetch it would otherwise act for a moment on an image where it still leads (with the log a
  // power failure emptied, the followers would then truncate acknowledged records to match it).
  // The window: the whole quorum restarts while the broker is down, so the new active controller
  // gives its old registration a fresh session; the broker's registration is refused as a
  // duplicate until that session lapses, and may land before the periodic check fences it.
  it.each([
    ['powerFailure', 1],
    ['powerFailure', 3],
    ['kill', 4],
  ] as const)('never leads from a stale image (%s, seed %i)', (crash, seed) => {
    const leaderships: string[] = [];
    const result = runKafka({
      seed,
      controllers: 3,
      brokers: 3,
      topics: [{ name: 't', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
      producers: [{ topic: 't', acks: 'all', everyMs: 20 }],
      consumers: [['t']],
      faults: [
        { atMs: 12_000, kind: 'crash', node: '@replica-0', crash },
        ...(['c1', 'c2', 'c3'] as const).flatMap((node) => [
          { atMs: 12_000, kind: 'crash' as const, node, crash: 'kill' as const },
          { atMs: 15_000, kind: 'restart' as const, node },
        ]),
        { atMs: 13_000, kind: 'restart', node: '@replica-0' },
      ],
      raft: { fetchMaxBytes: 1 },
      faultPhaseMs: 40_000,
      healPhaseMs: 20_000,
      trace: {
        sink: (event) =>
          leaderships.push(`${event.node} epoch ${String(event.fields?.leaderEpoch)}`),
        sinkFilter: (kind) => kind === 'replica.leader',
      },
    });
    expect(result.violations.map((violation) => violation.message)).toEqual([]);
    // Replica 0 led epoch 0 before the crash, and nobody led that epoch again.
    expect(leaderships.filter((each) => each.endsWith(' epoch 0'))).toHaveLength(1);
    expect(leaderships.length).toBeGreaterThan(1);
  });
});
