// A partition's log on a broker's disk: record batches stamped with the epoch of the leader that
// appended them, and the leader-epoch cache (epoch → start offset) checkpointed beside it.
// Modelled on Kafka's UnifiedLog and LeaderEpochFileCache. One file of batches for now; segments,
// retention and compaction come later behind the same interface. Nothing here knows the high
// watermark: the replica decides what to expose, the log only stores.

import { objectArray } from '../../kernel/arrays.ts';
import { AssertionError, assert } from '../../kernel/assert.ts';
import type { CheckpointFile, Disk, LogFile } from '../../kernel/disk.ts';
import { assertMs, type Ms } from '../../kernel/time.ts';

/** Kafka's UNDEFINED_EPOCH: no epoch (an empty log's last epoch, an unknown epoch in a lookup). */
export const UNDEFINED_EPOCH = -1;
/** Kafka's UNDEFINED_EPOCH_OFFSET: the end offset of an epoch the log cannot place. */
export const UNDEFINED_EPOCH_OFFSET = -1;

/** Kafka's record batch header (RecordBatch V2: 61 bytes). */
export const BATCH_OVERHEAD_BYTES = 61;
/** A record's framing (length, attributes, deltas, key and value lengths, headers: varints). */
export const RECORD_OVERHEAD_BYTES = 7;
/** One line of the leader-epoch checkpoint ("epoch startOffset"). */
const CHECKPOINT_ENTRY_BYTES = 16;

/** A record as a producer sends it, before the leader gives it an offset. */
export interface RecordInput {
  readonly key: string | null;
  readonly value: string | null;
  /** Idempotent producer fields, when the producer has them. */
  readonly producerId?: number | undefined;
  readonly sequence?: number | undefined;
}

/**
 * A record in a log: its key, value and offset. An idempotent producer's id and sequence are in its
 * batch's header (RecordBatch.producerId, baseSequence), as in Kafka's v2 record batch: a record's
 * sequence is the base sequence plus its place in the batch.
 */
export interface LogRecord {
  readonly key: string | null;
  readonly value: string | null;
  readonly offset: number;
}

export interface RecordBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The epoch of the leader that appended it (Kafka's partitionLeaderEpoch). */
  readonly leaderEpoch: number;
  readonly records: readonly LogRecord[];
  readonly sizeBytes: number;
  /** When the leader appended it; a follower keeps the leader's value. */
  readonly appendedAtMs: Ms;
  /**
   * The idempotent producer that wrote it and the sequences of its first and last records (Kafka's
   * producerId and baseSequence; NO_PRODUCER_ID and NO_SEQUENCE for a producer without them).
   */
  readonly producerId: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
}

/** Kafka's RecordBatch.NO_PRODUCER_ID and NO_SEQUENCE: a batch of a non-idempotent producer. */
export const NO_PRODUCER_ID = -1;
export const NO_SEQUENCE = -1;

/** A leader-epoch cache entry: the first offset written in `epoch`. */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/** An OffsetsForLeaderEpoch answer. */
export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

export interface PartitionLogOptions {
  /**
   * The KIP-101 epoch lookup (KAFKA-6361, fixed by KIP-279): answer the requested epoch and the
   * start of the next larger epoch, even for an epoch this log never had.
   */
  readonly kip101Lookup?: boolean;
}

const UNDEFINED_END: EpochEndOffset = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };

export function partitionLogFileName(partition: string): string {
  return `${partition}/log`;
}

export function leaderEpochCheckpointFileName(partition: string): string {
  return `${partition}/leader-epoch-checkpoint`;
}

// Helpers as consts, not function declarations: see trace.ts.
/** The size a batch of these records takes on disk. */
export const batchSizeBytes = (records: readonly RecordInput[]): number => {
  let sizeBytes = BATCH_OVERHEAD_BYTES;
  // By index: for..of allocates an iterator whenever this runs unoptimised.
  for (let index = 0; index < records.length; index++)
    sizeBytes += recordSizeBytes(records[index] as RecordInput);
  return sizeBytes;
};

/** The size one record adds to its batch. */
const recordSizeBytes = (record: RecordInput): number => {
  return RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
};

