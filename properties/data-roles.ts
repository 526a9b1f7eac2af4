// Role references and triggers for schedules of the data path: names for brokers by what they are
// doing when a fault fires (`@leader`), and protocol moments a step can wait for (`when`).

import type { LeaderState } from '../sim/kafka/broker/leader-state.ts';
import type { Replica } from '../sim/kafka/broker/replica-manager.ts';
import type { PartitionState } from '../sim/kafka/controller/metadata-image.ts';
import {
  activeController,
  brokerOf,
  controllerOf,
  type KraftCluster,
} from '../sim/kafka/kraft/cluster.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import type { DataChecker } from './data-checker.ts';
import { type QUORUM_ROLES, resolveVoterRole } from './raft-harness.ts';

type QuorumRole = (typeof QUORUM_ROLES)[number];

/**
 * Role references for faults on the data path, all about the first topic's partition 0: `@leader`
 * its leader, `@follower` an ISR follower, `@out-of-isr` a replica outside the ISR, `@replica-N`
 * its N-th replica in assignment order (stable for the whole run: replica 0 leads first, and
 * elections go in this order), `@controller` the active controller; and two moments of KAFKA-7128
 * for faults that wait (awaitMs): `@stale-hw-follower` a follower outside the ISR whose log has
 * reached the leader's high watermark but not the leader's epoch start offset, and
 * `@leader-of-lagging-isr` the leader while an ISR member's log ends before its epoch start; and
 * one of KIP-903: `@leader-of-behind-isr` the leader while an ISR member's log ends below its HW;
 * and `@controller-during-alter-partition` the active controller while the leader has an
 * AlterPartition in flight (an ISR change the controller has not answered yet). And the metadata
 * quorum's roles (raft-harness.ts, QUORUM_ROLES) among the controllers: `@new-controller` the
 * metadata leader while nothing of its epoch is committed yet, `@controller-follower` a controller
 * following it, `@voted-controller` a controller that has granted its vote and knows no leader yet.
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
      return state === undefined ? null : firstExcept(state.isr, state.leader);
    case '@out-of-isr':
      return state === undefined ? null : firstNotIn(state.replicas, state.isr);
    case '@stale-hw-follower':
      return staleHighWatermarkFollower(cluster, state);
    case '@leader-of-lagging-isr':
      return leaderOfIsrMemberBelow(cluster, state, epochStartOf);
    case '@leader-of-behind-isr':
      return leaderOfIsrMemberBelow(cluster, state, highWatermarkOf);
    case '@controller':
      return activeControllerId(cluster);
    case '@controller-during-alter-partition':
      return alterPartitionInFlight(cluster, state) ? activeControllerId(cluster) : null;
    default: {
      const quorumRole = QUORUM_ROLE_OF[reference];
      if (quorumRole !== undefined)
        return resolveVoterRole(
          cluster.controllers,
          (id) => controllerOf(cluster, id)?.raft ?? null,
          quorumRole,
        );
      const index = replicaIndexOf(reference);
      return index === null ? null : (state?.replicas[index] ?? null);
    }
  }
}

function activeControllerId(cluster: KraftCluster): NodeId | null {
  const active = activeController(cluster);
  return cluster.controllers.find((id) => controllerOf(cluster, id) === active) ?? null;
}

/** Whether the partition's leader has sent an AlterPartition not answered yet. */
function alterPartitionInFlight(cluster: KraftCluster, state: PartitionState | undefined): boolean {
  return leaderReplica(cluster, state)?.alterPartitionInFlight != null;
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
  for (const id of (leader.leaderState as LeaderState).isr) {
    if (id === state.leader) continue;
    const member = brokerOf(cluster, id)?.replicaManager.replica(state.topicId, state.partition);
    if (member !== undefined && member.logEndOffset < offset) return state.leader;
  }
  return null;
}

// The bounds leaderOfIsrMemberBelow compares with, made once: a fault awaiting its role asks
// after every event, and a closure made at each call was much of what resolving allocated.
const epochStartOf = (leader: Replica): number =>
  (leader.leaderState as LeaderState).epochStartOffset;
const highWatermarkOf = (leader: Replica): number => leader.highWatermark;

/** The first of `ids` other than `except`, if any. */
function firstExcept(ids: readonly NodeId[], except: NodeId | null): NodeId | null {
  for (const id of ids) if (id !== except) return id;
  return null;
}

