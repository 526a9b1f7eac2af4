// The pending events, ordered by (atMs, seq). `seq` is assigned on push and only grows, so events
// due at the same millisecond leave in the order they were scheduled.
//
// Two parts, and a pop takes the smaller of their heads:
// - the near calendar: one FIFO list per millisecond for whole milliseconds within NEAR_SPAN_MS of
//   the calendar's base (the time of the last pop, at most the earliest pending time). Nearly every
//   event is due within a few milliseconds (a message's latency, a linger), and a list in time order
//   needs no sorting: pushed in seq order, each list is in (atMs, seq) order already. A binary heap
//   of every event spent most of the scheduler's time sifting.
// - the far heap: a binary min-heap for the rest (long timeouts, times outside the span).
//
// The keys live in typed arrays beside the entries and the queue never reads or writes an entry:
// the simulation has many event classes, and property loads and stores across many classes
// (megamorphic, in V8's terms) made the heap several times slower.

import { BoundExceededError } from './assert.ts';
import { grownColumn } from './columns.ts';

const INITIAL_CAPACITY = 1024;

/** How many milliseconds past its base the calendar holds (a power of two). */
const NEAR_SPAN_MS = 1024;
const NEAR_MASK = NEAR_SPAN_MS - 1;

/** No node (an empty list's ends, a list's last node's next). */
const NONE = -1;

/** Where the head is (besides a calendar slot, which is >= 0). */
const HEAD_FAR = -1;
const HEAD_EMPTY = -2;
const HEAD_UNKNOWN = -3;

export class EventQueue<T> {
  // ---- the far heap
  #atMs = new Float64Array(INITIAL_CAPACITY);
  #seqs = new Float64Array(INITIAL_CAPACITY);
  // The entry arrays are filled: `new Array(n)` is of V8's small-integer kind until its first
  // entry, and each run's fresh queue deoptimised the last run's push (see objectArray).
  #entries: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  #farSize = 0;

  // ---- the near calendar: slot s holds the entries due at the one time in
  // [base, base + NEAR_SPAN_MS) that is s modulo the span, as a list of nodes in push order.
  #base = 0;
  /** The slot of `base`. */
  #baseSlot = 0;
  readonly #slotFirst = new Int32Array(NEAR_SPAN_MS).fill(NONE);
  readonly #slotLast = new Int32Array(NEAR_SPAN_MS).fill(NONE);
  #nearSize = 0;
  /** The nodes: a pool with a free list, so that a push allocates nothing. */
  #nodeNext = new Int32Array(INITIAL_CAPACITY);
  #nodeSeqs = new Float64Array(INITIAL_CAPACITY);
  #nodeEntries: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  #nodesUsed = 0;
  #freeFirst = NONE;

  /** Where the next entry is (a slot, HEAD_FAR, HEAD_EMPTY), or HEAD_UNKNOWN until asked. */
  #head = HEAD_EMPTY;
  #seqNext = 0;

  constructor(readonly pendingMax: number) {}

  get size(): number {
    return this.#nearSize + this.#farSize;
  }

  /** Sequence numbers handed out so far (also the number of pushes). */
  get pushed(): number {
    return this.#seqNext;
  }

  /** Adds `entry`, due at `atMs`; returns its sequence number. */
  push(entry: T, atMs: number): number {
    if (this.#nearSize + this.#farSize >= this.pendingMax) {
      throw new BoundExceededError('pendingMax', this.pendingMax, 'too many pending events');
    }
    const seq = this.#seqNext++;
    this.#head = HEAD_UNKNOWN;
    const offset = atMs - this.#base;
    // A whole millisecond within the span (NaN and fractions fail the last test).
    if (offset >= 0 && offset < NEAR_SPAN_MS && (offset | 0) === offset) {
      this.#pushNear((this.#baseSlot + offset) & NEAR_MASK, entry, seq);
    } else {
      this.#pushFar(entry, atMs, seq);
    }
    return seq;
  }

  peek(): T | undefined {
    const head = this.#findHead();
    if (head >= 0) return this.#nodeEntries[this.#slotFirst[head] as number];
    return head === HEAD_FAR ? this.#entries[0] : undefined;
  }

