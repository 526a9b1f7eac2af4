import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../kernel/rng.ts';
import { exponentialBackoffMs } from './backoff.ts';

describe('exponentialBackoffMs (KIP-580)', () => {
  it('doubles from the first backoff up to the maximum, each within ±20 %', () => {
    const rng = new Rng(7);
    const nominal = [100, 200, 400, 800, 1000, 1000, 1000];
    nominal.forEach((ms, attempts) => {
      const backoff = exponentialBackoffMs(attempts, 100, 1000, rng.next());
      expect(backoff).toBeGreaterThanOrEqual(Math.floor(0.8 * ms));
      expect(backoff).toBeLessThanOrEqual(Math.min(1.2 * ms, 1000));
    });
  });

  it('spreads clients that fail together, and is exact when the maximum is not above the first', () => {
    const rng = new Rng(3);
    const firsts = new Set(
      Array.from({ length: 20 }, () => exponentialBackoffMs(0, 100, 1000, rng.next())),
    );
    expect(firsts.size).toBeGreaterThan(10);
    expect(exponentialBackoffMs(5, 100, 100, rng.next())).toBe(100);
    expect(exponentialBackoffMs(5, 300, 100, rng.next())).toBe(100);
  });

  it('is 0 for a first backoff of 0, however many attempts (retry.backoff.ms=0 is legal)', () => {
    for (const attempts of [0, 1, 1023, 1024, 5000])
      expect(exponentialBackoffMs(attempts, 0, 1000, 0.5)).toBe(0);
  });

  test.prop([
    fc.integer({ min: 1, max: 100_000 }),
    fc.nat(2_000),
    fc.integer({ min: 0, max: 2_000 }),
    fc.integer({ min: 0, max: 100_000 }),
  ])(
    'is a whole number of ms, never above the maximum, never below 80 % of the first',
    (seed, attempts, initialMs, maxMs) => {
      const backoff = exponentialBackoffMs(attempts, initialMs, maxMs, new Rng(seed).next());
      expect(Number.isSafeInteger(backoff)).toBe(true);
      expect(backoff).toBeLessThanOrEqual(Math.max(maxMs, 0));
      expect(backoff).toBeGreaterThanOrEqual(Math.floor(0.8 * Math.min(initialMs, maxMs)));
    },
  );
});
