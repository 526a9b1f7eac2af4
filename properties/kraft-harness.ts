// One run of a whole KRaft-mode cluster (controllers, brokers, an admin creating topics) under a
// fault schedule, then the heal phase. After every event: the metadata quorum's invariants, with
// the brokers as its observers (metadata-staleness-bounded is about them). At the end: every
// broker registered, unfenced and running again; every node's image equal to the committed
// metadata; every partition's state valid (isr-valid, leader-in-isr, on the image).

import { healEverything, scheduleFaults, type TimedFault } from '../sim/faults.ts';
import type { Bugs } from '../sim/kafka/bugs.ts';
import {
  MetadataImage,
  type PartitionState,
  replayLog,
} from '../sim/kafka/controller/metadata-image.ts';
import {
  effectiveMinIsr,
  partitionInvariantViolation,
} from '../sim/kafka/controller/partition-control.ts';
import {
  activeController,
  adminOf,
  brokerOf,
  buildKraftCluster,
  controllerOf,
  type KraftCluster,
} from '../sim/kafka/kraft/cluster.ts';
import type { KraftController } from '../sim/kafka/kraft/controller-node.ts';
import type { ClusterMessage } from '../sim/kafka/messages.ts';
import type { RaftNode } from '../sim/kafka/raft/raft-node.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import { RaftChecker } from './raft-checker.ts';
import { type CheckedRun, checkedRunOf, ViolationLog } from './violation.ts';

export interface KraftRunOptions {
  readonly seed: number;
  readonly controllers: number;
  readonly brokers: number;
  readonly bugs?: Bugs;
  readonly faults?: readonly TimedFault[];
  readonly faultPhaseMs: Ms;
  readonly healPhaseMs: Ms;
}

export interface KraftRunResult extends CheckedRun {
  readonly cluster: KraftCluster;
}

/** `@leader`: the active controller; `@follower`: a controller following it. */
export function resolveKraftRole(cluster: KraftCluster, reference: NodeId): NodeId | null {
  const active = activeController(cluster);
  const activeId = cluster.controllers.find((id) => controllerOf(cluster, id) === active) ?? null;
  if (reference === '@leader') return activeId;
  if (reference === '@follower') {
    return (
      cluster.controllers.find(
        (id) => id !== activeId && controllerOf(cluster, id)?.raft.role === 'follower',
      ) ?? null
    );
  }
  return null;
}

export function runKraft(options: KraftRunOptions): KraftRunResult {
  const log = new ViolationLog();
  let checker: RaftChecker<ClusterMessage> | null = null;
  const cluster = buildKraftCluster({
    seed: options.seed,
    controllers: options.controllers,
    brokers: options.brokers,
    ...(options.bugs === undefined ? {} : { bugs: options.bugs }),
    trace: {
      sinkFilter: (kind) => RaftChecker.TRACE_KINDS.includes(kind),
      sink: (event) => checker?.onTraceEvent(event),
    },
  });
  const { world } = cluster;
  // Controllers and brokers both host a RaftNode as `raft`.
  const raftOf = (host: { machine: unknown }) =>
    (host.machine as { raft: RaftNode } | null)?.raft ?? null;
  const raftChecker = new RaftChecker(world, cluster.raftConfig, cluster.brokers, raftOf, log);
  checker = raftChecker;
  world.scheduler.addStepCheck(() => raftChecker.check());
  const topics = Math.min(cluster.brokers.length, 3);
  world.at(3_000, 'create-topics', () =>
    adminOf(cluster).createTopics(
      [
        {
          name: 'orders',
          numPartitions: 3,
          replicationFactor: topics,
          configs: { minInsyncReplicas: Math.min(2, topics) },
        },
        { name: 'events', numPartitions: 2, replicationFactor: Math.min(2, topics) },
      ],
      () => {},
    ),
  );
  scheduleFaults(
    world,
    options.faults ?? [],
    (reference) => resolveKraftRole(cluster, reference),
    options.faultPhaseMs,
  );
  world.at(options.faultPhaseMs, 'heal-phase', () => healEverything(world));
  world.runFor(options.faultPhaseMs + options.healPhaseMs, 50_000_000);
  checkConverged(cluster, log);
  return {
    ...checkedRunOf(log, world),
    cluster,
  };
}

/**
 * The replicas Kafka could elect for a leaderless partition (unclean election off): its ISR and
 * ELR, or, with both empty, its last known leader (KIP-966).
 */
function electable(partition: PartitionState): readonly string[] {
  return partition.isr.length + partition.elr.length > 0
    ? [...partition.isr, ...partition.elr]
    : partition.lastKnownElr;
}

