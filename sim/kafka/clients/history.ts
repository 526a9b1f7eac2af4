// The clients' history, in the shape of Jepsen's Kafka workload (DESIGN.md, "--history FILE"):
// every client operation is an `invoke` followed by exactly one completion:
//   ok    it happened (a send was acknowledged at an offset, a poll returned records)
//   fail  it definitely did not happen: no attempt could have written
//   info  indeterminate: some attempt timed out or got NOT_ENOUGH_REPLICAS_AFTER_APPEND, so the
//         record may still become visible, even if a later retry failed cleanly
// The `final-read` lines, one per replica and partition after the heal phase, close the history.
// The history is the input of the end-of-run checkers; it is written as JSON Lines for external ones.

import { objectArray } from '../../kernel/arrays.ts';
import { AssertionError } from '../../kernel/assert.ts';
import { grownColumn } from '../../kernel/columns.ts';
import type { Ms } from '../../kernel/time.ts';

export type OperationType = 'invoke' | 'ok' | 'fail' | 'info';
export type OperationFunction = 'send' | 'poll' | 'final-read';
export type Acks = '0' | '1' | 'all';

/** A record as histories list them: [offset, key, value]. */
export type HistoryRecord = readonly [number, string | null, string | null];

/** A record a poll read, as an object that never changes (a log's own record, as a consumer reads it). */
export interface PolledRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

export interface HistoryEntry {
  readonly index: number;
  readonly atMs: Ms;
  readonly process: string;
  readonly type: OperationType;
  readonly f: OperationFunction;
  readonly acks?: Acks | undefined;
  readonly topic: string;
  readonly partition: number;
  readonly key?: string | null | undefined;
  readonly value?: string | null | undefined;
  readonly offset?: number | undefined;
  readonly error?: string | undefined;
  readonly records?: readonly HistoryRecord[] | undefined;
  readonly replica?: string | undefined;
}

type Fields = Omit<HistoryEntry, 'index' | 'atMs' | 'process' | 'type' | 'f'>;

const FIELD_NAMES = [
  'acks',
  'topic',
  'partition',
  'key',
  'value',
  'offset',
  'error',
  'records',
  'replica',
] as const satisfies readonly (keyof Fields)[];

/** How an entry is stored (History's #kinds): an object, or a send's or a poll's columns. */
const OBJECT = 0;
const SEND_INVOKE = 1;
const SEND_OK = 2;
const POLL_INVOKE = 3;
const POLL_OK = 4;

/** The f and type of the entries of each kind kept in columns, by kind (OBJECT: null). */
const COLUMN_KINDS: readonly ({
  readonly f: OperationFunction;
  readonly type: OperationType;
} | null)[] = [
  null,
  { f: 'send', type: 'invoke' },
  { f: 'send', type: 'ok' },
  { f: 'poll', type: 'invoke' },
  { f: 'poll', type: 'ok' },
];

/** What a producer's sends repeat: stored once (History's #sources). */
interface Source {
  readonly process: string;
  readonly acks: Acks;
  readonly topic: string;
}

/** Columns start this long and double as they fill. */
const CAPACITY_MIN = 1024;

/** A ChunkedList's chunks hold 2 ** CHUNK_BITS items (8 KB of pointers). */
const CHUNK_BITS = 10;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;

/**
 * A list that only grows (to the end of the run), kept in chunks of CHUNK_SIZE items. A producer
 * and a consumer add an item per record: pushed into one array kept for the run, each item was a
 * pointer from an old object to a young one (a write barrier's slow path, and a slot for every
 * young-generation GC to visit) and the array's growth copied it again and again. A chunk is
 * young while it fills, so storing into it is a plain store; it is copied (8 KB) once or twice.
 */
class ChunkedList<T> {
  readonly #chunks: T[][] = objectArray();
  #last: T[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    const at = this.#length & CHUNK_MASK;
    if (at === 0) {
      this.#last = new Array<T>(CHUNK_SIZE);
      this.#chunks.push(this.#last);
    }
    this.#last[at] = item;
    this.#length++;
  }

  /** The item at `index` (< length). */
  at(index: number): T {
    return (this.#chunks[index >>> CHUNK_BITS] as T[])[index & CHUNK_MASK] as T;
  }
}

/** What History reads the time from: the scheduler's Clock is one. */
export interface TimeSource {
  readonly nowMs: Ms;
}

