// One run of a whole KRaft cluster with the data path: controllers, brokers, topics, producers
// (acks=all and acks=1 mixed), consumers, a fault schedule, then the heal phase, the final read of
// every replica and the end-of-run checks. After every event: the metadata quorum's invariants
// (RaftChecker) and the data path's (DataChecker).

import { healEverything, scheduleFaults, type TimedFault } from '../sim/faults.ts';
import type { LeaderState } from '../sim/kafka/broker/leader-state.ts';
import type { Replica, ReplicaConfig } from '../sim/kafka/broker/replica-manager.ts';
import type { Bugs } from '../sim/kafka/bugs.ts';
import { Consumer, type ConsumerConfig } from '../sim/kafka/clients/consumer.ts';
import { type Acks, History } from '../sim/kafka/clients/history.ts';
import { Producer, type ProducerConfig } from '../sim/kafka/clients/producer.ts';
import type { PartitionState } from '../sim/kafka/controller/metadata-image.ts';
import {
  activeController,
  adminOf,
  brokerOf,
  buildKraftCluster,
  controllerOf,
  type KraftCluster,
} from '../sim/kafka/kraft/cluster.ts';
import type { ClusterMessage } from '../sim/kafka/messages.ts';
import type { RaftNode } from '../sim/kafka/raft/raft-node.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { DataChecker } from './data-checker.ts';
import { checkConverged } from './kraft-harness.ts';
import { RaftChecker } from './raft-checker.ts';
import { type CheckedRun, checkedRunOf, ViolationLog } from './violation.ts';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly uncleanLeaderElection?: boolean;
}

export interface ProducerSpec {
  readonly topic: string;
  readonly acks: Acks;
  readonly idempotent?: boolean;
  /** One write every this many ms during the fault phase. */
  readonly everyMs: Ms;
  /** Write to this partition only (default: by key). */
  readonly partition?: number;
}

export interface KafkaRunSpec {
  readonly seed: number;
  readonly controllers: number;
  readonly brokers: number;
  readonly bugs?: Bugs;
  readonly topics: readonly TopicSpec[];
  readonly producers: readonly ProducerSpec[];
  /** Each consumer reads every partition of these topics. */
  readonly consumers: readonly (readonly string[])[];
  readonly faults?: readonly TimedFault[];
  /** The workload runs from `workloadStartMs` to the end of the fault phase. */
  readonly workloadStartMs?: Ms;
  readonly faultPhaseMs: Ms;
  readonly healPhaseMs: Ms;
  readonly replica?: Partial<ReplicaConfig>;
  readonly brokerSessionTimeoutMs?: Ms;
  readonly producer?: Partial<ProducerConfig>;
  readonly consumer?: Partial<ConsumerConfig>;
  readonly trace?: { readonly ringCapacity?: number; readonly sink?: (event: TraceEvent) => void };
  /** Stop at this many events (a bound, never a silent stop: passing it throws). */
  readonly eventsMax?: number;
}

export interface KafkaRunResult extends CheckedRun {
  readonly cluster: KraftCluster;
  readonly history: History;
  readonly simulatedMs: Ms;
}

export const TOPICS_AT_MS = 5_000;
const WORKLOAD_START_MS = 7_000;

/** Fuzz-friendly timings: Kafka's mechanisms, shorter clocks (a run is minutes, not hours). */
export const FAST_REPLICA_CONFIG: Partial<ReplicaConfig> = {
  replicaLagTimeMaxMs: 6_000,
  replicaSocketTimeoutMs: 5_000,
  highWatermarkCheckpointIntervalMs: 5_000,
};

export const FAST_PRODUCER_CONFIG: Partial<ProducerConfig> = {
  requestTimeoutMs: 5_000,
  deliveryTimeoutMs: 20_000,
};

