// The controller's partition and broker management, shared by the KRaft and ZooKeeper backends.
// Pure functions over a MetadataImage: each returns the records to append and never changes the
// image. They follow Kafka's KRaft controller (ReplicationControlManager, PartitionChangeBuilder)
// and KIP-966 (eligible leader replicas, ELR):
//
// - a change of a partition starts from a target ISR (the ISR without a broker that went away,
//   or the ISR a leader asked for); with ELR on, when the target ISR is below the effective min ISR
//   every member leaving it joins the ELR (it was caught up and the HW cannot advance without it);
//   once the ISR is back at the min ISR the ELR empties;
// - the leader is kept while it is still usable and in the ISR; otherwise the election takes the
//   first usable ISR member in replica order, then (ISR empty) the first usable ELR member, then
//   the last known leader, then, where the topic allows it, any usable replica (unclean: the ISR
//   becomes that replica alone and the leader is RECOVERING);
// - without ELR the ISR never becomes empty: its last member stays in it and the partition is
//   leaderless until that member comes back (or an unclean election).
//
// Every record is checked before it is returned: ISR and ELR are disjoint subsets of the replicas,
// |ISR| ≥ effective min ISR ⇒ ELR empty, the leader is in the ISR, and no unusable broker is
// elected or added to the ISR.

import { assert } from '../../kernel/assert.ts';
import type { AlterPartitionRequest, CreatePartitionsSpec } from './messages.ts';
import { type MetadataImage, type PartitionState, partitionAfterChange } from './metadata-image.ts';
import type {
  BrokerId,
  LeaderRecoveryState,
  MetadataRecord,
  PartitionChangeRecord,
  PartitionRecord,
  RemoveTopicRecord,
  TopicConfigs,
  TopicId,
} from './records.ts';

/** Kafka's defaults: min.insync.replicas 1, unclean.leader.election.enable false. */
export const TOPIC_CONFIGS_DEFAULT: TopicConfigs = {
  minInsyncReplicas: 1,
  uncleanLeaderElection: false,
};

export interface ElrOptions {
  /** Eligible leader replicas (KIP-966): on in KRaft, off in ZooKeeper mode and with `no-elr`. */
  readonly elr: boolean;
}

/** min(min.insync.replicas, replication factor): the ISR size that lets the HW advance (KAFKA-15583). */
export function effectiveMinIsr(configs: TopicConfigs, replicationFactor: number): number {
  return Math.min(configs.minInsyncReplicas, replicationFactor);
}

// ---- topic creation ---------------------------------------------------------------------------

export interface CreateTopicRequest {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configs?: Partial<TopicConfigs>;
}

export type CreateTopicOutcome =
  | { readonly error: 'NONE'; readonly records: MetadataRecord[] }
  | {
      readonly error: 'TOPIC_ALREADY_EXISTS' | 'INVALID_PARTITIONS' | 'INVALID_REPLICATION_FACTOR';
      readonly message: string;
    };

/**
 * The Topic record and one Partition record per partition. Replicas go round-robin over the usable
 * brokers sorted by id, from `startIndex` (drawn by the caller) modulo their count: partition p's
 * replicas are the RF brokers from (start + p). Every replica starts in the ISR, the first leads.
 */
export function createTopicRecords(
  image: MetadataImage,
  request: CreateTopicRequest,
  topicId: TopicId,
  startIndex: number,
): CreateTopicOutcome {
  assert(Number.isInteger(startIndex), `startIndex must be an integer (got ${startIndex})`);
  assert(!image.topics.has(topicId), `topic id ${topicId} is already taken`);
  const brokers = usableBrokersSorted(image);
  const rejection = createTopicRejection(image, request, brokers.length);
  if (rejection !== null) return rejection;
  // A literal naming both fields, not a spread of the defaults (replicaConfigOf says why): every
  // broker's leader reads them (effectiveMinIsr).
  const configs: TopicConfigs = {
    minInsyncReplicas:
      request.configs?.minInsyncReplicas ?? TOPIC_CONFIGS_DEFAULT.minInsyncReplicas,
    uncleanLeaderElection:
      request.configs?.uncleanLeaderElection ?? TOPIC_CONFIGS_DEFAULT.uncleanLeaderElection,
  };
  assert(
    Number.isInteger(configs.minInsyncReplicas) && configs.minInsyncReplicas >= 1,
    `minInsyncReplicas must be an integer ≥ 1 (got ${configs.minInsyncReplicas})`,
  );
  const records: MetadataRecord[] = [{ type: 'Topic', name: request.name, topicId, configs }];
  const assignment = { brokers, startIndex, replicationFactor: request.replicationFactor };
  records.push(...roundRobinPartitions(topicId, assignment, 0, request.numPartitions));
  return { error: 'NONE', records };
}