/**
 * A leaderless partition Kafka leaves offline on purpose: none of the replicas it could elect
 * will come back. Either none is left (each restarted uncleanly or was unregistered), or those
 * left were removed: a removed broker whose unregistration a controller failover dropped stays
 * registered, fenced, in the ELR (the outgoing controller told the admin's retry
 * BROKER_ID_NOT_REGISTERED from its uncommitted state, as Kafka's does).
 */
export function isOfflineByDesign(
  partition: PartitionState,
  retired: ReadonlySet<string>,
): boolean {
  return electable(partition).every((id) => retired.has(id));
}

/** The image that replaying the active controller's log up to `upTo` gives. */
function replayCommitted(active: KraftController, upTo: number): MetadataImage {
  const image = new MetadataImage();
  replayLog(image, active.raft.log, 0, upTo);
  return image;
}

/** After healing: every node's image is the committed log, every broker (but `retired` ones) runs, every partition is valid and led. */
export function checkConverged(
  cluster: KraftCluster,
  log: ViolationLog,
  retired: ReadonlySet<string> = new Set(),
): void {
  const atMs = cluster.world.nowMs;
  const active = activeController(cluster);
  if (active === null) {
    log.report({
      invariant: 'leader-elected-after-heal',
      atMs,
      message: 'no active controller at the end of the heal phase',
    });
    return;
  }
  // Each node's image must be exactly the committed log replayed up to where that node is.
  for (const id of [...cluster.controllers, ...cluster.brokers]) {
    const controller = controllerOf(cluster, id);
    const broker = brokerOf(cluster, id);
    if (controller === active) continue;
    const node = controller ?? broker;
    if (node === null) continue;
    const upTo = controller !== null ? controller.replayedUpTo : (broker?.metadataOffset ?? -1) + 1;
    if (upTo > active.raft.highWatermark) {
      log.report({
        invariant: 'raft-log-matching',
        atMs,
        message: `${id} replayed metadata up to ${upTo}, past the commit point ${active.raft.highWatermark}`,
        nodes: [id],
      });
      continue;
    }
    if (node.image.describe() !== replayCommitted(active, upTo).describe()) {
      log.report({
        invariant: 'raft-log-matching',
        atMs,
        message: `${id}'s metadata image is not the committed log replayed to offset ${upTo}`,
        nodes: [id],
      });
    }
    if (upTo < active.raft.highWatermark - 50) {
      log.report({
        invariant: 'metadata-staleness-bounded',
        atMs,
        message: `${id} has replayed metadata to ${upTo} only, the leader committed ${active.raft.highWatermark}`,
        nodes: [id],
      });
    }
  }
  for (const id of cluster.brokers) {
    if (retired.has(id)) continue;
    const registration = active.image.broker(id);
    if (
      registration === undefined ||
      registration.fenced ||
      brokerOf(cluster, id)?.state !== 'running'
    ) {
      log.report({
        invariant: 'leader-elected-after-heal',
        atMs,
        message: `broker ${id} is not registered, unfenced and running after healing (${registration === undefined ? 'unregistered' : registration.fenced ? 'fenced' : brokerOf(cluster, id)?.state})`,
        nodes: [id],
      });
    }
  }
  for (const topic of active.image.topics.values()) {
    for (const partition of topic.partitions.values()) {
      const problem = partitionInvariantViolation(
        partition,
        effectiveMinIsr(topic.configs, partition.replicas.length),
      );
      if (problem !== null) log.report({ invariant: 'isr-valid', atMs, message: problem });
      if (partition.leader === null && isOfflineByDesign(partition, retired)) {
        // KIP-966: every replica that could lead left the ISR and ELR through an unclean shutdown
        // or was unregistered, and so was the last known leader (which Kafka would elect, even
        // after an unclean shutdown); or the only ones left were removed, never to come back:
        // Kafka keeps the partition offline until an unclean election.
        const left = electable(partition);
        log.allow({
          reason: 'offline-after-unclean-shutdowns',
          atMs,
          message:
            left.length === 0
              ? `${topic.name}-${partition.partition} stays offline: its ISR and ELR emptied (every replica that could lead restarted uncleanly or was removed) and its last known leader was removed`
              : `${topic.name}-${partition.partition} stays offline: the only replicas that could lead (ISR [${partition.isr.join(',')}], ELR [${partition.elr.join(',')}]) were removed and do not come back`,
        });
      } else if (partition.leader === null) {
        log.report({
          invariant: 'leader-elected-after-heal',
          atMs,
          message: `${topic.name}-${partition.partition} has no leader after healing (ISR [${partition.isr.join(',')}], ELR [${partition.elr.join(',')}])`,
          topic: topic.name,
          partition: partition.partition,
          nodes: [...partition.replicas],
          leaderless: {
            replicas: [...partition.replicas],
            isr: [...partition.isr],
            elr: [...partition.elr],
            lastKnownElr: [...partition.lastKnownElr],
            uncleanLeaderElection: topic.configs.uncleanLeaderElection,
          },
        });
      }
    }
  }
}