/**
 * Role references for faults on the data path, all about the first topic's partition 0: `@leader`
 * its leader, `@follower` an ISR follower, `@out-of-isr` a replica outside the ISR, `@replica-N`
 * its N-th replica in assignment order (stable for the whole run: replica 0 leads first, and
 * elections go in this order), `@controller` the active controller; and two moments of KAFKA-7128
 * for faults that wait (awaitMs): `@stale-hw-follower` a follower outside the ISR whose log has
 * reached the leader's high watermark but not the leader's epoch start offset, and
 * `@leader-of-lagging-isr` the leader while an ISR member's log ends before its epoch start; and
 * one of KIP-903: `@leader-of-behind-isr` the leader while an ISR member's log ends below its HW.
 */
export function resolveDataRole(
  cluster: KraftCluster,
  checker: DataChecker,
  firstTopic: string,
  reference: NodeId,
): NodeId | null {
  const topic = checker.image.topicByName(firstTopic);
  const state = topic?.partitions.get(0);
  switch (reference) {
    case '@leader':
      return state?.leader ?? null;
    case '@follower':
      return state?.isr.find((id) => id !== state.leader) ?? null;
    case '@out-of-isr':
      return state?.replicas.find((id) => !state.isr.includes(id)) ?? null;
    case '@stale-hw-follower':
      return staleHighWatermarkFollower(cluster, state);
    case '@leader-of-lagging-isr':
      return leaderOfIsrMemberBelow(
        cluster,
        state,
        (leader) => (leader.leaderState as LeaderState).epochStartOffset,
      );
    case '@leader-of-behind-isr':
      return leaderOfIsrMemberBelow(cluster, state, (leader) => leader.highWatermark);
    case '@controller': {
      const active = activeController(cluster);
      return cluster.controllers.find((id) => controllerOf(cluster, id) === active) ?? null;
    }
    default: {
      const match = /^@replica-(\d+)$/.exec(reference);
      return match === null ? null : (state?.replicas[Number(match[1])] ?? null);
    }
  }
}

/** The leader's running replica of a partition, with its LeaderState. */
function leaderReplica(cluster: KraftCluster, state: PartitionState | undefined) {
  if (state?.leader == null) return null;
  const replica = brokerOf(cluster, state.leader)?.replicaManager.replica(
    state.topicId,
    state.partition,
  );
  return replica?.leaderState == null ? null : replica;
}

function staleHighWatermarkFollower(
  cluster: KraftCluster,
  state: PartitionState | undefined,
): NodeId | null {
  const leader = leaderReplica(cluster, state);
  if (state === undefined || leader === null) return null;
  const epochStart = (leader.leaderState as LeaderState).epochStartOffset;
  for (const id of state.replicas) {
    if (id === state.leader || state.isr.includes(id)) continue;
    const follower = brokerOf(cluster, id)?.replicaManager.replica(state.topicId, state.partition);
    if (
      follower !== undefined &&
      follower.logEndOffset >= leader.highWatermark &&
      follower.logEndOffset < epochStart
    )
      return id;
  }
  return null;
}

/** The leader, while a member of its ISR (as it knows it) has a log ending below `bound`. */
function leaderOfIsrMemberBelow(
  cluster: KraftCluster,
  state: PartitionState | undefined,
  bound: (leader: Replica) => number,
): NodeId | null {
  const leader = leaderReplica(cluster, state);
  if (state === undefined || leader === null) return null;
  const offset = bound(leader);
  const below = (leader.leaderState as LeaderState).isr.some((id) => {
    if (id === state.leader) return false;
    const member = brokerOf(cluster, id)?.replicaManager.replica(state.topicId, state.partition);
    return member !== undefined && member.logEndOffset < offset;
  });
  return below ? state.leader : null;
}