function createTopicRejection(
  image: MetadataImage,
  request: CreateTopicRequest,
  usableBrokers: number,
): Exclude<CreateTopicOutcome, { error: 'NONE' }> | null {
  const { name, numPartitions, replicationFactor } = request;
  if (image.topicByName(name) !== undefined) {
    return { error: 'TOPIC_ALREADY_EXISTS', message: `topic '${name}' already exists` };
  }
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    return {
      error: 'INVALID_PARTITIONS',
      message: `numPartitions must be an integer ≥ 1 (got ${numPartitions})`,
    };
  }
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    return {
      error: 'INVALID_REPLICATION_FACTOR',
      message: `replicationFactor must be an integer ≥ 1 (got ${replicationFactor})`,
    };
  }
  if (replicationFactor > usableBrokers) {
    return {
      error: 'INVALID_REPLICATION_FACTOR',
      message: `replicationFactor must be ≤ usable brokers (got ${replicationFactor} > ${usableBrokers})`,
    };
  }
  return null;
}

function initialPartition(
  topicId: TopicId,
  partition: number,
  replicas: readonly BrokerId[],
): PartitionRecord {
  return {
    type: 'Partition',
    topicId,
    partition,
    replicas,
    isr: replicas,
    elr: [],
    lastKnownElr: [],
    leader: replicas[0] ?? null,
    leaderEpoch: 0,
    partitionEpoch: 0,
    leaderRecoveryState: 'RECOVERED',
  };
}

function usableBrokersSorted(image: MetadataImage): BrokerId[] {
  return [...image.brokers.keys()]
    .filter((brokerId) => image.isUsable(brokerId))
    .sort(compareBrokerIds);
}

/**
 * Natural order, so that b2 comes before b10 as broker 2 before broker 10 in Kafka: digit runs
 * compare by value, other runs as text, then the plain text breaks ties (b02 before b2).
 */
export function compareBrokerIds(a: BrokerId, b: BrokerId): number {
  const chunksA = a.match(/\d+|\D+/g) ?? [];
  const chunksB = b.match(/\d+|\D+/g) ?? [];
  for (let index = 0; index < Math.min(chunksA.length, chunksB.length); index++) {
    const order = compareChunks(chunksA[index] as string, chunksB[index] as string);
    if (order !== 0) return order;
  }
  if (chunksA.length !== chunksB.length) return chunksA.length - chunksB.length;
  return compareText(a, b);
}