/** The first of `ids` not among `others`, if any. */
function firstNotIn(ids: readonly NodeId[], others: readonly NodeId[]): NodeId | null {
  for (const id of ids) if (!others.includes(id)) return id;
  return null;
}

const REPLICA_PREFIX = '@replica-';

/**
 * N of a `@replica-N` reference (N decimal digits), else null: read digit by digit, as the
 * reference is asked after every event while a fault awaits it (a regex match made an array).
 */
export function replicaIndexOf(reference: string): number | null {
  if (!reference.startsWith(REPLICA_PREFIX) || reference.length === REPLICA_PREFIX.length)
    return null;
  let index = 0;
  for (let at = REPLICA_PREFIX.length; at < reference.length; at++) {
    const digit = reference.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return null;
    index = index * 10 + digit;
  }
  return index;
}

/**
 * A whole cluster's names for the metadata quorum's roles (raft-harness.ts, QUORUM_ROLES), which
 * the quorum's fault profiles use: `@leader` is the active controller (`@controller`).
 */
export const CONTROLLER_ROLE_OF: Readonly<Record<QuorumRole, string>> = {
  '@leader': '@controller',
  '@new-leader': '@new-controller',
  '@follower': '@controller-follower',
  '@voted': '@voted-controller',
};

/** The quorum role each controller role besides `@controller` stands for. */
const QUORUM_ROLE_OF: Readonly<Record<string, QuorumRole>> = Object.fromEntries(
  Object.entries(CONTROLLER_ROLE_OF)
    .filter(([, controllerRole]) => controllerRole !== '@controller')
    .map(([quorumRole, controllerRole]) => [controllerRole, quorumRole as QuorumRole]),
);

/** The role references about the controllers alone (`@controller`, the active one, first). */
export const CONTROLLER_ROLES: readonly string[] = Object.values(CONTROLLER_ROLE_OF);

/** The role references about the first topic's partition 0 (besides `@replica-N`). */
export const PARTITION_ROLES = [
  '@leader',
  '@follower',
  '@out-of-isr',
  '@stale-hw-follower',
  '@leader-of-lagging-isr',
  '@leader-of-behind-isr',
  '@controller-during-alter-partition',
] as const;

/** Protocol moments a scheduled step can wait for (`when`), about the first topic's partition 0. */
export const TRIGGERS = {
  'follower-hw-lags':
    "the leader has a follower whose high watermark lags the leader's log end offset",
  'isr-shrunk': 'the ISR is smaller than the replica set',
  'isr-full': 'the ISR holds every replica',
  'no-leader': 'the partition has no leader',
  'stale-hw-follower':
    "a follower outside the ISR has reached the leader's high watermark but not its epoch start offset",
  'lagging-isr-member': "an ISR member's log ends before the leader's epoch start offset",
  'alter-partition-in-flight':
    'the leader has sent an AlterPartition (an ISR change) the controller has not answered yet',
} as const;

export type TriggerName = keyof typeof TRIGGERS;

export function isTriggerName(name: string): name is TriggerName {
  return Object.hasOwn(TRIGGERS, name);
}

/** Whether `trigger` holds now. */
export function triggerHolds(
  cluster: KraftCluster,
  checker: DataChecker,
  firstTopic: string,
  trigger: TriggerName,
): boolean {
  const state = checker.image.topicByName(firstTopic)?.partitions.get(0);
  switch (trigger) {
    case 'follower-hw-lags': {
      const leader = leaderReplica(cluster, state);
      if (state === undefined || leader === null) return false;
      for (const id of state.replicas) {
        if (id === state.leader) continue;
        const follower = brokerOf(cluster, id)?.replicaManager.replica(
          state.topicId,
          state.partition,
        );
        if (follower !== undefined && follower.highWatermark < leader.logEndOffset) return true;
      }
      return false;
    }
    case 'isr-shrunk':
      return state !== undefined && state.isr.length < state.replicas.length;
    case 'isr-full':
      return state !== undefined && state.isr.length === state.replicas.length;
    case 'no-leader':
      return state !== undefined && state.leader === null;
    case 'stale-hw-follower':
      return staleHighWatermarkFollower(cluster, state) !== null;
    case 'alter-partition-in-flight':
      return alterPartitionInFlight(cluster, state);
    case 'lagging-isr-member':
      return leaderOfIsrMemberBelow(cluster, state, epochStartOf) !== null;
  }
}
