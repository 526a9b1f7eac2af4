// The data plane's requests and responses: Metadata (clients learn leaders from any broker),
// Produce, and Fetch (followers and consumers alike, as in Kafka: a follower's fetch names its
// replica id and broker epoch, a consumer's does not). Every request carries a requestId that its
// response echoes.

import type { Acks } from '../clients/history.ts';
import type { BrokerId, TopicId } from '../controller/records.ts';
import type { RecordBatch, RecordInput } from '../storage/partition-log.ts';

export type DataError =
  | 'NONE'
  /** The broker does not lead the partition (or does not know it). */
  | 'NOT_LEADER_OR_FOLLOWER'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  /** The request's leader epoch is older than the broker's (KIP-320). */
  | 'FENCED_LEADER_EPOCH'
  /** The request's leader epoch is newer than the broker's: it has not caught up yet. */
  | 'UNKNOWN_LEADER_EPOCH'
  /** acks=all and |ISR| < min.insync.replicas: rejected before the append. */
  | 'NOT_ENOUGH_REPLICAS'
  /** acks=all: appended, but the ISR shrank below min.insync.replicas before it was committed. */
  | 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'
  /** acks=all: not committed within the request's timeout (it may still be). */
  | 'REQUEST_TIMED_OUT'
  | 'OFFSET_OUT_OF_RANGE'
  /** Idempotence: a sequence gap; the producer must not retry blindly. */
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  /** The broker is not ready to serve (not registered and unfenced yet). */
  | 'BROKER_NOT_AVAILABLE'
  /** A fetch from a previous incarnation of the follower (KIP-903). */
  | 'STALE_BROKER_EPOCH';

/** Partition metadata as a Metadata response gives it. */
export interface PartitionMetadata {
  readonly partition: number;
  readonly leader: BrokerId | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly BrokerId[];
  readonly isr: readonly BrokerId[];
}

export interface TopicMetadata {
  readonly name: string;
  readonly topicId: TopicId | null;
  readonly error: DataError;
  readonly partitions: readonly PartitionMetadata[];
}

export interface MetadataRequest {
  readonly kind: 'client.metadata';
  readonly requestId: number;
  /** null: every topic. */
  readonly topics: readonly string[] | null;
}

export interface MetadataResponse {
  readonly kind: 'client.metadata-response';
  readonly requestId: number;
  /** Registered, unfenced brokers. */
  readonly brokers: readonly BrokerId[];
  readonly topics: readonly TopicMetadata[];
}

/** One partition's batch in a produce request (Kafka: PartitionProduceData). */
export interface ProducePartition {
  readonly topic: string;
  readonly partition: number;
  /** Each record's producerId and sequence are set when the producer is idempotent. */
  readonly records: readonly RecordInput[];
}

/**
 * A producer sends one request per broker carrying a batch for each partition that broker leads
 * and has something to send (Kafka's Sender drains its accumulator node by node).
 */
export interface ProduceRequest {
  readonly kind: 'client.produce';
  readonly requestId: number;
  readonly acks: Acks;
  /** How long the leader waits for acks=all before REQUEST_TIMED_OUT. */
  readonly timeoutMs: number;
  /** At most one batch per partition. */
  readonly partitions: readonly ProducePartition[];
}

/** One partition's outcome in a produce response. */
export interface ProducePartitionResponse {
  readonly topic: string;
  readonly partition: number;
  readonly error: DataError;
  /** The offset of the first record (-1 on an error). */
  readonly baseOffset: number;
  /** The leader epoch the batch was appended in (-1 on an error). */
  readonly leaderEpoch: number;
}

/** Answers every partition of the request at once (acks=all: once each is committed or failed). */
export interface ProduceResponse {
  readonly kind: 'client.produce-response';
  readonly requestId: number;
  readonly partitions: readonly ProducePartitionResponse[];
}

/** One partition of a fetch. */
export interface FetchPartition {
  readonly topicId: TopicId;
  readonly partition: number;
  readonly fetchOffset: number;
  /** The epoch of the last record the fetcher has (-1: none), for the divergence check (KIP-595 style). */
  readonly lastFetchedEpoch: number;
  /** The leader epoch the fetcher believes current (-1: unchecked, as before KIP-320). */
  readonly currentLeaderEpoch: number;
}

export interface FetchRequest {
  readonly kind: 'fetch';
  readonly requestId: number;
  /** The follower's broker id; null for a consumer. */
  readonly replicaId: BrokerId | null;
  /** The follower's broker epoch (KIP-903); -1 for a consumer. */
  readonly replicaEpoch: number;
  /** Long poll: how long the leader may hold an empty answer (replica.fetch.wait.max.ms 500). */
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly partitions: readonly FetchPartition[];
}

/** Where the fetcher's log diverges from the leader's: truncate to at most `endOffset`. */
export interface DivergingEpoch {
  readonly epoch: number;
  readonly endOffset: number;
}

export interface FetchPartitionResponse {
  readonly topicId: TopicId;
  readonly partition: number;
  readonly error: DataError;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly leaderEpoch: number;
  readonly divergingEpoch: DivergingEpoch | null;
  readonly batches: readonly RecordBatch[];
}

export interface FetchResponse {
  readonly kind: 'fetch-response';
  readonly requestId: number;
  readonly partitions: readonly FetchPartitionResponse[];
}

/** An idempotent producer asks any broker for its producer id (Kafka: InitProducerId). */
export interface InitProducerIdRequest {
  readonly kind: 'client.init-producer-id';
  readonly requestId: number;
}

export interface InitProducerIdResponse {
  readonly kind: 'client.init-producer-id-response';
  readonly requestId: number;
  readonly error: DataError;
  /** Unique in the cluster (-1 on an error). */
  readonly producerId: number;
}

export type DataRequest = MetadataRequest | ProduceRequest | FetchRequest | InitProducerIdRequest;
export type DataResponse =
  | MetadataResponse
  | ProduceResponse
  | FetchResponse
  | InitProducerIdResponse;
export type DataMessage = DataRequest | DataResponse;

export function isDataMessage(message: { readonly kind: string }): message is DataMessage {
  return (
    message.kind === 'fetch' ||
    message.kind === 'fetch-response' ||
    message.kind.startsWith('client.')
  );
}

/** Approximate wire sizes, for bandwidth-limited links. */
export function fetchResponseSizeBytes(response: FetchResponse): number {
  let sizeBytes = 32;
  // By index: a partition's batches may be a frozen empty array, which for..of iterates through a
  // builtin call that allocates (this runs on every fetch response).
  for (let index = 0; index < response.partitions.length; index++) {
    const batches = (response.partitions[index] as FetchPartitionResponse).batches;
    sizeBytes += 48;
    for (let at = 0; at < batches.length; at++) sizeBytes += (batches[at] as RecordBatch).sizeBytes;
  }
  return sizeBytes;
}

export function produceRequestSizeBytes(request: ProduceRequest): number {
  let sizeBytes = 64;
  // By index: for..of allocates an iterator whenever this runs unoptimised (once per request).
  for (let index = 0; index < request.partitions.length; index++) {
    const data = request.partitions[index] as ProducePartition;
    sizeBytes += 32 + data.topic.length;
    for (let at = 0; at < data.records.length; at++) {
      const record = data.records[at] as RecordInput;
      sizeBytes += 16 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
    }
  }
  return sizeBytes;
}

export function produceResponseSizeBytes(response: ProduceResponse): number {
  return 16 + 32 * response.partitions.length;
}