function compareChunks(a: string, b: string): number {
  if (!/^\d/.test(a) || !/^\d/.test(b)) return compareText(a, b);
  const valueA = a.replace(/^0+/, '');
  const valueB = b.replace(/^0+/, '');
  if (valueA.length !== valueB.length) return valueA.length - valueB.length;
  return compareText(valueA, valueB);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- leader election --------------------------------------------------------------------------

export type ElectionSource = 'isr' | 'elr' | 'last-known-elr' | 'unclean' | 'none';

export interface LeaderElection {
  readonly leader: BrokerId | null;
  readonly source: ElectionSource;
}

/**
 * The leader the controller would choose for `partition` now: the current leader while it is
 * usable and in the ISR, else the first usable ISR member in replica order; with ELR on and the
 * ISR empty, the first usable ELR member, then the last known leader if usable (KIP-966); then, if
 * the topic allows unclean election, any usable replica; else none.
 */
export function electLeader(
  image: MetadataImage,
  partition: PartitionState,
  options: ElrOptions,
): LeaderElection {
  const input = changeInput(image, partition, options.elr, (brokerId) => image.isUsable(brokerId));
  return chooseLeader(input, partition.isr, options.elr ? partition.elr : []);
}

// ---- broker state changes ---------------------------------------------------------------------

/**
 * A broker was fenced (its session expired) or entered a controlled shutdown: it leaves every ISR
 * and gives up every leadership; the broker counts as unusable whether or not its fence or
 * shutdown record is already in the image.
 */
export function recordsForBrokerUnavailable(
  image: MetadataImage,
  brokerId: BrokerId,
  options: ElrOptions,
): PartitionChangeRecord[] {
  return recordsForBrokerLeaving(image, brokerId, options, false);
}

/**
 * A broker is unregistered (decommissioned): as when it is fenced, it leaves every ISR and gives
 * up every leadership, and it also leaves every ELR and lastKnownElr (Kafka's
 * handleBrokerUnregistered): a partition must not wait for a broker that will not be back.
 */
export function recordsForBrokerUnregistered(
  image: MetadataImage,
  brokerId: BrokerId,
  options: ElrOptions,
): PartitionChangeRecord[] {
  return recordsForBrokerLeaving(image, brokerId, options, true);
}

function recordsForBrokerLeaving(
  image: MetadataImage,
  brokerId: BrokerId,
  options: ElrOptions,
  leavesElr: boolean,
): PartitionChangeRecord[] {
  const isUsable = (candidate: BrokerId) => candidate !== brokerId && image.isUsable(candidate);
  const records: PartitionChangeRecord[] = [];
  for (const partition of image.allPartitions()) {
    const eligible =
      leavesElr && (partition.elr.includes(brokerId) || partition.lastKnownElr.includes(brokerId));
    if (!partition.isr.includes(brokerId) && partition.leader !== brokerId && !eligible) continue;
    const input = changeInput(image, partition, options.elr, isUsable);
    const targetIsr = without(partition.isr, brokerId);
    const record = partitionChange({
      ...input,
      targetIsr,
      leavesElr: leavesElr ? brokerId : null,
      leavesLastKnownElr: leavesElr ? brokerId : null,
    });
    if (record !== null) records.push(record);
  }
  return records;
}

/**
 * A broker became usable (unfenced): every leaderless partition that now has an electable replica
 * gets a leader. The broker counts as usable whether or not its unfence record is in the image.
 */
export function recordsForBrokerUsable(
  image: MetadataImage,
  brokerId: BrokerId,
  options: ElrOptions,
): PartitionChangeRecord[] {
  const isUsable = (candidate: BrokerId) =>
    candidate === brokerId ? image.broker(candidate) !== undefined : image.isUsable(candidate);
  const records: PartitionChangeRecord[] = [];
  for (const partition of image.allPartitions()) {
    if (partition.leader !== null) continue;
    const record = partitionChange(changeInput(image, partition, options.elr, isUsable));
    if (record !== null) records.push(record);
  }
  return records;
}

/**
 * A broker registered after an unclean shutdown (no clean-shutdown marker: a kill or a power
 * failure): it may have lost unflushed records, so it leaves every ELR (KIP-966) until it rejoins
 * the ISR. It stays the last known leader where it was one (Kafka's handleBrokerUncleanShutdown
 * keeps lastKnownElr while the partition has no leader): with the ISR and the ELR empty, Kafka
 * elects it once it is unfenced, as an unclean election (RECOVERING) that may lose what it lost,
 * rather than leave the partition offline (KIP-966 keeps the last-known-leader behaviour). Only
 * ELR mode fills those lists, so without ELR this returns nothing. Call it on an image that
 * already holds the records of any fence of the broker.
 */
export function recordsForUncleanRestart(
  image: MetadataImage,
  brokerId: BrokerId,
): PartitionChangeRecord[] {
  const isUsable = (candidate: BrokerId) => candidate !== brokerId && image.isUsable(candidate);
  const records: PartitionChangeRecord[] = [];
  for (const partition of image.allPartitions()) {
    if (!partition.elr.includes(brokerId)) continue;
    const input = changeInput(image, partition, true, isUsable);
    const targetIsr = without(partition.isr, brokerId);
    const record = partitionChange({ ...input, targetIsr, leavesElr: brokerId });
    if (record !== null) records.push(record);
  }
  return records;
}

/**
 * The periodic check of the KRaft controller: every leaderless partition of a topic with
 * unclean.leader.election.enable gets a leader, clean if possible, else any usable replica (its
 * ISR becomes that replica alone, RECOVERING). It changes nothing but leaderless partitions, so it
 * gives the same records for images built with or without ELR.
 */
export function recordsForUncleanElection(image: MetadataImage): PartitionChangeRecord[] {
  const records: PartitionChangeRecord[] = [];
  for (const partition of image.allPartitions()) {
    if (partition.leader !== null) continue;
    const input = changeInput(image, partition, true, (brokerId) => image.isUsable(brokerId));
    if (!input.uncleanAllowed) continue;
    const record = partitionChange(input);
    if (record !== null) records.push(record);
  }
  return records;
}

// ---- AlterPartition ---------------------------------------------------------------------------

/** The partition part of an AlterPartition request, sent by the partition's leader. */
export type AlterPartitionData = Omit<AlterPartitionRequest, 'kind' | 'requestId'>;

export interface AlterPartitionOptions extends ElrOptions {
  /** false: KIP-497 undone, no leader- nor partition-epoch check (no registered switch: the maximal
   * ISR and the eligibility checks leave no schedule we know of that needs it; see the README). */
  readonly checkPartitionEpoch: boolean;
  /** false: the `no-broker-epoch` bug (KIP-380/903): a previous incarnation's request lands. */
  readonly checkBrokerEpoch: boolean;
}

export type AlterPartitionError =
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'NOT_LEADER_OR_FOLLOWER'
  | 'FENCED_LEADER_EPOCH'
  | 'INVALID_UPDATE_VERSION'
  | 'INELIGIBLE_REPLICA'
  | 'STALE_BROKER_EPOCH'
  | 'INVALID_REQUEST';

export type AlterPartitionOutcome =
  | {
      readonly error: 'NONE';
      readonly record: PartitionChangeRecord;
      /** The partition after the record, as replaying it gives. */
      readonly state: PartitionState;
    }
  | { readonly error: AlterPartitionError; readonly message: string };

/**
 * The leader's request to change the ISR. Accepted, the ISR becomes `newIsr` with the ELR kept as
 * KIP-966 says, and the leader's log counts as recovered (Kafka's leader sends RECOVERED). The
 * record is emitted even when nothing changes, so the partition epoch always moves on.
 */
export function alterPartition(
  image: MetadataImage,
  request: AlterPartitionData,
  options: AlterPartitionOptions,
): AlterPartitionOutcome {
  const checked = checkAlterPartition(image, request, options);
  if (checked.error !== 'NONE') return checked;
  const { current } = checked;
  const input = changeInput(image, current, options.elr, (brokerId) => image.isUsable(brokerId));
  const record = partitionChange({
    ...input,
    targetIsr: [...request.newIsr],
    leaderRecoveryState: 'RECOVERED',
  }) ?? {
    type: 'PartitionChange',
    topicId: current.topicId,
    partition: current.partition,
    isr: current.isr,
  };
  assert(
    record.leader === undefined,
    `AlterPartition from leader ${request.brokerId} of ${current.topicId}-${current.partition} changed its leader to ${record.leader}`,
  );
  return { error: 'NONE', record, state: partitionAfterChange(current, record) };
}

type AlterPartitionCheck =
  | { readonly error: 'NONE'; readonly current: PartitionState }
  | { readonly error: AlterPartitionError; readonly message: string };

/** Kafka's order: broker epoch, partition, leadership, leader epoch, partition epoch, new ISR. */
function checkAlterPartition(
  image: MetadataImage,
  request: AlterPartitionData,
  options: AlterPartitionOptions,
): AlterPartitionCheck {
  const { brokerId, brokerEpoch, topicId, partition } = request;
  const name = `${topicId}-${partition}`;
  const broker = image.broker(brokerId);
  if (options.checkBrokerEpoch && broker?.brokerEpoch !== brokerEpoch) {
    const registered = broker === undefined ? 'none' : String(broker.brokerEpoch);
    const message = `broker ${brokerId} epoch ${brokerEpoch} is not the registered one (${registered})`;
    return { error: 'STALE_BROKER_EPOCH', message };
  }
  const current = image.partition(topicId, partition);
  if (current === undefined) {
    return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `no partition ${name}` };
  }
  if (current.leader !== brokerId) {
    const message = `broker ${brokerId} is not the leader of ${name} (${current.leader ?? 'none'} is)`;
    return { error: 'NOT_LEADER_OR_FOLLOWER', message };
  }
  if (options.checkPartitionEpoch && request.leaderEpoch !== current.leaderEpoch) {
    const message = `leader epoch ${request.leaderEpoch} of ${name} is not the current ${current.leaderEpoch}`;
    return { error: 'FENCED_LEADER_EPOCH', message };
  }
  if (options.checkPartitionEpoch && request.partitionEpoch !== current.partitionEpoch) {
    const message = `partition epoch ${request.partitionEpoch} of ${name} is not the current ${current.partitionEpoch}`;
    return { error: 'INVALID_UPDATE_VERSION', message };
  }
  return checkNewIsr(image, current, request, options.checkBrokerEpoch);
}

