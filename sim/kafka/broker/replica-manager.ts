// A broker's data plane (Kafka's ReplicaManager, Partition and ReplicaFetcherThread):
// - the roles come from the committed metadata: a partition whose leader is this broker is led at
//   the image's leader epoch, any other partition this broker replicates is followed;
// - a follower fetches from its leader with one fetch session per source broker covering every
//   partition it follows there (long poll), carrying the fetch offset, the last fetched epoch and
//   its current leader epoch; the leader answers records and its high watermark, or the epoch and
//   offset where the follower's log diverges (the follower truncates and fetches again), or a
//   fencing error;
// - a leader tracks its followers (LeaderState), shrinks the ISR of followers that lag more than
//   replica.lag.time.max.ms, expands it on the KAFKA-7128 rule, and sends every ISR change to the
//   controller as an AlterPartition with its leader and partition epochs (one at a time);
// - produce with acks 0, 1 and all (acks=all waits for the high watermark; NOT_ENOUGH_REPLICAS
//   before the append, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT), with idempotent
//   producers' sequence checks; consumers read below the high watermark;
// - every partition's log on disk, the high watermarks checkpointed every 5 s.
// The switches of the historical bugs sit at the places the fixes live (see bugs.ts).

import { objectArray } from '../../kernel/arrays.ts';
import { AssertionError, BoundExceededError } from '../../kernel/assert.ts';
import { DeadlineTimer } from '../../kernel/deadline.ts';
import type { NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import { TraceName, traceShape } from '../../kernel/trace.ts';
import type { Bugs } from '../bugs.ts';
import type { AlterPartitionRequest, AlterPartitionResponse } from '../controller/messages.ts';
import type { MetadataImage, PartitionState } from '../controller/metadata-image.ts';
import { effectiveMinIsr } from '../controller/partition-control.ts';
import type { BrokerId, TopicId } from '../controller/records.ts';
import type { ClusterMessage } from '../messages.ts';
import {
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PartitionLog,
  partitionLogFileName,
  type RecordBatch,
  type RecordInput,
  UNDEFINED_EPOCH,
} from '../storage/partition-log.ts';
import { type LeaderRules, LeaderState } from './leader-state.ts';
import {
  type DataError,
  type DataMessage,
  type DivergingEpoch,
  type FetchPartition,
  type FetchPartitionResponse,
  type FetchRequest,
  type FetchResponse,
  fetchResponseSizeBytes,
  type InitProducerIdRequest,
  type MetadataRequest,
  type PartitionMetadata,
  type ProducePartition,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
  produceResponseSizeBytes,
  type TopicMetadata,
} from './messages.ts';

export interface ReplicaConfig {
  /** replica.lag.time.max.ms (30000) */
  readonly replicaLagTimeMaxMs: Ms;
  /** replica.fetch.wait.max.ms (500) */
  readonly replicaFetchWaitMaxMs: Ms;
  /** replica.fetch.max.bytes (1 MiB) */
  readonly replicaFetchMaxBytes: number;
  /** replica.fetch.backoff.ms (1000): after a failed fetch. */
  readonly replicaFetchBackoffMs: Ms;
  /** replica.socket.timeout.ms (30000): a fetch unanswered this long is sent again. */
  readonly replicaSocketTimeoutMs: Ms;
  /** replica.high.watermark.checkpoint.interval.ms (5000) */
  readonly highWatermarkCheckpointIntervalMs: Ms;
  /** flush.ms: null (Kafka's default) leaves flushing to the OS. */
  readonly flushIntervalMs: Ms | null;
  /** How long an AlterPartition may go unanswered before it is sent again. */
  readonly alterPartitionTimeoutMs: Ms;
}

export const DEFAULT_REPLICA_CONFIG: ReplicaConfig = {
  replicaLagTimeMaxMs: 30_000,
  replicaFetchWaitMaxMs: 500,
  replicaFetchMaxBytes: 1_048_576,
  replicaFetchBackoffMs: 1_000,
  replicaSocketTimeoutMs: 30_000,
  highWatermarkCheckpointIntervalMs: 5_000,
  flushIntervalMs: null,
  alterPartitionTimeoutMs: 5_000,
};

/**
 * `config` as one object literal naming every field, the form the replica manager keeps. Configs
 * are put together with spreads (defaults, a profile's, a test's): a spread's result takes a map
 * made by adding fields one by one, which V8 frees once no object has it (a full GC between runs)
 * and makes anew in the next run, and code compiled for the old map is thrown away there. A
 * literal's map is held by the literal for the process's life.
 */
const replicaConfigOf = (config: ReplicaConfig): ReplicaConfig => ({
  replicaLagTimeMaxMs: config.replicaLagTimeMaxMs,
  replicaFetchWaitMaxMs: config.replicaFetchWaitMaxMs,
  replicaFetchMaxBytes: config.replicaFetchMaxBytes,
  replicaFetchBackoffMs: config.replicaFetchBackoffMs,
  replicaSocketTimeoutMs: config.replicaSocketTimeoutMs,
  highWatermarkCheckpointIntervalMs: config.highWatermarkCheckpointIntervalMs,
  flushIntervalMs: config.flushIntervalMs,
  alterPartitionTimeoutMs: config.alterPartitionTimeoutMs,
});

/** What the broker's control plane gives its data plane. */
export interface ReplicaHost {
  /** The committed metadata, as this broker has replayed it. */
  image(): MetadataImage;
  /** This incarnation's broker epoch, once registered. */
  brokerEpoch(): number | null;
  /** Where an AlterPartition goes: the active controller as far as the broker knows. */
  controller(): string;
}

/** INCARNATION_REQUEST_IDS of broker-node.ts (which imports this module). */
const REQUEST_IDS_PER_INCARNATION = 10_000_000;
/** The data plane's request ids of one incarnation: the upper half of its range. */
const REQUEST_IDS_MAX = REQUEST_IDS_PER_INCARNATION / 2;

export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';

// Helpers as consts, not function declarations: see trace.ts.
/** The name of a partition: its directory on disk and its key in every map. */
export const partitionKey = (topicId: TopicId, partition: number): string => {
  return `${topicId}-${partition}`;
};

export type ReplicaRole = 'leader' | 'follower' | 'none';

/** Idempotent producer state of one producer on one partition (the last batches, Kafka keeps 5). */
interface ProducerEntry {
  lastSequence: number;
  readonly recent: ProducerBatch[];
}

/** A broker the metadata does not know (broker epochs are metadata offsets: never negative). */
const NOT_REGISTERED = -1;

/** Kafka's ProducerStateEntry keeps the metadata of a producer's last five batches. */
const PRODUCER_BATCHES_MAX = 5;

interface ProducerBatch {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
}

/**
 * An acks=all produce request with partitions waiting for the high watermark (Kafka's
 * DelayedProduce): answered once every partition is committed or failed, or at its timeout.
 */
interface DelayedProduce {
  readonly source: string;
  readonly request: ProduceRequest;
  /** Each partition's answer, in the request's order; null while it waits (on its replica). */
  readonly answers: (ProducePartitionResponse | null)[];
  waiting: number;
  /** When the partitions still waiting are answered REQUEST_TIMED_OUT. */
  readonly deadlineMs: Ms;
}

/** One partition of a delayed produce, waiting on its replica's high watermark. */
interface PendingProduce {
  readonly delayed: DelayedProduce;
  /** The partition's index in the request. */
  readonly index: number;
  /** The produce is done once the high watermark passes this offset. */
  readonly lastOffset: number;
  readonly baseOffset: number;
  readonly leaderEpoch: number;
}

/** An idempotent producer's batch against the producer state (Kafka's checkSequence). */
type SequenceCheck =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly baseOffset: number }
  | { readonly kind: 'out-of-order' };

const APPEND: SequenceCheck = { kind: 'append' };
const OUT_OF_ORDER: SequenceCheck = { kind: 'out-of-order' };

/**
 * What one partition of a produce request came to on the leader. Written in place: the replica
 * manager keeps one per partition index and overwrites it at each produce (R built 41k a run
 * afresh), as nothing keeps one past the produce's handling (the answers are built from it).
 */
interface AppendResult {
  /** NONE: appended, or found already appended (the replica is then set); else refused. */
  error: DataError;
  replica: Replica | null;
  baseOffset: number;
  lastOffset: number;
  /** -1 for a duplicate (the epoch it was first appended in is not kept). */
  leaderEpoch: number;
  /** Idempotence: the batch was already in the log; nothing appended now. */
  duplicate: boolean;
}

const emptyAppendResult = (): AppendResult => {
  return {
    error: 'NONE',
    replica: null,
    baseOffset: -1,
    lastOffset: -1,
    leaderEpoch: -1,
    duplicate: false,
  };
};

/**
 * How many partitions a replica manager's per-request lists (#appendResults, #fetchedReplicas,
 * #readReplicas) hold from the start. They grow for a request with more; growth first met after the code was
 * compiled (a produce or fetch of more partitions than any before) threw that code away.
 */
const PARTITIONS_PREPARED = 16;

const refused = (result: AppendResult, error: DataError): void => {
  result.error = error;
  result.replica = null;
};

/** A partition's answer (offsets only with NONE, as Kafka gives them). */
const produceAnswer = (
  data: ProducePartition,
  error: DataError,
  baseOffset: number,
  leaderEpoch: number,
): ProducePartitionResponse => {
  return {
    topic: data.topic,
    partition: data.partition,
    error,
    baseOffset: error === 'NONE' ? baseOffset : -1,
    leaderEpoch: error === 'NONE' ? leaderEpoch : -1,
  };
};

/** A produce's append (one per batch a leader takes), traced without building its fields. */
const APPEND_EVENT = traceShape('replica.append', [
  'partition',
  'baseOffset',
  'records',
  'acks',
  'duplicate',
]);

/** replica.append's acks for the trace, hashed once (a request's acks is one of these). */
const ACKS_TRACE_NAMES: Readonly<Record<ProduceRequest['acks'], TraceName>> = {
  '0': new TraceName('0'),
  '1': new TraceName('1'),
  all: new TraceName('all'),
};

interface AlterPartitionInFlight {
  readonly request: AlterPartitionRequest;
  readonly timer: TimerHandle | null;
}

/** Only for Replica's constructor (see there). */
const NO_ALTER_PARTITION: AlterPartitionInFlight = Object.freeze({
  request: Object.freeze({}) as AlterPartitionRequest,
  timer: null,
});

