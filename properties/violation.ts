// What a checker reports: a broken invariant, or a loss the durability contract allows.

import type { Message } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { World } from '../sim/kernel/world.ts';

export interface Violation {
  readonly invariant: string;
  readonly atMs: Ms;
  readonly message: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly nodes?: readonly string[];
  readonly epoch?: number;
  /** A lost record: when it was committed (the first HW past it), and what became of it on each
   * broker that held it (`holds it`, `truncation`, `lossy-crash`, `unclean`, `restart`). */
  readonly committedAtMs?: Ms;
  readonly holders?: Readonly<Record<string, string>>;
  /** metadata-staleness-bounded: since when the observer had reached the leader and a majority. */
  readonly sinceMs?: Ms;
  /** A disagreement: what one node holds where the committed record or metadata entry sat. */
  readonly heldInstead?: HeldInstead;
  /** leader-elected-after-heal: the partition left without a leader, as the metadata ends. */
  readonly leaderless?: LeaderlessPartition;
}

/** A partition with no leader: its replicas and who could lead it (KIP-966), as the metadata ends. */
export interface LeaderlessPartition {
  readonly replicas: readonly string[];
  readonly isr: readonly string[];
  readonly elr: readonly string[];
  /** With the ISR and ELR empty: the last leader, whom Kafka elects once it is back. */
  readonly lastKnownElr: readonly string[];
  readonly uncleanLeaderElection: boolean;
}

export interface HeldInstead {
  readonly node: string;
  /** The record's value, or the metadata entry's id. */
  readonly value: string;
  /** The node's high watermark when the checker saw it. */
  readonly highWatermark: number;
  /**
   * Metadata entries: the held entry's epoch and the committed entry's. Records: the leader epochs
   * of the two copies, when the held record has the committed one's value (a copy appended under
   * another leader).
   */
  readonly epoch?: number;
  readonly committedEpoch?: number;
}

export interface AllowedLoss {
  readonly reason: string;
  readonly atMs: Ms;
  readonly message: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
}

const ALLOWED_KEPT_MAX = 100;

/** Collects violations, keeping the first of each invariant and counting the rest. */
export class ViolationLog {
  readonly violations: Violation[] = [];
  readonly allowed: AllowedLoss[] = [];
  readonly #counts = new Map<string, number>();
  readonly #allowedCounts = new Map<string, number>();
  readonly #perInvariantMax: number;

  constructor(perInvariantMax = 5) {
    this.#perInvariantMax = perInvariantMax;
  }

  report(violation: Violation): void {
    const count = this.#counts.get(violation.invariant) ?? 0;
    this.#counts.set(violation.invariant, count + 1);
    if (count < this.#perInvariantMax) this.violations.push(violation);
  }

  /**
   * Keeps the first 100 allowed losses of each reason (a run's many losses of one reason do not
   * hide another's); `allowedCounts` counts them all, by reason.
   */
  allow(loss: AllowedLoss): void {
    const count = (this.#allowedCounts.get(loss.reason) ?? 0) + 1;
    this.#allowedCounts.set(loss.reason, count);
    if (count <= ALLOWED_KEPT_MAX) this.allowed.push(loss);
  }

  /** How many losses of each reason were allowed (also past the kept examples). */
  allowedCounts(): ReadonlyMap<string, number> {
    return this.#allowedCounts;
  }

  /** How many times each invariant broke (also those past the kept examples). */
  counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  has(invariant: string): boolean {
    return this.#counts.has(invariant);
  }
}

/** What every checked run reports, whatever it simulated. */
export interface CheckedRun {
  readonly violations: readonly Violation[];
  readonly allowed: readonly AllowedLoss[];
  /** How often each invariant broke (also past the kept examples). */
  readonly counts: ReadonlyMap<string, number>;
  /** How many losses of each reason were allowed (also past the kept examples). */
  readonly allowedCounts: ReadonlyMap<string, number>;
  readonly traceHash: string;
  readonly events: number;
}

/** The common part of a run's result: what the log collected, and the world's fingerprint. */
export function checkedRunOf<M extends Message>(log: ViolationLog, world: World<M>): CheckedRun {
  return {
    violations: log.violations,
    allowed: log.allowed,
    counts: log.counts(),
    allowedCounts: log.allowedCounts(),
    traceHash: world.traceHash,
    events: world.scheduler.eventsFired,
  };
}