function checkNewIsr(
  image: MetadataImage,
  current: PartitionState,
  request: AlterPartitionData,
  checkBrokerEpochs: boolean,
): AlterPartitionCheck {
  const { newIsr } = request;
  const name = `${current.topicId}-${current.partition}`;
  const isValidIsr =
    new Set(newIsr).size === newIsr.length && newIsr.every((id) => current.replicas.includes(id));
  if (!isValidIsr) {
    const message = `new ISR [${newIsr.join(',')}] of ${name} is not a set of its replicas [${current.replicas.join(',')}]`;
    return { error: 'INVALID_REQUEST', message };
  }
  if (current.leader === null || !newIsr.includes(current.leader)) {
    const message = `new ISR [${newIsr.join(',')}] of ${name} leaves out the leader ${current.leader ?? 'none'}`;
    return { error: 'INVALID_REQUEST', message };
  }
  const ineligible = newIsr.filter((brokerId) => !image.isUsable(brokerId));
  if (ineligible.length > 0) {
    const message = `new ISR [${newIsr.join(',')}] of ${name} holds fenced, shutting-down or unregistered [${ineligible.join(',')}]`;
    return { error: 'INELIGIBLE_REPLICA', message };
  }
  // KIP-903: a member added on the strength of a previous incarnation's fetches is refused.
  const stale = checkBrokerEpochs
    ? (request.newIsrEpochs ?? []).filter(
        (entry) =>
          !current.isr.includes(entry.brokerId) &&
          image.broker(entry.brokerId)?.brokerEpoch !== entry.brokerEpoch,
      )
    : [];
  if (stale.length > 0) {
    const message = `new ISR [${newIsr.join(',')}] of ${name} adds [${stale.map((entry) => `${entry.brokerId}@${entry.brokerEpoch}`).join(',')}], not their registered broker epochs`;
    return { error: 'INELIGIBLE_REPLICA', message };
  }
  return { error: 'NONE', current };
}