/** One partition replica on this broker. */
export class Replica {
  readonly topicId: TopicId;
  readonly topicName: string;
  readonly partition: number;
  readonly key: string;
  /** The key for the trace (replica.append's partition), hashed once. */
  readonly traceKey: TraceName;
  readonly log: PartitionLog;
  highWatermark: number;
  /**
   * The HW is still the one read from the checkpoint when the log opened (clamped to the log end,
   * lowered by truncations): no leader has set it since, neither this replica leading nor a
   * leader's fetch answer. Kafka's can be as stale: written every 5 s, it may predate a lossy crash
   * or a truncation, and cover records the log has rewritten since.
   */
  highWatermarkRestored = true;
  /** The log end offset the log was opened with (what the disk kept, before any truncation). */
  readonly openedLogEndOffset: number;
  role: ReplicaRole = 'none';
  /** The metadata this replica last applied (leader epoch -1: none yet). */
  leaderEpoch = -1;
  partitionEpoch = -1;
  leaderId: BrokerId | null = null;
  leaderState: LeaderState | null = null;
  /** Follower: whether the fetcher may fetch it now, and when again if not. */
  fetchable = false;
  fetchRetryAtMs: Ms = 0;
  /**
   * Follower: the partition of its last fetch request, sent again while its offset and epochs
   * hold (it is immutable, and a fetch that brings nothing asks the same again).
   */
  lastFetch: FetchPartition | null = null;
  /** Leader: its last answer with nothing new, given again while its log's state holds. */
  nothingNew: FetchPartitionResponse | null = null;
  /** Leader: its last answer with records, given again for the same records and state. */
  lastRecordsAnswer: FetchPartitionResponse | null = null;
  pendingProduces: PendingProduce[] = objectArray();
  producers: Map<number, ProducerEntry> | null = null;
  producersAtTruncation = -1;
  alterPartitionInFlight: AlterPartitionInFlight | null = NO_ALTER_PARTITION;
  /** The leader rules as of a metadata image and its last offset (ReplicaManager.#rules). */
  rules: LeaderRules | null = null;
  rulesImage: MetadataImage | null = null;
  rulesImageOffset = -1;
  /** The last ReplicaManager.applyMetadata pass whose image named this replica. */
  metadataPass = 0;
  /** Dropped from the replica manager (a replica kept elsewhere is then no partition's). */
  deleted = false;
  /**
   * Whether a follower is eligible for the ISR and the high watermark (ReplicaManager.#isEligible),
   * made once: a closure made where it is used would cost an allocation per call.
   */
  readonly isEligible: (brokerId: BrokerId) => boolean;

  constructor(
    topicId: TopicId,
    topicName: string,
    partition: number,
    log: PartitionLog,
    highWatermark: number,
    isEligible: (replica: Replica, brokerId: BrokerId) => boolean,
  ) {
    this.topicId = topicId;
    this.topicName = topicName;
    this.partition = partition;
    this.key = partitionKey(topicId, partition);
    this.traceKey = new TraceName(this.key);
    this.log = log;
    this.openedLogEndOffset = log.logEndOffset;
    this.highWatermark = Math.min(highWatermark, log.logEndOffset);
    this.isEligible = (brokerId) => isEligible(this, brokerId);
    // None in flight; NO_ALTER_PARTITION stored first, so that V8 learns from the first replica
    // that the field holds objects as well as null: learnt at the first AlterPartition, it threw
    // away the code compiled knowing null alone (#recordFollowerFetch).
    this.alterPartitionInFlight = null;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }
}

interface HeldFetch {
  readonly source: string;
  readonly request: FetchRequest;
  /** When it is answered even without new data (its maxWaitMs after it arrived). */
  readonly deadlineMs: Ms;
}

/**
 * What a fetch asked of `partition` (undefined: it did not ask for it). `hint` is the index
 * to look at first: an answer lists the partitions in its request's order, so the answer's index
 * finds it at once in a follower's own request (which names each partition once, so the first
 * match is the only one).
 */
const fetchedPartitionOf = (
  partitions: readonly FetchPartition[],
  partition: { readonly topicId: TopicId; readonly partition: number },
  hint = 0,
): FetchPartition | undefined => {
  const hinted = partitions[hint];
  if (hinted !== undefined && isFetchOf(hinted, partition)) return hinted;
  // By index: for..of allocates an iterator whenever this runs unoptimised (it runs per held
  // fetch at every append, and per partition of every fetch answer).
  for (let index = 0; index < partitions.length; index++) {
    const fetched = partitions[index] as FetchPartition;
    if (isFetchOf(fetched, partition)) return fetched;
  }
  return undefined;
};

/**
 * Whether `fetched` is `partition`'s. The partition numbers first: comparing the topic ids is a
 * call comparing strings, and most often the numbers already differ.
 */
const isFetchOf = (
  fetched: FetchPartition,
  partition: { readonly topicId: TopicId; readonly partition: number },
): boolean => {
  return fetched.partition === partition.partition && fetched.topicId === partition.topicId;
};

interface Fetcher {
  readonly leaderId: BrokerId;
  /**
   * The request in flight: its id and partitions (each with the log end offset it fetched from)
   * are what the answer is checked against. The request itself, not a record made per request.
   */
  inFlight: FetchRequest | null;
  /**
   * The replicas the request in flight fetches, by its partitions' index: its answer (in the same
   * order) finds each here, not by a lookup per partition, while the replica is not deleted.
   */
  readonly inFlightReplicas: Replica[];
  /** When the request in flight times out (replica.socket.timeout.ms after it left). */
  inFlightDeadlineMs: Ms;
  /** Fires by the in-flight request's deadline (one timer, not one per request). */
  readonly timeout: DeadlineTimer;
  wakeTimer: TimerHandle | null;
  /**
   * The replicas following this leader, in the replicas' order, as of ReplicaManager's
   * #rolesVersion `followersVersion`: each fetch walks these, not every replica of the broker.
   */
  readonly followers: Replica[];
  followersVersion: number;
}

export class ReplicaManager {
  readonly #context: NodeContext<ClusterMessage>;
  readonly #config: ReplicaConfig;
  readonly #bugs: Bugs;
  /** The bugs asked on every fetch, as flags (a set lookup each time added up). */
  readonly #noBrokerEpoch: boolean;
  readonly #host: ReplicaHost;
  readonly #replicas = new Map<string, Replica>();
  /** The same replicas in the map's order, walked by index on the hot paths (no iterator). */
  readonly #replicaList: Replica[] = objectArray();
  /** The same replicas by topic id, then partition: found without building a key. */
  readonly #replicasByTopic = new Map<TopicId, (Replica | undefined)[]>();
  /**
   * The same lists, walked by topic id (a broker holds replicas of few topics, and the map lookup,
   * 600k a run, was 1.8 % of R's CPU; the ids are compared by reference first).
   */
  readonly #topicIds: TopicId[] = objectArray();
  readonly #topicReplicas: (Replica | undefined)[][] = [];
  /**
   * One fetcher per leader this broker has followed, in the order they were made: a list walked
   * comparing the (interned) ids, where a map lookup at every fetch answer hashed the id.
   */
  readonly #fetchers: Fetcher[] = objectArray();
  readonly #heldFetches: HeldFetch[] = objectArray();
  /**
   * The replicas of the follower's fetch being answered, by partition index: found once as it is
   * read, and handed to the recording of how far the follower got (which looked each up again).
   * Only the first read of a follower's fetch fills it (`updateFetchState`): the reads that
   * recording may set off (a consumer's held fetch answered) leave it be.
   */
  readonly #fetchedReplicas: (Replica | undefined)[] = objectArray();
  /**
   * The same for every other read (a consumer's fetch, a held fetch answered), for the answers the
   * read builds late: a list of its own, as a read that recording sets off must leave
   * #fetchedReplicas be. A read without one looked those replicas up again, first met after
   * #readFetch was compiled (a consumer's fetch with something new past a partition with nothing),
   * which threw that code away.
   */
  readonly #readReplicas: (Replica | undefined)[] = objectArray();
  /** How many of #heldFetches are consumers' (replicaId null). */
  #heldConsumerFetches = 0;
  readonly #delayedProduces: DelayedProduce[] = objectArray();
  /**
   * The partitions' append results of the produce being handled, the objects too reused from one
   * produce to the next (one produce is handled at a time: handling one sends, it never receives).
   */
  readonly #appendResults: AppendResult[] = objectArray();
  /** Answers held fetches at their deadlines (one timer, not one per fetch). */
  readonly #heldFetchTimeout: DeadlineTimer;
  /** Times out acks=all produces waiting on the high watermark (one timer, not one per request). */
  readonly #produceTimeout: DeadlineTimer;
  readonly #alterPartitionRequests = new Map<number, string>();
  /** Unique across incarnations (see the broker): a stale answer never matches a request of ours. */
  #requestIdNext: number;
  /** Where the next incarnation's request ids begin. */
  readonly #requestIdEnd: number;
  #producerIdNext = 0;
  /** #registeredEpochOf's brokers and their epochs, as of this image at this offset. */
  #registeredImage: MetadataImage | null = null;
  #registeredImageOffset = -1;
  readonly #registeredIds: BrokerId[] = objectArray();
  readonly #registeredEpochs: number[] = [];
  /** Counts the changes of the replica list and of the replicas' roles and leaders (Fetcher.followers). */
  #rolesVersion = 0;
  /** Counts applyMetadata's passes (see Replica.metadataPass). */
  #metadataPass = 0;
  #started = false;