/** A function returning the time, as a TimeSource. */
class FunctionTime implements TimeSource {
  readonly #now: () => Ms;

  constructor(now: () => Ms) {
    this.#now = now;
  }

  get nowMs(): Ms {
    return this.#now();
  }
}

export class History {
  /**
   * The entries, by index: how each is stored (OBJECT, SEND_INVOKE, ...), its time, its partition
   * (for a send's or a poll's) and where its data is (#objects' index, the send's or the poll's
   * number). A send's and a poll's entries (nearly all of a run's) are kept in columns, not as
   * objects: a run keeps every entry until its end, and objects kept that long are copied again
   * and again by the young-generation GC, where typed arrays off the heap are not. `entries`
   * builds the objects only when read (the end-of-run checks read the columns).
   */
  #count = 0;
  #kinds = new Uint8Array(CAPACITY_MIN);
  #atMs = new Float64Array(CAPACITY_MIN);
  #partitions = new Int32Array(CAPACITY_MIN);
  #refs = new Int32Array(CAPACITY_MIN);
  /**
   * How many entries of each kind there are: countOf reads these, not every entry (a loop over a
   * run's hundreds of thousands of entries, run once a run, was compiled again in each run).
   */
  readonly #kindCounts = new Int32Array(COLUMN_KINDS.length);
  /** The entries stored as objects (every operation but sends and pollRead's), in order. */
  readonly #objects: HistoryEntry[] = objectArray();
  /**
   * By send number: what invokeSend was given (its process, acks and topic as one #sources number:
   * a run has a few such triples, and a pointer each would cost 24 bytes a send), and the offset
   * okSend was given (NaN: undefined).
   */
  #sendSources = new Int32Array(CAPACITY_MIN);
  readonly #sendKeys = new ChunkedList<string | null>();
  readonly #sendValues = new ChunkedList<string | null>();
  #sendOffsets = new Float64Array(CAPACITY_MIN);
  /** The senders' (process, acks, topic) triples, numbered in the order first seen. */
  readonly #sources: Source[] = objectArray();
  /** The last triple's number: a producer's sends in a row (of a burst) share it. */
  #lastSource = -1;
  /** By poll number (pollRead): its process, topic and where its records are in #record*. */
  readonly #pollProcesses: string[] = objectArray();
  readonly #pollTopics: string[] = objectArray();
  #pollStarts = new Int32Array(CAPACITY_MIN);
  #pollCounts = new Int32Array(CAPACITY_MIN);
  /**
   * Every record the polls read, the polls' in order (addPolledRecord), as the objects the consumer
   * read: the logs' own records, kept by the logs for the run anyway (one pointer a record, where
   * an [offset, key, value] array per record, kept to the end of the run, cost 72 bytes a record
   * for the young-generation GC to copy again and again). `entries` and recordsAt build the arrays.
   */
  readonly #records = new ChunkedList<PolledRecord>();
  /** The entry objects built so far (`entries`), kept: each entry is built once, then shared. */
  readonly #built: HistoryEntry[] = objectArray();
  /**
   * By operation id: the index of its invoke entry while it is open, -1 once completed. Ids are
   * dense (0, 1, 2, ...), so an array serves: a Map with an entry per record sent churned through
   * hash tables, and a completion reads what it repeats from the invoke entry itself. A column
   * (#operationCount long): an array of numbers grew by copies in the old generation.
   */
  #invokeIndexById = new Int32Array(CAPACITY_MIN);
  #operationCount = 0;
  #openCount = 0;
  /** Open operations with an attempt that may have written (it can no longer `fail`): the error. */
  readonly #indeterminate = new Map<number, string>();
  /**
   * Where the time is read: the scheduler's clock itself (its getter inlined where an entry is
   * added), or a function given, wrapped. A closure made per run is a new call target each run,
   * and the code compiled in the first run (invokeSend, okSend, ...) was thrown away in the next.
   */
  readonly #clock: TimeSource;
  readonly #entriesMax: number;

  /** `now`: a clock (an object whose `nowMs` is the time), or a function returning the time. */
  constructor(now: TimeSource | (() => Ms), entriesMax = 5_000_000) {
    this.#clock = typeof now === 'function' ? new FunctionTime(now) : now;
    this.#entriesMax = entriesMax;
  }

