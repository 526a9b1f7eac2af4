// Swarm profiles for the data path: layers of random faults (fault-arbitraries.ts) aimed at the
// mechanism one historical bug of sim/kafka/bugs.ts breaks, and the standard workload they run
// under (acks=all and acks=1 producers, a consumer). Role references (`@leader`, `@follower`,
// `@replica-N`, `@controller`: kafka-harness.ts, resolveDataRole) are resolved when a fault fires.

import type { TimedFault } from '../sim/faults.ts';
import type { ReplicaConfig } from '../sim/kafka/broker/replica-manager.ts';
import type { Bugs } from '../sim/kafka/bugs.ts';
import type { ProducerConfig } from '../sim/kafka/clients/producer.ts';
import type { Ms } from '../sim/kernel/time.ts';
import {
  type FaultProfile,
  type FaultScheduleOptions,
  sampleFaultSchedule,
} from './fault-arbitraries.ts';
import type { KafkaRunSpec, TopicSpec } from './kafka-harness.ts';

export interface DataProfile {
  readonly name: string;
  /** The fault layers, firing within [startMs, endMs) of the fault phase. */
  faults(startMs: Ms, endMs: Ms): FaultProfile;
  /**
   * Faults every schedule of the profile carries: traps that wait (awaitMs) for the moment a role
   * reference names, which the random layers may or may not bring about.
   */
  traps?(startMs: Ms): readonly TimedFault[];
  readonly topic?: Partial<TopicSpec>;
  readonly replica?: Partial<ReplicaConfig>;
  readonly producer?: Partial<ProducerConfig>;
}

const REPLICAS = ['@replica-0', '@replica-1', '@replica-2'];

function layer(
  startMs: Ms,
  endMs: Ms,
  nodes: readonly string[],
  rest: Omit<FaultScheduleOptions, 'nodes' | 'startMs' | 'endMs'>,
): FaultScheduleOptions {
  return { nodes, startMs, endMs, ...rest };
}

/** Every family on every replica: no aim. */
export const GENERAL_PROFILE: DataProfile = {
  name: 'general',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, ['@leader', '@follower', ...REPLICAS], {
      faultsMin: 2,
      faultsMax: 8,
      families: ['bounce', 'crash', 'partition', 'isolate', 'pause', 'slow', 'clog', 'stop'],
      bounceDownMs: { min: 500, max: 12_000 },
      isolateMs: { min: 1_000, max: 15_000 },
    }),
  ],
};

/**
 * Leaders keep dying while the followers are cut off from each other: a follower that follows a
 * new leader it cannot reach keeps only what it has, and its high watermark lags the old leader's.
 */
export const LEADER_CHURN_PROFILE: DataProfile = {
  name: 'leader-churn',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, REPLICAS, {
      families: ['partition'],
      partitionShapes: ['two-way'],
      faultsMin: 1,
      faultsMax: 3,
    }),
    layer(startMs, endMs, ['@leader'], {
      families: ['bounce'],
      crashKinds: ['kill'],
      faultsMin: 2,
      faultsMax: 5,
      bounceDownMs: { min: 1_000, max: 15_000 },
    }),
  ],
};

/**
 * A follower falls out of the ISR and catches up one small fetch at a time while leaders fail: a
 * new leader's high watermark is stale, and the follower reaches it before the leader's epoch
 * start offset (KAFKA-7128). Two faults wait for those moments: hold the leader's answers to such
 * a follower, and crash a leader whose ISR holds a member behind its epoch start.
 */
export const LAGGING_JOINER_PROFILE: DataProfile = {
  name: 'lagging-joiner',
  replica: { replicaFetchMaxBytes: 100 },
  producer: { batchSize: 1 },
  faults: (startMs, endMs) => [
    layer(startMs, endMs, ['@follower'], {
      families: ['isolate'],
      faultsMin: 1,
      faultsMax: 2,
      blockModes: ['silent'],
      isolateMs: { min: 7_000, max: 15_000 },
    }),
    layer(startMs, endMs, ['@out-of-isr'], {
      families: ['slow'],
      unslow: false,
      faultsMin: 0,
      faultsMax: 2,
      slowExtraLatencyMs: { min: 10, max: 200 },
    }),
    layer(startMs, endMs, ['@leader'], {
      families: ['bounce'],
      crashKinds: ['kill'],
      faultsMin: 1,
      faultsMax: 2,
      bounceDownMs: { min: 5_000, max: 15_000 },
    }),
  ],
  traps: (startMs) => [
    {
      atMs: startMs,
      awaitMs: 60_000,
      kind: 'clog',
      source: '@leader',
      target: '@stale-hw-follower',
    },
    {
      atMs: startMs,
      awaitMs: 60_000,
      kind: 'crash',
      node: '@leader-of-lagging-isr',
      crash: 'kill',
    },
  ],
};

