// The consumer, after Kafka's KafkaConsumer in manual-assignment mode (no group; Jepsen's "assign"
// mode): it reads every partition of its topics from the partition's leader, one fetch request per
// leader broker covering the partitions that broker leads, and tracks its position per partition.
//
// A fetch carries the leader epoch the consumer believes current (KIP-320 fencing) and the epoch of
// the last batch it consumed; a leader whose log has diverged from what the consumer read answers
// with a diverging epoch and end offset, and the consumer detects the log truncation: it moves its
// position back, forgets what it consumed past that point, and records the truncation in the
// history (a `poll` completing as `info` with error LOG_TRUNCATION and the new position as
// `offset`). Its own bookkeeping of consumed epochs (epoch → first offset consumed in it) decides
// how far back to go, as a follower's leader-epoch cache does.
//
// Every non-empty read is a `poll` of the history: `invoke` and `ok` at the response's time, with
// `records: [[offset, key, value], ...]`. Offsets a consumer records only ever grow, except after a
// recorded truncation or offset reset (an `info` whose `offset` is where reading starts again).

import { objectArray, removeAt } from '../../kernel/arrays.ts';
import { BoundExceededError } from '../../kernel/assert.ts';
import { interned } from '../../kernel/interned.ts';
import type { Machine, NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import { traceShape } from '../../kernel/trace.ts';
import type {
  DataError,
  DivergingEpoch,
  FetchPartition,
  FetchPartitionResponse,
  FetchRequest,
  FetchResponse,
} from '../broker/messages.ts';
import type { BrokerId } from '../controller/records.ts';
import type { ClusterMessage } from '../messages.ts';
import type { LogRecord, RecordBatch } from '../storage/partition-log.ts';
import {
  ClientConfigError,
  ClientMetadata,
  requireBrokers,
  requireInteger,
  requireMs,
} from './client-metadata.ts';
import { takeGroup } from './grouping.ts';
import type { History, HistoryRecord } from './history.ts';

export type AutoOffsetReset = 'earliest' | 'latest';

export interface ConsumerConfig {
  readonly bootstrapBrokers: readonly BrokerId[];
  /** Every partition of these topics is read. */
  readonly topics: readonly string[];
  readonly history: History;
  /** The history's process name; default the node id. */
  readonly process?: string;
  /** How long a leader may hold an empty fetch (fetch.max.wait.ms). */
  readonly fetchMaxWaitMs?: Ms;
  readonly requestTimeoutMs?: Ms;
  /** fetch.max.bytes. */
  readonly maxBytes?: number;
  /** The application's poll loop: the pause between a fetch's answer and the next fetch to that broker. */
  readonly pollIntervalMs?: Ms;
  readonly retryBackoffMs?: Ms;
  readonly metadataMaxAgeMs?: Ms;
  /** Where to start and where to go on OFFSET_OUT_OF_RANGE (auto.offset.reset). */
  readonly autoOffsetReset?: AutoOffsetReset;
  /** Most records kept per partition for readRecords; one more is a BoundExceededError. */
  readonly readRecordsMax?: number;
}

export type ResolvedConsumerConfig = Required<ConsumerConfig>;

export const CONSUMER_DEFAULTS = {
  fetchMaxWaitMs: 500,
  requestTimeoutMs: 30_000,
  maxBytes: 52_428_800,
  pollIntervalMs: 100,
  retryBackoffMs: 100,
  metadataMaxAgeMs: 300_000,
  autoOffsetReset: 'earliest',
  readRecordsMax: 1_000_000,
} as const;

/** Applies Kafka's defaults and checks every value; throws ClientConfigError. */
export function resolveConsumerConfig(
  config: ConsumerConfig,
  nodeId: string,
): ResolvedConsumerConfig {
  const autoOffsetReset = config.autoOffsetReset ?? CONSUMER_DEFAULTS.autoOffsetReset;
  if (autoOffsetReset !== 'earliest' && autoOffsetReset !== 'latest')
    throw new ClientConfigError(
      `autoOffsetReset must be 'earliest' or 'latest' (got ${String(autoOffsetReset)})`,
    );
  if (config.topics.length === 0)
    throw new ClientConfigError('topics must name at least one topic');
  const resolved: ResolvedConsumerConfig = {
    bootstrapBrokers: requireBrokers('bootstrapBrokers', config.bootstrapBrokers),
    topics: config.topics,
    history: config.history,
    // Internalized, as the producer's (see there).
    process: interned(config.process ?? nodeId),
    fetchMaxWaitMs: requireMs(
      'fetchMaxWaitMs',
      config.fetchMaxWaitMs ?? CONSUMER_DEFAULTS.fetchMaxWaitMs,
    ),
    requestTimeoutMs: requireMs(
      'requestTimeoutMs',
      config.requestTimeoutMs ?? CONSUMER_DEFAULTS.requestTimeoutMs,
    ),
    maxBytes: requireInteger('maxBytes', config.maxBytes ?? CONSUMER_DEFAULTS.maxBytes, 1),
    pollIntervalMs: requireMs(
      'pollIntervalMs',
      config.pollIntervalMs ?? CONSUMER_DEFAULTS.pollIntervalMs,
    ),
    retryBackoffMs: requireMs(
      'retryBackoffMs',
      config.retryBackoffMs ?? CONSUMER_DEFAULTS.retryBackoffMs,
    ),
    metadataMaxAgeMs: requireMs(
      'metadataMaxAgeMs',
      config.metadataMaxAgeMs ?? CONSUMER_DEFAULTS.metadataMaxAgeMs,
    ),
    autoOffsetReset,
    readRecordsMax: requireInteger(
      'readRecordsMax',
      config.readRecordsMax ?? CONSUMER_DEFAULTS.readRecordsMax,
      1,
    ),
  };
  if (resolved.requestTimeoutMs <= resolved.fetchMaxWaitMs) {
    throw new ClientConfigError(
      `requestTimeoutMs must be > fetchMaxWaitMs (got ${resolved.requestTimeoutMs} ≤ ${resolved.fetchMaxWaitMs})`,
    );
  }
  return resolved;
}

/** The first offset the consumer read in a leader epoch (its leader-epoch bookkeeping). */
export interface ConsumedEpoch {
  readonly epoch: number;
  readonly startOffset: number;
}

interface AssignedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read; null: not known yet (autoOffsetReset 'latest' before the first answer). */
  position: number | null;
  /** Offsets increasing; epochs as the batches carried them. */
  epochs: ConsumedEpoch[];
  /**
   * The history's ok entries of the polls of this partition, in order: what it read is there
   * (readRecords), not kept twice.
   */
  readonly polls: number[];
  /** How many records those polls read. */
  readCount: number;
  /** A fetch covering this partition is in flight. */
  inFlight: boolean;
  /** The last fetch that covered it (-1: none yet), and the offset it fetched from. */
  fetchRequestId: number;
  fetchOffset: number;
  backoffUntilMs: Ms;
  truncations: number;
}

