// Seeded random streams over seedrandom's alea. Every concern draws from its own stream, forked
// by label from the run's seed, so that adding or removing draws in one concern (one more fault,
// one less message) never shifts the draws of another.

import seedrandom from 'seedrandom';
import { AssertionError, assert } from './assert.ts';

export interface RngState {
  readonly seed: string;
  readonly alea: {
    readonly c: number;
    readonly s0: number;
    readonly s1: number;
    readonly s2: number;
  };
}

export class Rng {
  readonly seed: string;
  #next: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  #forkedLabels = new Set<string>();

  constructor(seed: string | number, state?: RngState['alea']) {
    this.seed = String(seed);
    this.#next = seedrandom.alea(this.seed, { state: state === undefined ? true : { ...state } });
  }

  /**
   * An independent stream named by `label`. It depends only on this stream's seed and the label,
   * never on how much has been drawn here, so forking order does not matter. Each label may be
   * forked once per stream: two concerns sharing a stream by accident would correlate.
   */
  fork(label: string): Rng {
    assert(label.length > 0, 'rng fork label must not be empty');
    if (this.#forkedLabels.has(label))
      throw new AssertionError(`rng stream "${this.seed}" already forked "${label}"`);
    this.#forkedLabels.add(label);
    return new Rng(`${this.seed}/${label}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#next();
  }

  /** Uniform integer in [minInclusive, maxInclusive]. */
  int(minInclusive: number, maxInclusive: number): number {
    if (!Number.isSafeInteger(minInclusive))
      throw new AssertionError(`rng.int min must be an integer (got ${minInclusive})`);
    if (!Number.isSafeInteger(maxInclusive))
      throw new AssertionError(`rng.int max must be an integer (got ${maxInclusive})`);
    if (minInclusive > maxInclusive)
      throw new AssertionError(`rng.int needs min ≤ max (got ${minInclusive} > ${maxInclusive})`);
    return minInclusive + Math.floor(this.#next() * (maxInclusive - minInclusive + 1));
  }

  /** True with the given probability. */
  chance(probability: number): boolean {
    if (!(probability >= 0 && probability <= 1))
      throw new AssertionError(`probability must be in [0, 1] (got ${probability})`);
    if (probability === 0) return false;
    if (probability === 1) return true;
    return this.#next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'rng.pick needs a non-empty array');
    return items[Math.floor(this.#next() * items.length)] as T;
  }

  /** A new array with the items in a uniformly random order (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const result = items.slice();
    for (let i = result.length - 1; i > 0; i--) {
      const j = Math.floor(this.#next() * (i + 1));
      const swap = result[i] as T;
      result[i] = result[j] as T;
      result[j] = swap;
    }
    return result;
  }

  /** Everything needed to continue this stream exactly where it is. */
  save(): RngState {
    return { seed: this.seed, alea: this.#next.state() };
  }

  static restore(state: RngState): Rng {
    return new Rng(state.seed, state.alea);
  }
}