/**
 * The ISR shrinks to the leader alone (its followers cut off from it, not from the controllers),
 * then the leader goes: what only it had must not have been exposed.
 */
export const MIN_ISR_SQUEEZE_PROFILE: DataProfile = {
  name: 'min-isr-squeeze',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, REPLICAS, {
      families: ['partition'],
      partitionShapes: ['two-way', 'one-way'],
      faultsMin: 1,
      faultsMax: 3,
    }),
    layer(startMs, endMs, ['@leader'], {
      families: ['bounce', 'isolate'],
      crashKinds: ['kill', 'powerFailure'],
      faultsMin: 1,
      faultsMax: 3,
      bounceDownMs: { min: 1_000, max: 15_000 },
      isolateMs: { min: 5_000, max: 20_000 },
    }),
  ],
};

/** Followers cut off one by one, then the last ISR member loses power (last replica standing). */
export const LAST_REPLICA_PROFILE: DataProfile = {
  name: 'last-replica',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, REPLICAS, {
      families: ['partition'],
      partitionShapes: ['two-way'],
      faultsMin: 1,
      faultsMax: 3,
    }),
    layer(startMs, endMs, ['@leader'], {
      families: ['bounce'],
      crashKinds: ['powerFailure'],
      faultsMin: 1,
      faultsMax: 3,
      bounceDownMs: { min: 500, max: 5_000 },
    }),
  ],
};

/**
 * A follower's fetches are held on the wire while it loses power and comes back: the old
 * incarnation's fetches arrive after the new one registered (KIP-903). A trap crashes a leader
 * whose ISR holds a member whose log ends below the high watermark.
 */
export const STALE_INCARNATION_PROFILE: DataProfile = {
  name: 'stale-incarnation',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, ['@replica-1', '@replica-2'], {
      families: ['clog'],
      clogLinks: [
        ['@replica-1', '@leader'],
        ['@replica-2', '@leader'],
      ],
      faultsMin: 2,
      faultsMax: 6,
    }),
    layer(startMs, endMs, ['@replica-1', '@replica-2'], {
      families: ['bounce'],
      crashKinds: ['powerFailure', 'diskLoss'],
      faultsMin: 1,
      faultsMax: 3,
      bounceDownMs: { min: 500, max: 4_000 },
    }),
  ],
  traps: (startMs) => [
    { atMs: startMs, awaitMs: 60_000, kind: 'crash', node: '@leader-of-behind-isr', crash: 'kill' },
  ],
};

/**
 * A leader's view of its partition goes stale (the metadata and AlterPartition answers from the
 * controller held on the wire) while followers leave and rejoin: its next ISR change is computed
 * from an old ISR. Traps cut the active controller off while an AlterPartition is in flight (a
 * new controller must take the resent request), and crash a leader whose ISR holds a member whose
 * log ends below its HW.
 */
export const DELAYED_ISR_CHANGE_PROFILE: DataProfile = {
  name: 'delayed-isr-change',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, ['@leader', '@controller'], {
      families: ['clog'],
      clogLinks: [
        ['@controller', '@leader'],
        ['@leader', '@controller'],
      ],
      faultsMin: 2,
      faultsMax: 6,
    }),
    layer(startMs, endMs, ['@follower', '@out-of-isr', ...REPLICAS], {
      families: ['isolate', 'slow', 'pause'],
      faultsMin: 1,
      faultsMax: 5,
      slowExtraLatencyMs: { min: 100, max: 600 },
      isolateMs: { min: 3_000, max: 15_000 },
    }),
  ],
  traps: (startMs) => [
    {
      atMs: startMs,
      awaitMs: 60_000,
      kind: 'isolate',
      node: '@controller-during-alter-partition',
      mode: 'silent',
      healAfterMs: 5_000,
    },
    { atMs: startMs, awaitMs: 60_000, kind: 'crash', node: '@leader-of-behind-isr', crash: 'kill' },
  ],
};

/**
 * The KIP-279 shape with random timings and noise: replica 1 falls behind replica 0, replica 0
 * dies, replica 1 is elected while cut off from replica 2 and writes in its epoch, then dies too,
 * and replica 2, which never had that epoch, leads the next one.
 */
