// The control plane's requests and responses: broker registration and heartbeats (RPCs, not
// records), admin requests, and AlterPartition. Every request carries a requestId that its
// response echoes, so a late answer to an older request is recognised and ignored.

import type { PartitionState } from './metadata-image.ts';
import type { BrokerId, TopicConfigs, TopicId } from './records.ts';

export type ControlError =
  | 'NONE'
  /** This node is not the active controller; `controllerId` names the one it knows, if any. */
  | 'NOT_CONTROLLER'
  /** Another incarnation of the broker still has a live session (KIP-631). */
  | 'DUPLICATE_BROKER_REGISTRATION'
  /** The broker epoch is not the registered one (KIP-380, KIP-903). */
  | 'STALE_BROKER_EPOCH'
  | 'BROKER_ID_NOT_REGISTERED'
  | 'TOPIC_ALREADY_EXISTS'
  | 'INVALID_PARTITIONS'
  | 'INVALID_REPLICATION_FACTOR'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'NOT_LEADER_OR_FOLLOWER'
  | 'FENCED_LEADER_EPOCH'
  | 'INVALID_UPDATE_VERSION'
  | 'INELIGIBLE_REPLICA'
  | 'INVALID_REQUEST';

export interface BrokerRegistrationRequest {
  readonly kind: 'broker.register';
  readonly requestId: number;
  readonly brokerId: BrokerId;
  readonly incarnationId: string;
  /** The epoch of the previous clean shutdown, or -1 after an unclean one (KIP-966). */
  readonly previousBrokerEpoch: number;
}

export interface BrokerRegistrationResponse {
  readonly kind: 'broker.register-response';
  readonly requestId: number;
  readonly error: ControlError;
  readonly brokerEpoch: number;
  readonly controllerId: string | null;
}

export interface BrokerHeartbeatRequest {
  readonly kind: 'broker.heartbeat';
  readonly requestId: number;
  readonly brokerId: BrokerId;
  readonly brokerEpoch: number;
  /** The last metadata offset the broker has applied. */
  readonly currentMetadataOffset: number;
  readonly wantFence: boolean;
  readonly wantShutDown: boolean;
}

export interface BrokerHeartbeatResponse {
  readonly kind: 'broker.heartbeat-response';
  readonly requestId: number;
  readonly error: ControlError;
  readonly isCaughtUp: boolean;
  readonly isFenced: boolean;
  readonly shouldShutDown: boolean;
  readonly controllerId: string | null;
}

export interface CreateTopicSpec {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configs?: Partial<TopicConfigs>;
}

export interface CreateTopicsRequest {
  readonly kind: 'admin.create-topics';
  readonly requestId: number;
  readonly topics: readonly CreateTopicSpec[];
}

export interface CreateTopicResult {
  readonly name: string;
  readonly error: ControlError;
  readonly message: string;
  readonly topicId: TopicId | null;
}

export interface CreateTopicsResponse {
  readonly kind: 'admin.create-topics-response';
  readonly requestId: number;
  readonly error: ControlError;
  readonly results: readonly CreateTopicResult[];
  readonly controllerId: string | null;
}

export interface UnregisterBrokerRequest {
  readonly kind: 'admin.unregister-broker';
  readonly requestId: number;
  readonly brokerId: BrokerId;
}

export interface UnregisterBrokerResponse {
  readonly kind: 'admin.unregister-broker-response';
  readonly requestId: number;
  readonly error: ControlError;
  readonly controllerId: string | null;
}

/** Kafka's DeleteTopics, by name. */
export interface DeleteTopicsRequest {
  readonly kind: 'admin.delete-topics';
  readonly requestId: number;
  readonly names: readonly string[];
}

export interface DeleteTopicResult {
  readonly name: string;
  readonly error: ControlError;
  readonly message: string;
  /** The id of the topic deleted (null on an error). */
  readonly topicId: TopicId | null;
}

export interface DeleteTopicsResponse {
  readonly kind: 'admin.delete-topics-response';
  readonly requestId: number;
  readonly error: ControlError;
  /** One per name, in the request's order. */
  readonly results: readonly DeleteTopicResult[];
  readonly controllerId: string | null;
}

/** Kafka's NewPartitions.increaseTo(totalCount): the topic's new partition count. */
export interface CreatePartitionsSpec {
  readonly name: string;
  readonly totalCount: number;
}

export interface CreatePartitionsRequest {
  readonly kind: 'admin.create-partitions';
  readonly requestId: number;
  readonly topics: readonly CreatePartitionsSpec[];
}

export interface CreatePartitionsResult {
  readonly name: string;
  readonly error: ControlError;
  readonly message: string;
}

export interface CreatePartitionsResponse {
  readonly kind: 'admin.create-partitions-response';
  readonly requestId: number;
  readonly error: ControlError;
  /** One per topic, in the request's order. */
  readonly results: readonly CreatePartitionsResult[];
  readonly controllerId: string | null;
}

export interface AlterPartitionRequest {
  readonly kind: 'broker.alter-partition';
  readonly requestId: number;
  readonly brokerId: BrokerId;
  readonly brokerEpoch: number;
  readonly topicId: TopicId;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly BrokerId[];
  /** KIP-903: the broker epoch each member of the new ISR fetched with (absent: unchecked). */
  readonly newIsrEpochs?: readonly { readonly brokerId: BrokerId; readonly brokerEpoch: number }[];
}

export interface AlterPartitionResponse {
  readonly kind: 'broker.alter-partition-response';
  readonly requestId: number;
  readonly error: ControlError;
  /** The partition as the controller committed it (on success). */
  readonly state: PartitionState | null;
  readonly controllerId: string | null;
}

export type ControlRequest =
  | BrokerRegistrationRequest
  | BrokerHeartbeatRequest
  | CreateTopicsRequest
  | UnregisterBrokerRequest
  | AlterPartitionRequest
  | DeleteTopicsRequest
  | CreatePartitionsRequest;

export type ControlResponse =
  | BrokerRegistrationResponse
  | BrokerHeartbeatResponse
  | CreateTopicsResponse
  | UnregisterBrokerResponse
  | AlterPartitionResponse
  | DeleteTopicsResponse
  | CreatePartitionsResponse;

export type ControlMessage = ControlRequest | ControlResponse;