  /**
   * Every entry, in order, as objects: built when first read (and kept). Readers that run with
   * every run (the checkers, the bench) use `length` and the per-entry accessors instead.
   */
  get entries(): readonly HistoryEntry[] {
    for (let index = this.#built.length; index < this.#count; index++)
      this.#built.push(this.#entryAt(index));
    return this.#built;
  }

  /** How many entries there are. */
  get length(): number {
    return this.#count;
  }

  // The entries' fields by index, without building the entry objects (`entries` builds them).

  typeAt(index: number): OperationType {
    switch (this.#kinds[index]) {
      case SEND_INVOKE:
      case POLL_INVOKE:
        return 'invoke';
      case SEND_OK:
      case POLL_OK:
        return 'ok';
      default:
        return this.#objectAt(index).type;
    }
  }

  fAt(index: number): OperationFunction {
    switch (this.#kinds[index]) {
      case SEND_INVOKE:
      case SEND_OK:
        return 'send';
      case POLL_INVOKE:
      case POLL_OK:
        return 'poll';
      default:
        return this.#objectAt(index).f;
    }
  }

  processAt(index: number): string {
    switch (this.#kinds[index]) {
      case SEND_INVOKE:
      case SEND_OK:
        return this.#sourceOf(this.#refs[index] as number).process;
      case POLL_INVOKE:
      case POLL_OK:
        return this.#pollProcesses[this.#refs[index] as number] as string;
      default:
        return this.#objectAt(index).process;
    }
  }

  acksAt(index: number): Acks | undefined {
    const kind = this.#kinds[index];
    if (kind === SEND_INVOKE || kind === SEND_OK)
      return this.#sourceOf(this.#refs[index] as number).acks;
    return kind === OBJECT ? this.#objectAt(index).acks : undefined;
  }

  topicAt(index: number): string {
    switch (this.#kinds[index]) {
      case SEND_INVOKE:
      case SEND_OK:
        return this.#sourceOf(this.#refs[index] as number).topic;
      case POLL_INVOKE:
      case POLL_OK:
        return this.#pollTopics[this.#refs[index] as number] as string;
      default:
        return this.#objectAt(index).topic;
    }
  }

  partitionAt(index: number): number {
    return this.#kinds[index] === OBJECT
      ? this.#objectAt(index).partition
      : (this.#partitions[index] as number);
  }

  valueAt(index: number): string | null | undefined {
    const kind = this.#kinds[index];
    if (kind === SEND_INVOKE || kind === SEND_OK)
      return this.#sendValues.at(this.#refs[index] as number);
    return kind === OBJECT ? this.#objectAt(index).value : undefined;
  }

  offsetAt(index: number): number | undefined {
    const kind = this.#kinds[index];
    if (kind === SEND_OK) {
      const offset = this.#sendOffsets[this.#refs[index] as number] as number;
      return Number.isNaN(offset) ? undefined : offset;
    }
    return kind === OBJECT ? this.#objectAt(index).offset : undefined;
  }

  /** An entry's records: a poll's are built when asked (once its entry is built, its own). */
  recordsAt(index: number): readonly HistoryRecord[] | undefined {
    const kind = this.#kinds[index];
    if (kind === POLL_OK)
      return this.#built[index]?.records ?? this.#pollRecordsOf(this.#refs[index] as number);
    return kind === OBJECT ? this.#objectAt(index).records : undefined;
  }

  // An entry's records one by one, without building them (`position` < recordCountAt's count).

  /** How many records the entry has; undefined: it has none (not an empty list). */
  recordCountAt(index: number): number | undefined {
    const kind = this.#kinds[index];
    if (kind === POLL_OK) return this.#pollCounts[this.#refs[index] as number];
    return kind === OBJECT ? this.#objectAt(index).records?.length : undefined;
  }

  recordOffsetAt(index: number, position: number): number {
    if (this.#kinds[index] === POLL_OK)
      return this.#records.at(this.#recordAt(index, position)).offset;
    return this.#objectRecordAt(index, position)[0];
  }

  recordKeyAt(index: number, position: number): string | null {
    if (this.#kinds[index] === POLL_OK)
      return this.#records.at(this.#recordAt(index, position)).key;
    return this.#objectRecordAt(index, position)[1];
  }

  recordValueAt(index: number, position: number): string | null {
    if (this.#kinds[index] === POLL_OK)
      return this.#records.at(this.#recordAt(index, position)).value;
    return this.#objectRecordAt(index, position)[2];
  }

  /** How many entries are of operation `f` and of `type` (the objects not built). */
  countOf(f: OperationFunction, type: OperationType): number {
    // The columns' kind that has this f and type (-1: none), compared without a call per entry.
    const columnKind = COLUMN_KINDS.findIndex(
      (kind) => kind !== null && kind.f === f && kind.type === type,
    );
    let count = columnKind < 0 ? 0 : (this.#kindCounts[columnKind] as number);
    // Every entry stored as an object is in #objects, once.
    for (let index = 0; index < this.#objects.length; index++) {
      const entry = this.#objects[index] as HistoryEntry;
      if (entry.f === f && entry.type === type) count++;
    }
    return count;
  }

  /** Operations invoked and not yet completed. */
  get openCount(): number {
    return this.#openCount;
  }

  /** The operations invoked and not yet completed, oldest first, as their invoke entries read. */
  openOperations(): {
    readonly process: string;
    readonly f: OperationFunction;
    readonly fields: Fields;
  }[] {
    const open: { process: string; f: OperationFunction; fields: Fields }[] = [];
    // Indexed: this runs once, unoptimised, where an iterator would allocate a result object per
    // step. It stops at the last open operation: mostly none is open at the end of a run, and a
    // loop over every operation of the run was compiled again in each run.
    for (let id = 0; id < this.#operationCount && open.length < this.#openCount; id++) {
      const index = this.#invokeIndexById[id] as number;
      if (index < 0) continue;
      const entry = this.#entryAt(index);
      // The fields the invoke was given, in the entry's order: its absent ones are undefined.
      const fields: Record<string, unknown> = {};
      for (const name of FIELD_NAMES) if (entry[name] !== undefined) fields[name] = entry[name];
      open.push({ process: entry.process, f: entry.f, fields: fields as unknown as Fields });
    }
    return open;
  }

  /** Starts an operation; returns its id for the completion. */
  invoke(process: string, f: OperationFunction, fields: Fields): number {
    this.#push(process, 'invoke', f, fields);
    const id = this.#addOperation(this.#count - 1);
    this.#openCount++;
    return id;
  }

  /**
   * Numbers the (process, acks, topic) triple of sends to come now, before the first: a producer's
   * workload does. The entries are the same; invokeSend then meets no new triple. A run's first
   * sends run before V8 keeps feedback, so the code compiled for invokeSend in a first run had
   * none for adding a triple, and the next run's first send threw it away.
   */
  addSource(process: string, acks: Acks, topic: string): void {
    this.#sourceNumber(process, acks, topic);
  }

  /**
   * `invoke(process, 'send', { acks, topic, partition, key, value })` without the fields object: a
   * producer invokes one per record.
   */
  invokeSend(
    process: string,
    acks: Acks,
    topic: string,
    partition: number,
    key: string | null,
    value: string | null,
  ): number {
    const send = this.#sendValues.length;
    const index = this.#add(SEND_INVOKE, this.#clock.nowMs, partition, send);
    this.#sendKeys.push(key);
    this.#sendValues.push(value);
    if (send === this.#sendOffsets.length) {
      this.#sendOffsets = grownColumn(this.#sendOffsets);
      this.#sendSources = grownColumn(this.#sendSources);
    }
    this.#sendOffsets[send] = Number.NaN;
    this.#sendSources[send] = this.#sourceNumber(process, acks, topic);
    const id = this.#addOperation(index);
    this.#openCount++;
    return id;
  }

  /**
   * `ok(operationId, { partition, offset })` (without `offset` when undefined) without the fields
   * object: a producer completes one per record.
   */
  okSend(operationId: number, partition: number, offset: number | undefined): void {
    const invokeIndex = this.#openInvokeIndex(operationId);
    if (this.#kinds[invokeIndex] !== SEND_INVOKE) {
      const invoke = this.#objectAt(invokeIndex);
      if (
        invoke.error !== undefined ||
        invoke.records !== undefined ||
        invoke.replica !== undefined
      ) {
        // Not an invoke of a send (it has fields a send has not): the generic completion copies
        // them.
        this.ok(operationId, offset === undefined ? { partition } : { partition, offset });
        return;
      }
      this.#close(operationId);
      this.#checkBound();
      // Only the fields a send has, as a send's columns build it.
      this.#addObject({
        index: this.#count,
        atMs: this.#clock.nowMs,
        process: invoke.process,
        type: 'ok',
        f: invoke.f,
        acks: invoke.acks,
        topic: invoke.topic,
        partition,
        key: invoke.key,
        value: invoke.value,
        offset: offset ?? invoke.offset,
      });
      return;
    }
    this.#close(operationId);
    const send = this.#refs[invokeIndex] as number;
    this.#sendOffsets[send] = offset ?? Number.NaN;
    this.#add(SEND_OK, this.#clock.nowMs, partition, send);
  }

  /**
   * `ok(invoke(process, 'poll', { topic, partition }), { records })` without the fields objects: a
   * consumer records one read per batch of records it gets. Both entries carry only the fields a
   * poll has (the others read undefined all the same, and JSON leaves them out). Returns the index
   * of the ok entry.
   */
  pollRead(
    process: string,
    topic: string,
    partition: number,
    records: readonly HistoryRecord[],
  ): number {
    for (let index = 0; index < records.length; index++) {
      const record = records[index] as HistoryRecord;
      this.addPollRecord(record[0], record[1], record[2]);
    }
    return this.pollReadAdded(process, topic, partition);
  }

  /**
   * A record read by the next poll (pollReadAdded), given field by field: a consumer records what
   * it reads without an [offset, key, value] array per record.
   */
  addPollRecord(offset: number, key: string | null, value: string | null): void {
    this.#records.push({ offset, key, value });
  }

  /**
   * addPollRecord of a record object, kept as it is (it must never change): a consumer gives the
   * log's records it reads, without a copy.
   */
  addPolledRecord(record: PolledRecord): void {
    this.#records.push(record);
  }

  /** pollRead of the records given to addPollRecord since the last poll; the ok entry's index. */
  pollReadAdded(process: string, topic: string, partition: number): number {
    const atMs = this.#clock.nowMs;
    const poll = this.#pollProcesses.length;
    if (poll === this.#pollStarts.length) {
      this.#pollStarts = grownColumn(this.#pollStarts);
      this.#pollCounts = grownColumn(this.#pollCounts);
    }
    const start =
      poll === 0
        ? 0
        : (this.#pollStarts[poll - 1] as number) + (this.#pollCounts[poll - 1] as number);
    this.#pollStarts[poll] = start;
    this.#pollCounts[poll] = this.#records.length - start;
    this.#pollProcesses.push(process);
    this.#pollTopics.push(topic);
    this.#add(POLL_INVOKE, atMs, partition, poll);
    // Its operation id, as invoke would number it, completed at once.
    this.#addOperation(-1);
    return this.#add(POLL_OK, atMs, partition, poll);
  }

  /** An attempt of the operation may have written (a timeout, NOT_ENOUGH_REPLICAS_AFTER_APPEND). */
  markIndeterminate(operationId: number, error: string): void {
    this.#openInvokeIndex(operationId);
    if (!this.#indeterminate.has(operationId)) this.#indeterminate.set(operationId, error);
  }

  ok(operationId: number, fields: Partial<Fields> = {}): void {
    this.#complete(operationId, 'ok', fields);
  }

  /**
   * The operation did not happen. An operation with an indeterminate attempt is recorded as `info`
   * (with that attempt's error) instead: a later clean failure cannot undo a write that may exist.
   */
  fail(operationId: number, error: string, fields: Partial<Fields> = {}): void {
    this.#openInvokeIndex(operationId);
    const indeterminate = this.#indeterminate.get(operationId);
    if (indeterminate !== undefined)
      this.#complete(operationId, 'info', { ...fields, error: indeterminate });
    else this.#complete(operationId, 'fail', { ...fields, error });
  }

  info(operationId: number, error: string, fields: Partial<Fields> = {}): void {
    this.#complete(operationId, 'info', { ...fields, error });
  }

  /**
   * One replica's whole partition after healing (closes the history). `records` may be a function:
   * the list is then built when first read (most runs never read it: tens of thousands of records
   * per replica).
   */
  finalRead(
    replica: string,
    topic: string,
    partition: number,
    records: readonly HistoryRecord[] | (() => readonly HistoryRecord[]),
  ): void {
    if (typeof records !== 'function') {
      this.#push('final-reader', 'ok', 'final-read', { topic, partition, replica, records });
      return;
    }
    this.#checkBound();
    let built: readonly HistoryRecord[] | null = null;
    // The same keys in the same order as every other entry; `records` an enumerable getter, so
    // JSON.stringify writes it in its place.
    this.#addObject({
      index: this.#count,
      atMs: this.#clock.nowMs,
      process: 'final-reader',
      type: 'ok',
      f: 'final-read',
      acks: undefined,
      topic,
      partition,
      key: undefined,
      value: undefined,
      offset: undefined,
      error: undefined,
      get records(): readonly HistoryRecord[] {
        built ??= records();
        return built;
      },
      replica,
    });
  }

  /** JSON Lines, one operation a line, keys in a fixed order. */
  toJsonLines(): string {
    return this.entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  }

  /** The entry at `index` as an object: the one built or kept, or built now. */
  #entryAt(index: number): HistoryEntry {
    const built = this.#built[index];
    if (built !== undefined) return built;
    const kind = this.#kinds[index];
    if (kind === OBJECT) return this.#objectAt(index);
    const atMs = this.#atMs[index] as number;
    const partition = this.#partitions[index] as number;
    const ref = this.#refs[index] as number;
    // The fields a send's or a poll's entry had when it was built at once, in the same order (the
    // others read undefined all the same, and JSON leaves them out).
    if (kind === POLL_INVOKE)
      return {
        index,
        atMs,
        process: this.#pollProcesses[ref] as string,
        type: 'invoke',
        f: 'poll',
        topic: this.#pollTopics[ref] as string,
        partition,
      };
    if (kind === POLL_OK)
      return {
        index,
        atMs,
        process: this.#pollProcesses[ref] as string,
        type: 'ok',
        f: 'poll',
        topic: this.#pollTopics[ref] as string,
        partition,
        records: this.#pollRecordsOf(ref),
      };
    const source = this.#sourceOf(ref);
    if (kind === SEND_INVOKE)
      return {
        index,
        atMs,
        process: source.process,
        type: 'invoke',
        f: 'send',
        acks: source.acks,
        topic: source.topic,
        partition,
        key: this.#sendKeys.at(ref),
        value: this.#sendValues.at(ref),
      };
    const offset = this.#sendOffsets[ref] as number;
    return {
      index,
      atMs,
      process: source.process,
      type: 'ok',
      f: 'send',
      acks: source.acks,
      topic: source.topic,
      partition,
      key: this.#sendKeys.at(ref),
      value: this.#sendValues.at(ref),
      offset: Number.isNaN(offset) ? undefined : offset,
    };
  }

  /** Poll number `poll`'s records, built from the columns. */
  #pollRecordsOf(poll: number): HistoryRecord[] {
    const start = this.#pollStarts[poll] as number;
    const records = new Array<HistoryRecord>(this.#pollCounts[poll] as number);
    for (let position = 0; position < records.length; position++) {
      const record = this.#records.at(start + position);
      records[position] = [record.offset, record.key, record.value];
    }
    return records;
  }

  /** Where in #records the record at `position` of a poll's ok entry `index` is. */
  #recordAt(index: number, position: number): number {
    return (this.#pollStarts[this.#refs[index] as number] as number) + position;
  }

  /** The record at `position` of entry `index` stored as an object. */
  #objectRecordAt(index: number, position: number): HistoryRecord {
    return (this.#objectAt(index).records as readonly HistoryRecord[])[position] as HistoryRecord;
  }

  /** The number of the (process, acks, topic) triple in #sources, added if new. */
  #sourceNumber(process: string, acks: Acks, topic: string): number {
    // Before the first send, no triple (not #sources[-1], a read out of bounds; and the strings
    // are compared with strings only, never with undefined: a run's first sends run before V8
    // keeps feedback, and an undefined met by the next run's compiled code threw it away).
    if (this.#lastSource >= 0) {
      const last = this.#sources[this.#lastSource] as Source;
      if (last.process === process && last.acks === acks && last.topic === topic)
        return this.#lastSource;
    }
    // A run has a few producers and topics: a scan of them all.
    let number = 0;
    for (; number < this.#sources.length; number++) {
      const source = this.#sources[number] as Source;
      if (source.process === process && source.acks === acks && source.topic === topic) break;
    }
    if (number === this.#sources.length) this.#sources.push({ process, acks, topic });
    this.#lastSource = number;
    return number;
  }

  /** The (process, acks, topic) triple of send number `send`. */
  #sourceOf(send: number): Source {
    return this.#sources[this.#sendSources[send] as number] as Source;
  }

  /** The entry at `index`, stored as an object. */
  #objectAt(index: number): HistoryEntry {
    return this.#objects[this.#refs[index] as number] as HistoryEntry;
  }

  /** The index of the invoke entry of an open operation. */
  #openInvokeIndex(operationId: number): number {
    // Past the count, the column's spare room (0s) is no operation; a typed array reads undefined
    // at a negative or fractional id.
    const index =
      operationId < this.#operationCount ? (this.#invokeIndexById[operationId] ?? -1) : -1;
    if (index < 0) throw new AssertionError(`history: operation ${operationId} is not open`);
    return index;
  }

