// The metadata log (`__cluster_metadata`): entries stamped with the epoch of the leader that
// appended them, on the node's disk. Offsets index the log from 0 (no snapshots yet).

import { objectArray } from '../../kernel/arrays.ts';
import { AssertionError } from '../../kernel/assert.ts';
import type { Disk, LogFile } from '../../kernel/disk.ts';

/** What an entry carries: a leader's first entry of its epoch, or a metadata record. */
export type RaftPayload =
  | { readonly type: 'leader-change'; readonly leaderId: string }
  | { readonly type: 'record'; readonly id: string; readonly record: unknown };

export interface RaftEntry {
  readonly epoch: number;
  readonly payload: RaftPayload;
  readonly sizeBytes: number;
  /**
   * Set on every entry of a batch but its last. A batch (the records of one controller decision,
   * Kafka's atomic append of a ControllerResult) is appended, flushed, read and fetched whole, so
   * log ends, fetch offsets and the high watermark fall between batches: no node ever holds or
   * replays part of one. An entry without it ends its batch (most batches are one entry).
   */
  readonly moreInBatch?: true;
}

export const RAFT_LOG_FILE = 'metadata-log';

export class RaftLog {
  readonly file: LogFile<RaftEntry>;
  /** Bumped on every truncation, so checkers know when to look again. */
  truncations = 0;

  constructor(disk: Disk) {
    this.file = disk.log<RaftEntry>(RAFT_LOG_FILE);
  }

  get endOffset(): number {
    return this.file.length;
  }

  /** The epoch of the last entry (0 for an empty log). */
  get lastEpoch(): number {
    return this.file.length === 0 ? 0 : this.file.at(this.file.length - 1).epoch;
  }

  entry(offset: number): RaftEntry {
    return this.file.at(offset);
  }

  epochAt(offset: number): number {
    return this.file.at(offset).epoch;
  }

  append(entry: RaftEntry): number {
    if (entry.epoch < this.lastEpoch) {
      throw new AssertionError(
        `metadata log: appending epoch ${entry.epoch} after epoch ${this.lastEpoch}`,
      );
    }
    this.file.append(entry, entry.sizeBytes);
    return this.file.length - 1;
  }

  truncateTo(endOffset: number): void {
    if (endOffset >= this.file.length) return;
    this.file.truncate(endOffset);
    this.truncations++;
  }

  flush(): void {
    this.file.flush();
  }

  /**
   * The largest epoch ≤ `epoch` in this log and the offset where it ends (the start of the next
   * larger epoch, or the log end): what a leader answers a fetcher whose last fetched epoch is
   * `epoch`. An epoch below everything in the log gives (0, 0)... the start of the log.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    const length = this.file.length;
    // Epochs never decrease along the log: binary search the first entry with a larger epoch.
    let low = 0;
    let high = length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.file.at(middle).epoch <= epoch) low = middle + 1;
      else high = middle;
    }
    if (low === 0) return { epoch: 0, endOffset: 0 };
    return { epoch: this.file.at(low - 1).epoch, endOffset: low };
  }

  /**
   * Whole batches from `offset` (a batch start) up to `maxBytes`: at least one batch if there is
   * any, however large, as Kafka does; a batch that does not fit whole is left for the next read.
   */
  read(offset: number, maxBytes: number): readonly RaftEntry[] {
    const length = this.file.length;
    // Nothing past the end: most fetches, answered when the high watermark alone moves.
    if (offset >= length) return NO_ENTRIES;
    const entries: RaftEntry[] = [];
    let bytes = 0;
    let index = offset;
    while (index < length) {
      let end = index;
      let batchBytes = this.file.at(end).sizeBytes;
      while (this.file.at(end).moreInBatch === true && end + 1 < length)
        batchBytes += this.file.at(++end).sizeBytes;
      if (entries.length > 0 && bytes + batchBytes > maxBytes) break;
      for (; index <= end; index++) entries.push(this.file.at(index));
      bytes += batchBytes;
    }
    return entries;
  }
}

/** No entries: what a read past the log's end gives, shared (nothing writes to a read's entries). */
export const NO_ENTRIES: readonly RaftEntry[] = objectArray();