// ---- the partition change (Kafka's PartitionChangeBuilder) ------------------------------------

interface ChangeInput {
  readonly current: PartitionState;
  /** The ISR asked for, before the election (which may replace it). */
  readonly targetIsr: readonly BrokerId[];
  readonly elr: boolean;
  readonly minIsr: number;
  readonly uncleanAllowed: boolean;
  readonly isUsable: (brokerId: BrokerId) => boolean;
  /**
   * A broker kept out of the ELR: it restarted after an unclean shutdown (it may have lost
   * records), or it was unregistered (it will not be back).
   */
  readonly leavesElr: BrokerId | null;
  /** A broker kept out of lastKnownElr: it was unregistered. */
  readonly leavesLastKnownElr: BrokerId | null;
  readonly leaderRecoveryState: LeaderRecoveryState;
}

interface PartitionTarget {
  readonly isr: readonly BrokerId[];
  readonly elr: readonly BrokerId[];
  readonly lastKnownElr: readonly BrokerId[];
  readonly leader: BrokerId | null;
  readonly leaderRecoveryState: LeaderRecoveryState;
}

/** A change that keeps the ISR: only the election (and ELR upkeep) can change the partition. */
function changeInput(
  image: MetadataImage,
  current: PartitionState,
  elr: boolean,
  isUsable: (brokerId: BrokerId) => boolean,
): ChangeInput {
  const topic = image.topics.get(current.topicId);
  assert(topic !== undefined, `partition ${current.topicId}-${current.partition} has no topic`);
  return {
    current,
    targetIsr: current.isr,
    elr,
    minIsr: effectiveMinIsr(topic.configs, current.replicas.length),
    uncleanAllowed: topic.configs.uncleanLeaderElection,
    isUsable,
    leavesElr: null,
    leavesLastKnownElr: null,
    leaderRecoveryState: current.leaderRecoveryState,
  };
}

/** The record that takes the partition to its target, or null when nothing changes. */
function partitionChange(input: ChangeInput): PartitionChangeRecord | null {
  const { current } = input;
  const target = partitionTarget(input);
  const isrChanges = !sameList(target.isr, current.isr);
  const elrChanges = !sameMembers(target.elr, current.elr);
  const lastKnownElrChanges = !sameMembers(target.lastKnownElr, current.lastKnownElr);
  const leaderChanges = target.leader !== current.leader;
  const recoveryChanges = target.leaderRecoveryState !== current.leaderRecoveryState;
  if (!isrChanges && !elrChanges && !lastKnownElrChanges && !leaderChanges && !recoveryChanges) {
    return null;
  }
  const record: PartitionChangeRecord = {
    type: 'PartitionChange',
    topicId: current.topicId,
    partition: current.partition,
    ...(isrChanges ? { isr: target.isr } : {}),
    ...(elrChanges ? { elr: target.elr } : {}),
    ...(lastKnownElrChanges ? { lastKnownElr: target.lastKnownElr } : {}),
    ...(leaderChanges ? { leader: target.leader } : {}),
    ...(recoveryChanges ? { leaderRecoveryState: target.leaderRecoveryState } : {}),
  };
  assertChangeValid(input, record);
  return record;
}

