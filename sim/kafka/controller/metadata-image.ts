// The cluster metadata as a state: what replaying the metadata records, in order, gives. The
// active controller keeps one that includes what it appended but not yet committed; a broker
// keeps one of the committed records only. Replay is deterministic: two replays of the same
// records give equal images (`describe` renders one for comparison).

import { AssertionError } from '../../kernel/assert.ts';
import type { RaftLog } from '../raft/log.ts';
import type {
  BrokerId,
  LeaderRecoveryState,
  MetadataRecord,
  PartitionChangeRecord,
  PartitionRecord,
  TopicConfigs,
  TopicId,
} from './records.ts';

export interface BrokerRegistration {
  readonly brokerId: BrokerId;
  readonly incarnationId: string;
  readonly brokerEpoch: number;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
}

/** A partition's state: what its Partition record says, with every change replayed on top. */
export type PartitionState = Omit<PartitionRecord, 'type'>;

export interface TopicState {
  readonly topicId: TopicId;
  readonly name: string;
  readonly configs: TopicConfigs;
  /** Partition number → state; partitions are numbered from 0. */
  readonly partitions: Map<number, PartitionState>;
}

export class MetadataImage {
  readonly brokers = new Map<BrokerId, BrokerRegistration>();
  readonly topics = new Map<TopicId, TopicState>();
  readonly topicIdsByName = new Map<string, TopicId>();
  /** Offset of the last record replayed (-1: none). */
  lastOffset = -1;

  apply(record: MetadataRecord, offset: number): void {
    if (offset <= this.lastOffset) {
      throw new AssertionError(
        `metadata replay out of order: offset ${offset} after ${this.lastOffset}`,
      );
    }
    this.lastOffset = offset;
    switch (record.type) {
      case 'RegisterBroker':
        this.brokers.set(
          record.brokerId,
          brokerRegistration(
            record.brokerId,
            record.incarnationId,
            record.brokerEpoch,
            true,
            false,
          ),
        );
        return;
      case 'NoOp':
        return;
      case 'UnregisterBroker':
        if (this.brokers.get(record.brokerId)?.brokerEpoch === record.brokerEpoch)
          this.brokers.delete(record.brokerId);
        return;
      case 'FenceBroker':
        this.#updateBroker(record.brokerId, record.brokerEpoch, { fenced: true });
        return;
      case 'UnfenceBroker':
        this.#updateBroker(record.brokerId, record.brokerEpoch, {
          fenced: false,
          inControlledShutdown: false,
        });
        return;
      case 'BrokerInControlledShutdown':
        this.#updateBroker(record.brokerId, record.brokerEpoch, { inControlledShutdown: true });
        return;
      case 'Topic':
        this.topics.set(record.topicId, {
          topicId: record.topicId,
          name: record.name,
          configs: record.configs,
          partitions: new Map(),
        });
        this.topicIdsByName.set(record.name, record.topicId);
        return;
      case 'RemoveTopic': {
        const topic = this.topics.get(record.topicId);
        if (topic === undefined) return;
        this.topics.delete(record.topicId);
        this.topicIdsByName.delete(topic.name);
        return;
      }
      case 'Partition':
        this.#applyPartition(record);
        return;
      case 'PartitionChange':
        this.#applyPartitionChange(record);
        return;
    }
  }

  broker(brokerId: BrokerId): BrokerRegistration | undefined {
    return this.brokers.get(brokerId);
  }

  /** Registered, unfenced and not shutting down: may lead and join ISRs. */
  isUsable(brokerId: BrokerId): boolean {
    const broker = this.brokers.get(brokerId);
    return broker !== undefined && !broker.fenced && !broker.inControlledShutdown;
  }

  topicByName(name: string): TopicState | undefined {
    const topicId = this.topicIdsByName.get(name);
    return topicId === undefined ? undefined : this.topics.get(topicId);
  }

  partition(topicId: TopicId, partition: number): PartitionState | undefined {
    return this.topics.get(topicId)?.partitions.get(partition);
  }

  /** Every partition, topics in creation order, partitions in number order. */
  allPartitions(): PartitionState[] {
    const result: PartitionState[] = [];
    for (const topic of this.topics.values()) {
      const numbers = [...topic.partitions.keys()].sort((a, b) => a - b);
      for (const number of numbers) result.push(topic.partitions.get(number) as PartitionState);
    }
    return result;
  }

  /** A canonical text of the whole image, for comparing two replays. */
  describe(): string {
    const brokers = [...this.brokers.values()]
      .sort((a, b) => compare(a.brokerId, b.brokerId))
      .map(
        (b) =>
          `${b.brokerId}:${b.incarnationId}:${b.brokerEpoch}:${b.fenced ? 'fenced' : 'unfenced'}${b.inControlledShutdown ? ':shutting-down' : ''}`,
      );
    const partitions = this.allPartitions().map(
      (p) =>
        `${p.topicId}-${p.partition} replicas=${p.replicas.join(',')} isr=${p.isr.join(',')} elr=${p.elr.join(',')} ` +
        `leader=${p.leader ?? '-'} leaderEpoch=${p.leaderEpoch} partitionEpoch=${p.partitionEpoch} ${p.leaderRecoveryState}`,
    );
    return [...brokers, ...partitions].join('\n');
  }

  #updateBroker(
    brokerId: BrokerId,
    brokerEpoch: number,
    change: Partial<BrokerRegistration>,
  ): void {
    const broker = this.brokers.get(brokerId);
    // A record for an older registration of the broker changes nothing.
    if (broker === undefined || broker.brokerEpoch !== brokerEpoch) return;
    this.brokers.set(
      brokerId,
      brokerRegistration(
        brokerId,
        broker.incarnationId,
        brokerEpoch,
        change.fenced ?? broker.fenced,
        change.inControlledShutdown ?? broker.inControlledShutdown,
      ),
    );
  }

  #applyPartition(record: PartitionRecord): void {
    const topic = this.topics.get(record.topicId);
    if (topic === undefined)
      throw new AssertionError(`partition record for unknown topic ${record.topicId}`);
    topic.partitions.set(
      record.partition,
      partitionState(
        record,
        record.isr,
        record.elr,
        record.lastKnownElr,
        record.leader,
        record.leaderRecoveryState,
        record.leaderEpoch,
        record.partitionEpoch,
      ),
    );
  }

  #applyPartitionChange(record: PartitionChangeRecord): void {
    const topic = this.topics.get(record.topicId);
    const current = topic?.partitions.get(record.partition);
    if (topic === undefined || current === undefined) {
      throw new AssertionError(
        `partition change for unknown partition ${record.topicId}-${record.partition}`,
      );
    }
    topic.partitions.set(record.partition, partitionAfterChange(current, record));
  }
}