export const SKIPPED_EPOCH_PROFILE: DataProfile = {
  name: 'skipped-epoch',
  faults: (startMs) => {
    const at = (fromS: number, toS: number) => ({
      startMs: startMs + fromS * 1_000,
      endMs: startMs + toS * 1_000,
    });
    return [
      {
        nodes: ['@replica-0', '@replica-1'],
        ...at(1, 4),
        families: ['partition'],
        partitionShapes: ['two-way'],
        blockModes: ['silent'],
        faultsMin: 1,
        faultsMax: 1,
      },
      {
        nodes: ['@replica-0'],
        ...at(3, 7),
        families: ['crash'],
        crashKinds: ['kill'],
        faultsMin: 1,
        faultsMax: 1,
      },
      {
        nodes: ['@replica-1', '@replica-2'],
        ...at(7, 13),
        families: ['partition'],
        partitionShapes: ['two-way'],
        blockModes: ['silent'],
        faultsMin: 1,
        faultsMax: 1,
      },
      {
        nodes: ['@replica-1'],
        ...at(14, 20),
        families: ['bounce'],
        crashKinds: ['kill', 'powerFailure'],
        bounceDownMs: { min: 8_000, max: 15_000 },
        faultsMin: 1,
        faultsMax: 1,
      },
      {
        nodes: [...REPLICAS],
        ...at(24, 32),
        families: ['heal', 'pause', 'slow'],
        slowExtraLatencyMs: { min: 5, max: 200 },
        faultsMin: 1,
        faultsMax: 4,
      },
    ];
  },
};

/** Fast failovers: leaders die right after writing, replicas power-cycle, epochs pile up. */
export const FAST_FAILOVER_PROFILE: DataProfile = {
  name: 'fast-failover',
  faults: (startMs, endMs) => [
    layer(startMs, endMs, REPLICAS, {
      families: ['partition', 'isolate'],
      partitionShapes: ['two-way', 'isolate', 'heal'],
      faultsMin: 1,
      faultsMax: 5,
      isolateMs: { min: 1_000, max: 10_000 },
    }),
    layer(startMs, endMs, ['@leader', ...REPLICAS], {
      families: ['bounce'],
      crashKinds: ['kill', 'powerFailure'],
      faultsMin: 2,
      faultsMax: 6,
      bounceDownMs: { min: 200, max: 12_000 },
    }),
  ],
};

export const DATA_PROFILES: readonly DataProfile[] = [
  GENERAL_PROFILE,
  LEADER_CHURN_PROFILE,
  LAGGING_JOINER_PROFILE,
  MIN_ISR_SQUEEZE_PROFILE,
  LAST_REPLICA_PROFILE,
  STALE_INCARNATION_PROFILE,
  DELAYED_ISR_CHANGE_PROFILE,
  FAST_FAILOVER_PROFILE,
  SKIPPED_EPOCH_PROFILE,
];

export const DATA_FAULT_PHASE_MS = 55_000;
export const DATA_HEAL_PHASE_MS = 40_000;
const FAULTS_FROM_MS = 8_000;
const FAULTS_UNTIL_MS = 50_000;

/** The random layers of a profile's schedules. */
export function dataFaultLayers(profile: DataProfile): FaultProfile {
  return profile.faults(FAULTS_FROM_MS, FAULTS_UNTIL_MS);
}

/** The traps every schedule of a profile carries. */
export function dataTraps(profile: DataProfile): readonly TimedFault[] {
  return profile.traps?.(FAULTS_FROM_MS) ?? [];
}

/** The fault schedule a seed gives for a profile: its random layers, then its traps. */
export function dataFaultSchedule(profile: DataProfile, seed: number): TimedFault[] {
  return [...sampleFaultSchedule(dataFaultLayers(profile), seed), ...dataTraps(profile)];
}

/**
 * The standard fuzz run: 3 controllers, 3 brokers, one topic of 2 partitions (RF 3, min ISR 2
 * unless the profile or `topic` says otherwise), an acks=all and an acks=1 producer, a consumer.
 */
export function dataRunSpec(
  seed: number,
  profile: DataProfile,
  faults: readonly TimedFault[],
  bugs: Bugs,
  topic: Partial<TopicSpec> = {},
): KafkaRunSpec {
  return {
    seed,
    controllers: 3,
    brokers: 3,
    bugs,
    topics: [
      {
        name: 'orders',
        partitions: 2,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        ...profile.topic,
        ...topic,
      },
    ],
    producers: [
      { topic: 'orders', acks: 'all', everyMs: 40 },
      { topic: 'orders', acks: '1', everyMs: 60 },
    ],
    consumers: [['orders']],
    faults,
    faultPhaseMs: DATA_FAULT_PHASE_MS,
    healPhaseMs: DATA_HEAL_PHASE_MS,
    ...(profile.replica === undefined ? {} : { replica: profile.replica }),
    ...(profile.producer === undefined ? {} : { producer: profile.producer }),
  };
}
