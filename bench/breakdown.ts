// Where R's time goes, by what each event did: the wall time of every delivered message (by its
// kind) and of every timer (by its label), the checkers' per-event checks and the end of the run.
// The bench wraps the kernel's entry points for one run (as workload-r.ts wraps the checkers);
// nothing in the model changes, and the trace hash must equal an unwrapped run's. The timing
// itself costs ~0.1 µs an event, so the shares are of the wrapped run's own total.

import { DataChecker } from '../properties/data-checker.ts';
import { RaftChecker } from '../properties/raft-checker.ts';
import { NodeHost } from '../sim/kernel/node.ts';
import { runWorkloadR } from './workload-r.ts';

/** What a timed run must report: how many events it fired and its trace hash. */
export interface TimedRun {
  readonly events: number;
  readonly traceHash: string;
}

export interface CostRow {
  /** `message <kind>`, `timer <label>`, `checks: …` or `rest: …`. */
  readonly what: string;
  readonly count: number;
  readonly totalMs: number;
}

export interface Breakdown<R extends TimedRun = TimedRun> {
  readonly result: R;
  readonly totalMs: number;
  /** Largest first. */
  readonly rows: readonly CostRow[];
}

/** Runs R once with every check on, timing each event's handler and each check. */
export function breakDownR(): Breakdown {
  return breakDown(() => runWorkloadR());
}

/** Runs `run` (a run of the Kafka harness) once, timing each event's handler and each check. */
export function breakDown<R extends TimedRun>(run: () => R): Breakdown<R> {
  const costs = new Map<string, { count: number; totalMs: number }>();
  const add = (what: string, ms: number) => {
    const cost = costs.get(what);
    if (cost === undefined) costs.set(what, { count: 1, totalMs: ms });
    else {
      cost.count++;
      cost.totalMs += ms;
    }
  };
  // Only the outermost entry is timed: a handler that delivers inline counts as its caller's.
  let depth = 0;
  const timed = <A extends unknown[]>(
    target: object,
    name: string,
    label: (...args: A) => string,
  ): (() => void) => {
    const owner = target as Record<string, (...args: A) => unknown>;
    const original = owner[name] as (...args: A) => unknown;
    if (typeof original !== 'function') throw new Error(`breakdown: no method ${name} to time`);
    owner[name] = function (this: unknown, ...args: A) {
      if (depth > 0) return original.apply(this, args);
      depth++;
      const start = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        add(label(...args), performance.now() - start);
        depth--;
      }
    };
    return () => {
      owner[name] = original;
    };
  };
  const restores = [
    timed(
      NodeHost.prototype,
      'deliver',
      (_source: unknown, message: { kind: string }) => `message ${message.kind}`,
    ),
    timed(NodeHost.prototype, 'fireTimer', (timer: { label: string }) => `timer ${timer.label}`),
    timed(RaftChecker.prototype, 'check', () => 'checks: Raft checker, after each event'),
    timed(DataChecker.prototype, 'check', () => 'checks: data checker, after each event'),
    timed(DataChecker.prototype, 'finish', () => 'checks: end of run (final reads, verdicts)'),
  ];
  const start = performance.now();
  let result: R;
  try {
    result = run();
  } finally {
    for (const restore of restores) restore();
  }
  const totalMs = performance.now() - start;
  const rows: CostRow[] = [...costs].map(([what, cost]) => ({ what, ...cost }));
  const timedMs = rows.reduce((sum, row) => sum + row.totalMs, 0);
  rows.push({
    what: 'rest: the event loop, network, faults, setup',
    count: result.events,
    totalMs: Math.max(0, totalMs - timedMs),
  });
  rows.sort((a, b) => b.totalMs - a.totalMs);
  return { result, totalMs, rows };
}

/** The breakdown as lines: the `limit` largest rows, then the rest summed. */
export function formatBreakdown(breakdown: Breakdown, limit = 10): string[] {
  const lines: string[] = [];
  const share = (ms: number) => `${((100 * ms) / breakdown.totalMs).toFixed(1).padStart(5)} %`;
  const shown = breakdown.rows.slice(0, limit);
  for (const row of shown) {
    lines.push(
      `  ${row.what.padEnd(48)} ${share(row.totalMs)}  ${String(row.count).padStart(7)} × ` +
        `${((1000 * row.totalMs) / row.count).toFixed(2).padStart(7)} µs`,
    );
  }
  const others = breakdown.rows.slice(limit);
  if (others.length > 0) {
    const ms = others.reduce((sum, row) => sum + row.totalMs, 0);
    lines.push(`  ${`${others.length} other kinds`.padEnd(48)} ${share(ms)}`);
  }
  return lines;
}
