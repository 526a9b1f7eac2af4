import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { AssertionError } from './assert.ts';
import { Rng } from './rng.ts';

function draws(rng: Rng, count: number): number[] {
  return Array.from({ length: count }, () => rng.next());
}

describe('Rng', () => {
  it('gives the same sequence for the same seed, and another for another seed', () => {
    const first = draws(new Rng('seed-1'), 50);
    expect(draws(new Rng('seed-1'), 50)).toEqual(first);
    expect(draws(new Rng('seed-2'), 50)).not.toEqual(first);
    // A numeric seed is the same stream as its decimal text.
    expect(draws(new Rng(42), 10)).toEqual(draws(new Rng('42'), 10));
    for (const value of first) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });

  test.prop([fc.string(), fc.nat({ max: 200 }), fc.string({ minLength: 1 })], { numRuns: 50 })(
    'forks a stream that does not depend on how much the parent has drawn',
    (seed, drawnBefore, label) => {
      const fresh = new Rng(seed).fork(label);
      const parent = new Rng(seed);
      draws(parent, drawnBefore);
      const forkedLate = parent.fork(label);
      expect(draws(forkedLate, 20)).toEqual(draws(fresh, 20));
    },
  );

  it('forks streams that are independent of fork order and of each other', () => {
    const ab = new Rng('s');
    const a1 = ab.fork('a');
    const b1 = ab.fork('b');
    const ba = new Rng('s');
    const b2 = ba.fork('b');
    const a2 = ba.fork('a');
    expect(draws(a1, 10)).toEqual(draws(a2, 10));
    expect(draws(b1, 10)).toEqual(draws(b2, 10));
    expect(draws(new Rng('s').fork('a'), 10)).not.toEqual(draws(new Rng('s').fork('b'), 10));
    // Drawing from a child does not move the parent.
    const parent = new Rng('p');
    const child = parent.fork('child');
    draws(child, 30);
    expect(draws(parent, 10)).toEqual(draws(new Rng('p'), 10));
  });

  it('refuses to fork the same label twice from one stream, and an empty label', () => {
    const rng = new Rng('s');
    rng.fork('network');
    expect(() => rng.fork('network')).toThrow(AssertionError);
    expect(() => rng.fork('network')).toThrow(/already forked "network"/);
    expect(() => rng.fork('')).toThrow(/must not be empty/);
    // Another stream may use the label.
    expect(() => new Rng('s').fork('network')).not.toThrow();
    expect(() => rng.fork('faults')).not.toThrow();
  });

  test.prop([fc.string(), fc.nat({ max: 100 })], { numRuns: 50 })(
    'continues exactly where it was after save and restore',
    (seed, drawnBefore) => {
      const rng = new Rng(seed);
      draws(rng, drawnBefore);
      const state = rng.save();
      const restored = Rng.restore(JSON.parse(JSON.stringify(state)));
      expect(restored.seed).toBe(rng.seed);
      expect(draws(restored, 20)).toEqual(draws(rng, 20));
      // Restoring an older state replays from that point.
      const again = Rng.restore(state);
      const replay = new Rng(seed);
      draws(replay, drawnBefore);
      expect(draws(again, 5)).toEqual(draws(replay, 5));
    },
  );

  test.prop(
    [
      fc.string(),
      fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
      fc.integer({ min: 0, max: 2_000_000_000 }),
    ],
    { numRuns: 200 },
  )('int draws integers within [min, max]', (seed, min, span) => {
    const max = min + span;
    const rng = new Rng(seed);
    for (let i = 0; i < 50; i++) {
      const value = rng.int(min, max);
      expect(Number.isSafeInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(min);
      expect(value).toBeLessThanOrEqual(max);
    }
  });

  test.prop([fc.maxSafeInteger(), fc.maxSafeInteger()], { numRuns: 100 })(
    'int stays within bounds at the edges of the safe integers',
    (x, y) => {
      const min = Math.min(x, y);
      const max = Math.max(x, y);
      const rng = new Rng(`${x}/${y}`);
      for (let i = 0; i < 20; i++) {
        const value = rng.int(min, max);
        expect(value).toBeGreaterThanOrEqual(min);
        expect(value).toBeLessThanOrEqual(max);
      }
    },
  );

  it('int reaches both ends of a small range and rejects bad bounds', () => {
    const rng = new Rng('ends');
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(rng.int(3, 6));
    expect([...seen].sort((a, b) => a - b)).toEqual([3, 4, 5, 6]);
    expect(rng.int(7, 7)).toBe(7);
    expect(() => rng.int(5, 4)).toThrow(/min ≤ max/);
    expect(() => rng.int(0.5, 4)).toThrow(/min must be an integer/);
    expect(() => rng.int(0, Number.POSITIVE_INFINITY)).toThrow(/max must be an integer/);
  });

  it('chance is certain at 1, never at 0, and rejects probabilities outside [0, 1]', () => {
    const rng = new Rng('chance');
    for (let i = 0; i < 100; i++) {
      expect(rng.chance(1)).toBe(true);
      expect(rng.chance(0)).toBe(false);
    }
    let hits = 0;
    for (let i = 0; i < 2_000; i++) if (rng.chance(0.25)) hits++;
    expect(hits).toBeGreaterThan(400);
    expect(hits).toBeLessThan(600);
    expect(() => rng.chance(1.5)).toThrow(/probability must be in \[0, 1\]/);
    expect(() => rng.chance(-0.1)).toThrow(/probability/);
  });

  it('pick returns an item of the array and needs a non-empty one', () => {
    const rng = new Rng('pick');
    const items = ['a', 'b', 'c'];
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const item = rng.pick(items);
      expect(items).toContain(item);
      seen.add(item);
    }
    expect(seen.size).toBe(3);
    expect(() => rng.pick([])).toThrow(/non-empty/);
  });

  test.prop([fc.string(), fc.array(fc.integer(), { maxLength: 50 })], { numRuns: 100 })(
    'shuffled is a permutation and leaves its input alone',
    (seed, items) => {
      const input = items.slice();
      const result = new Rng(seed).shuffled(items);
      expect(items).toEqual(input);
      expect(result).not.toBe(items);
      const byValue = (a: number, b: number) => a - b;
      expect(result.slice().sort(byValue)).toEqual(input.slice().sort(byValue));
      expect(new Rng(seed).shuffled(items)).toEqual(result);
    },
  );

  it('shuffled reaches every order of three items', () => {
    const rng = new Rng('shuffle');
    const orders = new Set<string>();
    for (let i = 0; i < 300; i++) orders.add(rng.shuffled(['a', 'b', 'c']).join(''));
    expect(orders.size).toBe(6);
  });
});