/**
 * What replaying `record` on the partition `current` gives (the replay of MetadataImage.apply), for
 * callers that need the resulting state without changing an image.
 */
export function partitionAfterChange(
  current: PartitionState,
  record: PartitionChangeRecord,
): PartitionState {
  const leaderChanges = record.leader !== undefined && record.leader !== current.leader;
  return partitionState(
    current,
    record.isr ?? current.isr,
    record.elr ?? current.elr,
    record.lastKnownElr ?? current.lastKnownElr,
    record.leader === undefined ? current.leader : record.leader,
    record.leaderRecoveryState ?? current.leaderRecoveryState,
    leaderChanges ? current.leaderEpoch + 1 : current.leaderEpoch,
    current.partitionEpoch + 1,
  );
}

// The image's broker registrations and partition states are each built by one literal, with every
// field in one order: built by spreads and rests (a record without its type, a state with a
// change), they came in three shapes each, and the brokers' hot paths that read them (fetches,
// the high watermark's rules) were deoptimised by each shape they had not met yet.

function brokerRegistration(
  brokerId: BrokerId,
  incarnationId: string,
  brokerEpoch: number,
  fenced: boolean,
  inControlledShutdown: boolean,
): BrokerRegistration {
  return { brokerId, incarnationId, brokerEpoch, fenced, inControlledShutdown };
}

/** A partition's state: `of`'s topic, partition and replicas, with the rest given. */
function partitionState(
  of: Pick<PartitionState, 'topicId' | 'partition' | 'replicas'>,
  isr: readonly BrokerId[],
  elr: readonly BrokerId[],
  lastKnownElr: readonly BrokerId[],
  leader: BrokerId | null,
  leaderRecoveryState: LeaderRecoveryState,
  leaderEpoch: number,
  partitionEpoch: number,
): PartitionState {
  return {
    topicId: of.topicId,
    partition: of.partition,
    replicas: of.replicas,
    isr,
    elr,
    lastKnownElr,
    leader,
    leaderEpoch,
    partitionEpoch,
    leaderRecoveryState,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Replays the metadata records among log entries [fromOffset, toOffset) into `image` (leader-change
 * entries carry none); returns where replay stopped (toOffset, clamped to the log end).
 */
export function replayLog(
  image: MetadataImage,
  log: RaftLog,
  fromOffset: number,
  toOffset: number,
): number {
  const upTo = Math.min(toOffset, log.endOffset);
  for (let offset = fromOffset; offset < upTo; offset++) {
    const payload = log.entry(offset).payload;
    if (payload.type === 'record') image.apply(payload.record as MetadataRecord, offset);
  }
  return Math.max(fromOffset, upTo);
}
