// The pending events: a binary min-heap ordered by (atMs, seq). `seq` is assigned on push and
// only grows, so events due at the same millisecond leave in the order they were scheduled.

import { BoundExceededError } from './assert.ts';

export interface QueueEntry {
  atMs: number;
  seq: number;
}

function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

export class EventQueue<T extends QueueEntry> {
  readonly #heap: T[] = [];
  #seqNext = 0;

  constructor(readonly pendingMax: number) {}

  get size(): number {
    return this.#heap.length;
  }

  /** Sequence numbers handed out so far (also the number of pushes). */
  get pushed(): number {
    return this.#seqNext;
  }

  push(entry: T): void {
    const heap = this.#heap;
    if (heap.length >= this.pendingMax) {
      throw new BoundExceededError('pendingMax', this.pendingMax, 'too many pending events');
    }
    entry.seq = this.#seqNext++;
    let index = heap.length;
    heap.push(entry);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as T;
      if (!before(entry, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = entry;
  }

  peek(): T | undefined {
    return this.#heap[0];
  }

  pop(): T | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const length = heap.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && before(heap[right] as T, heap[left] as T)) child = right;
      const childEntry = heap[child] as T;
      if (!before(childEntry, last)) break;
      heap[index] = childEntry;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