  constructor(
    context: NodeContext<ClusterMessage>,
    config: ReplicaConfig,
    bugs: Bugs,
    host: ReplicaHost,
  ) {
    this.#context = context;
    this.#config = replicaConfigOf(config);
    this.#bugs = bugs;
    this.#noBrokerEpoch = bugs.has('no-broker-epoch');
    this.#host = host;
    // Past the broker's own control requests of this incarnation, up to the next incarnation's
    // (INCARNATION_REQUEST_IDS in broker-node.ts, 10^7).
    this.#requestIdNext = context.incarnation * REQUEST_IDS_PER_INCARNATION + REQUEST_IDS_MAX;
    this.#requestIdEnd = (context.incarnation + 1) * REQUEST_IDS_PER_INCARNATION;
    this.#heldFetchTimeout = new DeadlineTimer(context, 'replica.fetch-wait', () =>
      this.#answerExpiredFetches(),
    );
    this.#produceTimeout = new DeadlineTimer(context, 'replica.produce-timeout', () =>
      this.#timeOutProduces(),
    );
    for (let index = 0; index < PARTITIONS_PREPARED; index++) {
      this.#appendResults.push(emptyAppendResult());
      this.#fetchedReplicas.push(undefined);
      this.#readReplicas.push(undefined);
    }
  }

  /** A request id unique across incarnations (see the constructor). */
  #nextRequestId(): number {
    if (this.#requestIdNext >= this.#requestIdEnd)
      throw new BoundExceededError(
        'requestIdsMax',
        REQUEST_IDS_MAX,
        `${this.#context.nodeId}: data-plane requests of incarnation ${this.#context.incarnation}`,
      );
    return this.#requestIdNext++;
  }

  /** Every replica this broker holds, in the order it first saw them. */
  replicas(): readonly Replica[] {
    return [...this.#replicaList];
  }

  /** The same, without a copy, for checkers that look after every event: do not keep it. */
  get replicaList(): readonly Replica[] {
    return this.#replicaList;
  }

  replica(topicId: TopicId, partition: number): Replica | undefined {
    const topicIds = this.#topicIds;
    for (let index = 0; index < topicIds.length; index++)
      if (topicIds[index] === topicId) {
        // The length asked first: a read past it (a partition not opened yet) threw away the
        // compiled code of the callers that inline this.
        const byPartition = this.#topicReplicas[index] as (Replica | undefined)[];
        return partition < byPartition.length ? byPartition[partition] : undefined;
      }
    return undefined;
  }

  /**
   * The broker has registered and replayed the metadata up to its own registration: open the logs
   * on disk and take the roles the metadata gives (a restart: the logs come back as the crash left
   * them, with the last checkpointed high watermarks).
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    // Kafka's "isr-expiration" task: every replica.lag.time.max.ms / 2, a whole number of ms (a
    // Long division there), at least 1.
    this.#scheduleEvery(
      Math.max(1, Math.floor(this.#config.replicaLagTimeMaxMs / 2)),
      'replica.isr-check',
      () => this.#checkIsrs(),
    );
    this.#scheduleEvery(
      this.#config.highWatermarkCheckpointIntervalMs,
      'replica.hw-checkpoint',
      () => this.#checkpointHighWatermarks(),
    );
    const flushMs = this.#config.flushIntervalMs;
    if (flushMs !== null) {
      this.#scheduleEvery(flushMs, 'replica.flush', () => {
        for (const replica of this.#replicas.values()) replica.log.flush();
      });
    }
    // The first metadata after a start: what is left once the roles are taken is what the image
    // names, and the stray logs go. Here, not in applyMetadata at its first pass: a broker's
    // restart met that branch after applyMetadata was compiled, and threw the code away.
    this.#applyRoles();
    this.#removeStrayLogs(new Set(this.#replicaList.map((replica) => replica.key)));
    this.#wakeFetchers();
  }

  /** The metadata changed: take the roles it gives, drop the replicas of deleted topics. */
  applyMetadata(): void {
    if (!this.#started) return;
    this.#applyRoles();
    this.#wakeFetchers();
  }

  /** applyMetadata's roles: the image's taken, the replicas of deleted topics dropped. */
  #applyRoles(): void {
    const image = this.#host.image();
    const me = this.#context.nodeId;
    // The replicas the image names are stamped with this pass, each found by topic id and
    // partition: no key built and no set filled per partition (this runs for every metadata record
    // replayed, the controller's no-ops included: 1,100 times in a run of R).
    const pass = ++this.#metadataPass;
    for (const topic of image.topics.values()) {
      for (const state of topic.partitions.values()) {
        if (!state.replicas.includes(me)) continue;
        const replica =
          this.replica(state.topicId, state.partition) ?? this.#openReplica(state, topic.name);
        replica.metadataPass = pass;
        this.#applyPartitionState(replica, state);
      }
    }
    // In the replicas' order, as before; a copy only when there is any to delete (#deleteReplica
    // changes the list).
    const replicas = this.#replicaList;
    let unnamed = 0;
    for (let index = 0; index < replicas.length; index++)
      if ((replicas[index] as Replica).metadataPass !== pass) unnamed++;
    if (unnamed > 0)
      for (const replica of replicas.filter((each) => each.metadataPass !== pass))
        this.#deleteReplica(replica);
  }

  /**
   * At the first metadata after a start: partition directories on disk that the metadata no longer
   * names (a topic deleted while this broker was down) are deleted, as Kafka does with stray logs.
   */
  #removeStrayLogs(seen: ReadonlySet<string>): void {
    const suffix = partitionLogFileName('');
    const disk = this.#context.disk;
    for (const name of disk.names()) {
      if (!name.endsWith(suffix)) continue;
      const key = name.slice(0, -suffix.length);
      if (seen.has(key)) continue;
      for (const file of disk.names()) if (file.startsWith(`${key}/`)) disk.delete(file);
      this.#context.trace('replica.stray-deleted', { partition: key });
    }
  }

  /** A clean shutdown: everything to disk. */
  shutdown(): void {
    for (const replica of this.#replicas.values()) replica.log.flush();
    this.#checkpointHighWatermarks();
  }

  /** A follower's or a consumer's fetch (the broker hands the frequent kinds straight here). */
  onFetch(source: string, request: FetchRequest): void {
    this.#onFetch(source, request);
  }

  /** The answer to a fetch of this broker's fetchers. */
  onFetchResponse(source: string, response: FetchResponse): void {
    this.#onFetchResponse(source, response);
  }

  onProduce(source: string, request: ProduceRequest): void {
    this.#onProduce(source, request);
  }

  handle(source: string, message: DataMessage): void {
    // The frequent kinds first: a switch compares in order.
    switch (message.kind) {
      case 'fetch':
        this.#onFetch(source, message);
        return;
      case 'fetch-response':
        this.#onFetchResponse(source, message);
        return;
      case 'client.produce':
        this.#onProduce(source, message);
        return;
      case 'client.metadata':
        this.#onMetadata(source, message);
        return;
      case 'client.init-producer-id':
        this.#onInitProducerId(source, message);
        return;
      default:
        return;
    }
  }

  /** A request of ours could not be delivered (refused connection). */
  unreachable(target: string, message: ClusterMessage): void {
    if (message.kind === 'fetch') {
      const fetcher = this.#fetcherOf(target);
      if (fetcher?.inFlight?.requestId === message.requestId) this.#fetchFailed(fetcher);
    } else if (message.kind === 'broker.alter-partition') {
      const key = this.#alterPartitionRequests.get(message.requestId);
      const replica = key === undefined ? undefined : this.#replicas.get(key);
      if (replica?.alterPartitionInFlight?.request.requestId === message.requestId)
        this.#resendAlterPartition(replica);
    }
  }

  // ---- metadata and roles --------------------------------------------------------------------

  #openReplica(state: PartitionState, topicName: string): Replica {
    const key = partitionKey(state.topicId, state.partition);
    const log = new PartitionLog(this.#context.disk, key, {
      kip101Lookup: this.#bugs.has('epoch-lookup-kip101'),
    });
    const checkpoint = this.#context.disk
      .checkpoint<Record<string, number>>(HIGH_WATERMARK_CHECKPOINT_FILE)
      .read();
    const replica = new Replica(
      state.topicId,
      topicName,
      state.partition,
      log,
      checkpoint?.[key] ?? 0,
      (eligible, brokerId) => this.#isEligible(eligible, brokerId),
    );
    this.#replicas.set(key, replica);
    this.#replicaList.push(replica);
    this.#rolesVersion++;
    let byPartition = this.#replicasByTopic.get(state.topicId);
    if (byPartition === undefined) {
      byPartition = [];
      this.#replicasByTopic.set(state.topicId, byPartition);
      this.#topicIds.push(state.topicId);
      this.#topicReplicas.push(byPartition);
    }
    byPartition[state.partition] = replica;
    return replica;
  }

  #deleteReplica(replica: Replica): void {
    this.#resign(replica, 'NOT_LEADER_OR_FOLLOWER');
    this.#replicas.delete(replica.key);
    replica.deleted = true;
    this.#replicaList.splice(this.#replicaList.indexOf(replica), 1);
    this.#rolesVersion++;
    const byPartition = this.#replicasByTopic.get(replica.topicId);
    if (byPartition !== undefined) byPartition[replica.partition] = undefined;
    for (const name of this.#context.disk.names()) {
      if (name.startsWith(`${replica.key}/`)) this.#context.disk.delete(name);
    }
    this.#context.trace('replica.deleted', { partition: replica.key });
  }

  #applyPartitionState(replica: Replica, state: PartitionState): void {
    const me = this.#context.nodeId;
    if (state.leaderEpoch < replica.leaderEpoch) return;
    const newEpoch = state.leaderEpoch > replica.leaderEpoch;
    if (state.leader === me) {
      if (newEpoch || replica.role !== 'leader') this.#becomeLeader(replica, state);
      else if (state.partitionEpoch > replica.partitionEpoch) {
        // Same leader epoch, new ISR (our own AlterPartition, or the controller's doing).
        replica.partitionEpoch = state.partitionEpoch;
        replica.leaderState?.completeIsrChange(state.isr);
        this.#clearAlterPartition(replica);
        this.#maybeAdvanceHighWatermark(replica);
      }
      return;
    }
    if (newEpoch || replica.role !== 'follower') this.#becomeFollower(replica, state);
    replica.partitionEpoch = state.partitionEpoch;
  }

  #becomeLeader(replica: Replica, state: PartitionState): void {
    this.#resign(replica, 'NOT_LEADER_OR_FOLLOWER');
    this.#removeFromFetcher(replica);
    const nowMs = this.#context.nowMs;
    replica.role = 'leader';
    replica.leaderId = this.#context.nodeId;
    this.#rolesVersion++;
    replica.leaderEpoch = state.leaderEpoch;
    replica.partitionEpoch = state.partitionEpoch;
    replica.producers = null;
    replica.leaderState = new LeaderState({
      leaderId: this.#context.nodeId,
      leaderEpoch: state.leaderEpoch,
      epochStartOffset: replica.logEndOffset,
      replicas: state.replicas,
      isr: state.isr,
      highWatermark: replica.highWatermark,
      nowMs,
    });
    this.#context.trace('replica.leader', {
      partition: replica.key,
      leaderEpoch: state.leaderEpoch,
      logEndOffset: replica.logEndOffset,
      highWatermark: replica.highWatermark,
      isr: state.isr.join(','),
    });
    this.#maybeAdvanceHighWatermark(replica);
  }

  #becomeFollower(replica: Replica, state: PartitionState): void {
    this.#resign(replica, 'NOT_LEADER_OR_FOLLOWER');
    this.#removeFromFetcher(replica);
    replica.role = 'follower';
    replica.leaderId = state.leader;
    this.#rolesVersion++;
    replica.leaderEpoch = state.leaderEpoch;
    replica.partitionEpoch = state.partitionEpoch;
    this.#context.trace('replica.follower', {
      partition: replica.key,
      leaderEpoch: state.leaderEpoch,
      leader: state.leader ?? '-',
      logEndOffset: replica.logEndOffset,
      highWatermark: replica.highWatermark,
    });
    if (this.#bugs.has('truncate-to-hw') && replica.highWatermark < replica.logEndOffset) {
      // Before KIP-101 a new follower truncated to its own high watermark, which may be stale.
      this.#truncate(replica, replica.highWatermark, 'become-follower-hw');
    }
    if (state.leader !== null) {
      replica.fetchable = true;
      replica.fetchRetryAtMs = 0;
      this.#fetcherFor(state.leader);
    }
  }

  /** Leadership is gone: fail what waits on it. */
  #resign(replica: Replica, error: DataError): void {
    if (replica.role !== 'leader') return;
    for (const pending of replica.pendingProduces.splice(0)) this.#settle(pending, error);
    this.#clearAlterPartition(replica);
    replica.leaderState = null;
    replica.role = 'none';
    this.#rolesVersion++;
    this.#answerHeldFetches(replica, 'all');
  }

  // ---- the leader ----------------------------------------------------------------------------

  #rules(replica: Replica): LeaderRules {
    const image = this.#host.image();
    if (
      replica.rules !== null &&
      replica.rulesImage === image &&
      replica.rulesImageOffset === image.lastOffset
    )
      return replica.rules;
    const topic = image.topics.get(replica.topicId);
    const replicationFactor = image.partition(replica.topicId, replica.partition)?.replicas.length;
    const minIsr =
      topic === undefined || replicationFactor === undefined
        ? 1
        : effectiveMinIsr(topic.configs, replicationFactor);
    replica.rules = {
      replicaLagTimeMaxMs: this.#config.replicaLagTimeMaxMs,
      effectiveMinIsr: minIsr,
      isrJoinOnStaleHighWatermark: this.#bugs.has('isr-join-stale-hw'),
      highWatermarkIgnoresMinIsr: this.#bugs.has('hw-ignores-min-isr'),
    };
    replica.rulesImage = image;
    replica.rulesImageOffset = image.lastOffset;
    return replica.rules;
  }

  /** Eligible for the ISR and the high watermark: registered in the epoch it fetched with, unfenced, not shutting down. */
  #isEligible(replica: Replica, brokerId: BrokerId): boolean {
    const image = this.#host.image();
    if (!image.isUsable(brokerId)) return false;
    if (this.#noBrokerEpoch) return true;
    // The epoch the follower's last fetch carried (its progress in the leader state, made anew at
    // each leadership).
    return (
      replica.leaderState?.follower(brokerId)?.brokerEpoch === image.broker(brokerId)?.brokerEpoch
    );
  }

  #maybeAdvanceHighWatermark(replica: Replica): void {
    const state = replica.leaderState;
    if (state === null) return;
    // Already at the log end (55k of R's 187k asks a run, most at a caught-up follower's fetch):
    // the high watermark cannot move, and the rules and the followers need not be looked at.
    if (replica.logEndOffset <= state.highWatermark) return;
    // Nor while an ISR member is at or below it: 91k of R's 132k asks a run that get here (after
    // each append, and after the first follower's fetch of it; every other ask moves it).
    if (state.heldBackByMaximalIsr) return;
    const moved = state.maybeAdvanceHighWatermark(
      replica.logEndOffset,
      this.#context.nowMs,
      this.#rules(replica),
      replica.isEligible,
    );
    if (!moved) return;
    replica.highWatermark = state.highWatermark;
    replica.highWatermarkRestored = false;
    this.#completeProduces(replica);
    this.#answerHeldFetches(replica, 'consumers');
  }

  #completeProduces(replica: Replica): void {
    const pendingProduces = replica.pendingProduces;
    if (pendingProduces.length === 0) return;
    // In place: the produces still waiting close up (settling one never adds another here).
    let kept = 0;
    for (let index = 0; index < pendingProduces.length; index++) {
      const pending = pendingProduces[index] as PendingProduce;
      if (pending.lastOffset < replica.highWatermark) {
        // Kafka checks the ISR again once the high watermark passed the batch.
        const state = replica.leaderState as LeaderState;
        const error: DataError =
          state.maximalIsrSize < this.#rules(replica).effectiveMinIsr
            ? 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'
            : 'NONE';
        this.#settle(pending, error);
      } else pendingProduces[kept++] = pending;
    }
    shorten(pendingProduces, kept);
  }

  #checkIsrs(): void {
    const nowMs = this.#context.nowMs;
    for (const replica of this.#replicas.values()) {
      const state = replica.leaderState;
      if (state === null) continue;
      this.#maybeAdvanceHighWatermark(replica);
      if (state.pendingIsr !== null || replica.alterPartitionInFlight !== null) continue;
      const lagging = state.laggingMembers(nowMs, replica.logEndOffset, this.#rules(replica));
      if (lagging.length === 0) continue;
      this.#context.trace('replica.isr-shrink', {
        partition: replica.key,
        lagging: lagging.join(','),
      });
      this.#proposeIsr(
        replica,
        state.isr.filter((brokerId) => !lagging.includes(brokerId)),
      );
    }
  }

  #maybeExpandIsr(replica: Replica): void {
    const state = replica.leaderState;
    if (state === null || state.pendingIsr !== null || replica.alterPartitionInFlight !== null)
      return;
    // The common case at every follower fetch: nobody outside the ISR, no rules to work out.
    if (state.everyFollowerInMaximalIsr) return;
    const joinable = state.joinableFollowers(this.#rules(replica));
    if (joinable.length === 0) return;
    // A loop, not a filter: a closure over the replica would cost an allocation on every call.
    const joiners: BrokerId[] = [];
    for (let index = 0; index < joinable.length; index++) {
      const brokerId = joinable[index] as BrokerId;
      if (replica.isEligible(brokerId)) joiners.push(brokerId);
    }
    if (joiners.length === 0) return;
    // What the leader judged each joiner on, its last fetch: when, at which log end, in which
    // broker epoch (lists in the order of `joining`), so that a reader can tell a join on a fetch
    // of an earlier incarnation (KIP-903).
    const fetchedAtMs: string[] = [];
    const logEndOffsets: string[] = [];
    const brokerEpochs: string[] = [];
    for (const brokerId of joiners) {
      const follower = state.follower(brokerId);
      fetchedAtMs.push(String(follower?.lastFetchMs ?? '?'));
      logEndOffsets.push(String(follower?.logEndOffset ?? '?'));
      brokerEpochs.push(String(follower?.brokerEpoch ?? '?'));
    }
    this.#context.trace('replica.isr-expand', {
      partition: replica.key,
      joining: joiners.join(','),
      fetchedAtMs: fetchedAtMs.join(','),
      logEndOffsets: logEndOffsets.join(','),
      brokerEpochs: brokerEpochs.join(','),
    });
    this.#proposeIsr(replica, [...state.isr, ...joiners]);
  }

  #proposeIsr(replica: Replica, isr: readonly BrokerId[]): void {
    const state = replica.leaderState as LeaderState;
    const brokerEpoch = this.#host.brokerEpoch();
    if (brokerEpoch === null) return;
    state.proposeIsr(isr);
    this.#sendAlterPartition(replica, brokerEpoch, isr);
  }

  #sendAlterPartition(replica: Replica, brokerEpoch: number, isr: readonly BrokerId[]): void {
    const image = this.#host.image();
    this.#sendAlterPartitionRequest(replica, {
      kind: 'broker.alter-partition',
      requestId: this.#nextRequestId(),
      brokerId: this.#context.nodeId,
      brokerEpoch,
      topicId: replica.topicId,
      partition: replica.partition,
      leaderEpoch: replica.leaderEpoch,
      partitionEpoch: replica.partitionEpoch,
      newIsr: isr,
      // KIP-903: the broker epochs the new members fetched with.
      newIsrEpochs: isr.map((brokerId) => ({
        brokerId,
        brokerEpoch:
          brokerId === this.#context.nodeId
            ? brokerEpoch
            : (replica.leaderState?.follower(brokerId)?.brokerEpoch ??
              image.broker(brokerId)?.brokerEpoch ??
              -1),
      })),
    });
  }

  #sendAlterPartitionRequest(replica: Replica, request: AlterPartitionRequest): void {
    this.#alterPartitionRequests.set(request.requestId, replica.key);
    this.#context.send(this.#host.controller(), request, 64);
    const timer = this.#context.setTimer(
      this.#config.alterPartitionTimeoutMs,
      'replica.alter-partition-timeout',
      () => {
        if (replica.alterPartitionInFlight?.request === request)
          this.#resendAlterPartition(replica);
      },
    );
    replica.alterPartitionInFlight = { request, timer };
  }

  /**
   * No answer, a refused connection or NOT_CONTROLLER: the same proposal again, shortly (Kafka's
   * AlterPartitionManager keeps the change pending and retries; the maximal ISR stays in force, so
   * the high watermark never counts on a proposal that may yet land).
   */
  #resendAlterPartition(replica: Replica): void {
    const inFlight = replica.alterPartitionInFlight;
    if (inFlight === null) return;
    if (inFlight.timer !== null) this.#context.cancelTimer(inFlight.timer);
    this.#alterPartitionRequests.delete(inFlight.request.requestId);
    const request = { ...inFlight.request, requestId: this.#nextRequestId() };
    const backoff = this.#context.setTimer(
      this.#config.replicaFetchBackoffMs / 10,
      'replica.alter-partition-retry',
      () => {
        if (replica.alterPartitionInFlight?.request === request)
          this.#sendAlterPartitionRequest(replica, request);
      },
    );
    replica.alterPartitionInFlight = { request, timer: backoff };
  }

  #clearAlterPartition(replica: Replica): void {
    const inFlight = replica.alterPartitionInFlight;
    if (inFlight !== null) {
      if (inFlight.timer !== null) this.#context.cancelTimer(inFlight.timer);
      this.#alterPartitionRequests.delete(inFlight.request.requestId);
    }
    replica.alterPartitionInFlight = null;
    if (replica.leaderState?.pendingIsr != null) replica.leaderState.completeIsrChange(null);
  }

  onAlterPartitionResponse(response: AlterPartitionResponse): void {
    const key = this.#alterPartitionRequests.get(response.requestId);
    const replica = key === undefined ? undefined : this.#replicas.get(key);
    const inFlight = replica?.alterPartitionInFlight;
    if (replica === undefined || inFlight?.request.requestId !== response.requestId) return;
    if (response.error === 'NOT_CONTROLLER') {
      this.#resendAlterPartition(replica);
      return;
    }
    const state = replica.leaderState;
    if (inFlight.timer !== null) this.#context.cancelTimer(inFlight.timer);
    this.#alterPartitionRequests.delete(response.requestId);
    replica.alterPartitionInFlight = null;
    if (state === null) return;
    if (response.error === 'NONE' && response.state !== null) {
      // An answer for another leader epoch, or older than what the metadata already showed, is
      // ignored, and the change stays pending until the metadata says (Kafka's
      // handleAlterPartitionUpdate).
      if (
        response.state.leaderEpoch !== replica.leaderEpoch ||
        response.state.partitionEpoch < replica.partitionEpoch
      )
        return;
      state.completeIsrChange(response.state.isr);
      replica.partitionEpoch = response.state.partitionEpoch;
      this.#context.trace('replica.isr-changed', {
        partition: replica.key,
        isr: state.isr.join(','),
        partitionEpoch: replica.partitionEpoch,
      });
      this.#maybeAdvanceHighWatermark(replica);
      return;
    }
    // Refused. Only INELIGIBLE_REPLICA says the partition epoch was right and nothing was applied,
    // so only then is the committed ISR known again. On any other refusal a retry of this very
    // proposal may have landed (a lost answer, a controller failover): the change stays pending,
    // its additions still counted by the maximal ISR (so the high watermark waits for them), until
    // the metadata says what the ISR is (Kafka's Partition.handleAlterPartitionError).
    this.#context.trace('replica.isr-change-failed', {
      partition: replica.key,
      error: response.error,
    });
    if (response.error === 'INELIGIBLE_REPLICA') state.completeIsrChange(null);
  }

  // ---- produce -------------------------------------------------------------------------------

  /**
   * Appends every partition of the request, then answers (acks=1), or waits for the partitions'
   * high watermarks (acks=all), or says nothing (acks=0). As in Kafka, the held fetches are looked
   * at once the whole request is appended, and one partition's error does not stop the others.
   */
  #onProduce(source: string, request: ProduceRequest): void {
    const count = request.partitions.length;
    const results = this.#appendResults;
    // Overwritten in place; only the first `count` are this request's.
    while (results.length < count) results.push(emptyAppendResult());
    for (let index = 0; index < count; index++)
      this.#appendProduce(
        request,
        request.partitions[index] as ProducePartition,
        results[index] as AppendResult,
      );
    for (let index = 0; index < count; index++) {
      const result = results[index] as AppendResult;
      if (result.error === 'NONE' && !result.duplicate)
        this.#answerHeldFetches(result.replica as Replica, 'followers');
    }
    if (request.acks === '0') return;
    // One answer per partition, sized from the start (pushing into [] reserves 17 slots, and a
    // delayed produce keeps it until it is answered).
    const answers = new Array<ProducePartitionResponse | null>(count);
    let waiting = 0;
    for (let index = 0; index < count; index++) {
      const result = results[index] as AppendResult;
      const data = request.partitions[index] as ProducePartition;
      if (result.error !== 'NONE') {
        answers[index] = produceAnswer(data, result.error, -1, -1);
        continue;
      }
      const replica = result.replica as Replica;
      this.#maybeAdvanceHighWatermark(replica);
      if (request.acks === '1' || result.lastOffset < replica.highWatermark) {
        answers[index] = produceAnswer(data, 'NONE', result.baseOffset, result.leaderEpoch);
      } else {
        answers[index] = null;
        waiting++;
      }
    }
    if (waiting === 0) {
      this.#sendProduceResponse(source, request, answers as ProducePartitionResponse[]);
      return;
    }
    const delayed: DelayedProduce = {
      source,
      request,
      answers,
      waiting,
      deadlineMs: this.#context.nowMs + request.timeoutMs,
    };
    this.#delayedProduces.push(delayed);
    for (let index = 0; index < count; index++) {
      const result = results[index] as AppendResult;
      if (result.error !== 'NONE' || answers[index] !== null) continue;
      (result.replica as Replica).pendingProduces.push({
        delayed,
        index,
        lastOffset: result.lastOffset,
        baseOffset: result.baseOffset,
        leaderEpoch: result.leaderEpoch,
      });
    }
    this.#produceTimeout.want(delayed.deadlineMs);
  }

  /**
   * One partition of a produce, written into `result`: refused, appended, or found already
   * appended (idempotence).
   */
  #appendProduce(request: ProduceRequest, data: ProducePartition, result: AppendResult): void {
    const image = this.#host.image();
    const topicId = image.topicIdsByName.get(data.topic);
    const replica = topicId === undefined ? undefined : this.replica(topicId, data.partition);
    if (replica === undefined || replica.role !== 'leader' || replica.leaderState === null) {
      const known = topicId !== undefined && image.partition(topicId, data.partition);
      refused(result, known ? 'NOT_LEADER_OR_FOLLOWER' : 'UNKNOWN_TOPIC_OR_PARTITION');
      return;
    }
    if (
      request.acks === 'all' &&
      replica.leaderState.isr.length < this.#rules(replica).effectiveMinIsr
    ) {
      refused(result, 'NOT_ENOUGH_REPLICAS');
      return;
    }
    const sequenceCheck = this.#checkSequence(replica, data.records);
    if (sequenceCheck.kind === 'out-of-order') {
      refused(result, 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      return;
    }
    result.error = 'NONE';
    result.replica = replica;
    if (sequenceCheck.kind === 'duplicate') {
      const baseOffset = sequenceCheck.baseOffset;
      result.baseOffset = baseOffset;
      result.lastOffset = baseOffset + data.records.length - 1;
      result.leaderEpoch = -1;
      result.duplicate = true;
    } else {
      const batch = replica.log.appendAsLeader(
        data.records,
        replica.leaderEpoch,
        this.#context.nowMs,
      );
      this.#noteProducerBatch(replica, batch);
      result.baseOffset = batch.baseOffset;
      result.lastOffset = batch.lastOffset;
      result.leaderEpoch = replica.leaderEpoch;
      result.duplicate = false;
    }
    this.#context.traceShaped(
      APPEND_EVENT,
      replica.traceKey,
      result.baseOffset,
      data.records.length,
      ACKS_TRACE_NAMES[request.acks],
      result.duplicate,
    );
  }

  /** A waiting partition has its answer; the request is answered once none waits. */
  #settle(pending: PendingProduce, error: DataError): void {
    const delayed = pending.delayed;
    if (delayed.answers[pending.index] !== null) return;
    const data = delayed.request.partitions[pending.index] as ProducePartition;
    delayed.answers[pending.index] = produceAnswer(
      data,
      error,
      pending.baseOffset,
      pending.leaderEpoch,
    );
    delayed.waiting--;
    if (delayed.waiting > 0) return;
    // Closed up in place: splice(at, 1) would also build the array of what it removed.
    const delayedProduces = this.#delayedProduces;
    const at = delayedProduces.indexOf(delayed);
    if (at >= 0) {
      for (let index = at + 1; index < delayedProduces.length; index++)
        delayedProduces[index - 1] = delayedProduces[index] as DelayedProduce;
      delayedProduces.pop();
    }
    this.#sendProduceResponse(
      delayed.source,
      delayed.request,
      delayed.answers as ProducePartitionResponse[],
    );
  }

  /**
   * Answers the delayed produces whose time is up, REQUEST_TIMED_OUT for each partition still
   * waiting; returns the next deadline.
   */
  #timeOutProduces(): Ms | null {
    const nowMs = this.#context.nowMs;
    const expired = this.#delayedProduces.filter((delayed) => delayed.deadlineMs <= nowMs);
    for (const delayed of expired) {
      for (let index = 0; index < delayed.answers.length; index++) {
        if (delayed.answers[index] !== null) continue;
        const pending = this.#takePending(delayed, index);
        if (pending === undefined)
          throw new AssertionError(
            `delayed produce ${delayed.request.requestId}: partition ${index} waits on no replica`,
          );
        this.#settle(pending, 'REQUEST_TIMED_OUT');
      }
    }
    let next: Ms | null = null;
    for (const delayed of this.#delayedProduces)
      if (next === null || delayed.deadlineMs < next) next = delayed.deadlineMs;
    return next;
  }

  /**
   * Removes and returns the pending partition `index` of `delayed` from the replica it waits on
   * (looked for in every replica: only at a timeout, rare enough that a produce keeps no list of
   * the replicas it waits on).
   */
  #takePending(delayed: DelayedProduce, index: number): PendingProduce | undefined {
    const replicas = this.#replicaList;
    for (let at = 0; at < replicas.length; at++) {
      const pendingProduces = (replicas[at] as Replica).pendingProduces;
      const found = pendingProduces.findIndex(
        (each) => each.delayed === delayed && each.index === index,
      );
      if (found >= 0) return pendingProduces.splice(found, 1)[0];
    }
    return undefined;
  }

  #sendProduceResponse(
    source: string,
    request: ProduceRequest,
    partitions: readonly ProducePartitionResponse[],
  ): void {
    if (request.acks === '0') return;
    const response: ProduceResponse = {
      kind: 'client.produce-response',
      requestId: request.requestId,
      partitions,
    };
    this.#context.send(source, response, produceResponseSizeBytes(response));
  }

  /** Kafka's producer state: the last sequence and last batches of each idempotent producer. */
  #producersOf(replica: Replica): Map<number, ProducerEntry> {
    if (replica.producers !== null && replica.producersAtTruncation === replica.log.truncations)
      return replica.producers;
    const producers = new Map<number, ProducerEntry>();
    replica.producers = producers;
    replica.producersAtTruncation = replica.log.truncations;
    for (const batch of replica.log.batches()) this.#noteProducerBatch(replica, batch);
    return producers;
  }

  #noteProducerBatch(replica: Replica, batch: RecordBatch): void {
    const producers = replica.producers;
    if (producers === null) return;
    // The batch header's producer id and sequences, as Kafka's ProducerStateManager reads them.
    if (batch.producerId === NO_PRODUCER_ID || batch.baseSequence === NO_SEQUENCE) return;
    const lastSequence = batch.lastSequence;
    let entry = producers.get(batch.producerId);
    if (entry === undefined) {
      entry = { lastSequence: -1, recent: [] };
      producers.set(batch.producerId, entry);
    }
    entry.lastSequence = lastSequence;
    const recent = entry.recent;
    if (recent.length < PRODUCER_BATCHES_MAX) {
      recent.push({
        firstSequence: batch.baseSequence,
        lastSequence,
        baseOffset: batch.baseOffset,
      });
      return;
    }
    // The oldest of the last five makes room, and is reused for the newest (nothing else holds it).
    const oldest = recent.shift() as ProducerBatch;
    oldest.firstSequence = batch.baseSequence;
    oldest.lastSequence = lastSequence;
    oldest.baseOffset = batch.baseOffset;
    recent.push(oldest);
  }

  #checkSequence(replica: Replica, records: readonly RecordInput[]): SequenceCheck {
    const first = records[0];
    if (first?.producerId === undefined || first.sequence === undefined) return APPEND;
    const entry = this.#producersOf(replica).get(first.producerId);
    // No state for the producer (its batches truncated, or lost with a crash): Kafka's
    // ProducerAppendInfo.checkSequence accepts any sequence then, as from a producer it never saw.
    if (entry === undefined) return APPEND;
    for (let index = 0; index < entry.recent.length; index++) {
      const cached = entry.recent[index] as ProducerBatch;
      if (cached.firstSequence === first.sequence)
        return { kind: 'duplicate', baseOffset: cached.baseOffset };
    }
    if (first.sequence === entry.lastSequence + 1) return APPEND;
    return OUT_OF_ORDER;
  }

  #onInitProducerId(source: string, request: InitProducerIdRequest): void {
    const brokerEpoch = this.#host.brokerEpoch();
    this.#context.send(
      source,
      {
        kind: 'client.init-producer-id-response',
        requestId: request.requestId,
        error: brokerEpoch === null ? 'BROKER_NOT_AVAILABLE' : 'NONE',
        // Unique: broker epochs are distinct metadata offsets, the counter is per incarnation.
        producerId: brokerEpoch === null ? -1 : brokerEpoch * 1_000_000 + this.#producerIdNext++,
      },
      32,
    );
  }

  // ---- fetch: the leader's side --------------------------------------------------------------

  #onFetch(source: string, request: FetchRequest): void {
    // Long poll: a fetch with nothing new in any partition waits (up to maxWaitMs).
    const partitions = this.#answerFetch(request, request.maxWaitMs > 0, true);
    if (partitions !== null) {
      this.#sendFetchResponse(source, request, partitions);
      return;
    }
    const deadlineMs = this.#context.nowMs + request.maxWaitMs;
    this.#heldFetches.push({ source, request, deadlineMs });
    if (request.replicaId === null) this.#heldConsumerFetches++;
    this.#heldFetchTimeout.want(deadlineMs);
  }

  /** Answers the held fetches whose wait is over; returns the next deadline, if any. */
  #answerExpiredFetches(): Ms | null {
    const nowMs = this.#context.nowMs;
    const heldFetches = this.#heldFetches;
    // In place, as #answerHeldFetches: those due answered in the held order, the others close up.
    const length = heldFetches.length;
    let kept = 0;
    let next: Ms | null = null;
    for (let index = 0; index < length; index++) {
      const held = heldFetches[index] as HeldFetch;
      if (held.deadlineMs <= nowMs) {
        if (held.request.replicaId === null) this.#heldConsumerFetches--;
        this.#sendFetchResponse(held.source, held.request, this.#answerFetch(held.request));
        continue;
      }
      heldFetches[kept++] = held;
      if (next === null || held.deadlineMs < next) next = held.deadlineMs;
    }
    shorten(heldFetches, kept);
    return next;
  }

  /**
   * Answers the held fetches that include `replica`'s partition, as Kafka's DelayedFetch completes:
   * a follower's on an append (it reads up to the log end), a consumer's when the high watermark
   * moves (it reads up to the high watermark: an append alone leaves it waiting), every one on a
   * lost leadership.
   */
  #answerHeldFetches(replica: Replica, which: 'followers' | 'consumers' | 'all'): void {
    // At every move of a high watermark, most often with only followers' fetches held.
    if (which === 'consumers' && this.#heldConsumerFetches === 0) return;
    const heldFetches = this.#heldFetches;
    // In place: the held fetches kept close up, and each one due is answered as it is met (in the
    // held order, as before), without a list of them: answering reads the replicas and sends,
    // and never looks at the held fetches.
    const length = heldFetches.length;
    let kept = 0;
    for (let index = 0; index < length; index++) {
      const held = heldFetches[index] as HeldFetch;
      const due =
        (which === 'all' || (held.request.replicaId === null) === (which === 'consumers')) &&
        fetchedPartitionOf(held.request.partitions, replica) !== undefined;
      if (due) {
        this.#heldConsumerFetches -= held.request.replicaId === null ? 1 : 0;
        this.#sendFetchResponse(held.source, held.request, this.#answerFetch(held.request));
      }
      // Stored and counted whether kept or not (a due one's slot is taken by the next kept, or
      // cut off), and the consumers' count above alike: a fetch first kept, or a consumer's first
      // answered, after the code was compiled threw it away.
      heldFetches[kept] = held;
      kept += due ? 0 : 1;
    }
    shorten(heldFetches, kept);
  }

  #sendFetchResponse(
    source: string,
    request: FetchRequest,
    partitions: readonly FetchPartitionResponse[],
  ): void {
    const response: FetchResponse = {
      kind: 'fetch-response',
      requestId: request.requestId,
      partitions,
    };
    this.#context.send(source, response, fetchResponseSizeBytes(response));
  }

  /**
   * Reads every partition of a fetch (again, when a held fetch is answered). With `mayHold`, null
   * when no partition has anything new (records, a divergence or an error): the fetch may wait
   * then, and its answers are not built only to be dropped.
   *
   * A follower's fetch also tells the leader how far that follower got, which may move the high
   * watermark; as Kafka's Partition.fetchRecords, that is recorded only after the read, so the
   * answer carries the high watermark from before (the follower learns what its fetch committed
   * from its next answer: the lag KIP-101 is about), and only by the first read
   * (`updateFetchState`): a held fetch answered later is read again without recording it twice
   * (as DelayedFetch reads).
   */
  #answerFetch(request: FetchRequest): FetchPartitionResponse[];
  #answerFetch(
    request: FetchRequest,
    mayHold: boolean,
    updateFetchState: boolean,
  ): FetchPartitionResponse[] | null;
  #answerFetch(
    request: FetchRequest,
    mayHold = false,
    updateFetchState = false,
  ): FetchPartitionResponse[] | null {
    if (!updateFetchState || request.replicaId === null)
      return this.#readFetch(request, mayHold, this.#readReplicas);
    const replicas = this.#fetchedReplicas;
    const responses = this.#readFetch(request, mayHold, replicas);
    const partitions = request.partitions;
    for (let index = 0; index < partitions.length; index++) {
      const fetch = partitions[index] as FetchPartition;
      const answer = responses === null ? NOTHING_NEW : responses[index];
      // Only a fetch the leader served: not one refused, diverged or out of range (the partition
      // has a replica then).
      if (answer === NOTHING_NEW || (answer?.error === 'NONE' && answer.divergingEpoch === null))
        this.#recordFollowerFetch(request, fetch, replicas[index] as Replica);
    }
    return responses;
  }

  /** Each partition's replica is left in `replicas` by index (#fetchedReplicas, #readReplicas). */
  #readFetch(
    request: FetchRequest,
    mayHold: boolean,
    replicas: (Replica | undefined)[],
  ): FetchPartitionResponse[] | null {
    const partitions = request.partitions;
    // One answer per partition, the array sized from the start (pushing into [] reserves 17 slots).
    let responses = mayHold ? null : new Array<FetchPartitionResponse>(partitions.length);
    let bytesLeft = request.maxBytes;
    // Once per request, not per partition: it depends on the request and the metadata alone.
    const staleIncarnation = this.#fromStaleIncarnation(request);
    for (let index = 0; index < partitions.length; index++) {
      const fetch = partitions[index] as FetchPartition;
      const replica = this.replica(fetch.topicId, fetch.partition);
      if (index < replicas.length) replicas[index] = replica;
      else replicas.push(replica);
      const response = this.#answerFetchPartition(
        request,
        fetch,
        replica,
        bytesLeft,
        staleIncarnation,
      );
      if (response === NOTHING_NEW) {
        if (responses !== null)
          responses[index] = this.#nothingNewAnswer(fetch, replica as Replica);
        continue;
      }
      if (responses === null) {
        // The first partition with something new: the fetch is answered now. Those before it had
        // nothing new, and answering a partition changes no other partition's replica, so their
        // answers built now are the ones they would have had then.
        responses = new Array<FetchPartitionResponse>(partitions.length);
        for (let before = 0; before < index; before++) {
          const fetchBefore = partitions[before] as FetchPartition;
          responses[before] = this.#nothingNewAnswer(fetchBefore, replicas[before] as Replica);
        }
      }
      // By index: the batches may be the frozen NO_BATCHES, which for..of iterates through a
      // builtin call that allocates. NO_BATCHES (an error's answer) is not read at all: its map (a
      // frozen array's) met in a run after the code was compiled without it threw that code away.
      const batches = response.batches;
      if (batches !== NO_BATCHES)
        for (let at = 0; at < batches.length; at++)
          bytesLeft -= (batches[at] as RecordBatch).sizeBytes;
      responses[index] = response;
    }
    return responses;
  }

  /** The leader's answer for one partition of a fetch, or NOTHING_NEW (see #nothingNewAnswer). */
  #answerFetchPartition(
    request: FetchRequest,
    fetch: FetchPartition,
    replica: Replica | undefined,
    bytesLeft: number,
    staleIncarnation: boolean,
  ): FetchPartitionResponse | typeof NOTHING_NEW {
    if (replica === undefined) return fetchError(fetch, 'UNKNOWN_TOPIC_OR_PARTITION', -1);
    const fencing = fetch.currentLeaderEpoch >= 0;
    if (fencing && fetch.currentLeaderEpoch < replica.leaderEpoch)
      return fetchError(fetch, 'FENCED_LEADER_EPOCH', replica.leaderEpoch);
    if (fencing && fetch.currentLeaderEpoch > replica.leaderEpoch)
      return fetchError(fetch, 'UNKNOWN_LEADER_EPOCH', replica.leaderEpoch);
    if (replica.role !== 'leader' || replica.leaderState === null)
      return fetchError(fetch, 'NOT_LEADER_OR_FOLLOWER', replica.leaderEpoch);
    const log = replica.log;
    // The divergence check (Kafka 2.7+, KIP-595 style): does the fetcher's last epoch end where it thinks?
    if (
      fetch.lastFetchedEpoch !== UNDEFINED_EPOCH &&
      log.divergesFrom(fetch.lastFetchedEpoch, fetch.fetchOffset)
    ) {
      const end = log.endOffsetForEpoch(fetch.lastFetchedEpoch);
      return fetchAnswer(fetch, replica, 'NONE', NO_BATCHES, {
        epoch: end.epoch,
        endOffset: end.endOffset,
      });
    }
    if (fetch.fetchOffset > log.logEndOffset || fetch.fetchOffset < log.logStartOffset)
      return fetchAnswer(fetch, replica, 'OFFSET_OUT_OF_RANGE', NO_BATCHES, null);
    const isFollower = request.replicaId !== null;
    // KIP-903: a fetch from a previous incarnation of the follower says nothing about its log now;
    // Kafka's Replica.updateFetchStateOrThrow refuses it, and the partition answers this.
    if (isFollower && staleIncarnation)
      return fetchError(fetch, 'NOT_LEADER_OR_FOLLOWER', replica.leaderEpoch);
    // Nothing past the fetch offset: no read (the common case of a caught-up long poll).
    if (bytesLeft <= 0 || fetch.fetchOffset === log.logEndOffset) return NOTHING_NEW;
    const batches = log.read(fetch.fetchOffset, bytesLeft);
    if (isFollower) return this.#recordsAnswer(fetch, replica, batches);
    const committed = committedBatches(batches, replica.highWatermark);
    if (committed.length === 0) return NOTHING_NEW;
    return this.#recordsAnswer(fetch, replica, committed);
  }

  /**
   * A led partition's answer with `batches`: the last such answer again while it holds the same
   * array and the replica's state is the same (the partition's followers fetch each new batch in
   * turn, and the log hands both the same array), as #nothingNewAnswer.
   */
  #recordsAnswer(
    fetch: FetchPartition,
    replica: Replica,
    batches: readonly RecordBatch[],
  ): FetchPartitionResponse {
    const last = replica.lastRecordsAnswer;
    if (last !== null && last.batches === batches && sameLogState(last, replica)) return last;
    const answer = fetchAnswer(fetch, replica, 'NONE', batches, null);
    replica.lastRecordsAnswer = answer;
    return answer;
  }

  /**
   * A led partition's answer with no records and no divergence: the replica's state as it is
   * now. Built only when the fetch is answered (a fetch held for new data drops it). `replica` is
   * the fetched partition's (the caller has it at hand).
   */
  #nothingNewAnswer(fetch: FetchPartition, replica: Replica): FetchPartitionResponse {
    // Immutable, and the same while the high watermark, the log and the epoch are: most long
    // polls of a quiet partition are answered with it.
    const last = replica.nothingNew;
    if (last !== null && sameLogState(last, replica)) return last;
    const answer = fetchAnswer(fetch, replica, 'NONE', NO_BATCHES, null);
    replica.nothingNew = answer;
    return answer;
  }

  /** A follower's fetch sent by an incarnation older than the registration (unless the bug is on). */
  #fromStaleIncarnation(request: FetchRequest): boolean {
    if (this.#noBrokerEpoch || request.replicaId === null) return false;
    const registered = this.#registeredEpochOf(request.replicaId);
    return registered !== NOT_REGISTERED && request.replicaEpoch < registered;
  }

  /**
   * The broker epoch `brokerId` is registered with in the metadata (NOT_REGISTERED: none), asked
   * at every follower fetch: kept per broker while the image is the same, and found by a walk of
   * the few (interned) ids, where the image's map hashed the id each time.
   */
  #registeredEpochOf(brokerId: BrokerId): number {
    const image = this.#host.image();
    const brokerIds = this.#registeredIds;
    const epochs = this.#registeredEpochs;
    if (this.#registeredImage !== image || this.#registeredImageOffset !== image.lastOffset) {
      this.#registeredImage = image;
      this.#registeredImageOffset = image.lastOffset;
      shorten(brokerIds, 0);
      shorten(epochs, 0);
    }
    for (let index = 0; index < brokerIds.length; index++)
      if (brokerIds[index] === brokerId) return epochs[index] as number;
    const epoch = image.broker(brokerId)?.brokerEpoch ?? NOT_REGISTERED;
    brokerIds.push(brokerId);
    epochs.push(epoch);
    return epoch;
  }

  /** `replica` is the fetched partition's, found by the read (#fetchedReplicas). */
  #recordFollowerFetch(request: FetchRequest, fetch: FetchPartition, replica: Replica): void {
    const state = replica.leaderState as LeaderState;
    // Found once, and its broker epoch (KIP-903) kept on its progress: a map per replica cost a
    // lookup and a store at every partition of every follower fetch.
    const follower = state.follower(request.replicaId as BrokerId);
    if (follower === undefined) return;
    follower.brokerEpoch = request.replicaEpoch;
    state.recordFetchOf(follower, fetch.fetchOffset, replica.logEndOffset, this.#context.nowMs);
    this.#maybeAdvanceHighWatermark(replica);
    this.#maybeExpandIsr(replica);
  }

  // ---- fetch: the follower's side ------------------------------------------------------------

  #fetcherOf(leaderId: BrokerId): Fetcher | undefined {
    const fetchers = this.#fetchers;
    for (let index = 0; index < fetchers.length; index++)
      if ((fetchers[index] as Fetcher).leaderId === leaderId) return fetchers[index];
    return undefined;
  }

  #fetcherFor(leaderId: BrokerId): Fetcher {
    let fetcher = this.#fetcherOf(leaderId);
    if (fetcher === undefined) {
      const created: Fetcher = {
        leaderId,
        inFlight: null,
        inFlightReplicas: [],
        inFlightDeadlineMs: 0,
        timeout: new DeadlineTimer(this.#context, 'replica.fetch-timeout', () => {
          if (created.inFlight !== null && created.inFlightDeadlineMs <= this.#context.nowMs)
            this.#fetchFailed(created);
          return created.inFlight === null ? null : created.inFlightDeadlineMs;
        }),
        wakeTimer: null,
        followers: [],
        followersVersion: -1,
      };
      fetcher = created;
      this.#fetchers.push(fetcher);
    }
    return fetcher;
  }

  #removeFromFetcher(replica: Replica): void {
    replica.fetchable = false;
  }

  #wakeFetchers(): void {
    const fetchers = this.#fetchers;
    for (let index = 0; index < fetchers.length; index++)
      this.#maybeFetch(fetchers[index] as Fetcher);
  }

  /** The partitions this fetcher fetches now, each from its log end offset. */
  #fetchPartitions(fetcher: Fetcher): FetchPartition[] {
    const nowMs = this.#context.nowMs;
    const replicas = this.#followersOf(fetcher);
    // Counted first, then the array made with its length from the start (pushing into [] reserves
    // 17 slots, and the request lives while the leader holds it) and filled by a second walk of
    // the few replicas following this leader.
    let count = 0;
    for (let index = 0; index < replicas.length; index++)
      if (this.#fetchesNow(replicas[index] as Replica, nowMs)) count++;
    const result = new Array<FetchPartition>(count);
    // Written over by index, not emptied and pushed: the answer reads only the request's first
    // `count` (entries past them are replicas of an older request, never read).
    const fetched = fetcher.inFlightReplicas;
    let filled = 0;
    for (let index = 0; filled < count; index++) {
      const replica = replicas[index] as Replica;
      if (!this.#fetchesNow(replica, nowMs)) continue;
      result[filled] = this.#fetchPartitionOf(replica);
      if (filled < fetched.length) fetched[filled] = replica;
      else fetched.push(replica);
      filled++;
    }
    return result;
  }

  /** The replicas following `fetcher`'s leader, listed again only when a role or leader changed. */
  #followersOf(fetcher: Fetcher): readonly Replica[] {
    const followers = fetcher.followers;
    if (fetcher.followersVersion === this.#rolesVersion) return followers;
    fetcher.followersVersion = this.#rolesVersion;
    shorten(followers, 0);
    const replicas = this.#replicaList;
    for (let index = 0; index < replicas.length; index++) {
      const replica = replicas[index] as Replica;
      if (replica.role === 'follower' && replica.leaderId === fetcher.leaderId)
        followers.push(replica);
    }
    return followers;
  }

  /** A follower's fetch from its log end offset: its last one while nothing in it changed. */
  #fetchPartitionOf(replica: Replica): FetchPartition {
    const fetchOffset = replica.logEndOffset;
    const lastFetchedEpoch = replica.log.lastEpoch;
    const last = replica.lastFetch;
    if (
      last !== null &&
      last.fetchOffset === fetchOffset &&
      last.lastFetchedEpoch === lastFetchedEpoch &&
      last.currentLeaderEpoch === replica.leaderEpoch
    )
      return last;
    const fetch: FetchPartition = {
      topicId: replica.topicId,
      partition: replica.partition,
      fetchOffset,
      lastFetchedEpoch,
      currentLeaderEpoch: replica.leaderEpoch,
    };
    replica.lastFetch = fetch;
    return fetch;
  }

  /**
   * Whether a replica of #followersOf (a follower of the fetcher's leader: that list already asked
   * its role and leader) fetches now: not paused and past its retry backoff.
   */
  #fetchesNow(replica: Replica, nowMs: Ms): boolean {
    return replica.fetchable && replica.fetchRetryAtMs <= nowMs;
  }

  #maybeFetch(fetcher: Fetcher): void {
    if (fetcher.inFlight !== null) return;
    const brokerEpoch = this.#host.brokerEpoch();
    if (brokerEpoch === null) return;
    const partitions = this.#fetchPartitions(fetcher);
    if (partitions.length === 0) {
      this.#scheduleWake(fetcher);
      return;
    }
    const request: FetchRequest = {
      kind: 'fetch',
      requestId: this.#nextRequestId(),
      replicaId: this.#context.nodeId,
      replicaEpoch: brokerEpoch,
      maxWaitMs: this.#config.replicaFetchWaitMaxMs,
      maxBytes: this.#config.replicaFetchMaxBytes,
      partitions,
    };
    this.#context.send(fetcher.leaderId, request, 48 + 24 * partitions.length);
    const deadlineMs = this.#context.nowMs + this.#config.replicaSocketTimeoutMs;
    fetcher.inFlight = request;
    fetcher.inFlightDeadlineMs = deadlineMs;
    fetcher.timeout.want(deadlineMs);
  }

  /** Some partitions wait for a retry time: wake the fetcher then. */
  #scheduleWake(fetcher: Fetcher): void {
    if (fetcher.wakeTimer !== null) return;
    let wakeAtMs = Number.POSITIVE_INFINITY;
    const replicas = this.#replicaList;
    for (let index = 0; index < replicas.length; index++) {
      const replica = replicas[index] as Replica;
      if (replica.role === 'follower' && replica.leaderId === fetcher.leaderId && replica.fetchable)
        wakeAtMs = Math.min(wakeAtMs, replica.fetchRetryAtMs);
    }
    if (wakeAtMs === Number.POSITIVE_INFINITY) return;
    fetcher.wakeTimer = this.#context.setTimer(
      Math.max(0, wakeAtMs - this.#context.nowMs),
      'replica.fetch-backoff',
      () => {
        fetcher.wakeTimer = null;
        this.#maybeFetch(fetcher);
      },
    );
  }

  #fetchFailed(fetcher: Fetcher): void {
    const inFlight = fetcher.inFlight;
    if (inFlight === null) return;
    fetcher.inFlight = null;
    const retryAtMs = this.#context.nowMs + this.#config.replicaFetchBackoffMs;
    for (const fetched of inFlight.partitions) {
      const replica = this.replica(fetched.topicId, fetched.partition);
      if (replica !== undefined) replica.fetchRetryAtMs = retryAtMs;
    }
    this.#scheduleWake(fetcher);
  }

  #onFetchResponse(source: string, response: FetchResponse): void {
    const fetcher = this.#fetcherOf(source);
    const inFlight = fetcher?.inFlight;
    if (fetcher === undefined || inFlight == null || inFlight.requestId !== response.requestId)
      return;
    fetcher.inFlight = null;
    // Refilled only by this fetcher's next request (the #maybeFetch below): handling an answer
    // makes none.
    const fetchedReplicas = fetcher.inFlightReplicas;
    for (let index = 0; index < response.partitions.length; index++) {
      const partition = response.partitions[index] as FetchPartitionResponse;
      // The replica the request was made for, while it is still the partition's (the answer
      // lists the request's partitions in its order), and the request's partition found at the
      // same index, no second search; else both looked up.
      let asked = inFlight.partitions[index];
      let replica = fetchedReplicas[index];
      if (
        asked === undefined ||
        replica === undefined ||
        replica.deleted ||
        !isFetchOf(asked, partition)
      ) {
        replica = this.replica(partition.topicId, partition.partition);
        asked = fetchedPartitionOf(inFlight.partitions, partition, index);
      }
      if (replica === undefined || replica.role !== 'follower' || replica.leaderId !== source)
        continue;
      // Our log changed since the request left (a truncation): this answer is about another log.
      if (asked === undefined || asked.fetchOffset !== replica.logEndOffset) continue;
      this.#onFetchedPartition(replica, partition, asked.currentLeaderEpoch);
    }
    this.#maybeFetch(fetcher);
  }

  #onFetchedPartition(
    replica: Replica,
    response: FetchPartitionResponse,
    requestEpoch: number,
  ): void {
    // Each error's case is told apart, and its retry time worked out and stored, on every answer,
    // not on errors alone: a run's first errors (a leader that has not opened the partition yet)
    // come before V8 keeps feedback for this code, and met again at the next run's start they
    // threw away the compiled code (#onFetchResponse, where this is inlined).
    const error = response.error;
    // The leader is at a newer epoch than ours. Asked at the epoch we still hold, Kafka's fetcher
    // (onPartitionFenced) stops fetching the partition until the metadata brings the new epoch
    // (#becomeFollower fetches again); asked at an epoch we have since left, it retries after the
    // backoff.
    const fenced = error === 'FENCED_LEADER_EPOCH' && requestEpoch === replica.leaderEpoch;
    // The leader's log ends before ours (its log is shorter than our fetch offset): match it.
    const outOfRange =
      error === 'OFFSET_OUT_OF_RANGE' &&
      response.logEndOffset >= 0 &&
      response.logEndOffset < replica.logEndOffset;
    // Every other error retries after the backoff. NOT_LEADER_OR_FOLLOWER and
    // UNKNOWN_TOPIC_OR_PARTITION: our metadata is stale or the leader's is; Kafka removes the
    // partition from its fetcher until the next metadata change, and we look again after the
    // backoff in case the change was already applied.
    const retryAtMs = this.#context.nowMs + this.#config.replicaFetchBackoffMs;
    const retries = error !== 'NONE' && !fenced && !outOfRange;
    replica.fetchRetryAtMs = retries ? retryAtMs : replica.fetchRetryAtMs;
    if (error !== 'NONE') {
      if (fenced) this.#removeFromFetcher(replica);
      else if (outOfRange) this.#truncate(replica, response.logEndOffset, 'out-of-range');
      return;
    }
    const diverging = response.divergingEpoch;
    if (diverging !== null) {
      // Truncate to where our log and the leader's agree, as far as this epoch shows (Kafka's
      // getOffsetTruncationState); if our log does not know the leader's epoch, the next fetch
      // carries our new last epoch and the leader checks again.
      const local = replica.log.endOffsetForEpoch(diverging.epoch);
      const target =
        diverging.epoch === UNDEFINED_EPOCH || diverging.endOffset < 0
          ? replica.log.logStartOffset
          : Math.min(
              diverging.endOffset,
              local.endOffset < 0 ? replica.log.logStartOffset : local.endOffset,
            );
      this.#truncate(replica, target, 'diverging-epoch');
      return;
    }
    // By index: the batches may be the frozen NO_BATCHES (see #answerFetch).
    const batches = response.batches;
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as RecordBatch;
      if (batch.baseOffset !== replica.logEndOffset) break;
      replica.log.appendAsFollower(batch);
    }
    // The leader's high watermark, applied only now that the log matches the leader's (KAFKA-14704),
    // bounded by our log end: lower too, as Kafka's UnifiedLog.maybeUpdateHighWatermark (a new
    // leader's high watermark can lag the old one's until it reaches its epoch start offset).
    replica.highWatermark = Math.max(
      replica.log.logStartOffset,
      Math.min(response.highWatermark, replica.logEndOffset),
    );
    replica.highWatermarkRestored = false;
  }

  #truncate(replica: Replica, offset: number, reason: string): void {
    if (offset >= replica.logEndOffset) return;
    const before = replica.logEndOffset;
    replica.log.truncateTo(offset);
    replica.highWatermark = Math.min(replica.highWatermark, replica.logEndOffset);
    this.#context.trace('replica.truncate', {
      partition: replica.key,
      from: before,
      to: replica.logEndOffset,
      reason,
    });
  }

  // ---- metadata for clients ------------------------------------------------------------------

  #onMetadata(source: string, request: MetadataRequest): void {
    const image = this.#host.image();
    const names = request.topics ?? [...image.topics.values()].map((topic) => topic.name);
    const topics: TopicMetadata[] = names.map((name) => {
      const topic = image.topicByName(name);
      // A topic whose partitions are not replayed yet is not known yet either.
      if (topic === undefined || topic.partitions.size === 0)
        return { name, topicId: null, error: 'UNKNOWN_TOPIC_OR_PARTITION', partitions: [] };
      const numbers = [...topic.partitions.keys()].sort((a, b) => a - b);
      const partitions: PartitionMetadata[] = numbers.map((number) => {
        const state = topic.partitions.get(number) as PartitionState;
        return {
          partition: number,
          leader: state.leader,
          leaderEpoch: state.leaderEpoch,
          replicas: state.replicas,
          isr: state.isr,
        };
      });
      return { name, topicId: topic.topicId, error: 'NONE', partitions };
    });
    const brokers = [...image.brokers.values()]
      .filter((broker) => !broker.fenced)
      .map((broker) => broker.brokerId);
    this.#context.send(
      source,
      { kind: 'client.metadata-response', requestId: request.requestId, brokers, topics },
      64 + 48 * topics.length,
    );
  }

  // ---- housekeeping --------------------------------------------------------------------------

  #checkpointHighWatermarks(): void {
    const highWatermarks: Record<string, number> = {};
    for (const replica of this.#replicas.values())
      highWatermarks[replica.key] = replica.highWatermark;
    this.#context.disk
      .checkpoint<Record<string, number>>(HIGH_WATERMARK_CHECKPOINT_FILE)
      .writeDurably(highWatermarks, 16 * (this.#replicas.size + 1));
  }

  #scheduleEvery(everyMs: Ms, label: string, fire: () => void): void {
    if (!(everyMs > 0))
      throw new AssertionError(`${label}: interval must be positive (got ${everyMs})`);
    const tick = () => {
      fire();
      this.#context.setTimer(everyMs, label, tick);
    };
    this.#context.setTimer(everyMs, label, tick);
  }
}

