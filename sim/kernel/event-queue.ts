// The pending events: a binary min-heap ordered by (atMs, seq). `seq` is assigned on push and
// only grows, so events due at the same millisecond leave in the order they were scheduled.
//
// The keys live in typed arrays beside the entries and the queue never reads or writes an entry:
// the simulation has many event classes, and property loads and stores across many classes
// (megamorphic, in V8's terms) made the heap several times slower.

import { BoundExceededError } from './assert.ts';

const INITIAL_CAPACITY = 1024;

export class EventQueue<T> {
  #atMs = new Float64Array(INITIAL_CAPACITY);
  #seqs = new Float64Array(INITIAL_CAPACITY);
  #entries: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY);
  #size = 0;
  #seqNext = 0;

  constructor(readonly pendingMax: number) {}

  get size(): number {
    return this.#size;
  }

  /** Sequence numbers handed out so far (also the number of pushes). */
  get pushed(): number {
    return this.#seqNext;
  }

  /** Adds `entry`, due at `atMs`; returns its sequence number. */
  push(entry: T, atMs: number): number {
    if (this.#size >= this.pendingMax) {
      throw new BoundExceededError('pendingMax', this.pendingMax, 'too many pending events');
    }
    if (this.#size === this.#entries.length) this.#grow();
    const seq = this.#seqNext++;
    const atMsKeys = this.#atMs;
    const seqKeys = this.#seqs;
    const entries = this.#entries;
    let index = this.#size++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentAtMs = atMsKeys[parent] as number;
      if (parentAtMs < atMs || (parentAtMs === atMs && (seqKeys[parent] as number) < seq)) break;
      atMsKeys[index] = parentAtMs;
      seqKeys[index] = seqKeys[parent] as number;
      entries[index] = entries[parent];
      index = parent;
    }
    atMsKeys[index] = atMs;
    seqKeys[index] = seq;
    entries[index] = entry;
    return seq;
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#entries[0];
  }

  /** The time of the next entry, or Infinity when empty. */
  peekAtMs(): number {
    return this.#size === 0 ? Number.POSITIVE_INFINITY : (this.#atMs[0] as number);
  }

  pop(): T | undefined {
    if (this.#size === 0) return undefined;
    const entries = this.#entries;
    const top = entries[0];
    const size = --this.#size;
    const lastAtMs = this.#atMs[size] as number;
    const lastSeq = this.#seqs[size] as number;
    const last = entries[size];
    entries[size] = undefined;
    if (size > 0) this.#siftDown(0, lastAtMs, lastSeq, last);
    return top;
  }

  /**
   * Removes every entry `drop` picks, keeping the others' keys: the order in which the rest
   * leave is the same, since it follows the keys alone. Returns how many it removed.
   */
  removeWhere(drop: (entry: T) => boolean): number {
    const atMsKeys = this.#atMs;
    const seqKeys = this.#seqs;
    const entries = this.#entries;
    const size = this.#size;
    let kept = 0;
    for (let index = 0; index < size; index++) {
      const entry = entries[index] as T;
      if (drop(entry)) continue;
      atMsKeys[kept] = atMsKeys[index] as number;
      seqKeys[kept] = seqKeys[index] as number;
      entries[kept] = entry;
      kept++;
    }
    entries.fill(undefined, kept, size);
    this.#size = kept;
    // Floyd's heap construction: sift every parent down, the last one first.
    for (let index = (kept >> 1) - 1; index >= 0; index--) {
      this.#siftDown(index, atMsKeys[index] as number, seqKeys[index] as number, entries[index]);
    }
    return size - kept;
  }

  /** Places (atMs, seq, entry) at `start` or below it, moving smaller children up. */
  #siftDown(start: number, atMs: number, seq: number, entry: T | undefined): void {
    const atMsKeys = this.#atMs;
    const seqKeys = this.#seqs;
    const entries = this.#entries;
    const size = this.#size;
    let index = start;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= size) break;
      let childAtMs = atMsKeys[child] as number;
      let childSeq = seqKeys[child] as number;
      const right = child + 1;
      if (right < size) {
        const rightAtMs = atMsKeys[right] as number;
        const rightSeq = seqKeys[right] as number;
        if (rightAtMs < childAtMs || (rightAtMs === childAtMs && rightSeq < childSeq)) {
          child = right;
          childAtMs = rightAtMs;
          childSeq = rightSeq;
        }
      }
      if (atMs < childAtMs || (atMs === childAtMs && seq < childSeq)) break;
      atMsKeys[index] = childAtMs;
      seqKeys[index] = childSeq;
      entries[index] = entries[child];
      index = child;
    }
    atMsKeys[index] = atMs;
    seqKeys[index] = seq;
    entries[index] = entry;
  }

  #grow(): void {
    const capacity = this.#entries.length * 2;
    const atMs = new Float64Array(capacity);
    atMs.set(this.#atMs);
    this.#atMs = atMs;
    const seqs = new Float64Array(capacity);
    seqs.set(this.#seqs);
    this.#seqs = seqs;
    this.#entries.length = capacity;
  }
}