export class PartitionLog {
  readonly partition: string;
  readonly #disk: Disk;
  readonly #file: LogFile<RecordBatch>;
  readonly #checkpoint: CheckpointFile<readonly EpochEntry[]>;
  readonly #kip101Lookup: boolean;
  /** The leader-epoch cache: epochs and start offsets both strictly increasing. */
  #epochs: EpochEntry[] = objectArray();
  /** The last entry's epoch (UNDEFINED_EPOCH when none), kept as the cache changes. */
  #lastEpoch = UNDEFINED_EPOCH;
  /**
   * The LEO, kept as the log changes (read millions of times a run, by the replica and the
   * checkers). Running state, as Kafka's UnifiedLog keeps it: a crash that loses unflushed batches
   * ends the process too, and the log opened at the restart reads the file again.
   */
  #logEndOffset = 0;
  /** The last read's batches and the index of the first (see read). */
  #lastRead: readonly RecordBatch[] = objectArray();
  #lastReadStart = -1;
  /** Bumped on every truncation that removed batches, so checkers know when to look again. */
  truncations = 0;

  /** Opens the partition's files on `disk` and recovers from what they hold (a restart). */
  constructor(disk: Disk, partition: string, options: PartitionLogOptions = {}) {
    assert(partition.length > 0, 'partition name must not be empty');
    this.partition = partition;
    this.#disk = disk;
    this.#kip101Lookup = options.kip101Lookup ?? false;
    this.#file = disk.log<RecordBatch>(partitionLogFileName(partition));
    this.#checkpoint = disk.checkpoint<readonly EpochEntry[]>(
      leaderEpochCheckpointFileName(partition),
    );
    this.#recover();
  }

  /** The first offset in the log (0 until retention exists). */
  get logStartOffset(): number {
    return 0;
  }

  /** The offset the next appended record gets (LEO). */
  get logEndOffset(): number {
    return this.#logEndOffset;
  }

  /** The epoch of the last batch (UNDEFINED_EPOCH for an empty log). */
  get lastEpoch(): number {
    return this.#lastEpoch;
  }

  /** The LEO a power failure now would leave (flushed or written back by the OS). */
  get flushedOffset(): number {
    const durable = this.#file.durableLength(this.#disk.nowMs());
    return durable === 0 ? this.logStartOffset : this.#file.keyAt(durable - 1) + 1;
  }

  get sizeBytes(): number {
    return this.#file.sizeBytes;
  }

  /** Every batch, oldest first. */
  batches(): readonly RecordBatch[] {
    return this.#file.records();
  }

  /**
   * The index in batches() of the first batch whose last offset is ≥ `offset`: the batch holding
   * it, or the first after it (the length if none).
   */
  batchIndexOf(offset: number): number {
    return this.#file.indexOfKeyAtLeast(offset);
  }

  /** The leader-epoch cache, oldest first (a copy, for checkers). */
  epochEntries(): EpochEntry[] {
    return [...this.#epochs];
  }

  /** Appends `records` as one batch at the LEO, stamped with `leaderEpoch`; returns the batch. */
  appendAsLeader(records: readonly RecordInput[], leaderEpoch: number, nowMs: Ms): RecordBatch {
    if (records.length === 0)
      throw new AssertionError(`${this.partition}: appendAsLeader with no records`);
    assertMs(nowMs, 'nowMs');
    const baseOffset = this.logEndOffset;
    // One shape for every record: key, value, offset (the producer id and sequences are the
    // batch's, as in Kafka's batch header: 16 bytes fewer for each record an idempotent producer
    // wrote, kept for the run). A loop, not a map, whose closure over the base offset would cost
    // an allocation per append; the array has its length from the start (pushing into [] reserves
    // 17 slots), as the log keeps it.
    const logRecords = new Array<LogRecord>(records.length);
    // The batch's size (batchSizeBytes) summed in the same pass.
    let sizeBytes = BATCH_OVERHEAD_BYTES;
    for (let index = 0; index < records.length; index++) {
      const record = records[index] as RecordInput;
      sizeBytes += recordSizeBytes(record);
      logRecords[index] = { key: record.key, value: record.value, offset: baseOffset + index };
    }
    // A producer's batch numbers its records consecutively from its first (the producer does).
    const first = records[0] as RecordInput;
    const last = records[records.length - 1] as RecordInput;
    const idempotent = first.producerId !== undefined && first.sequence !== undefined;
    // A literal, not a class instance: V8 tracks the survival of a literal's allocations and,
    // as every batch lives for the run, soon allocates them straight in the old generation,
    // where the young-generation collector neither copies nor promotes them (R: 41k batches a
    // run). Nothing changes a batch once built: every replica's log holds this one object.
    const batch: RecordBatch = {
      baseOffset,
      lastOffset: baseOffset + records.length - 1,
      leaderEpoch,
      records: logRecords,
      sizeBytes,
      appendedAtMs: nowMs,
      producerId: idempotent ? (first.producerId as number) : NO_PRODUCER_ID,
      baseSequence: idempotent ? (first.sequence as number) : NO_SEQUENCE,
      lastSequence: idempotent ? (last.sequence ?? (first.sequence as number)) : NO_SEQUENCE,
    };
    this.#append(batch);
    return batch;
  }

  /** Appends a batch fetched from the leader, keeping its offsets: it must start at the LEO. */
  appendAsFollower(batch: RecordBatch): void {
    const logEndOffset = this.logEndOffset;
    if (batch.baseOffset !== logEndOffset) {
      throw new AssertionError(
        `${this.partition}: follower batch at ${batch.baseOffset} does not start at the LEO ${logEndOffset}`,
      );
    }
    // Record by record here and at recovery; appendAsLeader numbered its batch's records itself.
    this.#assertRecordOffsets(batch);
    this.#append(batch);
  }

  /**
   * Whole batches from the one holding `fetchOffset`, capped by `maxBytes` but at least one batch
   * if there is any (KIP-74). `fetchOffset` must lie in [logStartOffset, logEndOffset]: the caller
   * answers OFFSET_OUT_OF_RANGE before reading. The array is shared: it must not be changed.
   */
  read(fetchOffset: number, maxBytes: number): readonly RecordBatch[] {
    if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0))
      throw new AssertionError(`maxBytes must be a non-negative integer (got ${maxBytes})`);
    this.#assertOffsetInRange(fetchOffset, 'read');
    const start = this.batchIndexOf(fetchOffset);
    // The file's running byte counts are the batches' sizes summed (#append gives each batch's
    // size): read without touching the batch objects.
    const file = this.#file;
    const startBytes = file.bytesBefore(start);
    let end = start;
    for (; end < file.length; end++)
      if (end > start && file.bytesBefore(end + 1) - startBytes > maxBytes) break;
    // The same batches as the last read (a partition's followers read each new batch in turn):
    // that array again, not another copy.
    const last = this.#lastRead;
    if (this.#lastReadStart === start && last.length === end - start) {
      let same = true;
      for (let index = 0; index < last.length && same; index++)
        same = last[index] === file.at(start + index);
      if (same) return last;
    }
    // A slice has just the batches' length (pushing into [] reserves 17 slots). Nearly every read
    // is of one batch (the newest: R's 41k of 46k a run), as a literal, which compiled code builds
    // inline, where a slice is a builtin call of ~350 instructions.
    const batches =
      end - start === 1 ? [file.records()[start] as RecordBatch] : file.records().slice(start, end);
    this.#lastRead = batches;
    this.#lastReadStart = start;
    return batches;
  }

  /**
   * Removes every batch whose last offset is ≥ `offset` (whole batches, as Kafka does: the LEO
   * becomes the base offset of the first removed batch) and the epoch entries starting at or past
   * the new LEO. Durable at once. An offset at or past the LEO changes nothing.
   */
  truncateTo(offset: number): void {
    this.#assertOffsetAtLeastStart(offset, 'truncateTo');
    const index = this.batchIndexOf(offset);
    if (index === this.#file.length) return;
    this.#file.truncate(index);
    this.#logEndOffset = this.#fileEndOffset();
    this.truncations++;
    const logEndOffset = this.logEndOffset;
    if (logEndOffset > offset)
      throw new AssertionError(`${this.partition}: truncated LEO ${logEndOffset} > ${offset}`);
    if (this.#truncateEpochsFromEnd(logEndOffset)) this.#writeCheckpoint('durably');
  }

  /** Makes the log durable, and the epoch checkpoint if it changed since its last flush. */
  flush(): void {
    this.#file.flush();
    if (this.#checkpoint.isDirty) this.#checkpoint.flush();
  }

  /**
   * The OffsetsForLeaderEpoch answer (KIP-279): the largest epoch ≤ `epoch` this log knows and the
   * offset where it ends (the start of the next larger epoch, or the LEO for the latest). An epoch
   * below every known epoch is answered with itself and the start of the first known epoch, as
   * Kafka's LeaderEpochFileCache.endOffsetFor (what came before that start is not in this log): a
   * follower truncates there, and a consumer moves back there as a truncation rather than resetting
   * by auto.offset.reset. UNDEFINED_EPOCH, or a log with no epochs, gives UNDEFINED (Kafka's leader
   * caches its own epoch at the LEO when it takes over; answered from that entry, an empty log's
   * answer would send followers and consumers to 0, where UNDEFINED sends them too).
   * With `kip101Lookup` the answer keeps the requested epoch (KAFKA-6361).
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    const higher = this.#indexOfEpochEnd(epoch);
    if (higher === 0) {
      const first = this.#epochs[0];
      return epoch === UNDEFINED_EPOCH || first === undefined
        ? UNDEFINED_END
        : { epoch, endOffset: first.startOffset };
    }
    const endOffset = this.#endOffsetBefore(higher);
    if (this.#kip101Lookup) return { epoch, endOffset };
    return { epoch: (this.#epochs[higher - 1] as EpochEntry).epoch, endOffset };
  }

  /**
   * The leader's divergence check of a fetch (Kafka's Partition.fetchRecords): whether
   * endOffsetForEpoch(lastFetchedEpoch) ends below that epoch or below the fetch offset. Asked
   * on every follower fetch, it builds no answer: the caller asks endOffsetForEpoch when true.
   */
  divergesFrom(lastFetchedEpoch: number, fetchOffset: number): boolean {
    // The common case, a follower at the latest epoch: that epoch ends at the LEO (the search
    // below finds the same, with or without the KIP-101 lookup).
    if (lastFetchedEpoch === this.#lastEpoch && lastFetchedEpoch !== UNDEFINED_EPOCH)
      return this.#logEndOffset < fetchOffset;
    const higher = this.#indexOfEpochEnd(lastFetchedEpoch);
    if (higher === 0) {
      // Below every known epoch: answered with the first epoch's start (see endOffsetForEpoch).
      const first = this.#epochs[0];
      if (lastFetchedEpoch === UNDEFINED_EPOCH || first === undefined)
        return UNDEFINED_EPOCH < lastFetchedEpoch || UNDEFINED_EPOCH_OFFSET < fetchOffset;
      return first.startOffset < fetchOffset;
    }
    const epoch = this.#kip101Lookup
      ? lastFetchedEpoch
      : (this.#epochs[higher - 1] as EpochEntry).epoch;
    return epoch < lastFetchedEpoch || this.#endOffsetBefore(higher) < fetchOffset;
  }

  /**
   * Where `epoch` starts in this log (KAFKA-7128: a follower joins the ISR only once it reaches
   * its leader's epoch start). An epoch above every epoch in the log has no records yet and would
   * start at the LEO; an older epoch the log has no records of gives null.
   */
  leaderEpochStartOffset(epoch: number): number | null {
    if (epoch > this.lastEpoch) return this.logEndOffset;
    const entry = this.#epochs.find((candidate) => candidate.epoch === epoch);
    return entry === undefined ? null : entry.startOffset;
  }

  #append(batch: RecordBatch): void {
    this.#assertBatchWellFormed(batch);
    const lastEpoch = this.lastEpoch;
    // With the KIP-101 lookup a follower can keep records of an epoch its leader never had and
    // then append the leader's older-epoch records after them; Kafka's epoch cache of that time
    // ignored an epoch below its latest (KAFKA-6361). The fixed protocol never gets here.
    if (batch.leaderEpoch < lastEpoch && !this.#kip101Lookup) {
      throw new AssertionError(
        `${this.partition}: appending epoch ${batch.leaderEpoch} after epoch ${lastEpoch}`,
      );
    }
    this.#file.append(batch, batch.sizeBytes, batch.lastOffset);
    this.#logEndOffset = batch.lastOffset + 1;
    if (batch.leaderEpoch > lastEpoch) {
      this.#epochs.push({ epoch: batch.leaderEpoch, startOffset: batch.baseOffset });
      this.#lastEpoch = batch.leaderEpoch;
      this.#writeCheckpoint('lazily');
    }
  }

  /** The LEO as the file says: the offset past its last batch. */
  #fileEndOffset(): number {
    const length = this.#file.length;
    return length === 0 ? this.logStartOffset : this.#file.keyAt(length - 1) + 1;
  }

  /** Rebuilds the running state from the files alone, as a restarted broker does. */
  #recover(): void {
    this.#logEndOffset = this.#fileEndOffset();
    const started = this.#epochStarts();
    const loaded = this.#checkpoint.read() ?? objectArray<EpochEntry>();
    // Copied into an objectArray: a copy of an empty list would be of small integers' kind.
    this.#epochs = objectArray();
    for (let index = 0; index < loaded.length; index++)
      this.#epochs.push(loaded[index] as EpochEntry);
    this.#lastEpoch = this.#epochs[this.#epochs.length - 1]?.epoch ?? UNDEFINED_EPOCH;
    this.#assertEpochsIncreasing();
    // Entries past the recovered log end go (the checkpoint may be newer than the log)...
    this.#truncateEpochsFromEnd(this.logEndOffset);
    // ...and recovered batches the checkpoint missed are assigned again, as segment recovery does:
    // a batch of an epoch above the cache's last starts an entry, and it is then in `started`.
    for (let index = 0; index < started.length; index++) {
      const entry = started[index] as EpochEntry;
      if (entry.epoch > this.lastEpoch) {
        this.#epochs.push({ epoch: entry.epoch, startOffset: entry.startOffset });
        this.#lastEpoch = entry.epoch;
      }
    }
    if (!sameEntries(started, this.#epochs))
      throw new AssertionError(
        `${this.partition}: epoch cache ${formatEntries(this.#epochs)} does not match the batches ${formatEntries(started)}`,
      );
    if (!sameEntries(loaded, this.#epochs)) this.#writeCheckpoint('lazily');
  }

  /**
   * The first batch of each epoch above those before it, as the epoch cache must have them. The
   * batches are not checked again: the file holds only batches #append took (well formed, each
   * starting at the log end, epochs never decreasing without the KIP-101 lookup) and loses only a
   * suffix (truncation, a crash), as Kafka's recovery trusts its log below the recovery point. A
   * restarted broker's logs hold thousands of batches, which a walk read in unoptimised code; with
   * epochs in order, each epoch's end is found by a binary search instead.
   */
  #epochStarts(): EpochEntry[] {
    const batches = this.#file.records();
    const started = objectArray<EpochEntry>();
    if (this.#kip101Lookup) {
      // Epochs may go down here (see #append): the largest so far decides.
      let lastEpoch = UNDEFINED_EPOCH;
      for (let index = 0; index < batches.length; index++) {
        const batch = batches[index] as RecordBatch;
        if (index === 0 || batch.leaderEpoch > lastEpoch)
          started.push({ epoch: batch.leaderEpoch, startOffset: batch.baseOffset });
        lastEpoch = Math.max(lastEpoch, batch.leaderEpoch);
      }
      return started;
    }
    let index = 0;
    while (index < batches.length) {
      const first = batches[index] as RecordBatch;
      started.push({ epoch: first.leaderEpoch, startOffset: first.baseOffset });
      let low = index + 1;
      let high = batches.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if ((batches[middle] as RecordBatch).leaderEpoch <= first.leaderEpoch) low = middle + 1;
        else high = middle;
      }
      index = low;
    }
    return started;
  }

  /** Drops the epoch entries starting at or past `endOffset`; true when any went. */
  #truncateEpochsFromEnd(endOffset: number): boolean {
    const before = this.#epochs.length;
    while (this.#epochs.length > 0) {
      const last = this.#epochs[this.#epochs.length - 1] as EpochEntry;
      if (last.startOffset < endOffset) break;
      this.#epochs.pop();
    }
    this.#lastEpoch = this.#epochs[this.#epochs.length - 1]?.epoch ?? UNDEFINED_EPOCH;
    return this.#epochs.length < before;
  }

  #writeCheckpoint(how: 'lazily' | 'durably'): void {
    // A slice keeps the list's kind (objectArray) when it is empty, where a spread's is another.
    const entries: readonly EpochEntry[] = this.#epochs.slice();
    const sizeBytes = CHECKPOINT_ENTRY_BYTES * (entries.length + 1);
    if (how === 'durably') this.#checkpoint.writeDurably(entries, sizeBytes);
    else this.#checkpoint.write(entries, sizeBytes);
  }

  /**
   * For endOffsetForEpoch: the index of the first epoch entry with an epoch > `epoch`; 0 (no
   * answer) for UNDEFINED_EPOCH.
   */
  #indexOfEpochEnd(epoch: number): number {
    if (!(Number.isSafeInteger(epoch) && epoch >= UNDEFINED_EPOCH))
      throw new AssertionError(`epoch must be an integer ≥ ${UNDEFINED_EPOCH} (got ${epoch})`);
    if (epoch === UNDEFINED_EPOCH) return 0;
    return this.#indexOfFirstEpochAbove(epoch);
  }

  /** Where the epoch before entry `index` ends: that entry's start, or the LEO past the last. */
  #endOffsetBefore(index: number): number {
    const next = this.#epochs[index];
    return next === undefined ? this.logEndOffset : next.startOffset;
  }

  /** The index of the first epoch entry with an epoch > `epoch` (the length if none). */
  #indexOfFirstEpochAbove(epoch: number): number {
    let low = 0;
    let high = this.#epochs.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.#epochs[middle] as EpochEntry).epoch <= epoch) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #assertBatchWellFormed(batch: RecordBatch): void {
    if (!(Number.isSafeInteger(batch.baseOffset) && batch.baseOffset >= 0))
      throw new AssertionError(`${this.partition}: batch at ${batch.baseOffset}: bad base offset`);
    if (batch.records.length === 0)
      throw new AssertionError(`${this.partition}: batch at ${batch.baseOffset}: no records`);
    if (batch.lastOffset !== batch.baseOffset + batch.records.length - 1)
      throw new AssertionError(
        `${this.partition}: batch at ${batch.baseOffset}: last offset ${batch.lastOffset} does not match ${batch.records.length} records`,
      );
    if (!(Number.isSafeInteger(batch.leaderEpoch) && batch.leaderEpoch >= 0))
      throw new AssertionError(
        `${this.partition}: batch at ${batch.baseOffset}: bad leader epoch ${batch.leaderEpoch}`,
      );
    if (!(Number.isSafeInteger(batch.sizeBytes) && batch.sizeBytes >= 0))
      throw new AssertionError(
        `${this.partition}: batch at ${batch.baseOffset}: bad size ${batch.sizeBytes}`,
      );
  }

  #assertRecordOffsets(batch: RecordBatch): void {
    for (let index = 0; index < batch.records.length; index++) {
      const record = batch.records[index] as LogRecord;
      if (record.offset !== batch.baseOffset + index)
        throw new AssertionError(
          `${this.partition}: batch at ${batch.baseOffset}: record ${index} has offset ${record.offset}`,
        );
    }
  }

  #assertEpochsIncreasing(): void {
    for (let index = 1; index < this.#epochs.length; index++) {
      const previous = this.#epochs[index - 1] as EpochEntry;
      const entry = this.#epochs[index] as EpochEntry;
      if (entry.epoch <= previous.epoch)
        throw new AssertionError(`${this.partition}: epoch cache epochs not increasing`);
      if (entry.startOffset <= previous.startOffset)
        throw new AssertionError(`${this.partition}: epoch cache start offsets not increasing`);
    }
  }

  #assertOffsetAtLeastStart(offset: number, what: string): void {
    if (!(Number.isSafeInteger(offset) && offset >= this.logStartOffset))
      throw new AssertionError(
        `${this.partition}: ${what} offset ${offset} below the log start ${this.logStartOffset}`,
      );
  }

  #assertOffsetInRange(offset: number, what: string): void {
    this.#assertOffsetAtLeastStart(offset, what);
    if (offset > this.logEndOffset)
      throw new AssertionError(
        `${this.partition}: ${what} offset ${offset} past the LEO ${this.logEndOffset}`,
      );
  }
}

const sameEntries = (left: readonly EpochEntry[], right: readonly EpochEntry[]): boolean => {
  if (left.length !== right.length) return false;
  return left.every((entry, index) => {
    const other = right[index] as EpochEntry;
    return entry.epoch === other.epoch && entry.startOffset === other.startOffset;
  });
};

function formatEntries(entries: readonly EpochEntry[]): string {
  return `[${entries.map((entry) => `${entry.epoch}@${entry.startOffset}`).join(', ')}]`;
}