  #complete(
    operationId: number,
    type: Exclude<OperationType, 'invoke'>,
    fields: Partial<Fields>,
  ): void {
    const invoke = this.#entryAt(this.#close(operationId));
    this.#push(invoke.process, type, invoke.f, invoke, fields);
  }

  /** Numbers a new operation, whose invoke entry is at `invokeIndex` (-1: completed at once). */
  #addOperation(invokeIndex: number): number {
    const id = this.#operationCount++;
    if (id === this.#invokeIndexById.length)
      this.#invokeIndexById = grownColumn(this.#invokeIndexById);
    this.#invokeIndexById[id] = invokeIndex;
    return id;
  }

  /** The operation is no longer open: returns the index of its invoke entry. */
  #close(operationId: number): number {
    const index = this.#openInvokeIndex(operationId);
    this.#invokeIndexById[operationId] = -1;
    this.#openCount--;
    if (this.#indeterminate.size > 0) this.#indeterminate.delete(operationId);
    return index;
  }

  #checkBound(): void {
    if (this.#count >= this.#entriesMax) {
      throw new AssertionError(`history: bound entriesMax = ${this.#entriesMax} exceeded`);
    }
  }

  /** Appends an entry stored as `kind` (#kinds); returns its index. */
  #add(kind: number, atMs: Ms, partition: number, ref: number): number {
    this.#checkBound();
    const index = this.#count++;
    if (index === this.#kinds.length) this.#grow();
    this.#kinds[index] = kind;
    this.#kindCounts[kind] = (this.#kindCounts[kind] as number) + 1;
    this.#atMs[index] = atMs;
    this.#partitions[index] = partition;
    this.#refs[index] = ref;
    return index;
  }

  /** Apart from #add: kept small, #add is inlined where it is called. */
  #grow(): void {
    this.#kinds = grownColumn(this.#kinds);
    this.#atMs = grownColumn(this.#atMs);
    this.#partitions = grownColumn(this.#partitions);
    this.#refs = grownColumn(this.#refs);
  }

  /** Appends an entry kept as its object (its index the next one, #checkBound already asked). */
  #addObject(entry: HistoryEntry): void {
    this.#objects.push(entry);
    this.#add(OBJECT, entry.atMs, 0, this.#objects.length - 1);
  }

  /** Records an entry: `fields`, with `update`'s defined fields over them (a completion's). */
  #push(
    process: string,
    type: OperationType,
    f: OperationFunction,
    fields: Fields,
    update?: Partial<Fields>,
  ): void {
    this.#checkBound();
    // One shape for every entry kept as an object (absent fields undefined, which JSON leaves
    // out): cheaper to build and to scan than objects whose fields depend on the operation.
    const entry: HistoryEntry = {
      index: this.#count,
      atMs: this.#clock.nowMs,
      process,
      type,
      f,
      acks: update?.acks ?? fields.acks,
      topic: update?.topic ?? fields.topic,
      partition: update?.partition ?? fields.partition,
      key: update?.key !== undefined ? update.key : fields.key,
      value: update?.value !== undefined ? update.value : fields.value,
      offset: update?.offset ?? fields.offset,
      error: update?.error ?? fields.error,
      records: update?.records ?? fields.records,
      replica: update?.replica ?? fields.replica,
    };
    this.#addObject(entry);
  }
}
