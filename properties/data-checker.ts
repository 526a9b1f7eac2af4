// The data path's invariants (KAFKA.md), with the durability contract decided per record.
//
// After every event, on the brokers the event entered (ActivityWatch: the others cannot have
// changed), and per replica only if its log, HW, role or epoch moved:
//   hw-within-log            log start ≤ HW ≤ LEO on every replica
//   committed-prefix-agrees  a replica's HW covers only the records committed at those offsets
//   committed-read-stable    a leader's HW never goes backwards within its epoch
//   single-leader-per-epoch  at most one broker leads a partition in a leader epoch; epochs grow
//   isr-valid, leader-in-isr every committed partition change, replayed: ISR and ELR disjoint
//                            subsets of the replicas, the leader in the ISR, no fenced or
//                            shutting-down broker added to the ISR or elected
// and the ledger: each replica's log is shadowed (its records by offset), so every append, truncation
// and crash loss is seen with its cause; a record is committed once any replica's HW covers it
// (a follower's only once a leader set it: not one restored from a checkpoint).
// A committed record that no replica holds any more is a loss, judged at once: allowed when every
// replica that held it lost it in its own lossy crash (`lossy-crashes`), or by truncation after an
// unclean election (`unclean-election`), or (ZooKeeper mode) when the last ISR member lost it and
// was re-elected (`last-replica-standing`); otherwise a violation.
//
// At the end, after healing: acked-write-durable (every acknowledged write, per its acks),
// committed-read-stable (every consumer read), acked-fully-replicated, committed-prefix-agrees on
// the final logs, no-duplicates (idempotent producers), writes-resolve.

import type { Replica, ReplicaRole } from '../sim/kafka/broker/replica-manager.ts';
import type { History, HistoryRecord } from '../sim/kafka/clients/history.ts';
import { MetadataImage, partitionAfterChange } from '../sim/kafka/controller/metadata-image.ts';
import {
  effectiveMinIsr,
  partitionInvariantViolation,
} from '../sim/kafka/controller/partition-control.ts';
import type { MetadataRecord } from '../sim/kafka/controller/records.ts';
import { KraftBroker } from '../sim/kafka/kraft/broker-node.ts';
import { activeController, brokerOf, type KraftCluster } from '../sim/kafka/kraft/cluster.ts';
import type { ClusterMessage } from '../sim/kafka/messages.ts';
import type { LogRecord, RecordBatch } from '../sim/kafka/storage/partition-log.ts';
import { objectArray } from '../sim/kernel/arrays.ts';
import { AssertionError } from '../sim/kernel/assert.ts';
import { grownColumn } from '../sim/kernel/columns.ts';
import type { DownReason, NodeHost } from '../sim/kernel/node.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { ActivityWatch } from './activity.ts';
import type { HeldInstead, ViolationLog } from './violation.ts';

export type LossReason =
  | 'acks-0'
  | 'acks-1'
  | 'lossy-crashes'
  | 'unclean-election'
  | 'last-replica-standing';

type RemovalCause = 'lossy-crash' | 'truncation' | 'unclean' | 'restart';

/**
 * Most brokers whose logs hold records of one partition: a record's holders are one int's bits.
 * Scenarios refuse a larger replication factor.
 */
export const REPLICAS_MAX = 31;

/** A record's identity: its value at its offset (a retried write without idempotence sits twice). */
function recordId(offset: number, value: string): string {
  return `${offset}|${value}`;
}

/** No record: an offset where none was seen or committed, a shadow's record with a null value. */
const NONE = -1;

/** A record's flags (PartitionLedger's #flags). */
const COMMITTED = 1;
/** Its loss was reported (as a violation or an allowed loss). */
const JUDGED = 2;

/** How many acknowledged writes #checkAckedWrites checks per call. */
const ACKED_SLICE = 1024;

/** Room for the first this many records of a partition (columns double when full). */
const COLUMN_CAPACITY_MIN = 256;

/**
 * A partition's records as every replica ever held them, and what is committed at each offset.
 *
 * A record (a value at an offset) has a number, its id: 0, 1, 2, ... in the order first seen, the
 * same for every replica that holds it. What the checker knows of it sits in columns by id, typed
 * arrays but for the values: tens of thousands of records per partition, kept to the end of the
 * run, cost a few bytes each off the JS heap, where an object per record (and a list of values
 * per replica) cost well over a hundred bytes each that every young-generation GC copied.
 */
/** A replica's fate for a lost record (Violation.holders' names), in a report's words. */
const FATE_WORDS: Readonly<Record<string, string>> = {
  'holds it': 'still holds it',
  truncation: 'truncated it',
  'lossy-crash': 'lost it in a lossy crash',
  unclean: 'truncated it after an unclean election',
  restart: 'lost it at a restart',
  'never had it': 'never had it',
};

class PartitionLedger {
  readonly key: string;
  /** Its place among the checker's ledgers (HistoryRecords name a ledger by it). */
  readonly number: number;
  /** The brokers that ever held a record of this partition, by bit number. */
  readonly #brokers: string[] = objectArray();
  /** Records by id: how many, their values, offsets and leader epochs. */
  #count = 0;
  readonly #values: string[] = objectArray();
  #offsets = new Int32Array(COLUMN_CAPACITY_MIN);
  /**
   * The leader epoch of the batch that holds it (Kafka's partitionLeaderEpoch): with its offset,
   * what makes two replicas' records one (KIP-101). The same value at the same offset in another
   * epoch is another record: a stale leader's copy of a write that a retry appended again under
   * the new leader, say, which the stale leader's truncation removes without losing the other.
   */
  #epochs = new Int32Array(COLUMN_CAPACITY_MIN);
  /** Brokers holding it now (down brokers keep what their disk has until they restart): bits. */
  #holders = new Int32Array(COLUMN_CAPACITY_MIN);
  /** Brokers that ever held it (bits); since it was committed once it is. */
  #everHeld = new Int32Array(COLUMN_CAPACITY_MIN);
  /** COMMITTED, JUDGED. */
  #flags = new Uint8Array(COLUMN_CAPACITY_MIN);
  /** When it was committed, and the leader epoch of the replica whose HW first covered it. */
  #committedAtMs = new Float64Array(COLUMN_CAPACITY_MIN);
  #committedInEpoch = new Int32Array(COLUMN_CAPACITY_MIN);
  /** Another record seen at the same offset (replicas diverged there), or NONE. */
  #next = new Int32Array(COLUMN_CAPACITY_MIN);
  /** Why each broker that lost a record lost it: only records some broker lost have an entry. */
  readonly #lostBy = new Map<number, Map<string, RemovalCause>>();
  /** By offset: the first record seen there, or NONE. */
  #firstAt = new Int32Array(COLUMN_CAPACITY_MIN).fill(NONE);
  /** By offset: what is committed there (or NONE), when, and by whose HW (a broker's bit number). */
  #committedIdAt = new Int32Array(COLUMN_CAPACITY_MIN).fill(NONE);
  #committedAtMsAt = new Float64Array(COLUMN_CAPACITY_MIN);
  #committedByAt = new Uint8Array(COLUMN_CAPACITY_MIN);
  #offsetsByValue: Map<string, number[]> | null = null;
  /** Leader epochs won by an unclean election, with when. */
  readonly uncleanElections: { epoch: number; atMs: Ms }[] = [];
  /** Epoch → the broker that led in it. */
  readonly leaders = new Map<number, string>();

  constructor(key: string, number: number) {
    this.key = key;
    this.number = number;
  }

  /** `broker`'s bit in this ledger's holder sets. */
  bitOf(broker: string): number {
    return 1 << this.#indexOf(broker);
  }

