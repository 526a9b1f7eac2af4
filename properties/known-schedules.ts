// The known shortest schedules of KAFKA.md, as runs: each loses acknowledged or committed data
// with its historical bug switched on (or with the configuration that allows the loss) and loses
// nothing it may not without it. Replicas are named by role (`@replica-N`: the N-th replica of
// the first topic's partition 0, in assignment order; replica 0 leads first and elections go in
// this order), so the schedules hold whatever the assignment a seed draws.

import type { TimedFault } from '../sim/faults.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import type { KafkaRunSpec, TopicSpec } from './kafka-harness.ts';

export interface KnownSchedule {
  readonly name: string;
  readonly description: string;
  /** The switch that brings the loss back, if it is a bug (else the configuration shows it). */
  readonly bug: BugName | null;
  /** What the run breaks with the switch (or what allowed loss the configuration shows). */
  readonly breaks: string;
  spec(seed: number, bugs: ReadonlySet<BugName>): KafkaRunSpec;
}

const RF3_MIN_ISR2: TopicSpec = {
  name: 'orders',
  partitions: 1,
  replicationFactor: 3,
  minInsyncReplicas: 2,
};

function run(
  seed: number,
  bugs: ReadonlySet<BugName>,
  topic: TopicSpec,
  faults: readonly TimedFault[],
  rest: Partial<KafkaRunSpec> = {},
): KafkaRunSpec {
  return {
    seed,
    controllers: 3,
    brokers: 3,
    bugs,
    topics: [topic],
    producers: [{ topic: topic.name, acks: 'all', everyMs: 50 }],
    consumers: [[topic.name]],
    faults,
    faultPhaseMs: 50_000,
    healPhaseMs: 40_000,
    ...rest,
  };
}

