// The producer, after Kafka's Java KafkaProducer: records wait per partition and go out in
// batches, one request per broker carrying a batch for each partition it leads that has one ready
// (Kafka's Sender drains node by node; at most maxInFlightRequestsPerConnection requests in flight
// per broker); each batch is answered on its own and retried on retriable errors until `retries`
// or `deliveryTimeoutMs` runs out. Mirrors the seed's Python example:
//
//   const producer = new Producer(context, { bootstrapBrokers, acks: 'all', retries: 5, history });
//   producer.send({ topic: 'test-topic', key: `key-${i}`, value: `message-${i}` });
//
// Every send is an operation of the history: `invoke` at once, then exactly one of `ok` (with the
// offset, except for acks=0), `fail` (no attempt could have written) or `info` (an attempt may
// have written: a request timeout, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT). The
// invoke names partition -1 when the partitioner has not chosen one yet (the topic's metadata is
// not known); the `ok` then names the partition chosen.
//
// Idempotence (the default with acks=all): the producer gets a producer id from a broker
// (InitProducerId) and numbers the records of each partition from 0; a batch keeps its producer
// id and sequences across retries, so a broker that already has them answers with the original
// offset instead of appending again. Batches of a partition go out in sequence order; after an
// error, a retry waits until every earlier batch has an answer. OUT_OF_ORDER_SEQUENCE_NUMBER is
// retried while an earlier batch of the same producer id is unresolved; with none (the leader lost
// the producer's later sequences), it is retried numbered anew, as below (Kafka bumps the epoch),
// unless an attempt may have written it.
// When a batch fails for good, the partition numbers what follows from 0 under a new producer id
// (a simplified KIP-360):
// its unsent records, and the sent batches no attempt can have written (at once, or when the
// broker answers OUT_OF_ORDER_SEQUENCE_NUMBER); a batch that may have been written keeps its
// numbers, so its retries still deduplicate.

