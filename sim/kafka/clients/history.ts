// The clients' history, in the shape of Jepsen's Kafka workload (DESIGN.md, "--history FILE"):
// every client operation is an `invoke` followed by exactly one completion:
//   ok    it happened (a send was acknowledged at an offset, a poll returned records)
//   fail  it definitely did not happen: no attempt could have written
//   info  indeterminate: some attempt timed out or got NOT_ENOUGH_REPLICAS_AFTER_APPEND, so the
//         record may still become visible, even if a later retry failed cleanly
// The `final-read` lines, one per replica and partition after the heal phase, close the history.
// The history is the input of the end-of-run checkers; it is written as JSON Lines for external ones.

import { AssertionError } from '../../kernel/assert.ts';
import type { Ms } from '../../kernel/time.ts';

export type OperationType = 'invoke' | 'ok' | 'fail' | 'info';
export type OperationFunction = 'send' | 'poll' | 'final-read';
export type Acks = '0' | '1' | 'all';

/** A record as histories list them: [offset, key, value]. */
export type HistoryRecord = readonly [number, string | null, string | null];

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

export class History {
  readonly #entries: HistoryEntry[] = [];
  /**
   * By operation id: the index of its invoke entry while it is open, -1 once completed. Ids are
   * dense (0, 1, 2, ...), so an array serves: a Map with an entry per record sent churned through
   * hash tables, and a completion reads what it repeats from the invoke entry itself.
   */
  readonly #invokeIndexById: number[] = [];
  #openCount = 0;
  /** Open operations with an attempt that may have written (it can no longer `fail`): the error. */
  readonly #indeterminate = new Map<number, string>();
  readonly #nowMs: () => Ms;
  readonly #entriesMax: number;

  constructor(nowMs: () => Ms, entriesMax = 5_000_000) {
    this.#nowMs = nowMs;
    this.#entriesMax = entriesMax;
  }

  get entries(): readonly HistoryEntry[] {
    return this.#entries;
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
    // Indexed: this runs once, unoptimised, over every operation of the run, where an iterator
    // would allocate a result object per step.
    for (let id = 0; id < this.#invokeIndexById.length; id++) {
      const index = this.#invokeIndexById[id] as number;
      if (index < 0) continue;
      const entry = this.#entries[index] as HistoryEntry;
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
    const id = this.#invokeIndexById.length;
    this.#invokeIndexById.push(this.#entries.length - 1);
    this.#openCount++;
    return id;
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
    this.#checkBound();
    const index = this.#entries.length;
    // Only the fields a send has (the others read undefined all the same, and JSON leaves them
    // out): 4 fewer than the generic entry's 14, and a run keeps every entry until its end.
    this.#entries.push({
      index,
      atMs: this.#nowMs(),
      process,
      type: 'invoke',
      f: 'send',
      acks,
      topic,
      partition,
      key,
      value,
    });
    const id = this.#invokeIndexById.length;
    this.#invokeIndexById.push(index);
    this.#openCount++;
    return id;
  }

  /**
   * `ok(operationId, { partition, offset })` (without `offset` when undefined) without the fields
   * object: a producer completes one per record.
   */
  okSend(operationId: number, partition: number, offset: number | undefined): void {
    const invoke = this.#invokeEntry(operationId);
    if (
      invoke.error !== undefined ||
      invoke.records !== undefined ||
      invoke.replica !== undefined
    ) {
      // Not an invoke of a send (it has fields a send has not): the generic completion copies them.
      this.ok(operationId, offset === undefined ? { partition } : { partition, offset });
      return;
    }
    this.#close(operationId);
    this.#checkBound();
    // Only the fields a send has, as invokeSend's entry (the others read undefined all the same,
    // and JSON leaves them out): a run keeps two entries per record sent until its end.
    this.#entries.push({
      index: this.#entries.length,
      atMs: this.#nowMs(),
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
  }

  /**
   * `ok(invoke(process, 'poll', { topic, partition }), { records })` without the fields objects: a
   * consumer records one read per batch of records it gets. Both entries carry only the fields a
   * poll has (the others read undefined all the same, and JSON leaves them out): a run keeps them
   * until its end.
   */
  pollRead(
    process: string,
    topic: string,
    partition: number,
    records: readonly HistoryRecord[],
  ): void {
    this.#checkBound();
    const atMs = this.#nowMs();
    this.#entries.push({
      index: this.#entries.length,
      atMs,
      process,
      type: 'invoke',
      f: 'poll',
      topic,
      partition,
    });
    // Its operation id, as invoke would number it, completed at once.
    this.#invokeIndexById.push(-1);
    this.#checkBound();
    this.#entries.push({
      index: this.#entries.length,
      atMs,
      process,
      type: 'ok',
      f: 'poll',
      topic,
      partition,
      records,
    });
  }

  /** An attempt of the operation may have written (a timeout, NOT_ENOUGH_REPLICAS_AFTER_APPEND). */
  markIndeterminate(operationId: number, error: string): void {
    this.#invokeEntry(operationId);
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
    this.#invokeEntry(operationId);
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
    this.#entries.push({
      index: this.#entries.length,
      atMs: this.#nowMs(),
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
    return this.#entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  }

  /** The invoke entry of an open operation. */
  #invokeEntry(operationId: number): HistoryEntry {
    const index = this.#invokeIndexById[operationId] ?? -1;
    if (index < 0) throw new AssertionError(`history: operation ${operationId} is not open`);
    return this.#entries[index] as HistoryEntry;
  }

  #complete(
    operationId: number,
    type: Exclude<OperationType, 'invoke'>,
    fields: Partial<Fields>,
  ): void {
    const invoke = this.#close(operationId);
    this.#push(invoke.process, type, invoke.f, invoke, fields);
  }

  /** The operation is no longer open: returns its invoke entry. */
  #close(operationId: number): HistoryEntry {
    const invoke = this.#invokeEntry(operationId);
    this.#invokeIndexById[operationId] = -1;
    this.#openCount--;
    if (this.#indeterminate.size > 0) this.#indeterminate.delete(operationId);
    return invoke;
  }

  #checkBound(): void {
    if (this.#entries.length >= this.#entriesMax) {
      throw new AssertionError(`history: bound entriesMax = ${this.#entriesMax} exceeded`);
    }
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
    // One shape for every entry but a send's two (absent fields undefined, which JSON leaves out):
    // cheaper to build and to scan than objects whose fields depend on the operation. A send's
    // (invokeSend, okSend) leave out the four a send never has: most entries of a run are sends'.
    const entry: HistoryEntry = {
      index: this.#entries.length,
      atMs: this.#nowMs(),
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
    this.#entries.push(entry);
  }
}
