// One run of a whole KRaft cluster with the data path: controllers, brokers, topics, producers
// (acks=all and acks=1 mixed), consumers, a fault schedule, then the heal phase, the final read of
// every replica and the end-of-run checks. After every event: the metadata quorum's invariants
// (RaftChecker) and the data path's (DataChecker).

import { applyFault, healEverything, scheduleFaults, type TimedFault } from '../sim/faults.ts';
import type { ReplicaConfig } from '../sim/kafka/broker/replica-manager.ts';
import type { Bugs } from '../sim/kafka/bugs.ts';
import { Consumer, type ConsumerConfig } from '../sim/kafka/clients/consumer.ts';
import { type Acks, History } from '../sim/kafka/clients/history.ts';
import { Producer, type ProducerConfig } from '../sim/kafka/clients/producer.ts';
import {
  adminOf,
  brokerOf,
  buildKraftCluster,
  type KraftCluster,
} from '../sim/kafka/kraft/cluster.ts';
import type { ClusterMessage } from '../sim/kafka/messages.ts';
import type { RaftConfig, RaftNode } from '../sim/kafka/raft/raft-node.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { ActivityWatch } from './activity.ts';
import { DataChecker } from './data-checker.ts';
import { resolveDataRole, type TriggerName, triggerHolds } from './data-roles.ts';
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
  /** One write (or `burst` writes) every this many ms. */
  readonly everyMs: Ms;
  /** Writes sent together every `everyMs` (they share batches); default 1. */
  readonly burst?: number;
  /** How many writes (default: as many as fit until the end of the fault phase). */
  readonly count?: number;
  /** When the first write goes (default: the workload start). */
  readonly startMs?: Ms;
  /** Write to this partition only (default: by key). */
  readonly partition?: number;
  /** Keys `${keyPrefix}-${i}` (default `${producer id}-k`), values `${valuePrefix}-${i}` (default the producer id). */
  readonly keyPrefix?: string;
  readonly valuePrefix?: string;
  /** Settings of this producer on top of the run's (`retries: 5`, say). */
  readonly config?: Partial<ProducerConfig>;
}

/** An operation on the cluster in a timeline: grow it by a broker, or take one out of it. */
export type Operation =
  | { readonly kind: 'add-broker' }
  /** A controlled shutdown, then the admin unregisters it; it stays down through the heal. */
  | { readonly kind: 'remove-broker'; readonly node: NodeId };

/** One step of a timeline: a fault or an operation, at a time, or at the first moment after it that `when` holds. */
export type Step = (TimedFault | (Operation & { readonly atMs: Ms; readonly awaitMs?: Ms })) & {
  readonly when?: TriggerName;
};

export interface KafkaRunSpec {
  readonly seed: number;
  readonly controllers: number;
  readonly brokers: number;
  readonly bugs?: Bugs;
  readonly topics: readonly TopicSpec[];
  readonly producers: readonly ProducerSpec[];
  /** Each consumer reads every partition of these topics. */
  readonly consumers: readonly (readonly string[])[];
  /** Faults and operations, in the fault phase (nodes may be roles: data-roles.ts). */
  readonly faults?: readonly Step[];
  /** The workload runs from `workloadStartMs` to the end of the fault phase. */
  readonly workloadStartMs?: Ms;
  readonly faultPhaseMs: Ms;
  readonly healPhaseMs: Ms;
  readonly replica?: Partial<ReplicaConfig>;
  /** The metadata quorum's settings (its fetch cap, say), for controllers and brokers. */
  readonly raft?: Partial<Omit<RaftConfig, 'voters'>>;
  /** The controllers' metadata fetch cap alone (controller.quorum.fetch.max.bytes). */
  readonly controllerFetchMaxBytes?: number;
  readonly brokerSessionTimeoutMs?: Ms;
  /** metadata.max.idle.interval.ms (KIP-835): the active controller's NoOp records (0: none). */
  readonly metadataMaxIdleIntervalMs?: Ms;
  readonly producer?: Partial<ProducerConfig>;
  readonly consumer?: Partial<ConsumerConfig>;
  readonly trace?: {
    readonly ringCapacity?: number;
    readonly sink?: (event: TraceEvent) => void;
    /** The kinds `sink` wants (default: every kind). */
    readonly sinkFilter?: (kind: string) => boolean;
  };
  /** Stop at this many events (a bound, never a silent stop: passing it throws). */
  readonly eventsMax?: number;
  /** Called after every event, after the checks (a timeline recorder samples the cluster). */
  readonly sample?: (cluster: KraftCluster) => void;
  /**
   * The checkers re-read every node after every event instead of skipping those no event touched,
   * and steps waiting for roles or a trigger ask again after every event: slower, and the same
   * verdicts and trace (a test holds them to it).
   */
  readonly fullChecks?: boolean;
}

