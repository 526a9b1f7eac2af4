import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BoundExceededError } from './assert.ts';
import { EventQueue } from './event-queue.ts';

interface Entry {
  readonly atMs: number;
  /** The sequence number the queue handed out for this entry. */
  seq: number;
  /** Position among all pushes, set by the test: the insertion order. */
  readonly pushIndex: number;
}

function pushEntry(queue: EventQueue<Entry>, entry: Entry): void {
  entry.seq = queue.push(entry, entry.atMs);
}

type Command = { readonly op: 'push'; readonly atMs: number } | { readonly op: 'pop' };

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  // A narrow range of times, so that many events share a millisecond.
  {
    arbitrary: fc.record({
      op: fc.constant('push' as const),
      atMs: fc.integer({ min: 0, max: 8 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('pop' as const) }), weight: 2 },
);

function byTimeThenInsertion(a: Entry, b: Entry): number {
  return a.atMs - b.atMs || a.pushIndex - b.pushIndex;
}

describe('EventQueue', () => {
  test.prop([fc.array(commandArbitrary, { maxLength: 200 })], { numRuns: 300 })(
    'pops the earliest pending event, ties in insertion order',
    (commands) => {
      const queue = new EventQueue<Entry>(1_000);
      const model: Entry[] = [];
      let pushIndex = 0;
      for (const command of commands) {
        if (command.op === 'push') {
          const entry: Entry = { atMs: command.atMs, seq: -1, pushIndex: pushIndex++ };
          pushEntry(queue, entry);
          model.push(entry);
        } else {
          model.sort(byTimeThenInsertion);
          expect(queue.pop()).toBe(model.shift());
        }
        expect(queue.size).toBe(model.length);
        model.sort(byTimeThenInsertion);
        expect(queue.peek()).toBe(model[0]);
        expect(queue.peekAtMs()).toBe(model[0]?.atMs ?? Number.POSITIVE_INFINITY);
      }
      // Draining what is left also comes out in (atMs, insertion) order.
      const drained: Entry[] = [];
      for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) drained.push(entry);
      expect(drained).toEqual(model);
      expect(queue.pop()).toBeUndefined();
      expect(queue.pushed).toBe(pushIndex);
    },
  );

  test.prop(
    [
      fc.array(
        fc.oneof(
          { arbitrary: commandArbitrary, weight: 10 },
          {
            arbitrary: fc.record({ op: fc.constant('remove' as const), modulo: fc.nat(4) }),
            weight: 1,
          },
        ),
        { maxLength: 200 },
      ),
    ],
    { numRuns: 300 },
  )('removeWhere drops what it picks and leaves the rest in the same order', (commands) => {
    const queue = new EventQueue<Entry>(1_000);
    let model: Entry[] = [];
    let pushIndex = 0;
    for (const command of commands) {
      if (command.op === 'push') {
        const entry: Entry = { atMs: command.atMs, seq: -1, pushIndex: pushIndex++ };
        pushEntry(queue, entry);
        model.push(entry);
      } else if (command.op === 'pop') {
        model.sort(byTimeThenInsertion);
        expect(queue.pop()).toBe(model.shift());
      } else {
        const drop = (entry: Entry) => entry.pushIndex % (command.modulo + 2) === 0;
        const kept = model.filter((entry) => !drop(entry));
        expect(queue.removeWhere(drop)).toBe(model.length - kept.length);
        model = kept;
      }
      expect(queue.size).toBe(model.length);
    }
    model.sort(byTimeThenInsertion);
    const drained: Entry[] = [];
    for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) drained.push(entry);
    expect(drained).toEqual(model);
  });

  // Pushes relative to the last pop's time, as a scheduler makes them: most within a few
  // milliseconds (the near calendar), some past its span or between whole milliseconds (the far
  // heap), some before the last pop (a queue used on its own): the two parts must merge exactly.
  const delayArbitrary = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 3 }), weight: 6 },
    { arbitrary: fc.integer({ min: 1_000, max: 1_100 }), weight: 2 },
    { arbitrary: fc.constantFrom(30_000, 2 ** 31, 2 ** 40, 0.5, 2.25), weight: 1 },
    { arbitrary: fc.integer({ min: -5, max: -1 }), weight: 1 },
  );
  test.prop(
    [
      fc.array(
        fc.oneof(
          {
            arbitrary: fc.record({ op: fc.constant('push' as const), delay: delayArbitrary }),
            weight: 5,
          },
          { arbitrary: fc.record({ op: fc.constant('pop' as const) }), weight: 4 },
          {
            arbitrary: fc.record({ op: fc.constant('remove' as const), modulo: fc.nat(4) }),
            weight: 1,
          },
        ),
        { maxLength: 300 },
      ),
    ],
    { numRuns: 300 },
  )('merges near and far events in (atMs, insertion) order', (commands) => {
    const queue = new EventQueue<Entry>(1_000);
    let model: Entry[] = [];
    let pushIndex = 0;
    let nowMs = 0;
    for (const command of commands) {
      if (command.op === 'push') {
        const entry: Entry = { atMs: nowMs + command.delay, seq: -1, pushIndex: pushIndex++ };
        pushEntry(queue, entry);
        model.push(entry);
      } else if (command.op === 'pop') {
        model.sort(byTimeThenInsertion);
        const expected = model.shift();
        expect(queue.pop()).toBe(expected);
        if (expected !== undefined) nowMs = expected.atMs;
      } else {
        const drop = (entry: Entry) => entry.pushIndex % (command.modulo + 2) === 0;
        const kept = model.filter((entry) => !drop(entry));
        expect(queue.removeWhere(drop)).toBe(model.length - kept.length);
        model = kept;
      }
      model.sort(byTimeThenInsertion);
      expect(queue.size).toBe(model.length);
      expect(queue.peek()).toBe(model[0]);
      expect(queue.peekAtMs()).toBe(model[0]?.atMs ?? Number.POSITIVE_INFINITY);
    }
    const drained: Entry[] = [];
    for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) drained.push(entry);
    expect(drained).toEqual(model);
  });

  test.prop([fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 100 })])(
    'stamps seq in push order and pops a non-decreasing (atMs, seq) sequence',
    (times) => {
      const queue = new EventQueue<Entry>(1_000);
      times.forEach((atMs, pushIndex) => {
        pushEntry(queue, { atMs, seq: -1, pushIndex });
      });
      let previous: Entry | undefined;
      for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) {
        expect(entry.seq).toBe(entry.pushIndex);
        if (previous !== undefined) {
          const inOrder =
            previous.atMs < entry.atMs ||
            (previous.atMs === entry.atMs && previous.seq < entry.seq);
          expect(inOrder).toBe(true);
        }
        previous = entry;
      }
    },
  );

  test.prop(
    [
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1_500, maxLength: 5_000 }),
      fc.integer({ min: 2, max: 5 }),
    ],
    { numRuns: 10 },
  )('keeps the order when it grows far past its first capacity', (times, popEvery) => {
    const queue = new EventQueue<Entry>(10_000);
    const popped: Entry[] = [];
    times.forEach((atMs, pushIndex) => {
      pushEntry(queue, { atMs, seq: -1, pushIndex });
      // Pop now and then, so that growth happens with a heap in every shape.
      if (pushIndex % popEvery === 0) popped.push(queue.pop() as Entry);
    });
    const rest: Entry[] = [];
    for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) rest.push(entry);
    expect(popped.length + rest.length).toBe(times.length);
    expect(rest).toEqual(rest.slice().sort(byTimeThenInsertion));
    // Each pop took the minimum of what was pending: replay with a sorted model.
    const model: Entry[] = [];
    const replayed: Entry[] = [];
    const entries = [...popped, ...rest].sort((a, b) => a.pushIndex - b.pushIndex);
    entries.forEach((entry, pushIndex) => {
      model.push(entry);
      if (pushIndex % popEvery === 0) {
        let best = 0;
        for (let i = 1; i < model.length; i++) {
          if (byTimeThenInsertion(model[i] as Entry, model[best] as Entry) < 0) best = i;
        }
        replayed.push(model.splice(best, 1)[0] as Entry);
      }
    });
    expect(popped).toEqual(replayed);
  });

  it('throws BoundExceededError naming pendingMax when too many events are pending', () => {
    const queue = new EventQueue<Entry>(3);
    for (let pushIndex = 0; pushIndex < 3; pushIndex++)
      pushEntry(queue, { atMs: 1, seq: -1, pushIndex });
    let error: unknown;
    try {
      pushEntry(queue, { atMs: 1, seq: -1, pushIndex: 3 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BoundExceededError);
    expect((error as BoundExceededError).bound).toBe('pendingMax');
    expect((error as BoundExceededError).limit).toBe(3);
    expect((error as BoundExceededError).message).toMatch(/pendingMax = 3/);
    expect(queue.size).toBe(3);
    // The bound is on pending events, not on pushes: after a pop there is room again.
    queue.pop();
    pushEntry(queue, { atMs: 1, seq: -1, pushIndex: 4 });
    expect(queue.size).toBe(3);
  });

  it('is empty when nothing was pushed', () => {
    const queue = new EventQueue<Entry>(1);
    expect(queue.peek()).toBeUndefined();
    expect(queue.pop()).toBeUndefined();
    expect(queue.size).toBe(0);
  });
});
