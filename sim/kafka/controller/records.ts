// The metadata records of the cluster metadata log (KRaft) — the same facts the ZooKeeper backend
// keeps in znodes. Broker heartbeats are RPCs, not records; registering, fencing, unfencing and
// unregistering a broker are records. Every record is replayed, in log order, into a
// MetadataImage by the active controller (as it appends) and by every broker (once committed).

export type BrokerId = string;
export type TopicId = string;

export interface RegisterBrokerRecord {
  readonly type: 'RegisterBroker';
  readonly brokerId: BrokerId;
  /** A fresh id per broker start (Kafka: a random UUID). */
  readonly incarnationId: string;
  /** The broker epoch: in Kafka, the offset of this record in the metadata log. */
  readonly brokerEpoch: number;
}

export interface UnregisterBrokerRecord {
  readonly type: 'UnregisterBroker';
  readonly brokerId: BrokerId;
  readonly brokerEpoch: number;
}

export interface FenceBrokerRecord {
  readonly type: 'FenceBroker';
  readonly brokerId: BrokerId;
  readonly brokerEpoch: number;
}

export interface UnfenceBrokerRecord {
  readonly type: 'UnfenceBroker';
  readonly brokerId: BrokerId;
  readonly brokerEpoch: number;
}

/** The broker asked for a controlled shutdown (BrokerRegistrationChangeRecord in Kafka). */
export interface BrokerShutdownRecord {
  readonly type: 'BrokerInControlledShutdown';
  readonly brokerId: BrokerId;
  readonly brokerEpoch: number;
}

export interface TopicConfigs {
  /** min.insync.replicas (broker default 1). */
  readonly minInsyncReplicas: number;
  /** unclean.leader.election.enable (false). */
  readonly uncleanLeaderElection: boolean;
}

export interface TopicRecord {
  readonly type: 'Topic';
  readonly name: string;
  readonly topicId: TopicId;
  readonly configs: TopicConfigs;
}

export interface RemoveTopicRecord {
  readonly type: 'RemoveTopic';
  readonly topicId: TopicId;
}

/** Whether the leader's log is known complete: an unclean election leaves it RECOVERING. */
export type LeaderRecoveryState = 'RECOVERED' | 'RECOVERING';

/** A partition's full state, as created. */
export interface PartitionRecord {
  readonly type: 'Partition';
  readonly topicId: TopicId;
  readonly partition: number;
  readonly replicas: readonly BrokerId[];
  readonly isr: readonly BrokerId[];
  /** Eligible leader replicas (KIP-966): out of the ISR, but safe to elect. */
  readonly elr: readonly BrokerId[];
  /** The last leader when the ISR became empty (KIP-966), else empty. */
  readonly lastKnownElr: readonly BrokerId[];
  /** null: no leader (Kafka's -1). */
  readonly leader: BrokerId | null;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly leaderRecoveryState: LeaderRecoveryState;
}

/**
 * A change of leader, ISR or ELR. Fields left out keep their value. A new leader bumps the leader
 * epoch; every change bumps the partition epoch (applied on replay, as in Kafka).
 */
export interface PartitionChangeRecord {
  readonly type: 'PartitionChange';
  readonly topicId: TopicId;
  readonly partition: number;
  readonly isr?: readonly BrokerId[];
  readonly elr?: readonly BrokerId[];
  readonly lastKnownElr?: readonly BrokerId[];
  /** Present when the leader changes (null: no leader). */
  readonly leader?: BrokerId | null;
  readonly leaderRecoveryState?: LeaderRecoveryState;
}

/**
 * Written by the active controller every metadata.max.idle.interval.ms (KIP-835), changing
 * nothing: the log keeps moving while the cluster is quiet, so a voter or broker that falls
 * behind misses entries, as in Kafka.
 */
export interface NoOpRecord {
  readonly type: 'NoOp';
}

export type MetadataRecord =
  | NoOpRecord
  | RegisterBrokerRecord
  | UnregisterBrokerRecord
  | FenceBrokerRecord
  | UnfenceBrokerRecord
  | BrokerShutdownRecord
  | TopicRecord
  | RemoveTopicRecord
  | PartitionRecord
  | PartitionChangeRecord;

/** An approximate serialised size, for fetch-size caps. */
export function recordSizeBytes(record: MetadataRecord): number {
  switch (record.type) {
    case 'Partition':
      return 64 + 8 * (record.replicas.length + record.isr.length + record.elr.length);
    case 'PartitionChange':
      return 48 + 8 * ((record.isr?.length ?? 0) + (record.elr?.length ?? 0));
    case 'Topic':
      return 64 + record.name.length;
    default:
      return 40;
  }
}