/**
 * Shortens `array` to `length` by popping: setting `length = 0` gives the array's backing store
 * back, and the next push allocates 17 slots again (it did once per produce, for a replica's
 * waiting produces); pop keeps the store.
 */
const shorten = <T>(array: T[], length: number): void => {
  while (array.length > length) array.pop();
};

const NO_BATCHES: readonly RecordBatch[] = Object.freeze([]);

/** A partition of a fetch with nothing new to answer: no records, no divergence, no error. */
const NOTHING_NEW = null;

/** What a consumer may read of `batches` (in offset order): those below the high watermark. */
const committedBatches = (
  batches: readonly RecordBatch[],
  highWatermark: number,
): readonly RecordBatch[] => {
  // The committed ones are a prefix: most often all of them, and then no copy.
  let count = 0;
  while (count < batches.length && (batches[count] as RecordBatch).lastOffset < highWatermark)
    count++;
  return count === batches.length ? batches : batches.slice(0, count);
};

/** Whether a leader's answer `answer` still says what `replica` would say now. */
const sameLogState = (answer: FetchPartitionResponse, replica: Replica): boolean => {
  return (
    answer.highWatermark === replica.highWatermark &&
    answer.logStartOffset === replica.log.logStartOffset &&
    answer.logEndOffset === replica.log.logEndOffset &&
    answer.leaderEpoch === replica.leaderEpoch
  );
};

/** A fetch answer with an error and no log state (every answer has the same shape). */
const fetchError = (
  fetch: FetchPartition,
  error: DataError,
  leaderEpoch: number,
): FetchPartitionResponse => {
  return {
    topicId: fetch.topicId,
    partition: fetch.partition,
    highWatermark: -1,
    logStartOffset: -1,
    logEndOffset: -1,
    leaderEpoch,
    divergingEpoch: null,
    batches: NO_BATCHES,
    error,
  };
};

/** A leader's fetch answer, with its log's state as it is now. */
const fetchAnswer = (
  fetch: FetchPartition,
  replica: Replica,
  error: DataError,
  batches: readonly RecordBatch[],
  divergingEpoch: DivergingEpoch | null,
): FetchPartitionResponse => {
  return {
    topicId: fetch.topicId,
    partition: fetch.partition,
    highWatermark: replica.highWatermark,
    logStartOffset: replica.log.logStartOffset,
    logEndOffset: replica.log.logEndOffset,
    leaderEpoch: replica.leaderEpoch,
    divergingEpoch,
    batches,
    error,
  };
};