import { objectArray } from '../../kernel/arrays.ts';
import { AssertionError, assert, BoundExceededError } from '../../kernel/assert.ts';
import { DeadlineTimer } from '../../kernel/deadline.ts';
import { interned } from '../../kernel/interned.ts';
import type { Machine, NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import { TraceName, traceShape } from '../../kernel/trace.ts';
import {
  type DataError,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type ProducePartition,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
  produceRequestSizeBytes,
} from '../broker/messages.ts';
import type { BrokerId } from '../controller/records.ts';
import type { ClusterMessage } from '../messages.ts';
import { exponentialBackoffMs } from './backoff.ts';
import {
  ClientConfigError,
  ClientMetadata,
  type KnownTopic,
  requireBrokers,
  requireInteger,
  requireMs,
} from './client-metadata.ts';
import { takeGroup } from './grouping.ts';
import type { Acks, History } from './history.ts';

export interface ProducerConfig {
  readonly bootstrapBrokers: readonly BrokerId[];
  /** The run's history, shared by every client. */
  readonly history: History;
  /** The history's process name; default the node id. */
  readonly process?: string;
  /** Default 'all'. */
  readonly acks?: Acks;
  /** Retries per batch; default MAX_INT (Number.MAX_SAFE_INTEGER). */
  readonly retries?: number;
  readonly requestTimeoutMs?: Ms;
  /** From send() to the last moment a record may complete; ≥ requestTimeoutMs + lingerMs. */
  readonly deliveryTimeoutMs?: Ms;
  readonly maxInFlightRequestsPerConnection?: number;
  /** The first retry backoff; each later one of a batch doubles, ±20 %, up to retryBackoffMaxMs (KIP-580). */
  readonly retryBackoffMs?: Ms;
  readonly retryBackoffMaxMs?: Ms;
  readonly metadataMaxAgeMs?: Ms;
  /**
   * Default true. As in Kafka, explicit `true` with acks other than 'all', retries 0 or more than
   * 5 requests in flight is a configuration error; left unset, such settings turn it off.
   */
  readonly enableIdempotence?: boolean;
  /** Most records per produce request (Kafka counts bytes; we count records). */
  readonly batchSize?: number;
  readonly lingerMs?: Ms;
  /** Most records sent but not completed; one more send is a BoundExceededError. */
  readonly pendingMax?: number;
}

export type ResolvedProducerConfig = Required<Omit<ProducerConfig, 'enableIdempotence'>> & {
  /** Whether the producer is idempotent, after Kafka's rules. */
  readonly idempotent: boolean;
};

export const PRODUCER_DEFAULTS = {
  acks: 'all',
  retries: Number.MAX_SAFE_INTEGER,
  requestTimeoutMs: 30_000,
  deliveryTimeoutMs: 120_000,
  maxInFlightRequestsPerConnection: 5,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  metadataMaxAgeMs: 300_000,
  batchSize: 16,
  lingerMs: 0,
  pendingMax: 100_000,
} as const;

// Helpers as consts, not function declarations: see trace.ts.
/** The jitter of an answer with no failed batch: never asked for. */
const jitterNeverAsked = (): number => {
  throw new AssertionError(
    'a retry backoff drawn for an answer where every batch was acknowledged',
  );
};

/** Whether every partition of a produce response is acknowledged. */
const allAcknowledged = (response: ProduceResponse): boolean => {
  // Indexed: this runs for every answer, and an iterator is an object per call where it is not
  // optimised away.
  const partitions = response.partitions;
  for (let index = 0; index < partitions.length; index++)
    if ((partitions[index] as ProducePartitionResponse).error !== 'NONE') return false;
  return true;
};

/** A partition's answer: at `index`, the position it was asked at, if the broker kept the order. */
const answerFor = (
  response: ProduceResponse,
  queue: { readonly topic: string; readonly partition: number },
  index: number,
): ProducePartitionResponse | undefined => {
  const same = response.partitions[index];
  if (same !== undefined && same.topic === queue.topic && same.partition === queue.partition)
    return same;
  for (const answer of response.partitions)
    if (answer.topic === queue.topic && answer.partition === queue.partition) return answer;
  return undefined;
};

/**
 * Removes `item` from `items`, keeping the order: splice would also allocate the array of what it
 * removed, once per batch answered.
 */
const removeItem = <T>(items: T[], item: T): void => {
  const index = items.indexOf(item);
  if (index < 0) return;
  for (let at = index + 1; at < items.length; at++) items[at - 1] = items[at] as T;
  items.pop();
};

/**
 * Removes the first `count` items, moving the rest forward: pop keeps the array's room, where
 * emptying it (`length = 0`, or a new []) gives it up.
 */
const dropFront = <T>(items: T[], count: number): void => {
  for (let at = count; at < items.length; at++) items[at - count] = items[at] as T;
  for (let left = count; left > 0; left--) items.pop();
};

/** Whether a batch of the queue is ready to be sent (neither in flight nor in backoff). */
const hasReadyBatch = (queue: PartitionQueue): boolean => {
  const batches = queue.batches;
  for (let index = 0; index < batches.length; index++)
    if ((batches[index] as Batch).state === 'ready') return true;
  return false;
};

/** Kafka's bound on in-flight requests for an idempotent producer. */
const IDEMPOTENT_IN_FLIGHT_MAX = 5;

const ACKS: readonly Acks[] = ['0', '1', 'all'];

/** Applies Kafka's defaults and checks every value; throws ClientConfigError. */
export function resolveProducerConfig(
  config: ProducerConfig,
  nodeId: string,
): ResolvedProducerConfig {
  const acks = config.acks ?? PRODUCER_DEFAULTS.acks;
  if (!ACKS.includes(acks))
    throw new ClientConfigError(`acks must be '0', '1' or 'all' (got ${String(acks)})`);
  const resolved = {
    bootstrapBrokers: requireBrokers('bootstrapBrokers', config.bootstrapBrokers),
    history: config.history,
    // Internalized (as node ids are): the history compares it at every send. A name built at run
    // time (`p${i}`) was internalized in place in a first run and became a thin string pointing
    // at that copy in the next, which threw away the code compiled for the first (invokeSend).
    process: interned(config.process ?? nodeId),
    acks,
    retries: requireInteger('retries', config.retries ?? PRODUCER_DEFAULTS.retries, 0),
    requestTimeoutMs: requireMs(
      'requestTimeoutMs',
      config.requestTimeoutMs ?? PRODUCER_DEFAULTS.requestTimeoutMs,
    ),
    deliveryTimeoutMs: requireMs(
      'deliveryTimeoutMs',
      config.deliveryTimeoutMs ?? PRODUCER_DEFAULTS.deliveryTimeoutMs,
    ),
    maxInFlightRequestsPerConnection: requireInteger(
      'maxInFlightRequestsPerConnection',
      config.maxInFlightRequestsPerConnection ?? PRODUCER_DEFAULTS.maxInFlightRequestsPerConnection,
      1,
    ),
    retryBackoffMs: requireMs(
      'retryBackoffMs',
      config.retryBackoffMs ?? PRODUCER_DEFAULTS.retryBackoffMs,
    ),
    retryBackoffMaxMs: requireMs(
      'retryBackoffMaxMs',
      config.retryBackoffMaxMs ?? PRODUCER_DEFAULTS.retryBackoffMaxMs,
    ),
    metadataMaxAgeMs: requireMs(
      'metadataMaxAgeMs',
      config.metadataMaxAgeMs ?? PRODUCER_DEFAULTS.metadataMaxAgeMs,
    ),
    batchSize: requireInteger('batchSize', config.batchSize ?? PRODUCER_DEFAULTS.batchSize, 1),
    lingerMs: requireMs('lingerMs', config.lingerMs ?? PRODUCER_DEFAULTS.lingerMs),
    pendingMax: requireInteger('pendingMax', config.pendingMax ?? PRODUCER_DEFAULTS.pendingMax, 1),
    // Set below, from the fields above. A field of this literal, not added by a spread: a literal
    // keeps its map for the process's life; a spread's map is made again after a full GC has freed
    // the last, and the code compiled for the old one is thrown away (every send reads the config).
    idempotent: false as boolean,
  };
  if (resolved.requestTimeoutMs === 0) throw new ClientConfigError('requestTimeoutMs must be > 0');
  if (resolved.deliveryTimeoutMs < resolved.requestTimeoutMs + resolved.lingerMs) {
    throw new ClientConfigError(
      `deliveryTimeoutMs must be ≥ requestTimeoutMs + lingerMs (got ${resolved.deliveryTimeoutMs} < ${resolved.requestTimeoutMs} + ${resolved.lingerMs})`,
    );
  }
  resolved.idempotent = resolveIdempotence(config.enableIdempotence, resolved);
  return resolved;
}

function resolveIdempotence(
  requested: boolean | undefined,
  config: {
    readonly acks: Acks;
    readonly retries: number;
    readonly maxInFlightRequestsPerConnection: number;
  },
): boolean {
  if (requested === false) return false;
  const conflicts: string[] = [];
  if (config.acks !== 'all') conflicts.push(`acks must be 'all' (got '${config.acks}')`);
  if (config.retries === 0) conflicts.push('retries must be > 0');
  if (config.maxInFlightRequestsPerConnection > IDEMPOTENT_IN_FLIGHT_MAX)
    conflicts.push(
      `maxInFlightRequestsPerConnection must be ≤ ${IDEMPOTENT_IN_FLIGHT_MAX} (got ${config.maxInFlightRequestsPerConnection})`,
    );
  if (conflicts.length === 0) return true;
  if (requested === true)
    throw new ClientConfigError(`enableIdempotence requires: ${conflicts.join('; ')}`);
  return false;
}

// ---- the default partitioner ---------------------------------------------------------------

/** Where keys are encoded for hashing: reused, grown as needed (a key is hashed on every send). */
let scratch = new Uint8Array(256);

/**
 * Writes the UTF-8 bytes of a string into `scratch`, as Java's String.getBytes(UTF_8) gives them
 * (a lone surrogate is '?'), and returns how many there are.
 */
const encodeUtf8 = (text: string): number => {
  // A UTF-16 code unit takes at most 3 bytes (a surrogate pair, 2 units, takes 4).
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const bytes = scratch;
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    let code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(index + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        index++;
      } else {
        bytes[length++] = 0x3f;
        continue;
      }
    }
    if (code < 0x80) bytes[length++] = code;
    else if (code < 0x800) {
      bytes[length++] = 0xc0 | (code >> 6);
      bytes[length++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      bytes[length++] = 0xe0 | (code >> 12);
      bytes[length++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[length++] = 0x80 | (code & 0x3f);
    } else {
      bytes[length++] = 0xf0 | (code >> 18);
      bytes[length++] = 0x80 | ((code >> 12) & 0x3f);
      bytes[length++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[length++] = 0x80 | (code & 0x3f);
    }
  }
  return length;
};

/** The UTF-8 bytes of a string, as Java's String.getBytes(UTF_8) gives them (a lone surrogate is '?'). */
export function utf8Bytes(text: string): Uint8Array {
  return scratch.slice(0, encodeUtf8(text));
}

/**
 * Kafka's Utils.murmur2: the 32-bit MurmurHash2 with Kafka's seed, as a signed 32-bit integer, of
 * the first `length` bytes of `data` (all of them by default).
 */
export const murmur2 = (data: Uint8Array, length = data.length): number => {
  const m = 0x5bd1e995;
  const r = 24;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
};

/** Kafka's Utils.toPositive. */
export const toPositive = (value: number): number => {
  return value & 0x7fffffff;
};

/** The default partitioner's choice for a keyed record. */
export const partitionForKey = (key: string, partitionCount: number): number => {
  if (partitionCount <= 0)
    throw new AssertionError(`partitionCount must be > 0 (got ${partitionCount})`);
  return toPositive(murmur2OfKey(key)) % partitionCount;
};

/**
 * murmur2 of the UTF-8 bytes of `key`. An ASCII key's bytes are its code units: hashed straight
 * from the string (every record's key is hashed), not written out and read back; any other key
 * is encoded first.
 */
const murmur2OfKey = (key: string): number => {
  const m = 0x5bd1e995;
  const length = key.length;
  let h = 0x9747b28c ^ length;
  // Every code unit or'ed together: 0x80 or more means the key is not ASCII.
  let units = 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    const c0 = key.charCodeAt(i4);
    const c1 = key.charCodeAt(i4 + 1);
    const c2 = key.charCodeAt(i4 + 2);
    const c3 = key.charCodeAt(i4 + 3);
    units |= c0 | c1 | c2 | c3;
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) {
    const c = key.charCodeAt(tail + 2);
    units |= c;
    h ^= c << 16;
  }
  if (rest >= 2) {
    const c = key.charCodeAt(tail + 1);
    units |= c;
    h ^= c << 8;
  }
  if (rest >= 1) {
    const c = key.charCodeAt(tail);
    units |= c;
    h ^= c;
    h = Math.imul(h, m);
  }
  if (units >= 0x80) return murmur2(scratch, encodeUtf8(key));
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
};

// ---- the producer --------------------------------------------------------------------------

export interface ProducerRecord {
  readonly topic: string;
  /** Absent: the default partitioner chooses (murmur2 of the key; round robin without a key). */
  readonly partition?: number;
  readonly key?: string | null;
  readonly value: string | null;
}

export type SendResult =
  | {
      readonly type: 'ok';
      readonly topic: string;
      readonly partition: number;
      /** null for acks=0. */
      readonly offset: number | null;
    }
  | {
      /** fail: not written by any attempt; info: an attempt may have written. */
      readonly type: 'fail' | 'info';
      readonly topic: string;
      readonly partition: number;
      readonly error: string;
    };

export type SendCallback = (result: SendResult) => void;

/**
 * A built-in workload: `count` sends, `burst` at a time every `everyMs`. The records of a burst are
 * appended together before the producer sends anything, as an application's tight send() loop fills
 * Kafka's record accumulator before the sender thread wakes: they share batches.
 */
export interface ProducerWorkload {
  readonly topic: string;
  readonly everyMs: Ms;
  readonly count: number;
  /** Records sent together each `everyMs`; default 1. */
  readonly burst?: number;
  /** Values are `${valuePrefix}-${i}`, unique within the run; default the process name. */
  readonly valuePrefix?: string;
  /** Keys are `${keyPrefix}-${i}` (or `-${i % keyCount}`); null: no keys. Default 'key'. */
  readonly keyPrefix?: string | null;
  /** Distinct keys to cycle through (for compaction); default one per record. */
  readonly keyCount?: number;
  /** A fixed partition; default the partitioner's choice. */
  readonly partition?: number;
  /** Delay before the first send; default 0. */
  readonly startAfterMs?: Ms;
}

interface PendingRecord {
  readonly operationId: number;
  readonly topic: string;
  /**
   * -1 until the partitioner chooses: until the record is routed, ≥ 0 only when the sender chose
   * it (a field less per record than a flag for that).
   */
  partition: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly deadlineMs: Ms;
  readonly callback: SendCallback | null;
  /** When it joined its partition's queue (for lingerMs). */
  queuedAtMs: Ms;
  batch: Batch | null;
  /** The error of an attempt that may have written (the record can no longer `fail`). */
  indeterminate: string | null;
  /** Completed: it has its outcome, and leaves the pending queue when it reaches the front. */
  done: boolean;
  /**
   * Its idempotence fields while in a batch (undefined when not idempotent): the record is itself
   * the RecordInput its produce requests carry, where a copy per record and batch cost an object
   * each. They change only when its batch is renumbered, which only a batch no request in flight
   * carries can be (#renumberable), and a log copies what it appends.
   */
  producerId: number | undefined;
  sequence: number | undefined;
}

type BatchState = 'in-flight' | 'backoff' | 'ready';

/**
 * A batch is itself the ProducePartition of the requests that carry it (its topic, partition and
 * records, which never change), where an object per batch and request cost one each.
 */
interface Batch extends ProducePartition {
  readonly queue: PartitionQueue;
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly PendingRecord[];
  /** -1 when not idempotent. */
  readonly producerId: number;
  readonly baseSequence: number;
  state: BatchState;
  /** Retries used (OUT_OF_ORDER_SEQUENCE_NUMBER behind an unresolved batch does not count). */
  retries: number;
  /** Backoffs taken so far, counted or not: the exponent of the next one. */
  backoffs: number;
  lastError: string | null;
  request: ProduceInFlight | null;
  /** In backoff: when it may be sent again. */
  backoffUntilMs: Ms;
}

/** A broker produce requests go to, and how many are in flight to it. */
interface BrokerLink {
  readonly broker: BrokerId;
  /** The broker's id for the trace (producer.produce's target), hashed once. */
  readonly traceBroker: TraceName;
  inFlight: number;
}

/** A produce request on its way: one batch per partition, all led by `target`. */
interface ProduceInFlight {
  readonly requestId: number;
  readonly target: BrokerId;
  /** The target's link (its in-flight count). */
  readonly link: BrokerLink;
  /**
   * The batches it still stands for: the request's own list of partitions, until a batch expires
   * in flight and leaves it (#leaveRequest then makes a new list, leaving the message's as sent).
   */
  batches: readonly Batch[];
  /** When it times out (requestTimeoutMs after it left). */
  readonly deadlineMs: Ms;
}

interface PartitionQueue {
  readonly topic: string;
  /** The topic for the trace (producer.produce, producer.ack), hashed once. */
  readonly traceTopic: TraceName;
  readonly partition: number;
  /** Records not yet in a batch, oldest first. */
  queued: PendingRecord[];
  /** Batches sent at least once and not yet completed, in sequence order. */
  readonly batches: Batch[];
  /** null: waiting for a (new) producer id before numbering more records. Unused when not idempotent. */
  producerId: number | null;
  nextSequence: number;
  /**
   * The link to the leader it last sent to (null: none yet): the drain finds its leader's link
   * without a Map lookup while the leader stays the same.
   */
  link: BrokerLink | null;
}

interface InitInFlight {
  readonly requestId: number;
  readonly target: BrokerId;
  readonly timer: TimerHandle;
}

interface RunningWorkload {
  readonly spec: ProducerWorkload;
  sent: number;
  timer: TimerHandle | null;
  /** Sends a burst and schedules the next: made once, not a closure per burst. */
  readonly fire: () => void;
  /** `${keyPrefix}-` (null: no keys) and `${valuePrefix}-`: a key or value is one concatenation. */
  readonly keyHead: string | null;
  readonly valueHead: string;
}

const METADATA_ERRORS: ReadonlySet<DataError> = new Set<DataError>([
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'BROKER_NOT_AVAILABLE',
]);

/** Errors after which the batch may have been appended. */
const INDETERMINATE_ERRORS: ReadonlySet<DataError> = new Set<DataError>([
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
]);

/** The history's error for a client-side request timeout or an expired in-flight batch. */
export const TIMEOUT_ERROR = 'TIMEOUT';
/** The history's error for a refused connection. */
export const NETWORK_ERROR = 'NETWORK_EXCEPTION';

// The hottest events' shapes (one per record sent, one per batch produced and acknowledged): traced
// without building their fields, as the same events `trace` would record with these names in order.
const SEND_EVENT = traceShape('producer.send', ['op', 'topic', 'partition', 'value']);
const PRODUCE_EVENT = traceShape('producer.produce', [
  'target',
  'requestId',
  'topic',
  'partition',
  'records',
  'producerId',
  'baseSequence',
  'retries',
]);
const ACK_EVENT = traceShape('producer.ack', [
  'topic',
  'partition',
  'baseOffset',
  'records',
  'leaderEpoch',
]);

export class Producer implements Machine<ClusterMessage> {
  readonly config: ResolvedProducerConfig;
  readonly #context: NodeContext<ClusterMessage>;
  readonly #history: History;
  readonly #metadata: ClientMetadata;
  /**
   * Every record not yet completed, in send order (which is deadline order), from #pendingHead on,
   * among completed ones not yet dropped from the front. A queue, not a Map by operation id: a
   * Map, with an entry added and deleted per record sent, kept rebuilding its hash tables. The
   * slots before #pendingHead are cleared (undefined) as the head passes them.
   */
  #pending: (PendingRecord | undefined)[] = objectArray();
  #pendingHead = 0;
  #pendingCount = 0;
  /** Records whose topic's metadata is not known yet. */
  #unrouted: PendingRecord[] = objectArray();
  /** Every partition's queue, in the order first used (the order the Sender drains them). */
  readonly #queues: PartitionQueue[] = objectArray();
  /** The same queues by topic, then partition. */
  readonly #queuesByTopic = new Map<string, PartitionQueue[]>();
  /**
   * The last topic #queue looked up, and its queues: a producer's records are mostly of one topic
   * (#queuesByTopic's lists are kept for good, and grow in place).
   */
  /**
   * '' before the first: a string, never null, so that the comparison in #queue sees only strings
   * (the first run's first sends run before V8 keeps feedback, and a null met by the next run's
   * compiled code threw it away). A topic named '' would find #lastQueues undefined, as get would.
   */
  #lastQueuesTopic = '';
  #lastQueues: PartitionQueue[] | undefined = undefined;
  /** The topic of the last send, for the trace (producer.send), hashed once: mostly the same. */
  #traceTopicLast = new TraceName('');
  /**
   * The requests in flight, oldest first, searched by id: a few (maxInFlightRequestsPerConnection
   * per broker). A Map, with an entry added and deleted per request, kept rebuilding its table.
   */
  readonly #requests: ProduceInFlight[] = objectArray();
  /** Fires by the earliest in-flight request's deadline (one timer, not one per request). */
  readonly #requestTimeout: DeadlineTimer;
  /** Ends retry backoffs: one timer at the earliest, not one per batch. */
  readonly #retryBackoff: DeadlineTimer;
  /** When the earliest batch still lingering is ready (linger.ms after its first record). */
  readonly #lingerEnd: DeadlineTimer;
  /** The bootstrap brokers and every broker sent to (or about to be), by id: each kept for good. */
  readonly #links = new Map<BrokerId, BrokerLink>();
  readonly #roundRobin = new Map<string, number>();
  readonly #workloads: RunningWorkload[] = objectArray();
  readonly #valuePrefixes = new Set<string>();
  #requestIdNext = 0;
  /** A workload's burst is being appended: send() leaves dispatching to the burst's end. */
  #inBurst = false;
  /** Fails the records past delivery.timeout.ms, at the oldest pending record's deadline. */
  readonly #deliveryTimeout: DeadlineTimer;
  /** The most recent producer id, for partitions that start numbering (null: none yet). */
  #producerId: number | null = null;
  #initInFlight: InitInFlight | null = null;
  #initBackoffTimer: TimerHandle | null = null;
  #initTargetIndex = 0;
  #closed = false;
  #dispatching = false;
  #dispatchAgain = false;
  /**
   * A drain pass's picks, one per partition that sends (the first ones of the lists): its leader
   * and batch. Scratch lists kept from pass to pass: a pass (one per dispatch, and every event
   * answered dispatches) allocates nothing for them.
   */
  readonly #passLinks: BrokerLink[] = objectArray();
  readonly #passBatches: (Batch | null)[] = objectArray();
  /** Records completed so far, by outcome. */
  readonly completed = { ok: 0, fail: 0, info: 0 };

  /** Throws ClientConfigError on an invalid configuration. */
  constructor(context: NodeContext<ClusterMessage>, config: ProducerConfig) {
    this.#context = context;
    this.#deliveryTimeout = new DeadlineTimer(context, 'producer.delivery-timeout', () => {
      this.#expire();
      // #expire armed the next deadline itself, before dispatching.
      return null;
    });
    this.#requestTimeout = new DeadlineTimer(context, 'producer.request-timeout', () =>
      this.#timeOutRequests(),
    );
    this.#retryBackoff = new DeadlineTimer(context, 'producer.retry-backoff', () =>
      this.#endBackoffs(),
    );
    this.#lingerEnd = new DeadlineTimer(context, 'producer.linger', () => {
      this.#dispatch();
      // The dispatch armed the next linger end itself.
      return null;
    });
    this.config = resolveProducerConfig(config, context.nodeId);
    this.#history = config.history;
    // The resolved config carries the metadata settings (bootstrap brokers, timeouts, max age).
    this.#metadata = new ClientMetadata(
      context,
      { ...this.config, traceName: 'producer' },
      () => this.#requestIdNext++,
      () => this.#onMetadataUpdate(),
    );
    // The bootstrap brokers' links made now, not at their first batch: that path then ran only in
    // a run's first sends, compiled without feedback, and the next run's first batch threw away
    // #drain's optimised code. A broker that only the metadata names gets its link at first use.
    for (const broker of this.config.bootstrapBrokers) this.#linkTo(broker);
  }

  get idempotent(): boolean {
    return this.config.idempotent;
  }

  /** Records sent and not yet completed (a harness drains until 0). */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Produce requests in flight to `broker`. */
  inFlightTo(broker: BrokerId): number {
    return this.#links.get(broker)?.inFlight ?? 0;
  }

  start(): void {
    if (this.config.idempotent) this.#requestProducerId();
  }

  /**
   * Sends one record: records the invoke at once and returns its operation id. The callback runs
   * at the operation's completion. Throws after close(), and when pendingMax records are pending.
   */
  send(record: ProducerRecord, callback?: SendCallback): number {
    return this.#send(
      record.topic,
      record.partition,
      record.key ?? null,
      record.value,
      callback ?? null,
    );
  }

  /**
   * send() with the record's fields one by one (partition undefined: the partitioner chooses): the
   * built-in workloads send a record every few events, without building a ProducerRecord.
   */
  #send(
    topic: string,
    explicit: number | undefined,
    key: string | null,
    value: string | null,
    callback: SendCallback | null,
  ): number {
    if (this.#closed) throw new Error(`${this.config.process}: send after close()`);
    if (this.#pendingCount >= this.config.pendingMax) {
      throw new BoundExceededError(
        'pendingMax',
        this.config.pendingMax,
        `${this.config.process} has too many records in flight`,
      );
    }
    if (explicit !== undefined) requireInteger('partition', explicit, 0);
    const partition = explicit ?? -1;
    const operationId = this.#history.invokeSend(
      this.config.process,
      this.config.acks,
      topic,
      partition,
      key,
      value,
    );
    const pending: PendingRecord = {
      operationId,
      topic,
      partition,
      key,
      value,
      deadlineMs: this.#context.nowMs + this.config.deliveryTimeoutMs,
      callback,
      queuedAtMs: this.#context.nowMs,
      batch: null,
      indeterminate: null,
      done: false,
      producerId: undefined,
      sequence: undefined,
    };
    this.#enqueuePending(pending);
    // Asked on every send (the timer's own check ends it when armed at or before the first
    // pending record's deadline): behind a test of the timer's time, the arming ran only at a
    // run's first send and once the timer had fired with nothing pending, which threw away
    // #send's optimised code; `want` arms from code with the feedback of every DeadlineTimer.
    this.#armExpiry();
    let traceTopic = this.#traceTopicLast;
    if (topic !== traceTopic.name) {
      traceTopic = new TraceName(topic);
      this.#traceTopicLast = traceTopic;
    }
    this.#context.traceShaped(SEND_EVENT, operationId, traceTopic, partition, value);
    this.#metadata.wantTopic(topic);
    // Routed at once when its topic is known (then no record waits for metadata: they are routed
    // as soon as it comes); otherwise it waits behind those that do.
    if (this.#unrouted.length > 0 || !this.#routeRecord(pending)) {
      this.#unrouted.push(pending);
      this.#route();
    }
    if (!this.#inBurst) this.#dispatch();
    return operationId;
  }

  /** Starts a built-in workload of `count` sends, `burst` at a time every `everyMs`. */
  startWorkload(spec: ProducerWorkload): void {
    requireInteger('workload count', spec.count, 0);
    requireMs('workload everyMs', spec.everyMs);
    if (spec.burst !== undefined) requireInteger('workload burst', spec.burst, 1);
    if (spec.keyCount !== undefined) requireInteger('workload keyCount', spec.keyCount, 1);
    const valuePrefix = spec.valuePrefix ?? this.config.process;
    if (this.#valuePrefixes.has(valuePrefix))
      throw new ClientConfigError(`workload valuePrefix "${valuePrefix}" is already used`);
    this.#valuePrefixes.add(valuePrefix);
    const keyPrefix = spec.keyPrefix === undefined ? 'key' : spec.keyPrefix;
    const workload: RunningWorkload = {
      spec,
      sent: 0,
      timer: null,
      fire: () => this.#fireWorkload(workload),
      keyHead: keyPrefix === null ? null : `${keyPrefix}-`,
      valueHead: `${valuePrefix}-`,
    };
    this.#workloads.push(workload);
    // The history numbers the workload's (process, acks, topic) now, not at its first send.
    this.#history.addSource(this.config.process, this.config.acks, spec.topic);
    this.#scheduleWorkload(workload, requireMs('workload startAfterMs', spec.startAfterMs ?? 0));
  }

  /** Sends made by the built-in workloads so far. */
  get workloadSent(): number {
    return this.#workloads.reduce((sum, workload) => sum + workload.sent, 0);
  }

  /** Stops accepting sends and stops the workloads; records already sent still complete. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const workload of this.#workloads) {
      if (workload.timer !== null) this.#context.cancelTimer(workload.timer);
      workload.timer = null;
    }
    this.#context.trace('producer.close', { pending: this.#pendingCount });
  }

  onMessage(source: BrokerId, message: ClusterMessage): void {
    switch (message.kind) {
      case 'client.metadata-response':
        this.#metadata.onResponse(source, message);
        return;
      case 'client.produce-response':
        this.#onProduceResponse(source, message);
        return;
      case 'client.init-producer-id-response':
        this.#onInitProducerIdResponse(message);
        return;
      default:
        return;
    }
  }

  onUnreachable(target: BrokerId, message: ClusterMessage): void {
    switch (message.kind) {
      case 'client.metadata':
        this.#metadata.onUnreachable(target, message);
        return;
      case 'client.produce':
        this.#onProduceUnreachable(target, message);
        return;
      case 'client.init-producer-id':
        if (this.#initInFlight?.requestId === message.requestId) this.#initFailed('refused');
        return;
      default:
        return;
    }
  }

  // ---- routing and batching ------------------------------------------------------------------

  #onMetadataUpdate(): void {
    this.#route();
    // Records still wait for their topic: keep asking (paced by retryBackoffMs).
    if (this.#unrouted.length > 0) this.#metadata.requestUpdate();
    this.#dispatch();
  }

  /** Moves records whose topic is now known to their partition's queue. */
  #route(): void {
    if (this.#unrouted.length === 0) return;
    const records = this.#unrouted;
    this.#unrouted = objectArray();
    for (const record of records) if (!this.#routeRecord(record)) this.#unrouted.push(record);
  }

  /** Moves a record to its partition's queue (or fails it); false when its topic is not known yet. */
  #routeRecord(record: PendingRecord): boolean {
    const topic = this.#metadata.topic(record.topic);
    if (topic === undefined) return false;
    const count = topic.partitions.length;
    // Not routed yet: its partition is the sender's choice, or -1.
    const explicitPartition = record.partition >= 0;
    if (explicitPartition && record.partition >= count) {
      this.#completeFail(record, 'UNKNOWN_TOPIC_OR_PARTITION');
      return true;
    }
    if (!explicitPartition) record.partition = this.#choosePartition(record, topic);
    record.queuedAtMs = this.#context.nowMs;
    this.#queue(record.topic, record.partition).queued.push(record);
    return true;
  }

  /**
   * Kafka's default partitioner: murmur2 of the key; round robin over available partitions without
   * one. `topic` is the record's topic's metadata (the caller has just looked it up).
   */
  #choosePartition(record: PendingRecord, topic: KnownTopic): number {
    if (record.key !== null) return partitionForKey(record.key, topic.partitions.length);
    const next = this.#roundRobin.get(record.topic) ?? 0;
    this.#roundRobin.set(record.topic, (next + 1) | 0);
    const available = topic.partitions.filter((partition) => partition.leader !== null);
    const choices = available.length > 0 ? available : topic.partitions;
    return (choices[toPositive(next) % choices.length] as (typeof choices)[number]).partition;
  }

  #queue(topic: string, partition: number): PartitionQueue {
    let byPartition =
      topic === this.#lastQueuesTopic ? this.#lastQueues : this.#queuesByTopic.get(topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.#queuesByTopic.set(topic, byPartition);
    }
    this.#lastQueuesTopic = topic;
    this.#lastQueues = byPartition;
    let queue = byPartition[partition];
    if (queue === undefined) {
      queue = {
        topic,
        traceTopic: new TraceName(topic),
        partition,
        queued: objectArray(),
        batches: objectArray(),
        producerId: this.#producerId,
        nextSequence: 0,
        link: null,
      };
      this.#queues.push(queue);
      byPartition[partition] = queue;
    }
    return queue;
  }

  /** Sends what every partition can send. Re-entrant calls (a callback's send) run after it. */
  #dispatch(): void {
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = true;
    try {
      for (let round = 0; round === 0 || this.#dispatchAgain; round++) {
        assert(round <= this.config.pendingMax, 'dispatch: callbacks keep sending');
        this.#dispatchAgain = false;
        this.#drain();
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /**
   * Kafka's Sender: each pass takes at most one batch from every partition that can send and
   * puts the batches of partitions with the same leader into one request; passes repeat while
   * they send something (a partition may have several batches ready, up to the in-flight limit).
   */
  #drain(): void {
    const links = this.#passLinks;
    const picked = this.#passBatches;
    for (;;) {
      // The pass picks into the scratch lists (nothing allocated for a pass that sends nothing,
      // nor per request but its own list of batches).
      let count = 0;
      const queues = this.#queues;
      for (let index = 0; index < queues.length; index++) {
        const queue = queues[index] as PartitionQueue;
        // Most partitions have nothing to send on most passes (every answer dispatches): no
        // record queued and no batch ready, only batches in flight or in backoff. Skipped before
        // their leader is looked up (#nextBatch would find nothing to do for them either).
        if (queue.queued.length === 0 && !hasReadyBatch(queue)) continue;
        const leader = this.#metadata.partition(queue.topic, queue.partition)?.leader ?? null;
        const link = leader === null ? null : this.#linkOf(queue, leader);
        const batch = this.#nextBatch(queue, link);
        if (batch === null || link === null) continue;
        links[count] = link;
        picked[count] = batch;
        count++;
      }
      if (count === 0) return;
      // One request per leader, in the order of its first batch, with its batches in queue order;
      // a batch taken into a request leaves the scratch list (null).
      for (let first = 0; first < count; first++) {
        if (picked[first] === null) continue;
        this.#sendRequest(links[first] as BrokerLink, takeGroup(picked, links, first, count));
      }
    }
  }

  /** The link to `leader`, the queue's partition's leader (made at its first use). */
  #linkOf(queue: PartitionQueue, leader: BrokerId): BrokerLink {
    const last = queue.link;
    if (last !== null && last.broker === leader) return last;
    const link = this.#links.get(leader) ?? this.#linkTo(leader);
    queue.link = link;
    return link;
  }

  /** A new link to `broker`. */
  #linkTo(broker: BrokerId): BrokerLink {
    const link = { broker, traceBroker: new TraceName(broker), inFlight: 0 };
    this.#links.set(broker, link);
    return link;
  }

  /**
   * The batch the partition sends next, if it can now, in order: retries first (for an
   * idempotent producer only once every earlier batch has an answer), then a new batch. A batch
   * waiting out its backoff holds back the batches behind it. `leader`: the link to the
   * partition's leader (null: no leader known).
   */
  #nextBatch(queue: PartitionQueue, leader: BrokerLink | null): Batch | null {
    if (leader === null) {
      if (queue.queued.length > 0 || hasReadyBatch(queue)) this.#metadata.requestUpdate();
      return null;
    }
    // The leader's room is asked last, once there is something to send.
    let earlierInFlight = false;
    const batches = queue.batches;
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as Batch;
      if (batch.state === 'in-flight') {
        earlierInFlight = true;
        continue;
      }
      if (batch.state === 'backoff') return null;
      if (this.config.idempotent && earlierInFlight) return null;
      return this.#hasRoom(leader) ? batch : null;
    }
    if (queue.queued.length === 0) return null;
    if (!this.#hasRoom(leader)) return null;
    if (this.config.idempotent && queue.producerId === null) return null;
    if (!this.#lingerDone(queue)) return null;
    return this.#createBatch(queue);
  }

  #hasRoom(link: BrokerLink): boolean {
    return this.config.acks === '0' || link.inFlight < this.config.maxInFlightRequestsPerConnection;
  }

  #lingerDone(queue: PartitionQueue): boolean {
    const oldest = queue.queued[0];
    if (oldest === undefined || this.config.lingerMs === 0) return true;
    if (queue.queued.length >= this.config.batchSize) return true;
    const readyAtMs = oldest.queuedAtMs + this.config.lingerMs;
    if (readyAtMs <= this.#context.nowMs) return true;
    // One wake-up at the earliest linger end, as Kafka's Sender polls until the next batch is
    // ready; the dispatch then asks again for the partitions still lingering.
    this.#lingerEnd.want(readyAtMs);
    return false;
  }

  /** Takes up to batchSize queued records; numbers them once, for good, when idempotent. */
  #createBatch(queue: PartitionQueue): Batch {
    // When every queued record fits, the batch takes the queue's array and the queue starts a
    // new one: the queue lives for the run, and an array it kept was an old object each record
    // pushed into (a write barrier's slow path per record), where a fresh one is young while it
    // fills. Otherwise the batch's records are copied out at their size.
    const queued = queue.queued;
    let records: PendingRecord[];
    if (queued.length <= this.config.batchSize) {
      records = queued;
      queue.queued = [];
    } else {
      records = queued.slice(0, this.config.batchSize);
      dropFront(queued, records.length);
    }
    const producerId = this.config.idempotent ? (queue.producerId as number) : -1;
    const baseSequence = this.config.idempotent ? queue.nextSequence : -1;
    if (this.config.idempotent) queue.nextSequence += records.length;
    // The records are their own inputs (PendingRecord): numbered in place.
    if (this.config.idempotent) {
      for (let index = 0; index < records.length; index++) {
        const record = records[index] as PendingRecord;
        record.producerId = producerId;
        record.sequence = baseSequence + index;
      }
    }
    const batch: Batch = {
      queue,
      topic: queue.topic,
      partition: queue.partition,
      records,
      producerId,
      baseSequence,
      state: 'ready',
      retries: 0,
      backoffs: 0,
      lastError: null,
      request: null,
      backoffUntilMs: 0,
    };
    for (let index = 0; index < records.length; index++)
      (records[index] as PendingRecord).batch = batch;
    queue.batches.push(batch);
    return batch;
  }

  #sendRequest(link: BrokerLink, batches: Batch[]): void {
    const leader = link.broker;
    const requestId = this.#requestIdNext++;
    // Indexed loops throughout, and no closure for a map: this runs for every request.
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as Batch;
      if (batch.state !== 'ready') throw new AssertionError(`sendRequest: batch is ${batch.state}`);
    }
    // The batches are the request's partitions (Batch is a ProducePartition), in their own list
    // (takeGroup's, made for this request).
    const request: ProduceRequest = {
      kind: 'client.produce',
      requestId,
      acks: this.config.acks,
      timeoutMs: this.config.requestTimeoutMs,
      partitions: batches,
    };
    this.#context.send(leader, request, produceRequestSizeBytes(request));
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as Batch;
      this.#context.traceShaped(
        PRODUCE_EVENT,
        link.traceBroker,
        requestId,
        batch.queue.traceTopic,
        batch.queue.partition,
        batch.records.length,
        batch.producerId,
        batch.baseSequence,
        batch.retries,
      );
    }
    if (this.config.acks === '0') {
      // No response will come: the sends are done as soon as they are on the wire.
      for (const batch of batches) {
        this.#removeBatch(batch);
        for (const record of batch.records) this.#completeOk(record, null);
      }
      return;
    }
    const deadlineMs = this.#context.nowMs + this.config.requestTimeoutMs;
    const inFlight: ProduceInFlight = { requestId, target: leader, link, batches, deadlineMs };
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as Batch;
      batch.state = 'in-flight';
      batch.request = inFlight;
    }
    this.#requestTimeout.want(deadlineMs);
    this.#requests.push(inFlight);
    link.inFlight++;
  }

  // ---- answers -------------------------------------------------------------------------------

  #onProduceResponse(source: BrokerId, response: ProduceResponse): void {
    const request = this.#request(response.requestId);
    if (request === undefined) return; // timed out or expired already: a late answer
    const batches = this.#endRequest(request);
    // A jitter only when some batch failed: the common answer, all acknowledged, makes none.
    const jitter = allAcknowledged(response) ? jitterNeverAsked : this.#jitter();
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as Batch;
      const answer = answerFor(response, batch.queue, index);
      if (answer === undefined)
        throw new AssertionError(
          `produce response ${response.requestId} from ${source} has no answer for ${batch.queue.topic}-${batch.queue.partition}`,
        );
      this.#onBatchAnswer(batch, answer, jitter);
    }
    this.#dispatch();
  }

  #onBatchAnswer(batch: Batch, answer: ProducePartitionResponse, jitter: () => number): void {
    const error = answer.error;
    if (error === 'NONE') {
      this.#acked(batch, answer);
    } else if (METADATA_ERRORS.has(error)) {
      // A leader that lost its leadership while an acks=all batch waited answers
      // NOT_LEADER_OR_FOLLOWER after the append: that attempt may have written.
      if (error === 'NOT_LEADER_OR_FOLLOWER') this.#markIndeterminate(batch, error);
      this.#metadata.requestUpdate();
      this.#retry(batch, error, true, jitter);
    } else if (error === 'NOT_ENOUGH_REPLICAS') {
      this.#retry(batch, error, true, jitter);
    } else if (INDETERMINATE_ERRORS.has(error)) {
      this.#markIndeterminate(batch, error);
      this.#retry(batch, error, true, jitter);
    } else if (error === 'OUT_OF_ORDER_SEQUENCE_NUMBER' && this.#earlierUnresolved(batch)) {
      // An earlier sequence is still being retried: this one waits for it, without spending a retry.
      this.#retry(batch, error, false, jitter);
    } else if (
      error === 'OUT_OF_ORDER_SEQUENCE_NUMBER' &&
      this.#neverWritten(batch) &&
      (batch.producerId !== batch.queue.producerId || batch.retries < this.config.retries)
    ) {
      // Numbered under a producer id the partition has given up, or no earlier batch explains the
      // gap (the leader lost the producer's later sequences: Kafka's idempotent producer retries
      // it under a bumped epoch, KIP-360, TransactionManager.canRetry): number it anew, under a
      // new producer id. Only a batch no attempt can have written: one that may have been (a
      // timeout) could sit in a log the answering leader does not have yet, and numbered again it
      // would be written twice.
      this.#unbatch(batch.queue, [batch]);
      this.#abandonProducerId(batch.queue, batch.producerId);
    } else {
      this.#failBatch(batch, error);
    }
  }

  #acked(batch: Batch, response: ProducePartitionResponse): void {
    if (response.baseOffset < 0)
      throw new AssertionError(`produce ok with baseOffset ${response.baseOffset}`);
    this.#removeBatch(batch);
    this.#context.traceShaped(
      ACK_EVENT,
      batch.queue.traceTopic,
      batch.queue.partition,
      response.baseOffset,
      batch.records.length,
      response.leaderEpoch,
    );
    const records = batch.records;
    for (let index = 0; index < records.length; index++)
      this.#completeOk(records[index] as PendingRecord, response.baseOffset + index);
  }

  /** The request in flight with this id, if any. */
  #request(requestId: number): ProduceInFlight | undefined {
    const requests = this.#requests;
    for (let index = 0; index < requests.length; index++) {
      const request = requests[index] as ProduceInFlight;
      if (request.requestId === requestId) return request;
    }
    return undefined;
  }

  /** Times out the requests whose time is up, oldest first; returns the next deadline. */
  #timeOutRequests(): Ms | null {
    const nowMs = this.#context.nowMs;
    const expired: number[] = [];
    for (const request of this.#requests)
      if (request.deadlineMs <= nowMs) expired.push(request.requestId);
    for (const requestId of expired) this.#onRequestTimeout(requestId);
    let next: Ms | null = null;
    for (const request of this.#requests)
      if (next === null || request.deadlineMs < next) next = request.deadlineMs;
    return next;
  }

  #onRequestTimeout(requestId: number): void {
    const request = this.#request(requestId);
    if (request === undefined) return;
    const batches = this.#endRequest(request);
    // The request may have reached the leader and been appended: indeterminate from now on.
    for (const batch of batches) this.#markIndeterminate(batch, TIMEOUT_ERROR);
    this.#metadata.requestUpdate();
    const jitter = this.#jitter();
    for (const batch of batches) this.#retry(batch, TIMEOUT_ERROR, true, jitter);
    this.#dispatch();
  }

  #onProduceUnreachable(target: BrokerId, message: ProduceRequest): void {
    const request = this.#request(message.requestId);
    // acks=0 tracks no request, but a dropped connection still means the leader may be gone:
    // Kafka's client refreshes its metadata on a disconnect.
    if (request === undefined && message.acks === '0') this.#metadata.requestUpdate();
    if (request === undefined || request.target !== target) return;
    // Refused: the request never reached a broker, so this attempt wrote nothing.
    const batches = this.#endRequest(request);
    this.#metadata.requestUpdate();
    const jitter = this.#jitter();
    for (const batch of batches) this.#retry(batch, NETWORK_ERROR, true, jitter);
    this.#dispatch();
  }

  /**
   * The request is over: its batches, returned, are ready to be handled (answered, retried or
   * failed). The request keeps its list (no batch refers to it any more).
   */
  #endRequest(request: ProduceInFlight): readonly Batch[] {
    removeItem(this.#requests, request);
    const link = request.link;
    if (link.inFlight <= 0)
      throw new AssertionError(`in-flight count to ${request.target} would go below 0`);
    link.inFlight--;
    const batches = request.batches;
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index] as Batch;
      batch.request = null;
      batch.state = 'ready';
    }
    return request.batches;
  }

  /** A batch leaves its request (it expired in flight); a request left with no batch is over. */
  #leaveRequest(batch: Batch): void {
    const request = batch.request;
    if (request === null) return;
    // A new list: the old one is the message's, which stays as it was sent.
    request.batches = request.batches.filter((other) => other !== batch);
    batch.request = null;
    batch.state = 'ready';
    if (request.batches.length === 0) this.#endRequest(request);
  }

  /** True when a batch before this one, under the same producer id, is still unresolved. */
  #earlierUnresolved(batch: Batch): boolean {
    for (const other of batch.queue.batches) {
      if (other === batch) return false;
      if (other.producerId === batch.producerId) return true;
    }
    return false;
  }

  /**
   * The backoff jitter of one failed request: drawn once, when a batch first needs it, and shared
   * by all its batches, so that batches that failed together retry together (the exponent is
   * still each batch's own).
   */
  #jitter(): () => number {
    let drawn: number | null = null;
    return () => {
      drawn ??= this.#context.rng.next();
      return drawn;
    };
  }

  #retry(batch: Batch, error: string, counted: boolean, jitter: () => number): void {
    batch.lastError = error;
    if (counted) {
      if (batch.retries >= this.config.retries) {
        this.#failBatch(batch, error);
        return;
      }
      batch.retries++;
    }
    this.#context.trace('producer.retry', {
      topic: batch.queue.topic,
      partition: batch.queue.partition,
      error,
      retries: batch.retries,
      baseSequence: batch.baseSequence,
    });
    batch.state = 'backoff';
    batch.backoffUntilMs =
      this.#context.nowMs +
      exponentialBackoffMs(
        batch.backoffs++,
        this.config.retryBackoffMs,
        this.config.retryBackoffMaxMs,
        jitter(),
      );
    this.#retryBackoff.want(batch.backoffUntilMs);
  }

  /**
   * The batches whose backoff is over are ready again, and go out together (batches that failed
   * in one request retry in one request); returns when the next backoff ends.
   */
  #endBackoffs(): Ms | null {
    const nowMs = this.#context.nowMs;
    let next: Ms | null = null;
    for (const queue of this.#queues) {
      for (const batch of queue.batches) {
        if (batch.state !== 'backoff') continue;
        if (batch.backoffUntilMs <= nowMs) batch.state = 'ready';
        else if (next === null || batch.backoffUntilMs < next) next = batch.backoffUntilMs;
      }
    }
    this.#dispatch();
    return next;
  }

  #markIndeterminate(batch: Batch, error: string): void {
    if (this.config.acks === '0') return;
    for (const record of batch.records) {
      record.indeterminate ??= error;
      this.#history.markIndeterminate(record.operationId, error);
    }
  }

  /** Completes a batch as failed; an idempotent partition then numbers its unsent records anew. */
  #failBatch(batch: Batch, error: string): void {
    if (batch.request !== null) {
      this.#markIndeterminate(batch, TIMEOUT_ERROR);
      this.#leaveRequest(batch);
    }
    this.#removeBatch(batch);
    const queue = batch.queue;
    this.#context.trace('producer.fail', {
      topic: queue.topic,
      partition: queue.partition,
      error,
      records: batch.records.length,
      baseSequence: batch.baseSequence,
    });
    for (const record of batch.records) this.#completeFail(record, error);
    // The broker will never see this batch's sequences: number what follows under a new id.
    if (this.config.idempotent) this.#abandonProducerId(queue, batch.producerId);
  }

  /**
   * The partition gives up `producerId` (if it still uses it): what follows is numbered from 0
   * under a new one, and its batches that no attempt can have written are numbered again.
   */
  #abandonProducerId(queue: PartitionQueue, producerId: number | null): void {
    if (queue.producerId !== producerId) return;
    queue.producerId = null;
    queue.nextSequence = 0;
    this.#producerId = null;
    this.#requestProducerId();
    this.#unbatch(
      queue,
      queue.batches.filter((other) => other.state !== 'in-flight' && this.#renumberable(other)),
    );
  }

  /** A batch of a producer id its partition no longer uses, that no attempt can have written. */
  #renumberable(batch: Batch): boolean {
    return batch.producerId !== batch.queue.producerId && this.#neverWritten(batch);
  }

  /** No attempt can have written the batch (none timed out or was answered ambiguously). */
  #neverWritten(batch: Batch): boolean {
    return batch.records.every((record) => record.indeterminate === null);
  }

  /** Returns batches' records to the queue, in send order, to be batched and numbered again. */
  #unbatch(queue: PartitionQueue, batches: readonly Batch[]): void {
    if (batches.length === 0) return;
    const records: PendingRecord[] = [];
    for (const batch of batches) {
      this.#removeBatch(batch);
      this.#context.trace('producer.renumber', {
        topic: queue.topic,
        partition: queue.partition,
        producerId: batch.producerId,
        baseSequence: batch.baseSequence,
        records: batch.records.length,
      });
      for (const record of batch.records) {
        record.batch = null;
        records.push(record);
      }
    }
    queue.queued = [...records, ...queue.queued].sort(
      (left, right) => left.operationId - right.operationId,
    );
  }

  #removeBatch(batch: Batch): void {
    removeItem(batch.queue.batches, batch);
  }

  /** Completes a record as written, at `offset` (null for acks=0). */
  #completeOk(record: PendingRecord, offset: number | null): void {
    this.#dequeuePending(record);
    const { topic, partition } = record;
    this.#history.okSend(record.operationId, partition, offset ?? undefined);
    this.completed.ok++;
    // A result only for a callback (the built-in workloads send without one).
    record.callback?.({ type: 'ok', topic, partition, offset });
  }

  /** Completes a record as not written (as `info` when an attempt may have written it). */
  #completeFail(record: PendingRecord, error: string): void {
    this.#dequeuePending(record);
    const { topic, partition } = record;
    this.#history.fail(record.operationId, error, partition >= 0 ? { partition } : {});
    const result: SendResult =
      record.indeterminate === null
        ? { type: 'fail', topic, partition, error }
        : { type: 'info', topic, partition, error: record.indeterminate };
    this.completed[result.type]++;
    record.callback?.(result);
  }

  // ---- delivery timeout ----------------------------------------------------------------------

  #enqueuePending(record: PendingRecord): void {
    // Drop the completed front once it is most of the array (never while #expire walks it: it
    // walks a copy of the expired part). From 32 records on, not 1024: the first drop then comes
    // before #send is compiled, whose code otherwise met it without feedback and was thrown away.
    if (this.#pendingHead >= 32 && this.#pendingHead * 2 >= this.#pending.length) {
      this.#pending = this.#pending.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
    this.#pending.push(record);
    this.#pendingCount++;
  }

  #dequeuePending(record: PendingRecord): void {
    if (record.done) throw new AssertionError(`record ${record.operationId} completed twice`);
    record.done = true;
    this.#pendingCount--;
    const pending = this.#pending;
    let head = this.#pendingHead;
    // A completed record behind the head is let go at once: kept until the front was dropped (many
    // sends later), each one outlived young-generation collections and was copied by them.
    while (head < pending.length && (pending[head] as PendingRecord).done)
      pending[head++] = undefined;
    this.#pendingHead = head;
  }

  /** The timer at the earliest deadline (the oldest pending record's: records are in send order). */
  #armExpiry(): void {
    const first = this.#pending[this.#pendingHead];
    if (first !== undefined) this.#deliveryTimeout.want(first.deadlineMs);
  }

  #expire(): void {
    const nowMs = this.#context.nowMs;
    // Records never batched: taken out of their queues in one pass each (a backlog may be long).
    const unsent = new Set<PendingRecord>();
    const expired: PendingRecord[] = [];
    for (let index = this.#pendingHead; index < this.#pending.length; index++) {
      const record = this.#pending[index] as PendingRecord;
      if (record.deadlineMs > nowMs) break;
      if (!record.done) expired.push(record);
    }
    for (const record of expired) {
      // Completed meanwhile (with an earlier record's batch): skipped.
      if (record.done) continue;
      if (record.batch !== null)
        this.#failBatch(record.batch, record.batch.lastError ?? TIMEOUT_ERROR);
      else unsent.add(record);
    }
    if (unsent.size > 0) {
      this.#unrouted = this.#unrouted.filter((record) => !unsent.has(record));
      for (const queue of this.#queues)
        queue.queued = queue.queued.filter((record) => !unsent.has(record));
      for (const record of unsent) {
        // A callback's send may have batched it meanwhile: then it expires with its batch.
        if (record.batch !== null || record.done) continue;
        const error = this.#metadata.topicError(record.topic) ?? TIMEOUT_ERROR;
        this.#completeFail(record, error);
      }
    }
    this.#armExpiry();
    this.#dispatch();
  }

  // ---- producer id ---------------------------------------------------------------------------

  #requestProducerId(): void {
    if (this.#initInFlight !== null || this.#initBackoffTimer !== null) return;
    const candidates = this.#metadata.candidates;
    const target = candidates[this.#initTargetIndex % candidates.length] as BrokerId;
    const requestId = this.#requestIdNext++;
    const request: InitProducerIdRequest = { kind: 'client.init-producer-id', requestId };
    this.#context.send(target, request, 64);
    const timer = this.#context.setTimer(
      this.config.requestTimeoutMs,
      'producer.init-producer-id-timeout',
      () => {
        if (this.#initInFlight?.requestId === requestId) this.#initFailed('timeout');
      },
    );
    this.#initInFlight = { requestId, target, timer };
  }

  #onInitProducerIdResponse(response: InitProducerIdResponse): void {
    const inFlight = this.#initInFlight;
    if (inFlight === null || inFlight.requestId !== response.requestId) return;
    if (response.error !== 'NONE') {
      this.#initFailed(response.error);
      return;
    }
    this.#context.cancelTimer(inFlight.timer);
    this.#initInFlight = null;
    if (response.producerId < 0)
      throw new AssertionError(`InitProducerId ok with producerId ${response.producerId}`);
    this.#producerId = response.producerId;
    this.#context.trace('producer.producer-id', { producerId: response.producerId });
    for (const queue of this.#queues) {
      if (queue.producerId !== null) continue;
      queue.producerId = response.producerId;
      queue.nextSequence = 0;
    }
    this.#dispatch();
  }

  #initFailed(reason: string): void {
    const inFlight = this.#initInFlight;
    if (inFlight === null) return;
    this.#context.cancelTimer(inFlight.timer);
    this.#initInFlight = null;
    this.#initTargetIndex++;
    this.#context.trace('producer.init-producer-id-failed', { target: inFlight.target, reason });
    this.#initBackoffTimer = this.#context.setTimer(
      this.config.retryBackoffMs,
      'producer.init-producer-id-backoff',
      () => {
        this.#initBackoffTimer = null;
        this.#requestProducerId();
      },
    );
  }

  // ---- workload ------------------------------------------------------------------------------

  #scheduleWorkload(workload: RunningWorkload, delayMs: Ms): void {
    if (workload.sent >= workload.spec.count || this.#closed) return;
    workload.timer = this.#context.setTimer(delayMs, 'producer.workload', workload.fire);
  }

  #fireWorkload(workload: RunningWorkload): void {
    workload.timer = null;
    const burst = Math.min(workload.spec.burst ?? 1, workload.spec.count - workload.sent);
    this.#inBurst = true;
    try {
      for (let i = 0; i < burst && !this.#closed; i++) this.#workloadSend(workload);
    } finally {
      this.#inBurst = false;
    }
    this.#dispatch();
    this.#scheduleWorkload(workload, workload.spec.everyMs);
  }

  #workloadSend(workload: RunningWorkload): void {
    const { spec } = workload;
    const index = workload.sent++;
    const keyIndex = spec.keyCount === undefined ? index : index % spec.keyCount;
    const key = workload.keyHead === null ? null : `${workload.keyHead}${keyIndex}`;
    const value = `${workload.valueHead}${index}`;
    if (this.#pendingCount >= this.config.pendingMax) {
      // The accumulator is full (Kafka's buffer.memory): send() fails without sending, as Kafka's
      // does once max.block.ms has passed (BufferExhaustedException); kafkasim does not block.
      const operationId = this.#history.invoke(this.config.process, 'send', {
        acks: this.config.acks,
        topic: spec.topic,
        partition: spec.partition ?? -1,
        key,
        value,
      });
      this.#history.fail(operationId, 'BUFFER_EXHAUSTED');
      this.#context.trace('producer.buffer-exhausted', { op: operationId, value });
      return;
    }
    this.#send(spec.topic, spec.partition, key, value, null);
  }
}