  #indexOf(broker: string): number {
    let index = this.#brokers.indexOf(broker);
    if (index < 0) {
      if (this.#brokers.length === REPLICAS_MAX) {
        throw new AssertionError(
          `data checker: more than ${REPLICAS_MAX} brokers held records of ${this.key}`,
        );
      }
      index = this.#brokers.push(broker) - 1;
    }
    return index;
  }

  /** The brokers in a holder set, in the order they first held a record of this partition. */
  brokersIn(bits: number): string[] {
    return this.#brokers.filter((_, index) => (bits & (1 << index)) !== 0);
  }

  // ---- what is committed at each offset

  /**
   * Records that record `id` is what is committed at `offset`, at `atMs`, by the HW of the broker
   * whose bit is `bit` (a holder of the record: its bit is taken), told by its bit, not its name:
   * a search of the brokers per record committed was a good part of the commit's cost.
   */
  commit(offset: number, id: number, atMs: Ms, bit: number): void {
    this.#growOffsets(offset + 1);
    this.#committedIdAt[offset] = id;
    this.#committedAtMsAt[offset] = atMs;
    this.#committedByAt[offset] = 31 - Math.clz32(bit);
  }

  /** The record committed at `offset`, or NONE. */
  committedIdAt(offset: number): number {
    return offset < this.#committedIdAt.length ? (this.#committedIdAt[offset] as number) : NONE;
  }

  /** When the record committed at `offset` was (committedIdAt not NONE). */
  committedAtMsAt(offset: number): Ms {
    return this.#committedAtMsAt[offset] as number;
  }

  /** Whose HW committed the record at `offset` (committedIdAt not NONE). */
  committedByAt(offset: number): string {
    return this.#brokers[this.#committedByAt[offset] as number] as string;
  }

  // ---- records

  /** The record `value` at `offset` in leader epoch `epoch`, if any replica ever held it; NONE if not. */
  find(offset: number, value: string, epoch: number): number {
    if (offset >= this.#firstAt.length) return NONE;
    for (let id = this.#firstAt[offset] as number; id !== NONE; id = this.#next[id] as number)
      if (this.#values[id] === value && this.#epochs[id] === epoch) return id;
    return NONE;
  }

  /**
   * The record a client names by `value` at `offset` (an acknowledgement or a read says no leader
   * epoch): the committed one there if any (a consumer reads, and acks=all acknowledges, only
   * below the high watermark), else the first seen; NONE if none.
   */
  findNamed(offset: number, value: string): number {
    if (offset >= this.#firstAt.length) return NONE;
    let first = NONE;
    for (let id = this.#firstAt[offset] as number; id !== NONE; id = this.#next[id] as number) {
      if (this.#values[id] !== value) continue;
      // The flag read here rather than through isCommitted, which V8 left a call.
      if (((this.#flags[id] as number) & COMMITTED) !== 0) return id;
      if (first === NONE) first = id;
    }
    return first;
  }

  /** A new record, `value` at `offset` in leader epoch `epoch`, held by `bit`'s broker: its id. */
  add(offset: number, value: string, epoch: number, bit: number): number {
    this.#offsetsByValue = null;
    const id = this.#count++;
    if (id >= this.#offsets.length) this.#growRecords(id + 1);
    this.#values.push(value);
    this.#offsets[id] = offset;
    this.#epochs[id] = epoch;
    this.#holders[id] = bit;
    this.#everHeld[id] = bit;
    this.#committedInEpoch[id] = -1;
    this.#next[id] = NONE;
    this.#growOffsets(offset + 1);
    let last = this.#firstAt[offset] as number;
    if (last === NONE) {
      this.#firstAt[offset] = id;
      return id;
    }
    while (this.#next[last] !== NONE) last = this.#next[last] as number;
    this.#next[last] = id;
    return id;
  }

  #growRecords(length: number): void {
    this.#offsets = grownColumn(this.#offsets, length);
    this.#epochs = grownColumn(this.#epochs, length);
    this.#holders = grownColumn(this.#holders, length);
    this.#everHeld = grownColumn(this.#everHeld, length);
    this.#flags = grownColumn(this.#flags, length);
    this.#committedAtMs = grownColumn(this.#committedAtMs, length);
    this.#committedInEpoch = grownColumn(this.#committedInEpoch, length);
    this.#next = grownColumn(this.#next, length);
  }

  #growOffsets(length: number): void {
    if (length <= this.#firstAt.length) return;
    this.#firstAt = grownColumn(this.#firstAt, length, NONE);
    this.#committedIdAt = grownColumn(this.#committedIdAt, length, NONE);
    this.#committedAtMsAt = grownColumn(this.#committedAtMsAt, length);
    this.#committedByAt = grownColumn(this.#committedByAt, length);
  }

  valueOf(id: number): string {
    return this.#values[id] as string;
  }

  /** The leader epoch of the batch record `id` sits in. */
  epochOf(id: number): number {
    return this.#epochs[id] as number;
  }

  offsetOf(id: number): number {
    return this.#offsets[id] as number;
  }

  /** The brokers holding record `id` now, as bits. */
  holdersOf(id: number): number {
    return this.#holders[id] as number;
  }

  /** The brokers that held record `id` (since it was committed, once it is), as bits. */
  everHeldOf(id: number): number {
    return this.#everHeld[id] as number;
  }

  isCommitted(id: number): boolean {
    return ((this.#flags[id] as number) & COMMITTED) !== 0;
  }

  /** When record `id` was committed, or null. */
  committedAtMsOf(id: number): Ms | null {
    return this.isCommitted(id) ? (this.#committedAtMs[id] as number) : null;
  }

  /** The leader epoch of the replica whose HW first covered record `id` (-1 until committed). */
  committedInEpochOf(id: number): number {
    return this.#committedInEpoch[id] as number;
  }

  /** The loss of record `id` was reported (as a violation or an allowed loss). */
  isJudged(id: number): boolean {
    return ((this.#flags[id] as number) & JUDGED) !== 0;
  }

  markJudged(id: number): void {
    this.#flags[id] = (this.#flags[id] as number) | JUDGED;
  }

  /** `broker` (bit `bit`) holds record `id` (again). */
  hold(id: number, bit: number, broker: string): void {
    this.#holders[id] = (this.#holders[id] as number) | bit;
    this.#everHeld[id] = (this.#everHeld[id] as number) | bit;
    // Mostly no broker lost any record: no lookup then.
    if (this.#lostBy.size > 0) this.#lostBy.get(id)?.delete(broker);
  }

  /** `broker` (bit `bit`) no longer holds record `id`, for `cause`. */
  release(id: number, bit: number, broker: string, cause: RemovalCause): void {
    this.#holders[id] = (this.#holders[id] as number) & ~bit;
    this.noteLost(id, broker, cause);
  }

  noteLost(id: number, broker: string, cause: RemovalCause): void {
    let lostBy = this.#lostBy.get(id);
    if (lostBy === undefined) {
      lostBy = new Map();
      this.#lostBy.set(id, lostBy);
    }
    lostBy.set(broker, cause);
  }

  lostHow(id: number, broker: string): RemovalCause | undefined {
    return this.#lostBy.get(id)?.get(broker);
  }

  /** Some broker lost record `id` for `cause`. */
  lostTo(id: number, cause: RemovalCause): boolean {
    const lostBy = this.#lostBy.get(id);
    if (lostBy === undefined) return false;
    for (const each of lostBy.values()) if (each === cause) return true;
    return false;
  }

  /**
   * Record `id` is committed: durability starts now. What replicas lost of it before (a follower's
   * copy truncated, then fetched again) is no loss of the committed record: only the holders from
   * now on count. (A copy of its value appended under another leader epoch is another record.)
   */
  markCommitted(id: number, atMs: Ms, epoch: number): void {
    this.#flags[id] = (this.#flags[id] as number) | COMMITTED;
    this.#committedAtMs[id] = atMs;
    this.#committedInEpoch[id] = epoch;
    this.#everHeld[id] = this.#holders[id] as number;
    // Mostly no broker lost any record: no lookup then.
    if (this.#lostBy.size > 0) this.#lostBy.delete(id);
  }

  /** The offsets `value` was appended at (an index built on first use, at the end of a run). */
  offsetsOf(value: string): readonly number[] {
    if (this.#offsetsByValue === null) {
      this.#offsetsByValue = new Map();
      // By offset, then in the order seen there.
      for (let offset = 0; offset < this.#firstAt.length; offset++) {
        for (let id = this.#firstAt[offset] as number; id !== NONE; id = this.#next[id] as number) {
          const each = this.#values[id] as string;
          const offsets = this.#offsetsByValue.get(each);
          if (offsets === undefined) this.#offsetsByValue.set(each, [offset]);
          // Once per offset: copies of one value under two leader epochs sit at one offset.
          else if (offsets[offsets.length - 1] !== offset) offsets.push(offset);
        }
      }
    }
    return this.#offsetsByValue.get(value) ?? [];
  }
}

/**
 * Records the history names (consumer reads, acknowledged writes), each looked up in the ledger
 * when its entry was new: the entry (its index in the history), its place (below), the ledger it
 * was found in then (its number, NONE if not found) and its id there. A record's place is, for a
 * read, its position in the entry's records, and for an acknowledged write, the client partition
 * it names (the checker's list): reads are kept per client partition and a write is one record,
 * so each needs only one of the two, and one column less is one less to grow and fill. At the end
 * of a run the history's entries (hundreds of thousands) are long out of any cache: reading them
 * all again there cost more than the checks themselves.
 */
class HistoryRecords {
  count = 0;
  entries = new Int32Array(COLUMN_CAPACITY_MIN);
  places = new Int32Array(COLUMN_CAPACITY_MIN);
  ledgers = new Int32Array(COLUMN_CAPACITY_MIN);
  ids = new Int32Array(COLUMN_CAPACITY_MIN);

  push(entry: number, place: number, ledger: number, id: number): void {
    const index = this.count++;
    if (index === this.entries.length) this.#grow();
    this.entries[index] = entry;
    this.places[index] = place;
    this.ledgers[index] = ledger;
    this.ids[index] = id;
  }

  /** Apart from push: kept small, push is inlined where it is called. */
  #grow(): void {
    const length = this.count;
    this.entries = grownColumn(this.entries, length);
    this.places = grownColumn(this.places, length);
    this.ledgers = grownColumn(this.ledgers, length);
    this.ids = grownColumn(this.ids, length);
  }
}

/** A partition as the clients name it (topic, number): its ledger key may change with the topic's id. */
interface ClientPartition {
  readonly topic: string;
  readonly partition: number;
  /** Its place in the checker's list. */
  readonly index: number;
  /** Consumers' reads of it (their records with a value), in the order read; null before any. */
  reads: HistoryRecords | null;
  /**
   * Its ledger as last found (#ledgerNow), and how much metadata the checker had replayed then:
   * the same while no more is (a topic's id changes only with metadata).
   */
  ledger: PartitionLedger | undefined;
  ledgerReplayedUpTo: number;
}

interface Shadow {
  replica: Replica;
  truncations: number;
  readonly broker: string;
  readonly key: string;
  /** The partition's ledger (held, not looked up: each broker's replica has its own key string). */
  readonly ledger: PartitionLedger;
  /**
   * The broker's bit in the ledger (its `bitOf`), 0 until the shadow first holds a record: bits
   * go in the order brokers first held one, which the loss reports list holders in.
   */
  bit: number;
  /**
   * The replica's log as the checker last saw it, by offset: the ledger's record ids (NONE for a
   * null value), the first `length` of them.
   */
  ids: Int32Array<ArrayBuffer>;
  length: number;
  highWatermark: number;
  /**
   * Where the next append's records start in the log's batches, as last left: checked, and only
   * searched for (batchIndexOf) when the log moved under it otherwise than by appending.
   */
  batchIndex: number;
  /** The broker's lossy crash count when this shadow last matched its log. */
  lossyCrashesSeen: number;
  /** The HW of a leader in its epoch (for monotonicity), -1 when not leading. */
  leaderEpochSeen: number;
  leaderHighWatermark: number;
  /** The last hw-within-log report, as `hw/logStart/leo`. */
  reportedOutside: string;
}

/**
 * A replica as the checker last synced it: the replica object, its shadow, and what the checks read
 * of it then. After any event most replicas of the brokers it entered did not move: they are
 * compared with this alone. Fields of one object, not five numbers per replica in a broker's typed
 * array: each of those reads was checked against the array's length, and the role compared as a
 * code worked out afresh, at every replica of every broker an event entered.
 */
class SyncedReplica {
  // Typed from the first store: the numbers and the role start as such (a field first undefined
  // is then a number field for any value, checked at every read); replica and shadow are set by note.
  declare replica: Replica;
  declare shadow: Shadow;
  truncations = 0;
  logEndOffset = 0;
  highWatermark = 0;
  leaderEpoch = 0;
  role: ReplicaRole = 'none';

  constructor(replica: Replica, shadow: Shadow) {
    this.note(replica, shadow);
  }

  /**
   * Nothing the checks read of `replica` moved since it was synced. With no truncation since, the
   * same LEO means the same log (a log only grows by appends and shrinks by truncations).
   */
  isUnchanged(replica: Replica): boolean {
    return (
      this.replica === replica &&
      this.logEndOffset === replica.logEndOffset &&
      this.highWatermark === replica.highWatermark &&
      this.truncations === replica.log.truncations &&
      this.leaderEpoch === replica.leaderEpoch &&
      this.role === replica.role
    );
  }

  /** `replica`, whose shadow is `shadow`, just synced here. */
  note(replica: Replica, shadow: Shadow): void {
    this.replica = replica;
    this.shadow = shadow;
    this.truncations = replica.log.truncations;
    this.logEndOffset = replica.logEndOffset;
    this.highWatermark = replica.highWatermark;
    this.leaderEpoch = replica.leaderEpoch;
    this.role = replica.role;
  }
}

/** One broker's replicas as the checker last synced them, by their index in its replica list. */
class BrokerShadows {
  readonly host: NodeHost<ClusterMessage>;
  readonly synced: SyncedReplica[] = objectArray();
  /**
   * The host's machine at the last sync, and its replica manager's list of replicas (a live list,
   * the same array for the machine's life): found again only for a new machine.
   */
  machine: unknown = null;
  replicas: readonly Replica[] = NO_REPLICAS;

  constructor(host: NodeHost<ClusterMessage>) {
    this.host = host;
  }
}

const NO_REPLICAS: readonly Replica[] = objectArray();

export interface DataCheckerOptions {
  readonly cluster: KraftCluster;
  readonly history: History;
  readonly log: ViolationLog;
  /** ZooKeeper mode allows `last-replica-standing`; KRaft (ELR) does not. */
  readonly mode: 'kraft' | 'zk';
  /** Check every node after every event, skipping nothing (to test that skipping changes nothing). */
  readonly fullChecks?: boolean;
  /**
   * A watch over the controllers then the brokers that the caller looks at (ActivityWatch.look)
   * before every check, shared with its other checks: the nodes' activity is read once per event
   * instead of once per check.
   */
  readonly activity?: ActivityWatch<ClusterMessage>;
  /**
   * The topics the clients will name, with their partition counts, if known: their partitions'
   * entries are made at once. Made at a topic's first write or read instead, in a run's first
   * checks only, that path was compiled without feedback, and the next run's first write and read
   * threw away #readAcked's and #readPoll's optimised code.
   */
  readonly topics?: readonly { readonly name: string; readonly partitions: number }[];
}

export class DataChecker {
  readonly #cluster: KraftCluster;
  readonly #history: History;
  readonly #log: ViolationLog;
  readonly #mode: 'kraft' | 'zk';
  readonly #fullChecks: boolean;
  readonly #image = new MetadataImage();
  #replayedUpTo = 0;
  readonly #ledgers = new Map<string, PartitionLedger>();
  /** The same ledgers by number. */
  readonly #ledgerList: PartitionLedger[] = objectArray();
  /** The history's entries read so far (#readNewHistory). */
  #historyRead = 0;
  /** The partitions the clients named, by index; and by topic, then partition number. */
  readonly #clientPartitions: ClientPartition[] = objectArray();
  readonly #clientPartitionsByTopic = new Map<string, (ClientPartition | undefined)[]>();
  /**
   * The client partition #clientPartition found last: acknowledged writes come in runs of one
   * partition's (a batch's records), each a map lookup by topic name when looked up afresh.
   */
  #lastClient: ClientPartition | null = null;
  /** The partitions with consumer reads, in the order of their first read. */
  readonly #readPartitions: ClientPartition[] = objectArray();
  /** The acknowledged writes (with a value), in the history's order. */
  readonly #ackedWrites = new HistoryRecords();
  readonly #shadows = new Map<string, Shadow>();
  /** The shadow of each replica object, for the per-event fast path. */
  readonly #shadowOf = new WeakMap<Replica, Shadow>();
  /** Per broker host, its replicas as last synced: one lookup per broker entered, not per replica. */
  readonly #shadowsOfHost = new WeakMap<NodeHost<ClusterMessage>, BrokerShadows>();
  /** The same by the broker's index in the cluster's list: a WeakMap lookup only on a miss. */
  readonly #shadowsAt: BrokerShadows[] = objectArray();
  /** Values acknowledged to a producer (with their acks), read from the history as it grows. */
  readonly #acked = new Map<string, string>();
  /** Brokers taken out of the cluster on purpose: their replicas are not expected back. */
  #retired: ReadonlySet<string> = new Set();
  #historySeen = 0;
  /** Ledger keys by topic id, then partition (#keyOf). */
  readonly #keys = new Map<string, string[]>();
  /** Per node, its NodeHost.activity when last checked; and the actions fired then. */
  /** Which controllers and brokers were entered since the last check. */
  readonly #controllersWatch: ActivityWatch<ClusterMessage> | null;
  readonly #brokersWatch: ActivityWatch<ClusterMessage> | null;
  /** The caller's watch, in their stead (see DataCheckerOptions.activity), if any. */
  readonly #sharedActivity: ActivityWatch<ClusterMessage> | null;
  /** The shared watch's look this checker last checked after (its `looks`). */
  #lastLook = 0;
  /** Per broker: lossy crashes (power failure, disk loss) so far, and the incarnation last counted. */
  readonly #lossyCrashes = new Map<string, { count: number; incarnation: number }>();

  constructor(options: DataCheckerOptions) {
    this.#cluster = options.cluster;
    this.#history = options.history;
    this.#log = options.log;
    this.#mode = options.mode;
    this.#fullChecks = options.fullChecks ?? false;
    this.#sharedActivity = options.activity ?? null;
    const world = this.#cluster.world;
    const shared = this.#sharedActivity !== null;
    this.#controllersWatch = shared ? null : new ActivityWatch(world, this.#cluster.controllers);
    this.#brokersWatch = shared ? null : new ActivityWatch(world, this.#cluster.brokers);
    // Made here, not at each broker's first sync: that path, taken only at a run's start before
    // #syncBroker had feedback, made the next run throw away its optimised code.
    const brokers = this.#cluster.brokers;
    for (let index = 0; index < brokers.length; index++)
      this.#shadowsOfBroker(world.node(brokers[index] as string), index);
    for (const topic of options.topics ?? [])
      for (let partition = 0; partition < topic.partitions; partition++)
        this.#newClientPartition(topic.name, partition);
  }

  /** The committed metadata as the checker replayed it. */
  get image(): MetadataImage {
    return this.#image;
  }

  ledger(key: string): PartitionLedger {
    let ledger = this.#ledgers.get(key);
    if (ledger === undefined) {
      ledger = new PartitionLedger(key, this.#ledgerList.length);
      this.#ledgerList.push(ledger);
      this.#ledgers.set(key, ledger);
    }
    return ledger;
  }

  /** The trace kinds onTraceEvent reads. */
  static readonly TRACE_KINDS: readonly string[] = ['replica.leader'];

  /** Trace events the checker cares about (TRACE_KINDS): leaders taking office. */
  onTraceEvent(event: TraceEvent): void {
    if (event.kind !== 'replica.leader') return;
    const key = String(event.fields?.partition);
    const epoch = Number(event.fields?.leaderEpoch);
    const ledger = this.ledger(key);
    const previous = ledger.leaders.get(epoch);
    if (previous !== undefined && previous !== event.node) {
      this.#log.report({
        invariant: 'single-leader-per-epoch',
        atMs: event.atMs,
        message: `${this.#label(key)}: ${event.node} and ${previous} both lead in leader epoch ${epoch}`,
        nodes: [previous, event.node],
        epoch,
      });
    }
    ledger.leaders.set(epoch, event.node);
  }

  /**
   * After every event. What the checks read changes only where a node was entered, or by an action
   * from outside (NodeHost.activity, Scheduler.actionsFired): nodes that were not are skipped.
   */
  check(): void {
    const shared = this.#sharedActivity;
    if (shared !== null) {
      const controllers = this.#cluster.controllers.length;
      // A check skipped after some look (the bench's timing without per-event checks) missed
      // which nodes were entered then: every node counts as entered.
      const missed = shared.looks !== this.#lastLook + 1;
      this.#lastLook = shared.looks;
      if (shared.anyLookedBelow(controllers, missed) || this.#fullChecks) this.#syncMetadata();
      if (this.#fullChecks) this.#syncEveryBroker();
      else this.#syncEntered(shared, controllers, missed);
      if (this.#history.length > this.#historyRead) this.#readNewHistory();
      return;
    }
    const controllersWatch = this.#controllersWatch as ActivityWatch<ClusterMessage>;
    const brokersWatch = this.#brokersWatch as ActivityWatch<ClusterMessage>;
    if (controllersWatch.visitEntered() > 0 || this.#fullChecks) this.#syncMetadata();
    if (this.#fullChecks) this.#syncEveryBroker();
    else {
      brokersWatch.look();
      this.#syncEntered(brokersWatch, 0, false);
    }
    if (this.#history.length > this.#historyRead) this.#readNewHistory();
  }

  #syncEveryBroker(): void {
    const brokers = this.#cluster.brokers;
    for (let index = 0; index < brokers.length; index++) {
      const id = brokers[index] as string;
      this.#syncBroker(id, this.#cluster.world.node(id));
    }
  }

  /**
   * #syncBroker for the brokers `watch`'s last look found entered (every one, with `everyNode`):
   * those at index `from` on (the brokers follow the controllers in a shared watch).
   */
  #syncEntered(watch: ActivityWatch<ClusterMessage>, from: number, everyNode: boolean): void {
    if (everyNode) {
      for (let index = from; index < watch.size; index++)
        this.#syncBroker(watch.idAt(index), watch.hostAt(index), index - from);
      return;
    }
    const count = watch.lookedCount;
    for (let position = 0; position < count; position++) {
      const index = watch.lookedAt(position);
      if (index < from) continue;
      this.#syncBroker(watch.idAt(index), watch.hostAt(index), index - from);
    }
  }

  /**
   * Takes in the history's new entries (consumer reads, acknowledged writes) for the end of the
   * run, the records they name looked up in the ledger now, while they are in the cache.
   */
  #readNewHistory(): void {
    // By the history's accessors: its entry objects are built only when its `entries` are read.
    const history = this.#history;
    for (; this.#historyRead < history.length; this.#historyRead++) {
      const index = this.#historyRead;
      if (history.typeAt(index) !== 'ok') continue;
      const f = history.fAt(index);
      if (f === 'poll') this.#readPoll(index);
      else if (f === 'send') {
        const value = history.valueAt(index);
        if (value != null) this.#readAcked(index, value);
      }
    }
  }

  /** The poll whose ok entry is the history's `index`. */
  #readPoll(index: number): void {
    const history = this.#history;
    // Record by record: a poll's records are kept in columns, built as arrays only when asked.
    const count = history.recordCountAt(index);
    if (count === undefined) return;
    const client = this.#clientPartition(history.topicAt(index), history.partitionAt(index));
    if (client.reads === null) {
      client.reads = new HistoryRecords();
      this.#readPartitions.push(client);
    }
    const ledger = this.#ledgerNow(client);
    for (let position = 0; position < count; position++) {
      const value = history.recordValueAt(index, position);
      if (value === null) continue;
      const id =
        ledger === undefined
          ? NONE
          : ledger.findNamed(history.recordOffsetAt(index, position), value);
      client.reads.push(
        index,
        position,
        id === NONE ? NONE : (ledger as PartitionLedger).number,
        id,
      );
    }
  }

  /** The acknowledged write whose ok entry is the history's `index`. */
  #readAcked(index: number, value: string): void {
    const history = this.#history;
    const client = this.#clientPartition(history.topicAt(index), history.partitionAt(index));
    const ledger = this.#ledgerNow(client);
    const offset = history.offsetAt(index);
    const id =
      ledger === undefined || offset === undefined ? NONE : ledger.findNamed(offset, value);
    this.#ackedWrites.push(
      index,
      client.index,
      id === NONE ? NONE : (ledger as PartitionLedger).number,
      id,
    );
  }

  #clientPartition(topic: string, partition: number): ClientPartition {
    const last = this.#lastClient;
    if (last !== null && last.partition === partition && last.topic === topic) return last;
    const client =
      this.#clientPartitionsByTopic.get(topic)?.[partition] ??
      this.#newClientPartition(topic, partition);
    this.#lastClient = client;
    return client;
  }

  #newClientPartition(topic: string, partition: number): ClientPartition {
    let byPartition = this.#clientPartitionsByTopic.get(topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.#clientPartitionsByTopic.set(topic, byPartition);
    }
    const client: ClientPartition = {
      topic,
      partition,
      index: this.#clientPartitions.length,
      reads: null,
      ledger: undefined,
      ledgerReplayedUpTo: -1,
    };
    this.#clientPartitions.push(client);
    byPartition[partition] = client;
    return client;
  }

  /** The ledger of a partition as the checker's metadata names it now, if it has one (none made). */
  #ledgerNow(client: ClientPartition): PartitionLedger | undefined {
    if (client.ledger !== undefined && client.ledgerReplayedUpTo === this.#replayedUpTo)
      return client.ledger;
    const key = this.#keyOf(client.topic, client.partition);
    client.ledger = key === null ? undefined : this.#ledgers.get(key);
    client.ledgerReplayedUpTo = this.#replayedUpTo;
    return client.ledger;
  }

  /** Brings the ledger up to date with one broker's replicas. */
  #syncBroker(brokerId: string, host: NodeHost<ClusterMessage>, brokerIndex?: number): void {
    // Read at every sync, not only while down (it is null while up): the getter, inlined and run
    // only at a crash, was compiled without its feedback, and the next run's crash threw this
    // method's optimised code away.
    const downReason = host.downReason;
    if (downReason !== null) {
      this.#noteDown(brokerId, downReason, host.incarnation);
      return;
    }
    const machine = host.machine;
    const shadows = this.#shadowsOfBroker(host, brokerIndex);
    if (machine !== shadows.machine) {
      if (!(machine instanceof KraftBroker)) return;
      shadows.machine = machine;
      shadows.replicas = machine.replicaManager.replicaList;
    }
    const replicas = shadows.replicas;
    const synced = shadows.synced;
    for (let index = 0; index < replicas.length; index++) {
      const replica = replicas[index] as Replica;
      // Bounds checked here: a read past the end (a broker's first sync) would make V8 compile
      // this for reads that may fall outside, or throw away code compiled without them.
      const seen = index < synced.length ? (synced[index] as SyncedReplica) : null;
      // Most replicas of a broker an event entered did not move: nothing to do, checked here (a
      // call and a store per replica were a good part of the checks' cost).
      if (seen?.isUnchanged(replica)) continue;
      // Synced again whenever this compares unequal (a replica that moved in the list, say): a
      // sync of a replica that did not change changes nothing and reports nothing.
      const guess = seen?.shadow;
      const shadow = this.#syncReplica(
        brokerId,
        replica,
        guess !== undefined && guess.replica === replica ? guess : this.#shadowOf.get(replica),
      );
      // In order: a replica at an index past the list's end is at its end.
      if (seen === null) synced.push(new SyncedReplica(replica, shadow));
      else seen.note(replica, shadow);
    }
  }

  /** A broker's replicas as last synced, by `index` in the cluster's brokers when it has one. */
  #shadowsOfBroker(host: NodeHost<ClusterMessage>, index: number | undefined): BrokerShadows {
    // Bounds checked here: a read past the end (a new run's checker, its list still empty) made
    // the code compiled in the run before, which had read only in bounds, deoptimise.
    const known =
      index === undefined || index >= this.#shadowsAt.length ? undefined : this.#shadowsAt[index];
    if (known !== undefined && known.host === host) return known;
    let shadows = this.#shadowsOfHost.get(host);
    if (shadows === undefined) {
      shadows = new BrokerShadows(host);
      this.#shadowsOfHost.set(host, shadows);
    }
    if (index !== undefined) this.#shadowsAt[index] = shadows;
    return shadows;
  }

  #noteDown(brokerId: string, reason: DownReason, incarnation: number): void {
    if (reason !== 'powerFailure' && reason !== 'diskLoss') return;
    const seen = this.#lossyCrashes.get(brokerId) ?? { count: 0, incarnation: -1 };
    if (seen.incarnation === incarnation) return;
    this.#lossyCrashes.set(brokerId, { count: seen.count + 1, incarnation });
  }

  #lossyCrashCount(brokerId: string): number {
    return this.#lossyCrashes.get(brokerId)?.count ?? 0;
  }

  // ---- metadata ------------------------------------------------------------------------------

  #syncMetadata(): void {
    const active = activeController(this.#cluster);
    if (active === null) return;
    const log = active.raft.log;
    const upTo = Math.min(active.raft.highWatermark, log.endOffset);
    const atMs = this.#cluster.world.nowMs;
    for (let offset = this.#replayedUpTo; offset < upTo; offset++) {
      const payload = log.entry(offset).payload;
      if (payload.type !== 'record') continue;
      const record = payload.record as MetadataRecord;
      if (record.type === 'PartitionChange') this.#checkPartitionChange(record, atMs);
      this.#image.apply(record, offset);
      if (record.type === 'Partition' || record.type === 'PartitionChange') {
        const state = this.#image.partition(record.topicId, record.partition);
        const topic = this.#image.topics.get(record.topicId);
        if (state !== undefined && topic !== undefined) {
          const problem = partitionInvariantViolation(
            state,
            effectiveMinIsr(topic.configs, state.replicas.length),
          );
          if (problem !== null) {
            this.#log.report({
              invariant: problem.includes('leader') ? 'leader-in-isr' : 'isr-valid',
              atMs,
              message: `metadata offset ${offset}: ${problem}`,
              epoch: state.leaderEpoch,
            });
          }
        }
      }
    }
    this.#replayedUpTo = Math.max(this.#replayedUpTo, upTo);
  }

  #checkPartitionChange(record: MetadataRecord & { type: 'PartitionChange' }, atMs: Ms): void {
    const before = this.#image.partition(record.topicId, record.partition);
    if (before === undefined) return;
    const after = partitionAfterChange(before, record);
    const key = `${record.topicId}-${record.partition}`;
    const added = after.isr.filter((id) => !before.isr.includes(id));
    const unusable = added.filter((id) => !this.#image.isUsable(id));
    if (unusable.length > 0) {
      this.#log.report({
        invariant: 'isr-valid',
        atMs,
        message: `${this.#label(key)}: fenced, shutting-down or unregistered [${unusable.join(',')}] added to the ISR (leader epoch ${after.leaderEpoch})`,
        nodes: unusable,
        epoch: after.leaderEpoch,
      });
    }
    if (after.leader !== before.leader && after.leader !== null) {
      if (!this.#image.isUsable(after.leader)) {
        this.#log.report({
          invariant: 'isr-valid',
          atMs,
          message: `${this.#label(key)}: fenced, shutting-down or unregistered ${after.leader} elected in leader epoch ${after.leaderEpoch}`,
          nodes: [after.leader],
          epoch: after.leaderEpoch,
        });
      }
      if (after.leaderRecoveryState === 'RECOVERING')
        this.ledger(key).uncleanElections.push({ epoch: after.leaderEpoch, atMs });
    }
  }

  // ---- the ledger ----------------------------------------------------------------------------

  /** `known`: the replica's shadow if it has one (#shadowOf's). Returns its shadow. */
  #syncReplica(brokerId: string, replica: Replica, known: Shadow | undefined): Shadow {
    // A replica object always has the same shadow: look it up by name only for a new object.
    const id = known === undefined ? `${brokerId}|${replica.key}` : '';
    let shadow = known ?? this.#shadows.get(id);
    if (shadow === undefined) {
      shadow = {
        replica,
        truncations: 0,
        broker: brokerId,
        key: replica.key,
        ledger: this.ledger(replica.key),
        bit: 0,
        ids: new Int32Array(COLUMN_CAPACITY_MIN),
        length: 0,
        highWatermark: 0,
        batchIndex: 0,
        lossyCrashesSeen: this.#lossyCrashCount(brokerId),
        leaderEpochSeen: -1,
        leaderHighWatermark: -1,
        reportedOutside: '',
      };
      this.#shadows.set(id, shadow);
      // A replica first seen after a restart (the checker saw none before): its log is what it is.
      shadow.truncations = replica.log.truncations;
    }
    if (shadow.replica !== replica) this.#onReopened(shadow, replica);
    else if (replica.log.truncations !== shadow.truncations) {
      shadow.truncations = replica.log.truncations;
      this.#removeFrom(shadow, replica.logEndOffset, null);
    }
    if (replica.logEndOffset > shadow.length) this.#appendTo(shadow, replica);
    this.#checkHighWatermark(shadow, replica);
    // A shadow handed in already is #shadowOf's for this replica (a shadow's replica is always
    // entered there with it): a WeakMap store only for a shadow found by name or new.
    if (known !== shadow) this.#shadowOf.set(replica, shadow);
    return shadow;
  }

  /** The broker restarted (or the topic's replica was recreated): what did the disk keep? */
  #onReopened(shadow: Shadow, replica: Replica): void {
    // A lossy crash since the shadow last matched the log (there may have been kills after it).
    const lossyCrashes = this.#lossyCrashCount(shadow.broker);
    const lossy = lossyCrashes > shadow.lossyCrashesSeen;
    shadow.lossyCrashesSeen = lossyCrashes;
    // Records past what the disk kept were lost in the crash; a truncation since the log was opened
    // (a new follower truncating at once) removed the rest.
    this.#removeFrom(shadow, replica.openedLogEndOffset, lossy ? 'lossy-crash' : 'restart');
    shadow.replica = replica;
    shadow.truncations = replica.log.truncations;
    shadow.highWatermark = Math.min(shadow.highWatermark, replica.highWatermark);
    shadow.leaderEpochSeen = -1;
    shadow.leaderHighWatermark = -1;
    if (replica.logEndOffset < shadow.length) this.#removeFrom(shadow, replica.logEndOffset, null);
    // The kept prefix must be the records the shadow saw (a crash keeps a prefix).
    const last = replica.logEndOffset - 1;
    if (last >= 0 && last < shadow.length) {
      const value = valueAt(replica, last);
      const held = shadowValue(shadow, last);
      if (value !== held) {
        this.#log.report({
          invariant: 'committed-prefix-agrees',
          atMs: this.#cluster.world.nowMs,
          message: `${shadow.key} on ${shadow.broker}: after a restart offset ${last} holds ${value}, before it held ${held}`,
          nodes: [shadow.broker],
          offset: last,
        });
      }
    }
  }

  /**
   * Why a truncation removed a record: it follows a leader elected uncleanly after the record was
   * committed, or in a later epoch than the one it was committed in (a fenced leader cut off from
   * the controller commits in its old epoch after the election): an allowed loss; or plain
   * truncation.
   */
  #truncationCause(ledger: PartitionLedger, leaderEpoch: number, id: number): RemovalCause {
    const elections = ledger.uncleanElections;
    // Most partitions never had one: nothing to read about the record.
    if (elections.length === 0) return 'truncation';
    const since = ledger.committedAtMsOf(id) ?? Number.NEGATIVE_INFINITY;
    const committedInEpoch = ledger.committedInEpochOf(id);
    for (let index = 0; index < elections.length; index++) {
      const election = elections[index] as { epoch: number; atMs: Ms };
      if (
        election.epoch <= leaderEpoch &&
        (election.atMs >= since || election.epoch > committedInEpoch)
      )
        return 'unclean';
    }
    return 'truncation';
  }

  /** `cause` null: a truncation, judged per record (#truncationCause). */
  #removeFrom(shadow: Shadow, endOffset: number, cause: RemovalCause | null): void {
    if (endOffset >= shadow.length) return;
    const ledger = shadow.ledger;
    const from = Math.max(0, endOffset);
    const end = shadow.length;
    shadow.length = from;
    for (let offset = from; offset < end; offset++) {
      const id = shadow.ids[offset] as number;
      if (id === NONE) continue;
      // The shadow held the record: its bit was taken then (#appendTo).
      ledger.release(
        id,
        shadow.bit,
        shadow.broker,
        cause ?? this.#truncationCause(ledger, shadow.replica.leaderEpoch, id),
      );
      if (ledger.holdersOf(id) === 0 && ledger.isCommitted(id) && !ledger.isJudged(id))
        this.#judgeLoss(
          ledger,
          id,
          this.#invariantFor(ledger.valueOf(id), 'committed-read-stable'),
        );
    }
    shadow.highWatermark = Math.min(shadow.highWatermark, shadow.length);
  }

  #appendTo(shadow: Shadow, replica: Replica): void {
    const ledger = shadow.ledger;
    // Held, not asked for: bitOf searches the partition's brokers, at every append.
    if (shadow.bit === 0) shadow.bit = ledger.bitOf(shadow.broker);
    const bit = shadow.bit;
    const from = shadow.length;
    // Room for the whole log at once (offsets are dense from 0: the LEO is its length).
    if (replica.logEndOffset > shadow.ids.length)
      shadow.ids = grownColumn(shadow.ids, replica.logEndOffset);
    const ids = shadow.ids;
    let length = from;
    // The log's own batches from `from` on, read in place (a read would copy them into an array).
    const batches = replica.log.batches();
    for (let b = startBatch(replica, batches, from, shadow.batchIndex); b < batches.length; b++) {
      const batch = batches[b] as RecordBatch;
      const records = batch.records;
      const epoch = batch.leaderEpoch;
      for (let r = 0; r < records.length; r++) {
        const record = records[r] as LogRecord;
        if (record.offset < from) continue;
        const value = record.value;
        if (value === null) {
          ids[length++] = NONE;
          continue;
        }
        const id = ledger.find(record.offset, value, epoch);
        if (id === NONE) ids[length++] = ledger.add(record.offset, value, epoch, bit);
        else {
          ids[length++] = id;
          ledger.hold(id, bit, shadow.broker);
        }
      }
    }
    if (length !== replica.logEndOffset) {
      throw new AssertionError(
        `data checker: ${shadow.key} on ${shadow.broker} read up to offset ${length}, its LEO is ${replica.logEndOffset}`,
      );
    }
    shadow.length = length;
    shadow.batchIndex = batches.length;
  }

  #checkHighWatermark(shadow: Shadow, replica: Replica): void {
    const atMs = this.#cluster.world.nowMs;
    const highWatermark = replica.highWatermark;
    const outside =
      highWatermark < replica.log.logStartOffset || highWatermark > replica.logEndOffset
        ? `${highWatermark}/${replica.log.logStartOffset}/${replica.logEndOffset}`
        : '';
    if (outside !== '' && shadow.reportedOutside !== outside) {
      // Once per (HW, log start, LEO): the condition holds until one of them moves.
      shadow.reportedOutside = outside;
      this.#log.report({
        invariant: 'hw-within-log',
        atMs,
        message: `${shadow.key} on ${shadow.broker}: HW ${highWatermark} outside [${replica.log.logStartOffset}, ${replica.logEndOffset}]`,
        nodes: [shadow.broker],
        offset: highWatermark,
      });
    }
    if (replica.role === 'leader') {
      if (
        shadow.leaderEpochSeen === replica.leaderEpoch &&
        highWatermark < shadow.leaderHighWatermark
      ) {
        this.#log.report({
          invariant: 'committed-read-stable',
          atMs,
          message: `${shadow.key}: leader ${shadow.broker}'s HW went back from ${shadow.leaderHighWatermark} to ${highWatermark} in leader epoch ${replica.leaderEpoch}`,
          nodes: [shadow.broker],
          epoch: replica.leaderEpoch,
        });
      }
      shadow.leaderEpochSeen = replica.leaderEpoch;
      shadow.leaderHighWatermark = highWatermark;
    }
    if (highWatermark <= shadow.highWatermark) {
      shadow.highWatermark = Math.min(highWatermark, shadow.length);
      return;
    }
    // A follower's HW restored from its checkpoint, no leader having set it since, commits and
    // judges nothing: it may predate a lossy crash or a truncation and cover records rewritten
    // since (Kafka's too; nobody reads a follower's HW). A leader's counts however it came (Kafka
    // serves reads below it). Small seed 36149: a restarted follower's HW 260, from a checkpoint
    // written before its power failure, seemed to commit records no leader's HW ever covered.
    if (replica.highWatermarkRestored && replica.role !== 'leader') return;
    const upTo = Math.min(highWatermark, shadow.length);
    for (let offset = shadow.highWatermark; offset < upTo; offset++) {
      const mine = shadow.ids[offset] as number;
      if (mine === NONE) continue;
      const committed = shadow.ledger.committedIdAt(offset);
      if (committed === mine) continue;
      if (committed === NONE) {
        shadow.ledger.commit(offset, mine, atMs, shadow.bit);
        if (!shadow.ledger.isCommitted(mine))
          shadow.ledger.markCommitted(mine, atMs, replica.leaderEpoch);
        continue;
      }
      this.#coverOtherRecord(shadow, replica, offset, mine, committed);
    }
    shadow.highWatermark = upTo;
  }

  /**
   * The shadow's HW covers record `mine` at `offset`, where another record, `committed`, was
   * committed.
   */
  #coverOtherRecord(
    shadow: Shadow,
    replica: Replica,
    offset: number,
    mine: number,
    committed: number,
  ): void {
    const { ledger } = shadow;
    const atMs = this.#cluster.world.nowMs;
    const highWatermark = replica.highWatermark;
    const value = ledger.valueOf(mine);
    // A committed record an unclean election dropped (its loss judged and allowed already),
    // below the HW of a replica that has not truncated it yet (a fenced leader, or its
    // follower, cut off from the controller): counted once, and the committed one stays.
    if (ledger.isJudged(mine) && ledger.lostTo(mine, 'unclean')) return;
    // Another record now sits below a HW where a committed one sat: the committed one is lost.
    const committedBy = ledger.committedByAt(offset);
    const committedAtMs = ledger.committedAtMsAt(offset);
    ledger.commit(offset, mine, atMs, shadow.bit);
    if (!ledger.isCommitted(mine)) ledger.markCommitted(mine, atMs, replica.leaderEpoch);
    if (ledger.isJudged(committed)) return;
    // Overwritten by a replica that follows an unclean election (the loss that allows), or
    // covered by one still in an epoch before an unclean election the committed record came
    // after (a fenced leader, or its follower, cut off from the controller, exposing the
    // lineage that election dropped): the same allowed loss.
    const committedInEpoch = ledger.committedInEpochOf(committed);
    // The same value under another leader (a retry without idempotence): named by epochs too.
    const sameValue = value === ledger.valueOf(committed);
    if (
      this.#truncationCause(ledger, replica.leaderEpoch, committed) === 'unclean' ||
      ledger.uncleanElections.some(
        (election) => election.epoch > replica.leaderEpoch && election.epoch <= committedInEpoch,
      )
    )
      ledger.noteLost(committed, shadow.broker, 'unclean');
    this.#judgeLoss(
      ledger,
      committed,
      this.#invariantFor(
        ledger.valueOf(committed),
        replica.role === 'leader' ? 'committed-read-stable' : 'committed-prefix-agrees',
      ),
      `${shadow.broker}'s HW ${highWatermark} covers ${sameValue ? `${value} (leader epoch ${ledger.epochOf(mine)})` : value} at offset ${offset}, where ${sameValue ? `${value} (leader epoch ${ledger.epochOf(committed)})` : ledger.valueOf(committed)} was committed by ${committedBy} at ${committedAtMs} ms`,
      sameValue
        ? {
            node: shadow.broker,
            value,
            highWatermark,
            epoch: ledger.epochOf(mine),
            committedEpoch: ledger.epochOf(committed),
          }
        : { node: shadow.broker, value, highWatermark },
    );
  }

  /** How people name a partition: `orders-1` for the ledger key `orders-7-1`. */
  #label(key: string): string {
    const where = this.#where(key);
    return where.topic === undefined ? key : `${where.topic}-${where.partition}`;
  }

  /** The topic name and partition number of a ledger key (`orders-7-1` → orders, 1). */
  #where(key: string): { topic?: string; partition?: number } {
    for (const topic of this.#image.topics.values()) {
      if (!key.startsWith(`${topic.topicId}-`)) continue;
      const partition = Number(key.slice(topic.topicId.length + 1));
      if (topic.partitions.has(partition)) return { topic: topic.name, partition };
    }
    return {};
  }

  /** An acknowledged write's loss breaks acked-write-durable; any other committed record's, `otherwise`. */
  #invariantFor(value: string, otherwise: string): string {
    const history = this.#history;
    for (; this.#historySeen < history.length; this.#historySeen++) {
      const index = this.#historySeen;
      if (history.fAt(index) !== 'send' || history.typeAt(index) !== 'ok') continue;
      const value = history.valueAt(index);
      if (value != null) this.#acked.set(value, history.acksAt(index) ?? 'all');
    }
    return this.#acked.has(value) ? 'acked-write-durable' : otherwise;
  }

  /** Why a committed record may be gone, or null when the contract does not allow it. */
  #allowedReason(ledger: PartitionLedger, id: number): LossReason | null {
    if (ledger.lostTo(id, 'unclean')) return 'unclean-election';
    const everHeld = ledger.everHeldOf(id);
    if (
      everHeld !== 0 &&
      ledger.brokersIn(everHeld).every((broker) => ledger.lostHow(id, broker) === 'lossy-crash')
    )
      return 'lossy-crashes';
    if (this.#mode === 'zk' && ledger.lostTo(id, 'lossy-crash')) return 'last-replica-standing';
    return null;
  }

  /** Record `id` is lost: an allowed loss or a violation of `invariant`. */
  #judgeLoss(
    ledger: PartitionLedger,
    id: number,
    invariant: string,
    detail?: string,
    heldInstead?: HeldInstead,
  ): void {
    ledger.markJudged(id);
    const atMs = this.#cluster.world.nowMs;
    const reason = this.#allowedReason(ledger, id);
    const everHeld = ledger.brokersIn(ledger.everHeldOf(id));
    const holders: Record<string, string> = {};
    for (const broker of everHeld)
      holders[broker] =
        (ledger.holdersOf(id) & ledger.bitOf(broker)) !== 0
          ? 'holds it'
          : (ledger.lostHow(id, broker) ?? 'never had it');
    // What became of it on each replica, in words (`holders` keeps the causes' names): after why
    // it is lost, since a replica may still hold a record that is lost from the committed log.
    const how = Object.entries(holders)
      .map(([broker, what]) => `${broker} ${FATE_WORDS[what] ?? what}`)
      .join(', ');
    const value = ledger.valueOf(id);
    const offset = ledger.offsetOf(id);
    const committedAtMs = ledger.committedAtMsOf(id);
    const message = `${this.#label(ledger.key)}: committed record ${value} (offset ${offset}, committed at ${committedAtMs} ms) is lost${detail === undefined ? '' : `: ${detail}`} (its replicas: ${how})`;
    const where = { ...this.#where(ledger.key), offset, value };
    if (reason !== null) this.#log.allow({ reason, atMs, message, ...where });
    else {
      this.#log.report({
        invariant,
        atMs,
        message,
        ...where,
        nodes: everHeld,
        ...(committedAtMs === null ? {} : { committedAtMs }),
        holders,
        ...(heldInstead === undefined ? {} : { heldInstead }),
      });
    }
  }

  // ---- the end of the run --------------------------------------------------------------------

  /** After healing: the history against the final logs. */
  finish(options: {
    /** The producers (history processes) with idempotence on: no-duplicates is about their writes. */
    readonly idempotentProducers: ReadonlySet<string>;
    readonly retired?: ReadonlySet<string>;
  }): void {
    this.#retired = options.retired ?? new Set();
    // The shared watch's owner looks no more after the run: what was entered since its last look.
    this.#sharedActivity?.look();
    this.check();
    const atMs = this.#cluster.world.nowMs;
    // The history up to here (check() took it in, but for a caller that skipped the checks).
    this.#readNewHistory();
    const finalLogs = this.#finalRead();
    this.#checkEveryRead(finalLogs, atMs);
    this.#checkEveryAckedWrite(finalLogs, atMs);
    this.#checkFinalReplicas(finalLogs, atMs);
    if (options.idempotentProducers.size > 0)
      this.#checkNoDuplicates(finalLogs, atMs, options.idempotentProducers);
    for (const { process, f, fields } of this.#history.openOperations()) {
      if (f !== 'send' || fields.value == null) continue;
      this.#log.report({
        invariant: 'writes-resolve',
        atMs,
        message: `${process}'s write ${fields.value} to ${fields.topic}${fields.partition >= 0 ? `-${fields.partition}` : ' (no partition chosen yet)'} is still unresolved after healing`,
      });
    }
  }

  // The end of the run's loops each run once per run over every record or history entry: they sit
  // in small functions of their own (and the work per item in another), which V8 optimises on
  // their own and keeps optimised from one run to the next. Inline in `finish`, they made it one
  // large function, compiled on the stack (OSR) again and again as each new path deoptimised it.

  /**
   * Every consumer read: a record committed at that offset, and still there (or lost as allowed).
   * In the order read.
   */
  #checkEveryRead(finalLogs: ReadonlyMap<string, FinalLog>, atMs: Ms): void {
    for (let index = 0; index < this.#readPartitions.length; index++) {
      const client = this.#readPartitions[index] as ClientPartition;
      // The partition the topic's name stands for now (none: a topic never created).
      const key = this.#keyOf(client.topic, client.partition);
      if (key === null) continue;
      const target = { key, ledger: this.ledger(key), leaderLog: finalLogs.get(key) };
      this.#checkReads(target, client.reads as HistoryRecords, atMs);
    }
  }

  /** Every acknowledged write, per its acks. */
  #checkEveryAckedWrite(finalLogs: ReadonlyMap<string, FinalLog>, atMs: Ms): void {
    const acked = this.#ackedWrites;
    // By client partition, found once each (the end of a run asks for every write's), all before
    // the first write: found at a partition's first write instead, in a run's first slice only,
    // that path ran before V8 kept feedback, and the next run's first write threw the code away.
    // (A partition without writes may get its ledger made here, empty: no later check reads it.)
    const targets = objectArray<FinalTarget | null>();
    for (let index = 0; index < this.#clientPartitions.length; index++)
      targets.push(this.#finalTarget(this.#clientPartitions[index] as ClientPartition, finalLogs));
    // In slices, in order: a loop over every write, in a method called once a run, was compiled
    // afresh (on the stack) in each run; a slice's method, called many times, keeps its code.
    for (let from = 0; from < acked.count; from += ACKED_SLICE)
      this.#checkAckedWrites(from, Math.min(from + ACKED_SLICE, acked.count), targets, atMs);
  }

  /** The acknowledged writes `from` to `to` (#checkEveryAckedWrite), `targets` by client partition. */
  #checkAckedWrites(from: number, to: number, targets: (FinalTarget | null)[], atMs: Ms): void {
    const acked = this.#ackedWrites;
    for (let index = from; index < to; index++) {
      const target = targets[acked.places[index] as number] as FinalTarget | null;
      if (target === null) continue;
      // The common case: found at its offset in the partition's ledger, and committed there.
      const id = acked.ids[index] as number;
      if (acked.ledgers[index] === target.ledger.number && target.ledger.isCommitted(id)) {
        this.#judgeFinal(target, id, 'acked-write-durable');
        continue;
      }
      const entry = acked.entries[index] as number;
      this.#checkAckedWrite(entry, this.#history.valueAt(entry) as string, target, atMs);
    }
  }

  /** A partition's ledger key, ledger and final leader's log; null for a topic never created. */
  #finalTarget(
    client: ClientPartition,
    finalLogs: ReadonlyMap<string, FinalLog>,
  ): FinalTarget | null {
    const key = this.#keyOf(client.topic, client.partition);
    return key === null ? null : { key, ledger: this.ledger(key), leaderLog: finalLogs.get(key) };
  }

  /** One poll's records of a partition: each committed at its offset, and still there. */
  #checkReads(target: FinalTarget, reads: HistoryRecords, atMs: Ms): void {
    const { key, ledger } = target;
    const neverCommitted = new Set<string>();
    for (let index = 0; index < reads.count; index++) {
      // The record read, as found when it was read, in the ledger of its partition then: or, not
      // found then, from the history.
      const number = reads.ledgers[index] as number;
      const found = number === NONE ? undefined : this.#ledgerList[number];
      let offset: number;
      let value: string;
      if (found === undefined) {
        const entry = reads.entries[index] as number;
        const position = reads.places[index] as number;
        offset = this.#history.recordOffsetAt(entry, position);
        value = this.#history.recordValueAt(entry, position) as string;
      } else {
        offset = found.offsetOf(reads.ids[index] as number);
        value = found.valueOf(reads.ids[index] as number);
      }
      const id = found === ledger ? (reads.ids[index] as number) : ledger.findNamed(offset, value);
      if (id === NONE || !ledger.isCommitted(id)) {
        if (neverCommitted.has(recordId(offset, value))) continue;
        neverCommitted.add(recordId(offset, value));
        this.#log.report({
          invariant: 'committed-read-stable',
          atMs,
          message: `${this.#label(key)}: a consumer read ${value} at offset ${offset}, which no replica's HW ever covered there`,
          offset,
        });
        continue;
      }
      // A record read twice (again after a truncation) is judged twice, to the same verdict.
      this.#judgeFinal(target, id, 'committed-read-stable');
    }
  }

  /** An acknowledged write (its ok entry the history's `entry`), per its acks. */
  #checkAckedWrite(entry: number, value: string, target: FinalTarget, atMs: Ms): void {
    const offset = this.#history.offsetAt(entry);
    if (offset !== undefined) {
      // The common case: one offset, committed there.
      const id = target.ledger.findNamed(offset, value);
      if (id !== NONE && target.ledger.isCommitted(id)) {
        this.#judgeFinal(target, id, 'acked-write-durable');
        return;
      }
    }
    this.#checkAckedElsewhere(entry, value, target, atMs);
  }

  /** An acknowledged write (its ok entry the history's `entry`) not committed at its offset (or acks=0, with none). */
  #checkAckedElsewhere(entry: number, value: string, target: FinalTarget, atMs: Ms): void {
    const { key, ledger, leaderLog } = target;
    const history = this.#history;
    const offset = history.offsetAt(entry);
    const acks = history.acksAt(entry);
    // acks=0 has no offset: any offset the value was appended at.
    const offsets = offset === undefined ? ledger.offsetsOf(value) : [offset];
    const committed = offsets
      .map((at) => ledger.findNamed(at, value))
      .filter((id) => id !== NONE && ledger.isCommitted(id));
    if (committed.length > 0) {
      for (const id of committed) this.#judgeFinal(target, id, 'acked-write-durable');
      return;
    }
    if (
      leaderLog !== undefined &&
      offsets.some((at) => finalValueAt(leaderLog.shadow, at) === value)
    )
      return;
    if (acks === 'all') {
      this.#log.report({
        invariant: 'acked-write-durable',
        atMs,
        message: `${this.#label(key)}: acks=all write ${value} acknowledged at offset ${offset} was never committed there and is gone`,
        ...(offset === undefined ? {} : { offset }),
      });
    } else {
      this.#log.allow({
        reason: acks === '0' ? 'acks-0' : 'acks-1',
        atMs,
        topic: history.topicAt(entry),
        partition: history.partitionAt(entry),
        ...(offset === undefined ? {} : { offset }),
        value,
        message: `${this.#label(key)}: acks=${acks} write ${value} (offset ${offset ?? '?'}) was never committed and is gone`,
      });
    }
  }

  /** A committed record missing from the final leader's log: judge it once. */
  #judgeFinal(target: FinalTarget, id: number, invariant: string): void {
    const ledger = target.ledger;
    if (ledger.isJudged(id)) return;
    const leaderLog = target.leaderLog;
    if (leaderLog === undefined) {
      // Offline (no leader): the record must still be on some replica's disk.
      if (ledger.holdersOf(id) === 0) this.#judgeLoss(ledger, id, invariant);
      return;
    }
    // The final leader holds this very record (a shadow of that partition holds the ledger's ids).
    const offset = ledger.offsetOf(id);
    if (offset < leaderLog.shadow.length && leaderLog.shadow.ids[offset] === id) return;
    // A final leader elected uncleanly after the commit (RECOVERING: unclean.leader.election.enable,
    // or the last known leader back from an unclean shutdown, KIP-966) may lack it: the loss that
    // election allows, though a replica that does not lead (a removed broker) may still hold it.
    if (this.#truncationCause(ledger, leaderLog.leaderEpoch, id) === 'unclean')
      ledger.noteLost(id, leaderLog.broker, 'unclean');
    this.#judgeLoss(ledger, id, invariant, `the final leader ${leaderLog.broker} does not hold it`);
  }

  #keyOf(topic: string, partition: number): string | null {
    const topicId = this.#image.topicIdsByName.get(topic);
    if (topicId === undefined) return null;
    // Built once per partition: the end of a run asks for every record's.
    let keys = this.#keys.get(topicId);
    if (keys === undefined) {
      keys = [];
      this.#keys.set(topicId, keys);
    }
    let key = keys[partition];
    if (key === undefined) {
      key = `${topicId}-${partition}`;
      keys[partition] = key;
    }
    return key;
  }

  /** Every replica's log, written to the history as final reads; returns the leaders' logs. */
  #finalRead(): Map<string, FinalLog> {
    const leaders = new Map<string, FinalLog>();
    for (const topic of this.#image.topics.values()) {
      const numbers = [...topic.partitions.keys()].sort((a, b) => a - b);
      for (const number of numbers) {
        const state = topic.partitions.get(number);
        if (state === undefined) continue;
        for (const brokerId of state.replicas) {
          const replica = brokerOf(this.#cluster, brokerId)?.replicaManager.replica(
            topic.topicId,
            number,
          );
          if (replica === undefined) continue;
          this.#readFinalLog(brokerId, topic.name, number, replica);
          if (brokerId === state.leader) {
            leaders.set(`${topic.topicId}-${number}`, {
              broker: brokerId,
              shadow: this.#finalShadow(replica),
              highWatermark: replica.highWatermark,
              leaderEpoch: replica.leaderEpoch,
            });
          }
        }
      }
    }
    return leaders;
  }

  /** One replica's final log, written to the history as a final read. */
  #readFinalLog(brokerId: string, topic: string, partition: number, replica: Replica): void {
    const batches = replica.log.batches().slice();
    this.#history.finalRead(brokerId, topic, partition, () => {
      const records: HistoryRecord[] = [];
      for (const batch of batches)
        for (const record of batch.records) records.push([record.offset, record.key, record.value]);
      return records;
    });
  }

  /**
   * A replica's shadow at the end of the run: its final log, record by record (the final checks
   * read it instead of the log's batches: ids by offset, no copy of the values). `finish` checked
   * every broker first, so every running replica's shadow holds its log.
   */
  #finalShadow(replica: Replica): Shadow {
    const shadow = this.#shadowOf.get(replica);
    if (
      shadow === undefined ||
      shadow.replica !== replica ||
      shadow.truncations !== replica.log.truncations ||
      shadow.length !== replica.logEndOffset
    )
      throw new AssertionError(`data checker: no up-to-date shadow of ${replica.key} at the end`);
    return shadow;
  }

  /** After healing every replica holds the leader's log and the ISR is full again. */
  #checkFinalReplicas(leaders: ReadonlyMap<string, FinalLog>, atMs: Ms): void {
    for (const topic of this.#image.topics.values()) {
      for (const state of topic.partitions.values()) {
        const key = `${topic.topicId}-${state.partition}`;
        const leaderLog = leaders.get(key);
        if (leaderLog === undefined) continue;
        const expected = state.replicas.filter((id) => !this.#retired.has(id));
        if (expected.some((id) => !state.isr.includes(id))) {
          this.#log.report({
            invariant: 'acked-fully-replicated',
            atMs,
            message: `${this.#label(key)}: ISR [${state.isr.join(',')}] is not all replicas [${state.replicas.join(',')}] after healing`,
            ...this.#where(key),
            nodes: expected.filter((id) => !state.isr.includes(id)),
            epoch: state.leaderEpoch,
          });
        }
        for (const brokerId of expected) {
          if (brokerId === leaderLog.broker) continue;
          const replica = brokerOf(this.#cluster, brokerId)?.replicaManager.replica(
            topic.topicId,
            state.partition,
          );
          // A replica of a broker that is down holds nothing here, as a final read finds it.
          const shadow = replica === undefined ? null : this.#finalShadow(replica);
          // A HW no leader has set since the log opened says nothing (see #checkHighWatermark).
          const followerHighWatermark =
            replica === undefined || replica.highWatermarkRestored ? 0 : replica.highWatermark;
          const committedEnd = Math.min(leaderLog.highWatermark, followerHighWatermark);
          const offset = firstDifference(shadow, leaderLog.shadow, committedEnd);
          if (offset >= 0) {
            this.#log.report({
              invariant: 'committed-prefix-agrees',
              atMs,
              message: `${this.#label(key)}: below the HW ${brokerId} holds ${finalNameAt(shadow, offset, leaderLog.shadow)} at offset ${offset}, the leader ${leaderLog.broker} ${finalNameAt(leaderLog.shadow, offset, shadow)}`,
              ...this.#where(key),
              offset,
              nodes: [brokerId, leaderLog.broker],
            });
          }
          const length = shadow === null ? 0 : shadow.length;
          if (length < leaderLog.highWatermark) {
            this.#log.report({
              invariant: 'acked-fully-replicated',
              atMs,
              message: `${this.#label(key)}: ${brokerId} ends at offset ${length}, below the leader ${leaderLog.broker}'s HW ${leaderLog.highWatermark}, after healing`,
              ...this.#where(key),
              nodes: [brokerId],
            });
          }
        }
      }
    }
  }

  #checkNoDuplicates(
    leaders: ReadonlyMap<string, FinalLog>,
    atMs: Ms,
    idempotentProducers: ReadonlySet<string>,
  ): void {
    // Only idempotent producers' values: a retry of any other producer may land twice, as in Kafka.
    const idempotentValues = new Set<string>();
    const history = this.#history;
    for (let index = 0; index < history.length; index++) {
      if (history.fAt(index) !== 'send' || history.typeAt(index) !== 'invoke') continue;
      const value = history.valueAt(index);
      if (value != null && idempotentProducers.has(history.processAt(index)))
        idempotentValues.add(value);
    }
    for (const [key, leaderLog] of leaders) {
      const seen = new Map<string, number>();
      for (let offset = 0; offset < leaderLog.shadow.length; offset++) {
        const value = shadowValue(leaderLog.shadow, offset);
        if (value == null || !idempotentValues.has(value)) continue;
        const first = seen.get(value);
        if (first !== undefined) {
          this.#log.report({
            invariant: 'no-duplicates',
            atMs,
            message: `${this.#label(key)}: ${value} appears at offsets ${first} and ${offset} with idempotence on`,
            offset,
          });
          break;
        }
        seen.set(value, offset);
      }
    }
  }
}