interface FetchInFlight {
  readonly requestId: number;
  readonly target: BrokerId;
  /** The partitions it covers; each keeps the offset it fetched from. */
  readonly partitions: readonly AssignedPartition[];
  readonly timer: TimerHandle;
}

/**
 * Errors after which the consumer asks for fresh metadata before fetching again. Not
 * UNKNOWN_LEADER_EPOCH: the consumer's epoch is newer than the broker's, whose metadata will catch
 * up, so Kafka's consumer (AbstractFetch.handleInitializeErrors) only fetches again.
 */
const METADATA_ERRORS: ReadonlySet<DataError> = new Set<DataError>([
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'BROKER_NOT_AVAILABLE',
]);

export const LOG_TRUNCATION_ERROR = 'LOG_TRUNCATION';
export const OFFSET_RESET_ERROR = 'OFFSET_OUT_OF_RANGE';

/** A poll's event (one per batch of records read), traced without building its fields. */
const POLL_EVENT = traceShape('consumer.poll', [
  'topic',
  'partition',
  'from',
  'records',
  'position',
]);

export class Consumer implements Machine<ClusterMessage> {
  readonly config: ResolvedConsumerConfig;
  readonly #context: NodeContext<ClusterMessage>;
  readonly #history: History;
  readonly #metadata: ClientMetadata;
  /** The assigned partitions, in the order assigned. */
  readonly #partitions: AssignedPartition[] = objectArray();
  /**
   * The same by topic, indexed by partition number: an answer's partition is found without
   * building its name (a string per partition of every fetch answer).
   */
  readonly #partitionsByTopic = new Map<string, AssignedPartition[]>();
  /**
   * The fetches in flight, oldest first: one at a time per broker, as in Kafka, so a short list
   * (a Map and a Set, set and deleted on every fetch, grew and shrank their tables).
   */
  readonly #fetches: FetchInFlight[] = objectArray();
  readonly #nextFetchAtMs = new Map<BrokerId, Ms>();
  /** A pump's picks: the partitions to fetch now and their leaders (scratch lists, kept). */
  readonly #passLeaders: BrokerId[] = objectArray();
  readonly #passStates: (AssignedPartition | null)[] = objectArray();
  #requestIdNext = 0;
  #wakeTimer: TimerHandle | null = null;
  #wakeAtMs: Ms = 0;
  #closed = false;