function partitionTarget(input: ChangeInput): PartitionTarget {
  const { current, targetIsr } = input;
  const elrBeforeElection = targetElr(input);
  const election = chooseLeader(input, targetIsr, elrBeforeElection);
  // Without ELR the ISR never empties: its last member stays, and the partition has no leader.
  let isr = targetIsr.length === 0 && !input.elr ? current.isr : targetIsr;
  let elr = elrBeforeElection;
  let leaderRecoveryState = input.leaderRecoveryState;
  const leader = election.leader;
  if (leader !== null && leader !== current.leader) {
    if (election.source === 'elr') {
      isr = [leader];
      elr = without(elr, leader);
    } else if (election.source === 'unclean' || election.source === 'last-known-elr') {
      // Kafka forces the ISR to the new leader alone; its log may miss committed records.
      isr = [leader];
      elr = [];
      leaderRecoveryState = 'RECOVERING';
    }
  }
  if (isr.length >= input.minIsr) elr = [];
  const lastKnownElr = targetLastKnownElr(input, isr, leader);
  return { isr, elr, lastKnownElr, leader, leaderRecoveryState };
}

/** KIP-966: below the min ISR, members leaving the ISR join the ELR; at or above it, none. */
function targetElr(input: ChangeInput): readonly BrokerId[] {
  const { current, targetIsr } = input;
  if (!input.elr || targetIsr.length >= input.minIsr) return [];
  const elr = current.replicas.filter(
    (brokerId) =>
      (current.elr.includes(brokerId) || current.isr.includes(brokerId)) &&
      !targetIsr.includes(brokerId) &&
      brokerId !== input.leavesElr,
  );
  return sameMembers(elr, current.elr) ? current.elr : elr;
}

/** The last leader once the ISR becomes empty; cleared as soon as the partition has a leader. */
function targetLastKnownElr(
  input: ChangeInput,
  isr: readonly BrokerId[],
  leader: BrokerId | null,
): readonly BrokerId[] {
  const { current } = input;
  if (!input.elr || leader !== null) return [];
  const isEmptying = isr.length === 0 && current.isr.length > 0 && current.leader !== null;
  const lastKnownElr =
    isEmptying && current.leader !== null ? [current.leader] : current.lastKnownElr;
  const kept = without(lastKnownElr, input.leavesLastKnownElr);
  return sameMembers(kept, current.lastKnownElr) ? current.lastKnownElr : kept;
}

function chooseLeader(
  input: ChangeInput,
  isr: readonly BrokerId[],
  elr: readonly BrokerId[],
): LeaderElection {
  const { current, isUsable } = input;
  const isElectable = (brokerId: BrokerId) =>
    isUsable(brokerId) && (isr.includes(brokerId) || (isr.length === 0 && elr.includes(brokerId)));
  const sourceOf = (brokerId: BrokerId) => (isr.includes(brokerId) ? 'isr' : 'elr');
  if (current.leader !== null && isElectable(current.leader)) {
    return { leader: current.leader, source: sourceOf(current.leader) };
  }
  const clean = current.replicas.find(isElectable);
  if (clean !== undefined) return { leader: clean, source: sourceOf(clean) };
  const lastLeader = current.lastKnownElr.length === 1 ? current.lastKnownElr[0] : undefined;
  const canElectLast = input.elr && isr.length === 0 && elr.length === 0;
  if (canElectLast && lastLeader !== undefined && isUsable(lastLeader)) {
    return { leader: lastLeader, source: 'last-known-elr' };
  }
  const unclean = input.uncleanAllowed ? current.replicas.find(isUsable) : undefined;
  if (unclean !== undefined) return { leader: unclean, source: 'unclean' };
  return { leader: null, source: 'none' };
}

// ---- invariants -------------------------------------------------------------------------------

/**
 * What is wrong with a partition state (null: nothing): ISR and ELR are disjoint sets of replicas,
 * |ISR| ≥ `minIsr` (effective) ⇒ ELR empty, and the leader, if any, is in the ISR.
 */