interface FinalLog {
  readonly broker: string;
  /** Its records by offset, as the final read lists them (#finalShadow). */
  readonly shadow: Shadow;
  readonly highWatermark: number;
  readonly leaderEpoch: number;
}

/** A partition as the end of the run checks it. */
interface FinalTarget {
  readonly key: string;
  readonly ledger: PartitionLedger;
  /** The final leader's log (undefined: the partition is offline). */
  readonly leaderLog: FinalLog | undefined;
}

/** The value at an offset of a final log (undefined past its end), as the final read lists it. */
function finalValueAt(shadow: Shadow | null, offset: number): string | null | undefined {
  if (shadow === null || offset >= shadow.length) return undefined;
  return shadowValue(shadow, offset);
}

/**
 * The record `shadow` holds at `offset`, named by its value, and by its leader epoch too when
 * `other` holds another record of the same value there (a copy appended under another leader).
 */
function finalNameAt(shadow: Shadow | null, offset: number, other: Shadow | null): string {
  const value = finalValueAt(shadow, offset);
  if (value === undefined || value === null || value !== finalValueAt(other, offset))
    return String(value);
  const ledger = (shadow as Shadow).ledger;
  return `${value} (leader epoch ${ledger.epochOf((shadow as Shadow).ids[offset] as number)})`;
}