export function runKafka(spec: KafkaRunSpec): KafkaRunResult {
  const log = new ViolationLog();
  let raftChecker: RaftChecker<ClusterMessage> | null = null;
  let dataChecker: DataChecker | null = null;
  const userSink = spec.trace?.sink;
  const cluster = buildKraftCluster({
    seed: spec.seed,
    controllers: spec.controllers,
    brokers: spec.brokers,
    ...(spec.bugs === undefined ? {} : { bugs: spec.bugs }),
    replica: { ...FAST_REPLICA_CONFIG, ...spec.replica },
    ...(spec.brokerSessionTimeoutMs === undefined
      ? {}
      : { brokerSessionTimeoutMs: spec.brokerSessionTimeoutMs }),
    trace: {
      ringCapacity: spec.trace?.ringCapacity ?? 2_000,
      sink: (event) => {
        raftChecker?.onTraceEvent(event);
        dataChecker?.onTraceEvent(event);
        userSink?.(event);
      },
    },
  });
  const { world } = cluster;
  const history = new History(() => world.nowMs);
  const raftOf = (host: { machine: unknown }) =>
    (host.machine as { raft: RaftNode } | null)?.raft ?? null;
  raftChecker = new RaftChecker(world, cluster.raftConfig, cluster.brokers, raftOf, log);
  dataChecker = new DataChecker({ cluster, history, log, mode: 'kraft' });
  const checkers = { raft: raftChecker, data: dataChecker };
  world.scheduler.addStepCheck(() => {
    checkers.raft.check();
    checkers.data.check();
  });

  world.at(TOPICS_AT_MS, 'create-topics', () =>
    adminOf(cluster).createTopics(
      spec.topics.map((topic) => ({
        name: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: topic.replicationFactor,
        configs: {
          minInsyncReplicas: topic.minInsyncReplicas,
          uncleanLeaderElection: topic.uncleanLeaderElection ?? false,
        },
      })),
      () => {},
    ),
  );

  const producers: NodeId[] = [];
  spec.producers.forEach((producerSpec, index) => {
    const id = `p${index + 1}`;
    producers.push(id);
    world.addNode(
      id,
      (context) =>
        new Producer(context, {
          ...FAST_PRODUCER_CONFIG,
          ...spec.producer,
          bootstrapBrokers: cluster.brokers,
          acks: producerSpec.acks,
          enableIdempotence: producerSpec.idempotent ?? false,
          history,
          process: id,
        }),
    );
  });
  spec.consumers.forEach((topics, index) => {
    const id = `r${index + 1}`;
    world.addNode(
      id,
      (context) =>
        new Consumer(context, {
          ...spec.consumer,
          bootstrapBrokers: cluster.brokers,
          topics,
          history,
          process: id,
        }),
    );
    world.node(id).start();
  });
  const workloadStartMs = spec.workloadStartMs ?? WORKLOAD_START_MS;
  spec.producers.forEach((producerSpec, index) => {
    const id = producers[index] as NodeId;
    world.node(id).start();
    const count = Math.max(
      0,
      Math.floor((spec.faultPhaseMs - workloadStartMs) / producerSpec.everyMs),
    );
    world.at(workloadStartMs, 'workload', () =>
      (world.node(id).machine as Producer).startWorkload({
        topic: producerSpec.topic,
        everyMs: producerSpec.everyMs,
        count,
        keyPrefix: `${id}-k`,
        valuePrefix: id,
        ...(producerSpec.partition === undefined ? {} : { partition: producerSpec.partition }),
      }),
    );
  });

  const firstTopic = spec.topics[0]?.name ?? '';
  scheduleFaults(
    world,
    (spec.faults ?? []).filter(
      (fault) => !('node' in fault) || !producers.includes(String(fault.node)),
    ),
    (reference) => resolveDataRole(cluster, checkers.data, firstTopic, reference),
    spec.faultPhaseMs,
  );
  world.at(spec.faultPhaseMs, 'heal-phase', () => healEverything(world));
  world.runFor(spec.faultPhaseMs + spec.healPhaseMs, spec.eventsMax ?? 50_000_000);
  checkConverged(cluster, log);
  checkers.data.finish({ idempotent: spec.producers.some((producer) => producer.idempotent) });
  return {
    ...checkedRunOf(log, world),
    cluster,
    history,
    simulatedMs: world.nowMs,
  };
}

/** The brokers' replicas of a partition, for tests that look inside. */
export function replicasOf(cluster: KraftCluster, topic: string, partition: number) {
  return cluster.brokers.flatMap((id) => {
    const broker = brokerOf(cluster, id);
    const topicId = broker?.image.topicIdsByName.get(topic);
    const replica =
      topicId === undefined ? undefined : broker?.replicaManager.replica(topicId, partition);
    return replica === undefined ? [] : [{ broker: id, replica }];
  });
}