export function partitionInvariantViolation(state: PartitionState, minIsr: number): string | null {
  const name = `${state.topicId}-${state.partition}`;
  const lists = `isr=[${state.isr.join(',')}] elr=[${state.elr.join(',')}] replicas=[${state.replicas.join(',')}]`;
  if (new Set(state.isr).size !== state.isr.length)
    return `${name}: ISR repeats a member: ${lists}`;
  if (new Set(state.elr).size !== state.elr.length)
    return `${name}: ELR repeats a member: ${lists}`;
  if (!state.isr.every((id) => state.replicas.includes(id)))
    return `${name}: ISR ⊄ replicas: ${lists}`;
  if (!state.elr.every((id) => state.replicas.includes(id)))
    return `${name}: ELR ⊄ replicas: ${lists}`;
  if (state.elr.some((id) => state.isr.includes(id))) return `${name}: ISR ∩ ELR ≠ ∅: ${lists}`;
  if (state.isr.length >= minIsr && state.elr.length > 0) {
    return `${name}: ELR not empty with |ISR| ≥ min ISR ${minIsr}: ${lists}`;
  }
  if (state.leader !== null && !state.isr.includes(state.leader)) {
    return `${name}: leader ${state.leader} not in the ISR: ${lists}`;
  }
  return null;
}

function assertChangeValid(input: ChangeInput, record: PartitionChangeRecord): void {
  const { current } = input;
  const next = partitionAfterChange(current, record);
  const violation = partitionInvariantViolation(next, input.minIsr);
  assert(violation === null, `partition change breaks an invariant: ${violation}`);
  if (!input.elr) {
    assert(next.isr.length > 0, `${next.topicId}-${next.partition}: ISR empty without ELR`);
  }
  if (next.leader !== null && next.leader !== current.leader) {
    assert(
      input.isUsable(next.leader),
      `${next.topicId}-${next.partition}: elected unusable ${next.leader}`,
    );
  }
  for (const brokerId of next.isr) {
    if (current.isr.includes(brokerId)) continue;
    assert(
      input.isUsable(brokerId),
      `${next.topicId}-${next.partition}: unusable ${brokerId} added to the ISR`,
    );
  }
}

// ---- lists ------------------------------------------------------------------------------------

function without(list: readonly BrokerId[], brokerId: BrokerId | null): readonly BrokerId[] {
  return brokerId === null || !list.includes(brokerId)
    ? list
    : list.filter((id) => id !== brokerId);
}

function sameList(a: readonly BrokerId[], b: readonly BrokerId[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id);
}

function sameMembers(a: readonly BrokerId[], b: readonly BrokerId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

// ---- replica assignment -----------------------------------------------------------------------

interface RoundRobinAssignment {
  /** The usable brokers, sorted by id. */
  readonly brokers: readonly BrokerId[];
  /** Where partition 0's replicas start, taken modulo the brokers (negative ones too). */
  readonly startIndex: number;
  readonly replicationFactor: number;
}

/**
 * The Partition records of partitions [fromPartition, toPartition): partition p's replicas are the
 * RF brokers from (start + p), round-robin; every replica starts in the ISR, the first leads.
 */
function roundRobinPartitions(
  topicId: TopicId,
  assignment: RoundRobinAssignment,
  fromPartition: number,
  toPartition: number,
): PartitionRecord[] {
  const { brokers, startIndex, replicationFactor } = assignment;
  assert(brokers.length >= 1, `no usable broker to assign ${topicId} to`);
  assert(
    replicationFactor <= brokers.length,
    `replicationFactor must be ≤ usable brokers (got ${replicationFactor} > ${brokers.length})`,
  );
  const start = ((startIndex % brokers.length) + brokers.length) % brokers.length;
  const records: PartitionRecord[] = [];
  for (let partition = fromPartition; partition < toPartition; partition++) {
    const replicas: BrokerId[] = [];
    for (let index = 0; index < replicationFactor; index++) {
      replicas.push(brokers[(start + partition + index) % brokers.length] as BrokerId);
    }
    records.push(initialPartition(topicId, partition, replicas));
  }
  return records;
}

// ---- topic deletion ---------------------------------------------------------------------------

export type DeleteTopicError = 'NONE' | 'UNKNOWN_TOPIC_OR_PARTITION' | 'INVALID_REQUEST';

export interface DeleteTopicOutcome {
  readonly name: string;
  readonly error: DeleteTopicError;
  readonly message: string;
  /** The id of the topic removed (null on an error). */
  readonly topicId: TopicId | null;
}

export interface DeleteTopicsOutcome {
  /** One RemoveTopic record per topic deleted, in the order of the names. */
  readonly records: RemoveTopicRecord[];
  /** One result per name, in the order of the names. */
  readonly results: DeleteTopicOutcome[];
}

/**
 * Kafka's DeleteTopics by name: a RemoveTopic record for each existing topic (replaying it drops
 * the topic and all its partitions; brokers drop their replicas). A name the image does not know
 * gets UNKNOWN_TOPIC_OR_PARTITION; a name given twice gets INVALID_REQUEST at each occurrence and
 * is not deleted (Kafka's ControllerApis: "Duplicate topic name.").
 */
export function deleteTopicRecords(
  image: MetadataImage,
  names: readonly string[],
): DeleteTopicsOutcome {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) duplicates.add(name);
    seen.add(name);
  }
  const records: RemoveTopicRecord[] = [];
  const results: DeleteTopicOutcome[] = [];
  for (const name of names) {
    if (duplicates.has(name)) {
      const message = `topic '${name}' is named more than once`;
      results.push({ name, error: 'INVALID_REQUEST', message, topicId: null });
      continue;
    }
    const topic = image.topicByName(name);
    if (topic === undefined) {
      const message = `no topic '${name}'`;
      results.push({ name, error: 'UNKNOWN_TOPIC_OR_PARTITION', message, topicId: null });
      continue;
    }
    records.push({ type: 'RemoveTopic', topicId: topic.topicId });
    results.push({ name, error: 'NONE', message: '', topicId: topic.topicId });
  }
  return { records, results };
}