  /** The time of the next entry, or Infinity when empty. */
  peekAtMs(): number {
    const head = this.#findHead();
    if (head >= 0) return this.#base;
    return head === HEAD_FAR ? (this.#atMs[0] as number) : Number.POSITIVE_INFINITY;
  }

  pop(): T | undefined {
    const head = this.#findHead();
    if (head === HEAD_EMPTY) return undefined;
    this.#head = HEAD_UNKNOWN;
    if (head >= 0) return this.#popNear(head);
    const atMs = this.#atMs[0] as number;
    const top = this.#popFar();
    // Every pending entry is due at atMs or later (it was the earliest): the calendar may start
    // there, where the next pushes (at the clock's time or later) will land.
    if (Math.floor(atMs) === atMs && (atMs > this.#base || this.#nearSize === 0)) {
      this.#moveBase(atMs);
    }
    return top;
  }

  /**
   * Removes every entry `drop` picks, keeping the others' keys: the order in which the rest
   * leave is the same, since it follows the keys alone. Returns how many it removed.
   */
  removeWhere(drop: (entry: T) => boolean): number {
    this.#head = HEAD_UNKNOWN;
    return this.#removeNearWhere(drop) + this.#removeFarWhere(drop);
  }

  // ---- the head

  /**
   * Where the earliest entry is. The calendar's earliest is in the first non-empty slot from the
   * base on; the base moves over empty slots, but never past the far heap's head, so that entries
   * pushed later for that time still fall within the span.
   */
  #findHead(): number {
    if (this.#head !== HEAD_UNKNOWN) return this.#head;
    let head: number;
    if (this.#nearSize === 0) head = this.#farSize === 0 ? HEAD_EMPTY : HEAD_FAR;
    else {
      const farAtMs = this.#farSize === 0 ? Number.POSITIVE_INFINITY : (this.#atMs[0] as number);
      const slotFirst = this.#slotFirst;
      let base = this.#base;
      let slot = this.#baseSlot;
      // Ends within the span: the calendar holds an entry.
      while (slotFirst[slot] === NONE && base < farAtMs) {
        base++;
        slot = (slot + 1) & NEAR_MASK;
      }
      this.#base = base;
      this.#baseSlot = slot;
      const first = slotFirst[slot] as number;
      head =
        first !== NONE &&
        (base < farAtMs ||
          (base === farAtMs && (this.#nodeSeqs[first] as number) < (this.#seqs[0] as number)))
          ? slot
          : HEAD_FAR;
    }
    this.#head = head;
    return head;
  }

  /** Moves the base to `atMs` (a whole millisecond no entry of the calendar is due before). */
  #moveBase(atMs: number): void {
    const delta = atMs - this.#base;
    const deltaSlots = delta >= 0 && delta < 0x4000_0000 ? delta & NEAR_MASK : delta % NEAR_SPAN_MS;
    this.#baseSlot = (this.#baseSlot + deltaSlots + NEAR_SPAN_MS) & NEAR_MASK;
    this.#base = atMs;
  }

  // ---- the near calendar

  #pushNear(slot: number, entry: T, seq: number): void {
    let node = this.#freeFirst;
    if (node !== NONE) this.#freeFirst = this.#nodeNext[node] as number;
    else {
      if (this.#nodesUsed === this.#nodeNext.length) this.#growNodes();
      node = this.#nodesUsed++;
    }
    this.#nodeNext[node] = NONE;
    this.#nodeSeqs[node] = seq;
    this.#nodeEntries[node] = entry;
    const last = this.#slotLast[slot] as number;
    if (last === NONE) this.#slotFirst[slot] = node;
    else this.#nodeNext[last] = node;
    this.#slotLast[slot] = node;
    this.#nearSize++;
  }

  /** Takes the first entry of `slot` (the base's slot, the head). */
  #popNear(slot: number): T | undefined {
    const node = this.#slotFirst[slot] as number;
    const next = this.#nodeNext[node] as number;
    this.#slotFirst[slot] = next;
    if (next === NONE) this.#slotLast[slot] = NONE;
    const entry = this.#nodeEntries[node];
    this.#freeNode(node);
    this.#nearSize--;
    return entry;
  }

  #freeNode(node: number): void {
    this.#nodeEntries[node] = undefined;
    this.#nodeNext[node] = this.#freeFirst;
    this.#freeFirst = node;
  }

  #removeNearWhere(drop: (entry: T) => boolean): number {
    if (this.#nearSize === 0) return 0;
    const slotFirst = this.#slotFirst;
    const slotLast = this.#slotLast;
    const nodeNext = this.#nodeNext;
    let removed = 0;
    for (let slot = 0; slot < NEAR_SPAN_MS; slot++) {
      let node = slotFirst[slot] as number;
      if (node === NONE) continue;
      // Relinks the kept nodes in their order.
      let last = NONE;
      while (node !== NONE) {
        const next = nodeNext[node] as number;
        if (drop(this.#nodeEntries[node] as T)) {
          this.#freeNode(node);
          removed++;
        } else {
          if (last === NONE) slotFirst[slot] = node;
          else nodeNext[last] = node;
          last = node;
        }
        node = next;
      }
      if (last === NONE) slotFirst[slot] = NONE;
      else nodeNext[last] = NONE;
      slotLast[slot] = last;
    }
    this.#nearSize -= removed;
    return removed;
  }

  #growNodes(): void {
    const capacity = this.#nodeNext.length * 2;
    this.#nodeNext = grownColumn(this.#nodeNext, capacity);
    this.#nodeSeqs = grownColumn(this.#nodeSeqs, capacity);
    this.#nodeEntries.length = capacity;
  }

  // ---- the far heap

  #pushFar(entry: T, atMs: number, seq: number): void {
    if (this.#farSize === this.#entries.length) this.#growFar();
    const atMsKeys = this.#atMs;
    const seqKeys = this.#seqs;
    const entries = this.#entries;
    let index = this.#farSize++;
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
  }

  #popFar(): T | undefined {
    const entries = this.#entries;
    const top = entries[0];
    const size = --this.#farSize;
    const lastAtMs = this.#atMs[size] as number;
    const lastSeq = this.#seqs[size] as number;
    const last = entries[size];
    entries[size] = undefined;
    if (size > 0) this.#siftDown(0, lastAtMs, lastSeq, last);
    return top;
  }

  #removeFarWhere(drop: (entry: T) => boolean): number {
    const atMsKeys = this.#atMs;
    const seqKeys = this.#seqs;
    const entries = this.#entries;
    const size = this.#farSize;
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
    this.#farSize = kept;
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
    const size = this.#farSize;
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

  #growFar(): void {
    const capacity = this.#entries.length * 2;
    this.#atMs = grownColumn(this.#atMs, capacity);
    this.#seqs = grownColumn(this.#seqs, capacity);
    this.#entries.length = capacity;
  }
}
