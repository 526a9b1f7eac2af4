// The physical limit: a bare binary-heap event loop with no-op handlers and about `pending`
// events in the queue, each event scheduling the next at a pseudo-random later time. The same loop
// on the kernel's own queue (a calendar for the near milliseconds beside a heap) shows what the
// queue alone gains: since the calendar, the kernel delivering messages outruns the bare heap.

import { EventQueue } from '../sim/kernel/event-queue.ts';

interface BareEvent {
  atMs: number;
  seq: number;
  fire: () => void;
}

function before(a: BareEvent, b: BareEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

class BareHeap {
  readonly items: BareEvent[] = [];

  push(event: BareEvent): void {
    const heap = this.items;
    let index = heap.length;
    heap.push(event);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as BareEvent;
      if (!before(event, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = event;
  }

  pop(): BareEvent | undefined {
    const heap = this.items;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as BareEvent, heap[left] as BareEvent)
          ? right
          : left;
      const childEvent = heap[child] as BareEvent;
      if (!before(childEvent, last)) break;
      heap[index] = childEvent;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}

/** Runs `events` events; returns how many were fired. */
export function runBareLoop(events: number, pending = 1_000): number {
  const heap = new BareHeap();
  const noop = (): void => {};
  let seq = 0;
  let random = 12_345;
  for (let i = 0; i < pending; i++) heap.push({ atMs: i % 7, seq: seq++, fire: noop });
  let fired = 0;
  while (fired < events) {
    const event = heap.pop() as BareEvent;
    event.fire();
    fired++;
    random = (Math.imul(random, 1_103_515_245) + 12_345) | 0;
    heap.push({ atMs: event.atMs + 1 + ((random >>> 16) & 7), seq: seq++, fire: noop });
  }
  return fired;
}

/**
 * The same loop on the kernel's EventQueue; returns how many events were fired. Written out again
 * rather than shared with runBareLoop through a queue parameter: each contender's loop stays
 * monomorphic, so neither pays for the other's calls in what it measures.
 */
export function runBareQueueLoop(events: number, pending = 1_000): number {
  const queue = new EventQueue<BareEvent>(pending + 1);
  const noop = (): void => {};
  let random = 12_345;
  for (let i = 0; i < pending; i++) queue.push({ atMs: i % 7, seq: 0, fire: noop }, i % 7);
  let fired = 0;
  while (fired < events) {
    const event = queue.pop() as BareEvent;
    event.fire();
    fired++;
    random = (Math.imul(random, 1_103_515_245) + 12_345) | 0;
    const atMs = event.atMs + 1 + ((random >>> 16) & 7);
    queue.push({ atMs, seq: 0, fire: noop }, atMs);
  }
  return fired;
}