  /** Throws ClientConfigError on an invalid configuration. */
  constructor(context: NodeContext<ClusterMessage>, config: ConsumerConfig) {
    this.#context = context;
    this.config = resolveConsumerConfig(config, context.nodeId);
    this.#history = config.history;
    // The resolved config carries the metadata settings (bootstrap brokers, timeouts, max age).
    this.#metadata = new ClientMetadata(
      context,
      { ...this.config, traceName: 'consumer' },
      () => this.#requestIdNext++,
      () => this.#onMetadataUpdate(),
    );
  }

  start(): void {
    this.#metadata.want(this.config.topics);
  }

  /** Stops fetching; answers still on the wire are ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fetch of this.#fetches) this.#context.cancelTimer(fetch.timer);
    this.#fetches.length = 0;
    if (this.#wakeTimer !== null) this.#context.cancelTimer(this.#wakeTimer);
    this.#wakeTimer = null;
    this.#metadata.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The partitions assigned so far (every partition of the topics, once their metadata is known). */
  assignment(): { readonly topic: string; readonly partition: number }[] {
    return this.#partitions.map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Every record read from a partition, in the order read (a truncation may repeat offsets). */
  readRecords(topic: string, partition: number): readonly HistoryRecord[] {
    const state = this.#partition(topic, partition);
    if (state === undefined) return [];
    const read: HistoryRecord[] = [];
    for (const index of state.polls)
      for (const record of this.#history.recordsAt(index) ?? []) read.push(record);
    return read;
  }

  /** The next offset to read (null: not known yet, or not assigned). */
  position(topic: string, partition: number): number | null {
    return this.#partition(topic, partition)?.position ?? null;
  }

  /** The epoch bookkeeping of a partition: the first offset read in each leader epoch. */
  consumedEpochs(topic: string, partition: number): readonly ConsumedEpoch[] {
    return this.#partition(topic, partition)?.epochs ?? [];
  }

  /** Truncations detected (and offset resets that moved back) on a partition. */
  truncations(topic: string, partition: number): number {
    return this.#partition(topic, partition)?.truncations ?? 0;
  }

  #partition(topic: string, partition: number): AssignedPartition | undefined {
    const byPartition = this.#partitionsByTopic.get(topic);
    // Not read past the end: an out-of-bounds read the first run never made threw away the code
    // compiled for it in the next.
    return byPartition !== undefined && partition < byPartition.length
      ? byPartition[partition]
      : undefined;
  }

  onMessage(source: BrokerId, message: ClusterMessage): void {
    if (this.#closed) return;
    switch (message.kind) {
      case 'client.metadata-response':
        this.#metadata.onResponse(source, message);
        return;
      case 'fetch-response':
        this.#onFetchResponse(message);
        return;
      default:
        return;
    }
  }

  onUnreachable(target: BrokerId, message: ClusterMessage): void {
    if (this.#closed) return;
    switch (message.kind) {
      case 'client.metadata':
        this.#metadata.onUnreachable(target, message);
        return;
      case 'fetch': {
        const at = this.#fetchAt(message.requestId);
        if (at >= 0 && (this.#fetches[at] as FetchInFlight).target === target)
          this.#fetchFailed(message.requestId, 'refused');
        return;
      }
      default:
        return;
    }
  }

  // ---- fetching ------------------------------------------------------------------------------

  #onMetadataUpdate(): void {
    for (const topicName of this.config.topics) {
      const topic = this.#metadata.topic(topicName);
      if (topic === undefined) {
        // Not created yet (or this broker lags): keep asking, paced by retryBackoffMs.
        this.#metadata.requestUpdate();
        continue;
      }
      for (const { partition } of topic.partitions) {
        if (this.#partition(topicName, partition) !== undefined) continue;
        const state: AssignedPartition = {
          topic: topicName,
          partition,
          position: this.config.autoOffsetReset === 'earliest' ? 0 : null,
          epochs: objectArray(),
          polls: [],
          readCount: 0,
          inFlight: false,
          fetchRequestId: -1,
          fetchOffset: 0,
          backoffUntilMs: 0,
          truncations: 0,
        };
        this.#partitions.push(state);
        let byPartition = this.#partitionsByTopic.get(topicName);
        if (byPartition === undefined) {
          byPartition = [];
          this.#partitionsByTopic.set(topicName, byPartition);
        }
        byPartition[partition] = state;
        this.#context.trace('consumer.assign', { topic: topicName, partition });
      }
    }
    this.#pump();
  }

  /** Sends a fetch to every leader that has partitions ready and no fetch in flight. */
  #pump(): void {
    if (this.#closed) return;
    const nowMs = this.#context.nowMs;
    // The partitions to fetch and their leaders, picked into the scratch lists (a pump allocates
    // nothing for them but the fetches' own lists).
    const leaders = this.#passLeaders;
    const picked = this.#passStates;
    let count = 0;
    let wakeAtMs = Number.POSITIVE_INFINITY;
    let needMetadata = false;
    // Indexed: an iterator allocates whenever this runs unoptimised.
    const partitions = this.#partitions;
    for (let index = 0; index < partitions.length; index++) {
      const state = partitions[index] as AssignedPartition;
      if (state.inFlight) continue;
      if (state.backoffUntilMs > nowMs) {
        wakeAtMs = Math.min(wakeAtMs, state.backoffUntilMs);
        continue;
      }
      const leader = this.#metadata.partition(state.topic, state.partition)?.leader ?? null;
      if (leader === null || this.#metadata.topic(state.topic)?.topicId == null) {
        needMetadata = true;
        continue;
      }
      if (this.#fetchTo(leader)) continue;
      const readyAtMs = this.#nextFetchAtMs.get(leader) ?? 0;
      if (readyAtMs > nowMs) {
        wakeAtMs = Math.min(wakeAtMs, readyAtMs);
        continue;
      }
      leaders[count] = leader;
      picked[count] = state;
      count++;
    }
    // One fetch per leader, in the order of its first partition, with its partitions in order; a
    // partition taken into a fetch leaves the scratch list (null).
    for (let first = 0; first < count; first++) {
      if (picked[first] === null) continue;
      this.#sendFetch(leaders[first] as BrokerId, takeGroup(picked, leaders, first, count));
    }
    if (needMetadata) this.#metadata.requestUpdate();
    if (wakeAtMs !== Number.POSITIVE_INFINITY) this.#wakeAt(wakeAtMs);
  }

  /** One timer for the earliest moment something becomes fetchable again. */
  #wakeAt(atMs: Ms): void {
    if (this.#wakeTimer !== null) {
      if (this.#wakeAtMs <= atMs) return;
      this.#context.cancelTimer(this.#wakeTimer);
    }
    this.#wakeAtMs = atMs;
    this.#wakeTimer = this.#context.setTimer(atMs - this.#context.nowMs, 'consumer.poll', () => {
      this.#wakeTimer = null;
      this.#pump();
    });
  }

  #sendFetch(leader: BrokerId, states: readonly AssignedPartition[]): void {
    const requestId = this.#requestIdNext++;
    const partitions: FetchPartition[] = states.map((state) => {
      const topic = this.#metadata.topic(state.topic);
      const metadata = topic?.partitions[state.partition];
      const fetchOffset = state.position ?? 0;
      state.inFlight = true;
      state.fetchRequestId = requestId;
      state.fetchOffset = fetchOffset;
      return {
        topicId: topic?.topicId as string,
        partition: state.partition,
        fetchOffset,
        lastFetchedEpoch: lastEpochOf(state),
        currentLeaderEpoch: metadata?.leaderEpoch ?? -1,
      };
    });
    const request: FetchRequest = {
      kind: 'fetch',
      requestId,
      replicaId: null,
      replicaEpoch: -1,
      maxWaitMs: this.config.fetchMaxWaitMs,
      maxBytes: this.config.maxBytes,
      partitions,
    };
    this.#context.send(leader, request, 64 + 32 * partitions.length);
    const timer = this.#context.setTimer(
      this.config.requestTimeoutMs,
      'consumer.request-timeout',
      () => {
        if (this.#fetchAt(requestId) >= 0) this.#fetchFailed(requestId, 'timeout');
      },
    );
    this.#fetches.push({ requestId, target: leader, partitions: states, timer });
  }

  /** A fetch timed out or was refused: its partitions back off and metadata is refreshed. */
  #fetchFailed(requestId: number, reason: string): void {
    const fetch = this.#endFetch(requestId);
    if (fetch === undefined) return;
    this.#context.trace('consumer.fetch-failed', { target: fetch.target, reason });
    for (const state of fetch.partitions) this.#backoff(state);
    this.#metadata.requestUpdate();
    this.#pump();
  }

  /** Where the fetch `requestId` is in #fetches, or -1 when it is not in flight. */
  #fetchAt(requestId: number): number {
    const fetches = this.#fetches;
    for (let index = 0; index < fetches.length; index++)
      if ((fetches[index] as FetchInFlight).requestId === requestId) return index;
    return -1;
  }

  /** Whether a fetch to `broker` is in flight. */
  #fetchTo(broker: BrokerId): boolean {
    const fetches = this.#fetches;
    for (let index = 0; index < fetches.length; index++)
      if ((fetches[index] as FetchInFlight).target === broker) return true;
    return false;
  }

  #endFetch(requestId: number): FetchInFlight | undefined {
    const fetches = this.#fetches;
    const at = this.#fetchAt(requestId);
    if (at < 0) return undefined;
    const fetch = fetches[at] as FetchInFlight;
    removeAt(fetches, at);
    this.#context.cancelTimer(fetch.timer);
    this.#nextFetchAtMs.set(fetch.target, this.#context.nowMs + this.config.pollIntervalMs);
    for (const state of fetch.partitions) state.inFlight = false;
    return fetch;
  }

  #backoff(state: AssignedPartition): void {
    state.backoffUntilMs = this.#context.nowMs + this.config.retryBackoffMs;
  }

  // ---- answers -------------------------------------------------------------------------------

  #onFetchResponse(response: FetchResponse): void {
    const fetch = this.#endFetch(response.requestId);
    if (fetch === undefined) return; // timed out already: a late answer
    for (const answer of response.partitions) {
      const topic = this.#metadata.topicName(answer.topicId);
      if (topic === undefined) continue;
      const state = this.#partition(topic, answer.partition);
      // Only an answer to this fetch's question, for the position we still hold, counts.
      if (state === undefined || state.fetchRequestId !== fetch.requestId) continue;
      if ((state.position ?? 0) !== state.fetchOffset) continue;
      this.#onPartitionAnswer(state, answer);
    }
    this.#pump();
  }

  #onPartitionAnswer(state: AssignedPartition, answer: FetchPartitionResponse): void {
    const error = answer.error;
    if (error === 'NONE') {
      if (answer.divergingEpoch !== null) this.#onDiverging(state, answer, answer.divergingEpoch);
      else if (state.position === null) this.#startAtLatest(state, answer);
      else this.#consume(state, answer.batches);
      return;
    }
    this.#context.trace('consumer.fetch-error', {
      topic: state.topic,
      partition: state.partition,
      error,
    });
    if (error === 'OFFSET_OUT_OF_RANGE') {
      this.#resetOffset(state, answer);
      return;
    }
    if (METADATA_ERRORS.has(error)) this.#metadata.requestUpdate();
    this.#backoff(state);
  }

  #consume(state: AssignedPartition, batches: readonly RecordBatch[]): void {
    let position = state.position as number;
    const count = countFrom(batches, position);
    // Asked before the walk, thrown after it (the position and epochs moved, as they always did):
    // the history is given no record of a read refused.
    const exceeded = state.readCount + count > this.config.readRecordsMax;
    const history = this.#history;
    /** The first record's offset (traced). */
    let from = -1;
    // Indexed loops: an iterator allocates whenever this runs unoptimised (after a deopt).
    for (let batchIndex = 0; batchIndex < batches.length; batchIndex++) {
      const batch = batches[batchIndex] as RecordBatch;
      if (batch.lastOffset < position) continue;
      const batchRecords = batch.records;
      for (let index = 0; index < batchRecords.length; index++) {
        const record = batchRecords[index] as LogRecord;
        if (record.offset < position) continue;
        if (from < 0) from = record.offset;
        // The log's record itself: its records never change.
        if (!exceeded) history.addPolledRecord(record);
      }
      const last = state.epochs[state.epochs.length - 1];
      if (last === undefined || last.epoch !== batch.leaderEpoch)
        state.epochs.push({
          epoch: batch.leaderEpoch,
          startOffset: Math.max(batch.baseOffset, position),
        });
      position = batch.lastOffset + 1;
    }
    state.position = position;
    if (count === 0) return;
    if (exceeded) {
      throw new BoundExceededError(
        'readRecordsMax',
        this.config.readRecordsMax,
        `${this.config.process} read too many records of ${state.topic}-${state.partition}`,
      );
    }
    state.readCount += count;
    state.polls.push(history.pollReadAdded(this.config.process, state.topic, state.partition));
    this.#context.traceShaped(POLL_EVENT, state.topic, state.partition, from, count, position);
  }

  /**
   * KIP-320: the leader's log diverges from what this consumer read. Truncate to the smaller of the
   * leader's end offset for the diverging epoch and this consumer's own end of that epoch.
   */
  #onDiverging(
    state: AssignedPartition,
    answer: FetchPartitionResponse,
    diverging: DivergingEpoch,
  ): void {
    const position = state.position ?? 0;
    if (diverging.epoch < 0 || diverging.endOffset < 0) {
      // The leader cannot place the epoch (its log has none): start again as auto.offset.reset
      // says, as Kafka's consumer does for an UNDEFINED OffsetsForLeaderEpoch answer.
      this.#resetOffset(state, answer);
      return;
    }
    const newer = state.epochs.find((entry) => entry.epoch > diverging.epoch);
    const ownEndOffset = newer === undefined ? position : newer.startOffset;
    const truncateTo = Math.min(position, diverging.endOffset, ownEndOffset);
    if (truncateTo >= position) {
      // Nothing read diverges; should not happen with a consistent leader. Do not spin on it.
      this.#context.trace('consumer.diverging-ignored', {
        topic: state.topic,
        partition: state.partition,
        epoch: diverging.epoch,
        endOffset: diverging.endOffset,
        position,
      });
      this.#backoff(state);
      return;
    }
    this.#moveBack(state, truncateTo, LOG_TRUNCATION_ERROR);
    state.epochs = state.epochs.filter((entry) => entry.startOffset < truncateTo);
  }

  /** OFFSET_OUT_OF_RANGE (or no common epoch): start again per autoOffsetReset. */
  #resetOffset(state: AssignedPartition, answer: FetchPartitionResponse): void {
    const target =
      this.config.autoOffsetReset === 'earliest' ? answer.logStartOffset : answer.highWatermark;
    if (target < 0) {
      this.#backoff(state);
      return;
    }
    const position = state.position ?? 0;
    if (target < position) this.#moveBack(state, target, OFFSET_RESET_ERROR);
    else {
      this.#context.trace('consumer.offset-reset', {
        topic: state.topic,
        partition: state.partition,
        from: position,
        to: target,
      });
      state.position = target;
    }
    state.epochs = objectArray();
  }

  /** 'latest': the first answer only tells where the end is. */
  #startAtLatest(state: AssignedPartition, answer: FetchPartitionResponse): void {
    state.position = answer.highWatermark;
    this.#context.trace('consumer.offset-reset', {
      topic: state.topic,
      partition: state.partition,
      from: -1,
      to: answer.highWatermark,
    });
  }

  /** Moves the position back and records it: offsets from `offset` on may be read again. */
  #moveBack(state: AssignedPartition, offset: number, error: string): void {
    const from = state.position ?? 0;
    state.position = offset;
    state.truncations++;
    const operationId = this.#history.invoke(this.config.process, 'poll', {
      topic: state.topic,
      partition: state.partition,
      offset,
    });
    this.#history.info(operationId, error);
    this.#context.trace('consumer.truncation', {
      topic: state.topic,
      partition: state.partition,
      error,
      from,
      to: offset,
    });
  }
}

// Helpers as consts, not function declarations: see trace.ts.
/** The epoch of the last batch consumed (-1: none), a fetch's lastFetchedEpoch. */
const lastEpochOf = (state: AssignedPartition): number => {
  return state.epochs[state.epochs.length - 1]?.epoch ?? -1;
};

/** How many records #consume takes from `batches`, reading from `position` (as it walks them). */
const countFrom = (batches: readonly RecordBatch[], position: number): number => {
  let count = 0;
  for (let batchIndex = 0; batchIndex < batches.length; batchIndex++) {
    const batch = batches[batchIndex] as RecordBatch;
    if (batch.lastOffset < position) continue;
    const records = batch.records;
    for (let index = 0; index < records.length; index++)
      if ((records[index] as LogRecord).offset >= position) count++;
    position = batch.lastOffset + 1;
  }
  return count;
};