export const KNOWN_SCHEDULES: readonly KnownSchedule[] = [
  {
    name: 'kip-101-kraft',
    description:
      "KIP-101 in its KRaft form: the leader dies while a follower's high watermark lags its own; the follower follows the new leader it cannot reach, truncating to that stale high watermark, and the new leader dies before it refetches",
    bug: 'truncate-to-hw',
    breaks: 'acked-write-durable',
    spec: (seed, bugs) =>
      run(seed, bugs, RF3_MIN_ISR2, [
        {
          atMs: 12_000,
          kind: 'partition',
          groups: [['@replica-1'], ['@replica-2']],
          mode: 'silent',
        },
        { atMs: 15_013, kind: 'crash', node: '@replica-0', crash: 'kill' },
        { atMs: 26_500, kind: 'crash', node: '@replica-1', crash: 'kill' },
      ]),
  },
  {
    name: 'kip-279',
    description:
      'KIP-279 (fast failover): replica 1 falls behind, the leader dies, replica 1 is elected while cut off from replica 2 and writes in its epoch, then dies; replica 2 leads the next epoch without ever having had that one, and replica 1 comes back to follow it',
    bug: 'epoch-lookup-kip101',
    breaks: 'committed-prefix-agrees',
    spec: (seed, bugs) =>
      run(
        seed,
        bugs,
        RF3_MIN_ISR2,
        [
          {
            atMs: 10_000,
            kind: 'partition',
            groups: [['@replica-0'], ['@replica-1']],
            mode: 'silent',
          },
          { atMs: 12_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
          {
            atMs: 18_000,
            kind: 'partition',
            groups: [['@replica-0', '@replica-2'], ['@replica-1']],
            mode: 'silent',
          },
          { atMs: 24_000, kind: 'crash', node: '@replica-1', crash: 'kill' },
          { atMs: 35_000, kind: 'heal' },
          { atMs: 35_000, kind: 'restart', node: '@replica-1' },
        ],
        {
          producers: [
            { topic: 'orders', acks: 'all', everyMs: 50 },
            { topic: 'orders', acks: '1', everyMs: 50 },
          ],
        },
      ),
  },
  {
    name: 'kafka-7128',
    description:
      "KAFKA-7128: a follower out of the ISR catches up one small fetch at a time from a new leader whose high watermark is stale; it joins the ISR on reaching that high watermark, before the leader's epoch start offset, and the leader dies before it gets the rest",
    bug: 'isr-join-stale-hw',
    breaks: 'acked-write-durable',
    spec: (seed, bugs) =>
      run(
        seed,
        bugs,
        RF3_MIN_ISR2,
        [
          {
            atMs: 9_000,
            kind: 'partition',
            groups: [['@replica-0'], ['@replica-2']],
            mode: 'silent',
          },
          { atMs: 9_000, kind: 'slow', node: '@replica-2', extraLatencyMs: 50 },
          { atMs: 20_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
          // The moment it reaches the stale high watermark, the leader's answers to it are held...
          {
            atMs: 30_000,
            awaitMs: 45_000,
            kind: 'clog',
            source: '@leader',
            target: '@stale-hw-follower',
          },
          // ...and once it is in the ISR, the leader dies.
          {
            atMs: 30_000,
            awaitMs: 45_000,
            kind: 'crash',
            node: '@leader-of-lagging-isr',
            crash: 'kill',
          },
        ],
        {
          producers: [{ topic: 'orders', acks: 'all', everyMs: 40 }],
          replica: { replicaFetchMaxBytes: 100 },
          producer: { batchSize: 1 },
          faultPhaseMs: 80_000,
        },
      ),
  },
  {
    name: 'last-replica-standing',
    description:
      'RF 3, min ISR 2: replica 1, then replica 2 are cut off from the leader, which is then the only ISR member; it loses power and comes back. Without ELR it is re-elected with what its disk kept',
    bug: 'no-elr',
    breaks: 'acked-write-durable',
    spec: (seed, bugs) =>
      run(
        seed,
        bugs,
        RF3_MIN_ISR2,
        [
          {
            atMs: 10_000,
            kind: 'partition',
            groups: [['@replica-0'], ['@replica-1']],
            mode: 'silent',
          },
          {
            atMs: 20_000,
            kind: 'partition',
            groups: [['@replica-0'], ['@replica-1', '@replica-2']],
            mode: 'silent',
          },
          {
            atMs: 30_000,
            kind: 'bounce',
            node: '@replica-0',
            crash: 'powerFailure',
            downMs: 1_000,
          },
        ],
        { faultPhaseMs: 55_000 },
      ),
  },
  {
    name: 'jepsen-2013',
    description:
      'Jepsen 2013: min ISR 1, the followers are cut off and the ISR shrinks to the leader alone, which acknowledges writes by itself and dies; with unclean.leader.election.enable an out-of-ISR replica is elected and those writes are lost (allowed: unclean-election)',
    bug: null,
    breaks: 'unclean-election',
    spec: (seed, bugs) =>
      run(seed, bugs, { ...RF3_MIN_ISR2, minInsyncReplicas: 1, uncleanLeaderElection: true }, [
        {
          atMs: 10_000,
          kind: 'partition',
          groups: [['@replica-0'], ['@replica-1', '@replica-2']],
          mode: 'silent',
        },
        { atMs: 25_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
      ]),
  },
];

/** The same schedule without unclean election: nothing is lost, the partition waits (offline). */
export function jepsen2013Clean(seed: number): KafkaRunSpec {
  const jepsen = KNOWN_SCHEDULES.find(
    (schedule) => schedule.name === 'jepsen-2013',
  ) as KnownSchedule;
  const spec = jepsen.spec(seed, new Set());
  return {
    ...spec,
    topics: spec.topics.map((topic) => ({ ...topic, uncleanLeaderElection: false })),
  };
}

/**
 * The leader, cut off from its followers (not from the controllers), takes writes with `acks`
 * that no follower gets, and is killed: a follower is elected and those writes are gone.
 */
function cutOffLeaderKilled(seed: number, acks: '0' | '1'): KafkaRunSpec {
  return run(
    seed,
    new Set(),
    RF3_MIN_ISR2,
    [
      {
        atMs: 10_000,
        kind: 'partition',
        groups: [['@replica-0'], ['@replica-1', '@replica-2']],
        mode: 'silent',
      },
      { atMs: 12_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
    ],
    { producers: [{ topic: 'orders', acks, everyMs: 50 }], faultPhaseMs: 40_000 },
  );
}

/** Allowed losses the durability contract names, each shown by a schedule built to show it. */
export const ALLOWED_LOSS_SCHEDULES: readonly {
  readonly reason: string;
  spec(seed: number): KafkaRunSpec;
}[] = [
  { reason: 'acks-1', spec: (seed) => cutOffLeaderKilled(seed, '1') },
  { reason: 'acks-0', spec: (seed) => cutOffLeaderKilled(seed, '0') },
  {
    // Min ISR 1: the leader alone acknowledges acks=all writes, then loses power.
    reason: 'lossy-crashes',
    spec: (seed) =>
      run(seed, new Set(), { ...RF3_MIN_ISR2, minInsyncReplicas: 1 }, [
        {
          atMs: 10_000,
          kind: 'partition',
          groups: [['@replica-0'], ['@replica-1', '@replica-2']],
          mode: 'silent',
        },
        { atMs: 25_000, kind: 'bounce', node: '@replica-0', crash: 'powerFailure', downMs: 1_000 },
      ]),
  },
  {
    reason: 'unclean-election',
    spec: (seed) =>
      (KNOWN_SCHEDULES.find((schedule) => schedule.name === 'jepsen-2013') as KnownSchedule).spec(
        seed,
        new Set(),
      ),
  },
];
