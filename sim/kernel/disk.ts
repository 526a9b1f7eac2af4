// A node's disk: files whose content the process sees (appended, in the page cache) and the part
// that is durable (flushed). What a crash keeps depends on its kind:
//   kill          the process dies, the OS survives: everything appended survives
//   powerFailure  the machine loses power: only durable data survives
//   diskLoss      the disk is replaced: nothing survives
// Like Linux, the disk writes dirty data back on its own once it is `writebackMs` old
// (vm.dirty_expire_centisecs, 30 s by default), so a power failure loses at most that window of
// unflushed appends. Truncation and deletion are metadata operations and are durable at once.

import { objectArray } from './arrays.ts';
import { AssertionError } from './assert.ts';
import { grownColumn } from './columns.ts';
import type { Ms } from './time.ts';

export type CrashKind = 'kill' | 'powerFailure' | 'diskLoss';
export const CRASH_KINDS: readonly CrashKind[] = ['kill', 'powerFailure', 'diskLoss'];

export interface DiskOptions {
  /** Dirty data older than this is written back by the OS; null: never (only explicit flushes). */
  readonly writebackMs?: Ms | null;
}

export interface DiskStats {
  readonly appendedBytes: number;
  readonly flushedBytes: number;
  readonly flushes: number;
}

interface DiskFile {
  /** Drops everything not durable at `nowMs`; returns how many records (or checkpoint writes) it lost. */
  loseUnflushed(nowMs: Ms): number;
  /** Records held now (1 for a written checkpoint). */
  readonly recordCount: number;
  flush(): void;
}

/** An append-only file of records (a log segment, the metadata log): append, flush, truncate. */
export class LogFile<T> implements DiskFile {
  readonly #records: T[] = objectArray();
  // Per record, valid below the records' length, in typed arrays that double when full: their
  // contents live outside the garbage-collected heap, where plain arrays grown by push were
  // copied anew at every growth and then again by the young-generation collector (a file lives
  // long and grows to thousands of records: 2/3 of the reference workload's 11 MB in append).
  /** endBytes[i]: bytes of records 0..i inclusive. */
  #endBytes = new Float64Array(LOG_FILE_INITIAL_CAPACITY);
  #appendedAtMs = new Float64Array(LOG_FILE_INITIAL_CAPACITY);
  /**
   * keys[i]: a number the owner finds records by, non-decreasing (a partition log's batch last
   * offsets: Kafka's offset index beside a segment). Searching them here reads no record object:
   * those are spread over the heap, and a binary search over them missed the cache at every step.
   */
  #keys = new Int32Array(LOG_FILE_INITIAL_CAPACITY);
  #flushedLength = 0;
  readonly #disk: Disk;

  constructor(disk: Disk) {
    this.#disk = disk;
  }

  get length(): number {
    return this.#records.length;
  }

  /** Records known durable by an explicit flush (write-back may have made more durable). */
  get flushedLength(): number {
    return this.#flushedLength;
  }

  get sizeBytes(): number {
    return this.#bytesBefore(this.#records.length);
  }

  get flushedBytes(): number {
    return this.#bytesBefore(this.#flushedLength);
  }

