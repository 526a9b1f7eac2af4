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
    const atMsKeys = this.#atMs;
    const seqKeys = this.#seqs;
    const entries = this.#entries;
    const top = entries[0];
    const size = --this.#size;
    const lastAtMs = atMsKeys[size] as number;
    const lastSeq = seqKeys[size] as number;
    const last = entries[size];
    entries[size] = undefined;
    if (size > 0) {
      let index = 0;
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
        if (lastAtMs < childAtMs || (lastAtMs === childAtMs && lastSeq < childSeq)) break;
        atMsKeys[index] = childAtMs;
        seqKeys[index] = childSeq;
        entries[index] = entries[child];
        index = child;
      }
      atMsKeys[index] = lastAtMs;
      seqKeys[index] = lastSeq;
      entries[index] = last;
    }
    return top;
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