export interface KafkaRunResult extends CheckedRun {
  readonly cluster: KraftCluster;
  readonly history: History;
  readonly simulatedMs: Ms;
}

const CHECKER_TRACE_KINDS: readonly string[] = [
  ...RaftChecker.TRACE_KINDS,
  ...DataChecker.TRACE_KINDS,
];

/**
 * Whether the checkers read trace events of this kind. Asked for every trace event: comparing
 * with the few kinds (literals, compared by reference) costs less than hashing the kind for a set.
 */
function isCheckerKind(kind: string): boolean {
  for (let index = 0; index < CHECKER_TRACE_KINDS.length; index++)
    if (CHECKER_TRACE_KINDS[index] === kind) return true;
  return false;
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
 * A node's Raft state, for the Raft checker. One function for every run, not a closure made per
 * run: the checker's optimised code called a run's closure and deoptimised at the next run's.
 */
function raftOfHost(host: { machine: unknown }): RaftNode | null {
  return (host.machine as { raft: RaftNode } | null)?.raft ?? null;
}

export function runKafka(spec: KafkaRunSpec): KafkaRunResult {
  const log = new ViolationLog();
  let raftChecker: RaftChecker<ClusterMessage> | null = null;
  let dataChecker: DataChecker | null = null;
  const userSink = spec.trace?.sink;
  const userFilter = spec.trace?.sinkFilter;
  const cluster = buildKraftCluster({
    seed: spec.seed,
    controllers: spec.controllers,
    brokers: spec.brokers,
    ...(spec.bugs === undefined ? {} : { bugs: spec.bugs }),
    replica: { ...FAST_REPLICA_CONFIG, ...spec.replica },
    ...(spec.raft === undefined ? {} : { raft: spec.raft }),
    ...(spec.controllerFetchMaxBytes === undefined
      ? {}
      : { controllerFetchMaxBytes: spec.controllerFetchMaxBytes }),
    ...(spec.brokerSessionTimeoutMs === undefined
      ? {}
      : { brokerSessionTimeoutMs: spec.brokerSessionTimeoutMs }),
    ...(spec.metadataMaxIdleIntervalMs === undefined
      ? {}
      : { metadataMaxIdleIntervalMs: spec.metadataMaxIdleIntervalMs }),
    trace: {
      // No ring of recent events unless asked for: nothing in a run reads one (see TraceOptions).
      ringCapacity: spec.trace?.ringCapacity ?? 0,
      // Only the kinds the checkers read (and the caller's sink wants) become objects.
      ...(userSink !== undefined && userFilter === undefined
        ? {}
        : {
            sinkFilter: (kind: string) => isCheckerKind(kind) || (userFilter?.(kind) ?? false),
          }),
      sink: (event) => {
        raftChecker?.onTraceEvent(event);
        dataChecker?.onTraceEvent(event);
        if (userFilter === undefined || userFilter(event.kind)) userSink?.(event);
      },
    },
  });
  const { world } = cluster;
  // The clock itself, not a closure made per run: the history asks for the time at every entry.
  const history = new History(world.scheduler.clock);
  const fullChecks = spec.fullChecks ?? false;
  // Both checkers read the nodes the event entered: one look per event serves both. The Raft
  // checker's nodes are the voters (the controllers) then the observers (the brokers).
  const activity = new ActivityWatch(world, cluster.controllers, cluster.brokers);
  // Consts for the closures below (the sink's lets are null until here).
  const raft = new RaftChecker(world, cluster.raftConfig, cluster.brokers, raftOfHost, log, {
    fullChecks,
    activity,
  });
  const data = new DataChecker({
    cluster,
    history,
    log,
    mode: 'kraft',
    fullChecks,
    activity,
    topics: spec.topics,
  });
  raftChecker = raft;
  dataChecker = data;
  const sample = spec.sample;
  const { scheduler } = world;
  let lookedAfter = -1;
  world.scheduler.addStepCheck(() => {
    activity.look();
    lookedAfter = scheduler.eventsFired;
    raft.check();
    data.check();
    sample?.(cluster);
  });
  // After this event, nothing role references and triggers read has moved since the last: the
  // look (this event's) found no controller or broker entered and no action fired. They read
  // only the controllers' and brokers' state, the checker's metadata image among it.
  // With fullChecks, they are asked again after every event.
  const unchanged = () =>
    !fullChecks && lookedAfter === scheduler.eventsFired && activity.lookedCount === 0;
  world.at(TOPICS_AT_MS, 'create-topics', () => createTopics(cluster, spec.topics));
  const producers = addClients(spec, cluster, history);
  const retired = new Set<NodeId>();
  const firstTopic = spec.topics[0]?.name ?? '';
  scheduleSteps(
    spec,
    cluster,
    producers,
    retired,
    (reference) => resolveDataRole(cluster, data, firstTopic, reference),
    (trigger) => triggerHolds(cluster, data, firstTopic, trigger),
    unchanged,
  );
  world.at(spec.faultPhaseMs, 'heal-phase', () => healEverything(world, retired));
  world.runFor(spec.faultPhaseMs + spec.healPhaseMs, spec.eventsMax ?? 50_000_000);
  checkConverged(cluster, log, retired);
  data.finish({
    idempotentProducers: new Set(
      producers.filter((_, index) => spec.producers[index]?.idempotent === true),
    ),
    retired,
  });
  return {
    ...checkedRunOf(log, world),
    cluster,
    history,
    simulatedMs: world.nowMs,
  };
}

function createTopics(cluster: KraftCluster, topics: readonly TopicSpec[]): void {
  adminOf(cluster).createTopics(
    topics.map((topic) => ({
      name: topic.name,
      numPartitions: topic.partitions,
      replicationFactor: topic.replicationFactor,
      configs: {
        minInsyncReplicas: topic.minInsyncReplicas,
        uncleanLeaderElection: topic.uncleanLeaderElection ?? false,
      },
    })),
    () => {},
  );
}

/** The producers (`p1`, ...) with their workloads, and the consumers (`r1`, ...); returns the producers' ids. */
function addClients(spec: KafkaRunSpec, cluster: KraftCluster, history: History): NodeId[] {
  const { world } = cluster;
  const workloadStartMs = spec.workloadStartMs ?? WORKLOAD_START_MS;
  const producers = spec.producers.map((producerSpec, index) => {
    const id = `p${index + 1}`;
    world.addNode(
      id,
      (context) =>
        new Producer(context, {
          ...FAST_PRODUCER_CONFIG,
          ...spec.producer,
          ...producerSpec.config,
          bootstrapBrokers: cluster.brokers,
          acks: producerSpec.acks,
          enableIdempotence: producerSpec.idempotent ?? false,
          history,
          process: id,
        }),
    );
    world.node(id).start();
    const startMs = producerSpec.startMs ?? workloadStartMs;
    const count =
      producerSpec.count ??
      Math.max(0, Math.floor((spec.faultPhaseMs - startMs) / producerSpec.everyMs)) *
        (producerSpec.burst ?? 1);
    world.at(startMs, 'workload', () =>
      (world.node(id).machine as Producer).startWorkload({
        topic: producerSpec.topic,
        everyMs: producerSpec.everyMs,
        count,
        ...(producerSpec.burst === undefined ? {} : { burst: producerSpec.burst }),
        keyPrefix: producerSpec.keyPrefix ?? `${id}-k`,
        valuePrefix: producerSpec.valuePrefix ?? id,
        ...(producerSpec.partition === undefined ? {} : { partition: producerSpec.partition }),
      }),
    );
    return id;
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
  return producers;
}

/**
 * The timeline: faults through scheduleFaults (role references resolved when they fire), operations
 * at their time, and steps with `when` checked after every event from their time on until the
 * trigger holds (and their roles resolve), at the latest by the end of the fault phase.
 */
function scheduleSteps(
  spec: KafkaRunSpec,
  cluster: KraftCluster,
  producers: readonly NodeId[],
  retired: Set<NodeId>,
  resolve: (reference: NodeId) => NodeId | null,
  holds: (trigger: TriggerName) => boolean,
  unchanged: () => boolean,
): void {
  const { world } = cluster;
  const steps = (spec.faults ?? []).filter(
    (step) => !('node' in step) || !producers.includes(String(step.node)),
  );
  const plain = steps.filter(
    (step): step is TimedFault => step.when === undefined && isFault(step),
  );
  scheduleFaults(world, plain, resolve, spec.faultPhaseMs, unchanged);
  const fire = (step: Step): boolean => {
    if (isFault(step)) return applyFault(world, step, resolve, step.atMs);
    applyOperation(cluster, step, retired, resolve);
    return true;
  };
  const waiting: Step[] = [];
  for (const step of steps) {
    if (step.when === undefined && isFault(step)) continue;
    if (step.atMs >= spec.faultPhaseMs) continue;
    world.at(step.atMs, `step ${step.kind}`, () => {
      if (step.when === undefined) fire(step);
      else waiting.push(step);
    });
  }
  world.scheduler.addStepCheck(() => {
    // Nothing moved since the last event: no trigger that did not hold then holds now.
    const same = waiting.length > 0 && unchanged();
    for (let index = 0; index < waiting.length; ) {
      const step = waiting[index] as Step;
      const untilMs = Math.min(step.atMs + (step.awaitMs ?? spec.faultPhaseMs), spec.faultPhaseMs);
      if (world.nowMs >= untilMs) {
        waiting.splice(index, 1);
        continue;
      }
      if (!same && holds(step.when as TriggerName) && fire(step)) waiting.splice(index, 1);
      else index++;
    }
  });
}

function isFault(step: Step): step is TimedFault & { readonly when?: TriggerName } {
  return step.kind !== 'add-broker' && step.kind !== 'remove-broker';
}

/** How long the harness waits before asking again to unregister a removed broker. */
const UNREGISTER_RETRY_MS = 1_000;

function applyOperation(
  cluster: KraftCluster,
  operation: Operation,
  retired: Set<NodeId>,
  resolve: (reference: NodeId) => NodeId | null,
): void {
  const { world } = cluster;
  if (operation.kind === 'add-broker') {
    const id = cluster.addBroker();
    world.trace('operation.add-broker', { broker: id });
    return;
  }
  const node = operation.node.startsWith('@') ? resolve(operation.node) : operation.node;
  if (node === null || !cluster.brokers.includes(node) || retired.has(node)) return;
  retired.add(node);
  world.trace('operation.remove-broker', { broker: node });
  // Whatever happens to it from now on (a crash, a restart fault), it does not come back.
  world.decommission(node);
  // A controlled shutdown if it is up (once a pause is over), then the admin unregisters it.
  const removeWhenDown = () => {
    if (world.node(node).status === 'up') world.stop(node);
    if (world.node(node).status !== 'down') {
      world.at(world.nowMs + 100, 'remove-broker wait', removeWhenDown);
      return;
    }
    unregister();
  };
  // As an operator's script would: again until the controller answers (its quorum may be down).
  const unregister = () => {
    adminOf(cluster).unregisterBroker(node, (error) => {
      if (error === 'NONE' || error === 'BROKER_ID_NOT_REGISTERED') {
        // The operator stops here. A controller answers BROKER_ID_NOT_REGISTERED from its own
        // state, uncommitted records included (as Kafka's does): a failover may still drop the
        // unregistration it counted, and the broker then stays registered.
        world.trace('operation.remove-broker-answered', { broker: node, error });
        return;
      }
      world.trace('operation.remove-broker-retry', { broker: node, error });
      world.at(world.nowMs + UNREGISTER_RETRY_MS, 'remove-broker retry', unregister);
    });
  };
  removeWhenDown();
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
