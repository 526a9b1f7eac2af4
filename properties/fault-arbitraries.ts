// Random fault schedules as fast-check arbitraries: an explicit, serialisable list of timed faults
// (sim/faults.ts) that a scenario JSON can hold, shrinking can cut down, and any run can replay.
// Swarm testing: each schedule first draws which fault kinds are enabled and how often they come,
// so some schedules hammer one mechanism (only power failures, only one-way partitions).

import fc from 'fast-check';
import type { TimedFault } from '../sim/faults.ts';
import type { CrashKind } from '../sim/kernel/disk.ts';
import type { BlockMode, NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';

export type FaultFamily = 'crash' | 'bounce' | 'partition' | 'pause' | 'slow' | 'clog' | 'stop';

export interface FaultScheduleOptions {
  /** Every node faults may hit (ids, or role references such as `@leader` resolved when a fault fires). */
  readonly nodes: readonly NodeId[];
  /** Faults fire within [startMs, endMs). */
  readonly startMs: Ms;
  readonly endMs: Ms;
  readonly faultsMax: number;
  /** Crash kinds allowed (a voter's diskLoss is outside the contract: left out by default). */
  readonly crashKinds?: readonly CrashKind[];
  readonly families?: readonly FaultFamily[];
}

const ALL_FAMILIES: readonly FaultFamily[] = [
  'crash',
  'bounce',
  'partition',
  'pause',
  'slow',
  'clog',
  'stop',
];

/**
 * Partitions: two sides drawn from a random subset of the nodes (those left out keep every link:
 * they bridge the sides, the non-transitive case real networks produce), one-way cuts, isolation.
 */
function partitionArbitrary(nodes: readonly NodeId[]): fc.Arbitrary<TimedFault> {
  const mode: fc.Arbitrary<BlockMode> = fc.constantFrom<BlockMode>(
    'silent',
    'silent',
    'silent',
    'reject',
  );
  const sides = fc
    .tuple(fc.shuffledSubarray([...nodes], { minLength: 2 }), fc.nat())
    .map(([chosen, splitDraw]) => {
      const split = 1 + (splitDraw % (chosen.length - 1));
      return [chosen.slice(0, split), chosen.slice(split)] as const;
    });
  return fc.oneof(
    fc
      .tuple(sides, mode)
      .map(
        ([[left, right], blockMode]) =>
          ({ atMs: 0, kind: 'partition', groups: [left, right], mode: blockMode }) as TimedFault,
      ),
    fc
      .tuple(sides, mode)
      .map(
        ([[sources, targets], blockMode]) =>
          ({ atMs: 0, kind: 'partition-one-way', sources, targets, mode: blockMode }) as TimedFault,
      ),
    fc
      .tuple(fc.constantFrom(...nodes), mode)
      .map(
        ([node, blockMode]) => ({ atMs: 0, kind: 'isolate', node, mode: blockMode }) as TimedFault,
      ),
    fc.constant({ atMs: 0, kind: 'heal' } as TimedFault),
  );
}

/** One draw of a family: one fault, or for `bounce` a crash and the restart a moment later. */
function familyArbitrary(
  family: FaultFamily,
  options: FaultScheduleOptions,
): fc.Arbitrary<TimedFault[]> {
  if (family === 'bounce') {
    const crashKinds = options.crashKinds ?? ['kill', 'powerFailure'];
    return fc
      .tuple(
        fc.constantFrom(...options.nodes),
        fc.constantFrom(...crashKinds),
        fc.integer({ min: 1, max: 3_000 }),
      )
      .map(([node, crash, delayMs]) => [
        { atMs: 0, kind: 'crash', node, crash } as TimedFault,
        { atMs: delayMs, kind: 'restart', node } as TimedFault,
      ]);
  }
  return singleFaultArbitrary(family, options).map((fault) => [fault]);
}

function singleFaultArbitrary(
  family: Exclude<FaultFamily, 'bounce'>,
  options: FaultScheduleOptions,
): fc.Arbitrary<TimedFault> {
  const node = fc.constantFrom(...options.nodes);
  const crashKinds = options.crashKinds ?? ['kill', 'powerFailure'];
  switch (family) {
    case 'crash':
      return fc.oneof(
        fc
          .tuple(node, fc.constantFrom(...crashKinds))
          .map(
            ([target, crash]) => ({ atMs: 0, kind: 'crash', node: target, crash }) as TimedFault,
          ),
        node.map((target) => ({ atMs: 0, kind: 'restart', node: target }) as TimedFault),
      );
    case 'partition':
      return partitionArbitrary(options.nodes);
    case 'pause':
      return fc
        .tuple(node, fc.integer({ min: 50, max: 6_000 }))
        .map(
          ([target, durationMs]) =>
            ({ atMs: 0, kind: 'pause', node: target, durationMs }) as TimedFault,
        );
    case 'slow':
      return fc.oneof(
        fc
          .tuple(node, fc.integer({ min: 5, max: 400 }))
          .map(
            ([target, extraLatencyMs]) =>
              ({ atMs: 0, kind: 'slow', node: target, extraLatencyMs }) as TimedFault,
          ),
        fc.constant({ atMs: 0, kind: 'unslow' } as TimedFault),
      );
    case 'clog':
      return fc.oneof(
        fc
          .tuple(node, node)
          .filter(([source, target]) => source !== target)
          .map(([source, target]) => ({ atMs: 0, kind: 'clog', source, target }) as TimedFault),
        fc.constant({ atMs: 0, kind: 'release' } as TimedFault),
      );
    case 'stop':
      return fc.oneof(
        node.map((target) => ({ atMs: 0, kind: 'stop', node: target }) as TimedFault),
        node.map((target) => ({ atMs: 0, kind: 'restart', node: target }) as TimedFault),
      );
  }
}

/**
 * A timed fault schedule, sorted by time. Draws the enabled families and a weight for each first
 * (swarm testing), then the faults.
 */
export function faultScheduleArbitrary(options: FaultScheduleOptions): fc.Arbitrary<TimedFault[]> {
  const families = options.families ?? ALL_FAMILIES;
  return fc
    .tuple(
      fc.subarray([...families], { minLength: 1 }),
      fc.array(fc.integer({ min: 1, max: 5 }), {
        minLength: families.length,
        maxLength: families.length,
      }),
    )
    .chain(([enabled, weights]) => {
      const weighted = enabled.map((family, index) => ({
        arbitrary: familyArbitrary(family, options),
        weight: weights[index] ?? 1,
      }));
      const fault = fc.tuple(
        fc.integer({ min: options.startMs, max: options.endMs - 1 }),
        fc.oneof(...weighted),
      );
      return fc.array(fault, { maxLength: options.faultsMax });
    })
    .map((timed) =>
      timed
        .flatMap(([atMs, faults]) =>
          faults.map((fault) => ({ ...fault, atMs: atMs + fault.atMs }) as TimedFault),
        )
        .sort((a, b) => a.atMs - b.atMs || compareKinds(a, b)),
    );
}

function compareKinds(a: TimedFault, b: TimedFault): number {
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** The schedule a seed gives: the same seed, the same schedule, on any machine. */
export function sampleFaultSchedule(options: FaultScheduleOptions, seed: number): TimedFault[] {
  const [schedule] = fc.sample(faultScheduleArbitrary(options), { seed, numRuns: 1 });
  return schedule ?? [];
}