// ---- partition creation -----------------------------------------------------------------------

export type CreatePartitionsOutcome =
  | { readonly error: 'NONE'; readonly records: PartitionRecord[] }
  | {
      readonly error:
        | 'UNKNOWN_TOPIC_OR_PARTITION'
        | 'INVALID_PARTITIONS'
        | 'INVALID_REPLICATION_FACTOR';
      readonly message: string;
    };

/**
 * Kafka's CreatePartitions (NewPartitions.increaseTo): Partition records for the partitions from
 * the current count up to `totalCount`, with the topic's replication factor (that of partition 0),
 * assigned as createTopicRecords does: partition p's replicas are the RF usable brokers from
 * (start + p). With `assignmentStartIndex` as the start and the same usable brokers, the new
 * partitions get what creating the topic with `totalCount` partitions would have given them. The
 * existing partitions are left as they are.
 */
export function createPartitionsRecords(
  image: MetadataImage,
  request: CreatePartitionsSpec,
  startIndex: number,
): CreatePartitionsOutcome {
  assert(Number.isInteger(startIndex), `startIndex must be an integer (got ${startIndex})`);
  const { name, totalCount } = request;
  const topic = image.topicByName(name);
  if (topic === undefined) {
    return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `no topic '${name}'` };
  }
  const currentCount = topic.partitions.size;
  if (!Number.isInteger(totalCount) || totalCount <= currentCount) {
    return {
      error: 'INVALID_PARTITIONS',
      message: `topic '${name}' has ${currentCount} partition(s); ${totalCount} would not be an increase`,
    };
  }
  const first = topic.partitions.get(0);
  assert(first !== undefined, `topic '${name}' has no partition 0`);
  const replicationFactor = first.replicas.length;
  const brokers = usableBrokersSorted(image);
  if (replicationFactor > brokers.length) {
    return {
      error: 'INVALID_REPLICATION_FACTOR',
      message: `replicationFactor ${replicationFactor} of topic '${name}' must be ≤ usable brokers (got ${replicationFactor} > ${brokers.length})`,
    };
  }
  const assignment = { brokers, startIndex, replicationFactor };
  return {
    error: 'NONE',
    records: roundRobinPartitions(topic.topicId, assignment, currentCount, totalCount),
  };
}

/**
 * Where the round-robin of an existing topic started, among the usable brokers sorted by id: the
 * index of partition 0's first replica, else of the first broker after it (Kafka's AdminZkClient
 * continues a topic's assignment this way when partitions are added); 0 for an unknown topic.
 */
export function assignmentStartIndex(image: MetadataImage, name: string): number {
  const first = image.topicByName(name)?.partitions.get(0)?.replicas[0];
  if (first === undefined) return 0;
  const index = usableBrokersSorted(image).findIndex(
    (brokerId) => compareBrokerIds(brokerId, first) >= 0,
  );
  return Math.max(0, index);
}