  at(index: number): T {
    if (!(index >= 0 && index < this.#records.length))
      throw new AssertionError(`log read at ${index} outside [0, ${this.#records.length})`);
    return this.#records[index] as T;
  }

  /** Everything appended, as the running process sees it. */
  records(): readonly T[] {
    return this.#records;
  }

  /**
   * The key of record `index` (see keys), a small integer. Stored keys past the length are stale
   * (a truncation leaves them): asking for one is an error.
   */
  keyAt(index: number): number {
    if (!(index >= 0 && index < this.#records.length))
      throw new AssertionError(`log key read at ${index} outside [0, ${this.#records.length})`);
    return this.#keys[index] as number;
  }

  /** The index of the first record whose key is ≥ `key` (the length if none). */
  indexOfKeyAtLeast(key: number): number {
    const keys = this.#keys;
    const length = this.#records.length;
    // Most lookups are of the last record (a follower or consumer reading the newest batch): its
    // key and the one before answer without a search, whose probes across a long file each
    // touched a memory line of their own.
    if (length === 0 || (keys[length - 1] as number) < key) return length;
    if (length === 1 || (keys[length - 2] as number) < key) return length - 1;
    let low = 0;
    let high = length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((keys[middle] as number) < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Bytes of records 0..length-1 (`length` ≤ the records' length). */
  bytesBefore(length: number): number {
    if (!(length >= 0 && length <= this.#records.length))
      throw new AssertionError(`log bytes before ${length} outside [0, ${this.#records.length}]`);
    return this.#bytesBefore(length);
  }

  /** `key`: see keys; an int32, no smaller than the last record's. */
  append(record: T, sizeBytes = 1, key = 0): void {
    if (!(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0))
      throw new AssertionError(`sizeBytes must be a non-negative integer (got ${sizeBytes})`);
    if ((key | 0) !== key) throw new AssertionError(`log key must be an int32 (got ${key})`);
    const length = this.#records.length;
    if (length > 0 && key < (this.#keys[length - 1] as number))
      throw new AssertionError(`log key ${key} below the last ${this.#keys[length - 1]}`);
    // Before the push: sizeBytes reads the end of the last record, which the push would move.
    const endBytes = this.sizeBytes + sizeBytes;
    const index = this.#records.length;
    if (index === this.#endBytes.length) this.#grow();
    this.#records.push(record);
    this.#endBytes[index] = endBytes;
    this.#appendedAtMs[index] = this.#disk.nowMs();
    this.#keys[index] = key;
    this.#disk.noteAppended(sizeBytes);
  }

  #grow(): void {
    this.#endBytes = grownColumn(this.#endBytes);
    this.#appendedAtMs = grownColumn(this.#appendedAtMs);
    this.#keys = grownColumn(this.#keys);
  }

  flush(): void {
    if (this.#flushedLength === this.#records.length) return;
    this.#disk.noteFlushed(this.sizeBytes - this.flushedBytes);
    this.#flushedLength = this.#records.length;
  }

  /** Keeps the first `length` records; durable at once. */
  truncate(length: number): void {
    if (!(Number.isSafeInteger(length) && length >= 0))
      throw new AssertionError(`truncate length must be a non-negative integer (got ${length})`);
    if (length > this.#records.length)
      throw new AssertionError(`truncate to ${length} beyond the end ${this.#records.length}`);
    // The per-record arrays keep their values past the end; nothing reads them there.
    this.#records.length = length;
    this.#flushedLength = Math.min(this.#flushedLength, length);
  }

  /** How many records would survive a power failure now. */
  durableLength(nowMs: Ms): number {
    const writebackMs = this.#disk.writebackMs;
    if (writebackMs === null) return this.#flushedLength;
    // Append times never decrease: binary search the first record still dirty.
    const cutoffMs = nowMs - writebackMs;
    let low = this.#flushedLength;
    let high = this.#records.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.#appendedAtMs[middle] as Ms) <= cutoffMs) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  get recordCount(): number {
    return this.#records.length;
  }

  loseUnflushed(nowMs: Ms): number {
    const durable = this.durableLength(nowMs);
    const lost = this.#records.length - durable;
    this.#flushedLength = durable;
    this.truncate(durable);
    return lost;
  }

  #bytesBefore(length: number): number {
    if (length === 0) return 0;
    // A small integer where it is one: a Float64Array read is a double, which stored as is in an
    // object's field would make the field a double and allocate a box at every store.
    const bytes = this.#endBytes[length - 1] as number;
    const integer = bytes | 0;
    return integer === bytes ? integer : bytes;
  }
}

const LOG_FILE_INITIAL_CAPACITY = 16;

/** A small file rewritten whole (a checkpoint, the quorum state): write, then flush to make it durable. */
export class CheckpointFile<T> implements DiskFile {
  #current: T | undefined;
  #durable: T | undefined;
  #writtenAtMs: Ms = 0;
  /** Size of the current value: what a flush writes. */
  #currentSizeBytes = 0;
  #dirty = false;
  readonly #disk: Disk;

  constructor(disk: Disk) {
    this.#disk = disk;
  }

  read(): T | undefined {
    return this.#current;
  }

  /** What a power failure now would leave (for checkers: the durable truth). */
  readDurable(nowMs: Ms = this.#disk.nowMs()): T | undefined {
    const writebackMs = this.#disk.writebackMs;
    if (!this.#dirty) return this.#current;
    if (writebackMs !== null && this.#writtenAtMs <= nowMs - writebackMs) return this.#current;
    return this.#durable;
  }

  write(value: T, sizeBytes = 1): void {
    this.#current = value;
    this.#currentSizeBytes = sizeBytes;
    this.#writtenAtMs = this.#disk.nowMs();
    this.#dirty = true;
    this.#disk.noteAppended(sizeBytes);
  }

  /** Write, fsync, rename: durable when it returns. */
  writeDurably(value: T, sizeBytes = 1): void {
    this.write(value, sizeBytes);
    this.flush();
  }

  flush(): void {
    if (!this.#dirty) return;
    this.#durable = this.#current;
    this.#dirty = false;
    this.#disk.noteFlushed(this.#currentSizeBytes);
  }

  get isDirty(): boolean {
    return this.#dirty;
  }

  get recordCount(): number {
    return this.#current === undefined ? 0 : 1;
  }

  loseUnflushed(nowMs: Ms): number {
    if (!this.#dirty) return 0;
    const writebackMs = this.#disk.writebackMs;
    if (writebackMs !== null && this.#writtenAtMs <= nowMs - writebackMs) {
      this.flush();
      return 0;
    }
    this.#current = this.#durable;
    this.#dirty = false;
    return 1;
  }
}

export class Disk {
  readonly writebackMs: Ms | null;
  readonly nowMs: () => Ms;
  readonly #files = new Map<string, DiskFile>();
  #appendedBytes = 0;
  #flushedBytes = 0;
  #flushes = 0;

  constructor(nowMs: () => Ms, options: DiskOptions = {}) {
    this.nowMs = nowMs;
    this.writebackMs = options.writebackMs === undefined ? 30_000 : options.writebackMs;
  }

  /** The log file `name`, created empty if absent. */
  log<T>(name: string): LogFile<T> {
    return this.#file(name, LogFile, () => new LogFile<T>(this)) as LogFile<T>;
  }

  /** The checkpoint file `name`, created empty if absent. */
  checkpoint<T>(name: string): CheckpointFile<T> {
    return this.#file(name, CheckpointFile, () => new CheckpointFile<T>(this)) as CheckpointFile<T>;
  }

  has(name: string): boolean {
    return this.#files.has(name);
  }

  /** File names in creation order. */
  names(): string[] {
    return [...this.#files.keys()];
  }

  /** Removes a file; durable at once. */
  delete(name: string): void {
    this.#files.delete(name);
  }

  flushAll(): void {
    for (const file of this.#files.values()) file.flush();
  }

  /**
   * Applies a crash of the given kind to what is stored. Returns how many writes it lost: appends
   * to logs (a Kafka log's append is a whole batch) and checkpoints that revert, one each.
   */
  crash(kind: CrashKind): number {
    let lost = 0;
    if (kind === 'kill') return lost;
    if (kind === 'diskLoss') {
      for (const file of this.#files.values()) lost += file.recordCount;
      this.#files.clear();
      return lost;
    }
    const nowMs = this.nowMs();
    for (const file of this.#files.values()) lost += file.loseUnflushed(nowMs);
    return lost;
  }

  get stats(): DiskStats {
    return {
      appendedBytes: this.#appendedBytes,
      flushedBytes: this.#flushedBytes,
      flushes: this.#flushes,
    };
  }

  noteAppended(bytes: number): void {
    this.#appendedBytes += bytes;
  }

  noteFlushed(bytes: number): void {
    this.#flushedBytes += bytes;
    this.#flushes++;
  }

  #file(
    name: string,
    kind: abstract new (disk: Disk) => DiskFile,
    create: () => DiskFile,
  ): DiskFile {
    let file = this.#files.get(name);
    if (file === undefined) {
      file = create();
      this.#files.set(name, file);
    }
    if (!(file instanceof kind))
      throw new AssertionError(`disk file "${name}" exists with another kind`);
    return file;
  }
}