/**
 * The first offset below `end` where a follower's final log holds another record than the
 * leader's, or -1; past the end of one log, and below the other's, the two differ (one holds
 * nothing there). Both are shadows of the partition: the same record is the same id.
 */
function firstDifference(follower: Shadow | null, leader: Shadow, end: number): number {
  const length = follower === null ? 0 : follower.length;
  const common = Math.min(end, length, leader.length);
  const past = common < end && length !== leader.length ? common : -1;
  if (follower === null) return past;
  const offset = firstUnequal(follower.ids, leader.ids, common);
  return offset < common ? offset : past;
}

/**
 * The first offset below `end` where `a` and `b` differ, or `end`. A loop of its own, with nothing
 * after it: ended inside firstDifference, its code compiled on the stack (called a few dozen
 * times a run) had no feedback for what followed the loop, and was thrown away at every call.
 */
function firstUnequal(a: Int32Array, b: Int32Array, end: number): number {
  let offset = 0;
  while (offset < end && a[offset] === b[offset]) offset++;
  return offset;
}

/**
 * The index of the first batch whose last offset is ≥ `from` (batchIndexOf's answer): `guess` when
 * it is that batch, which it is unless the log was truncated or trimmed since the guess was made.
 */
function startBatch(
  replica: Replica,
  batches: readonly RecordBatch[],
  from: number,
  guess: number,
): number {
  if (
    guess <= batches.length &&
    (guess === 0 || (batches[guess - 1] as RecordBatch).lastOffset < from) &&
    (guess === batches.length || (batches[guess] as RecordBatch).lastOffset >= from)
  )
    return guess;
  return replica.log.batchIndexOf(from);
}

function valueAt(replica: Replica, offset: number): string | null {
  for (const batch of replica.log.read(offset, 0)) {
    for (const record of batch.records) if (record.offset === offset) return record.value;
  }
  return null;
}

/** The value of the record at `offset` in a shadow (below its length). */
function shadowValue(shadow: Shadow, offset: number): string | null {
  const id = shadow.ids[offset] as number;
  return id === NONE ? null : shadow.ledger.valueOf(id);
}
