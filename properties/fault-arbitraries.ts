// Random fault schedules as fast-check arbitraries: an explicit, serialisable list of timed faults
// (sim/faults.ts) that a scenario JSON can hold, shrinking can cut down, and any run can replay.
// Swarm testing: each schedule first draws which fault kinds are enabled and how often they come,
// so some schedules hammer one mechanism (only power failures, only one-way partitions). A profile
// stacks several such layers, each with its own families, nodes (ids or roles) and timings.

import fc from 'fast-check';
import type { TimedFault } from '../sim/faults.ts';
import type { CrashKind } from '../sim/kernel/disk.ts';
import type { BlockMode, NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';

export type FaultFamily =
  | 'crash'
  | 'bounce'
  | 'partition'
  | 'isolate'
  | 'heal'
  | 'pause'
  | 'slow'
  | 'clog'
  | 'stop';

export interface MsRange {
  readonly min: Ms;
  readonly max: Ms;
}

export interface FaultScheduleOptions {
  /** Every node faults may hit (ids, or role references such as `@leader` resolved when a fault fires). */
  readonly nodes: readonly NodeId[];
  /** Faults fire within [startMs, endMs). */
  readonly startMs: Ms;
  readonly endMs: Ms;
  readonly faultsMax: number;
  /** At least this many draws (default 0). */
  readonly faultsMin?: number;
  /** Crash kinds allowed (a voter's diskLoss is outside the contract: left out by default). */
  readonly crashKinds?: readonly CrashKind[];
  readonly families?: readonly FaultFamily[];
  /**
   * How long a family's faults wait for their role references to resolve (TimedFault.awaitMs):
   * a fault on `@voted` that waits fires right after the next vote, however short-lived that state.
   */
  readonly awaitMs?: Partial<Record<FaultFamily, Ms>>;
  /** How long a bounced node stays down (default 1 to 3000 ms). */
  readonly bounceDownMs?: MsRange;
  /** The extra latency of a slowed node (default 5 to 400 ms). */
  readonly slowExtraLatencyMs?: MsRange;
  /** Whether the slow family also draws `unslow` (default true). */
  readonly unslow?: boolean;
  /** For the isolate family: heal every partition this long after an isolation (default: never). */
  readonly isolateMs?: MsRange;
  /** Which shapes the partition family draws (default all: two-way, one-way, isolate, heal). */
  readonly partitionShapes?: readonly PartitionShape[];
  /** The links the clog family holds (source, target), instead of any two of `nodes`. */
  readonly clogLinks?: readonly (readonly [NodeId, NodeId])[];
  /** How cut links behave (default: the partition family silent three times in four, isolate silent). */
  readonly blockModes?: readonly BlockMode[];
}

/** Layers of fault schedules drawn independently and merged: one swarm profile. */
export type FaultProfile = readonly FaultScheduleOptions[];

const ALL_FAMILIES: readonly FaultFamily[] = [
  'crash',
  'bounce',
  'partition',
  'pause',
  'slow',
  'clog',
  'stop',
];

export type PartitionShape = 'two-way' | 'one-way' | 'isolate' | 'heal';

const ALL_PARTITION_SHAPES: readonly PartitionShape[] = ['two-way', 'one-way', 'isolate', 'heal'];

/**
 * Partitions: two sides drawn from a random subset of the nodes (those left out keep every link:
 * they bridge the sides, the non-transitive case real networks produce), one-way cuts, isolation,
 * and the heal; `shapes` picks which of them the family draws.
 */
function partitionArbitrary(
  nodes: readonly NodeId[],
  blockModes: readonly BlockMode[],
  shapes: readonly PartitionShape[],
): fc.Arbitrary<TimedFault> {
  const mode: fc.Arbitrary<BlockMode> = fc.constantFrom<BlockMode>(...blockModes);
  const sides = fc
    .tuple(fc.shuffledSubarray([...nodes], { minLength: 2 }), fc.nat())
    .map(([chosen, splitDraw]) => {
      const split = 1 + (splitDraw % (chosen.length - 1));
      return [chosen.slice(0, split), chosen.slice(split)] as const;
    });
  const arbitraries: Record<PartitionShape, fc.Arbitrary<TimedFault>> = {
    'two-way': fc
      .tuple(sides, mode)
      .map(
        ([[left, right], blockMode]) =>
          ({ atMs: 0, kind: 'partition', groups: [left, right], mode: blockMode }) as TimedFault,
      ),
    'one-way': fc
      .tuple(sides, mode)
      .map(
        ([[sources, targets], blockMode]) =>
          ({ atMs: 0, kind: 'partition-one-way', sources, targets, mode: blockMode }) as TimedFault,
      ),
    isolate: fc
      .tuple(fc.constantFrom(...nodes), mode)
      .map(
        ([node, blockMode]) => ({ atMs: 0, kind: 'isolate', node, mode: blockMode }) as TimedFault,
      ),
    heal: fc.constant({ atMs: 0, kind: 'heal' } as TimedFault),
  };
  return fc.oneof(...shapes.map((shape) => arbitraries[shape]));
}

/** Two different nodes (a link): ids or role references, resolved when the fault fires. */
function linkArbitrary(nodes: readonly NodeId[]): fc.Arbitrary<readonly [NodeId, NodeId]> {
  const node = fc.constantFrom(...nodes);
  return fc.tuple(node, node).filter(([source, target]) => source !== target);
}

/** One draw of a family: one fault, at offset 0 (the schedule adds the time). */
function familyArbitrary(
  family: FaultFamily,
  options: FaultScheduleOptions,
): fc.Arbitrary<TimedFault> {
  const nodes = options.nodes;
  const node = fc.constantFrom(...nodes);
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
    case 'bounce':
      return fc
        .tuple(
          node,
          fc.constantFrom(...crashKinds),
          fc.integer(options.bounceDownMs ?? { min: 1, max: 3_000 }),
        )
        .map(
          ([target, crash, downMs]) =>
            ({ atMs: 0, kind: 'bounce', node: target, crash, downMs }) as TimedFault,
        );
    case 'partition':
      return partitionArbitrary(
        nodes,
        options.blockModes ?? ['silent', 'silent', 'silent', 'reject'],
        options.partitionShapes ?? ALL_PARTITION_SHAPES,
      );
    case 'isolate':
      return isolateArbitrary(node, options);
    case 'heal':
      return fc.constant({ atMs: 0, kind: 'heal' } as TimedFault);
    case 'pause':
      return fc
        .tuple(node, fc.integer({ min: 50, max: 6_000 }))
        .map(
          ([target, durationMs]) =>
            ({ atMs: 0, kind: 'pause', node: target, durationMs }) as TimedFault,
        );
    case 'slow':
      return slowArbitrary(node, options);
    case 'clog':
      return fc.oneof(
        (options.clogLinks === undefined
          ? linkArbitrary(nodes)
          : fc.constantFrom(...options.clogLinks)
        ).map(([source, target]) => ({ atMs: 0, kind: 'clog', source, target }) as TimedFault),
        fc.constant({ atMs: 0, kind: 'release' } as TimedFault),
      );
    case 'stop':
      return fc.oneof(
        node.map((target) => ({ atMs: 0, kind: 'stop', node: target }) as TimedFault),
        node.map((target) => ({ atMs: 0, kind: 'restart', node: target }) as TimedFault),
      );
  }
}

/** An isolation (silent unless blockModes says otherwise), healed after `isolateMs` if given. */
function isolateArbitrary(
  node: fc.Arbitrary<NodeId>,
  options: FaultScheduleOptions,
): fc.Arbitrary<TimedFault> {
  const healAfterMs =
    options.isolateMs === undefined ? fc.constant(undefined) : fc.integer(options.isolateMs);
  return fc
    .tuple(node, fc.constantFrom<BlockMode>(...(options.blockModes ?? ['silent'])), healAfterMs)
    .map(
      ([target, mode, healAfter]) =>
        ({
          atMs: 0,
          kind: 'isolate',
          node: target,
          mode,
          ...(healAfter === undefined ? {} : { healAfterMs: healAfter }),
        }) as TimedFault,
    );
}

/** A slowed node, or (unless `unslow` is false) every slow link back to normal. */
function slowArbitrary(
  node: fc.Arbitrary<NodeId>,
  options: FaultScheduleOptions,
): fc.Arbitrary<TimedFault> {
  const slow = fc
    .tuple(node, fc.integer(options.slowExtraLatencyMs ?? { min: 5, max: 400 }))
    .map(
      ([target, extraLatencyMs]) =>
        ({ atMs: 0, kind: 'slow', node: target, extraLatencyMs }) as TimedFault,
    );
  return options.unslow === false
    ? slow
    : fc.oneof(slow, fc.constant({ atMs: 0, kind: 'unslow' } as TimedFault));
}

function validate(options: FaultScheduleOptions): void {
  if (options.nodes.length === 0) throw new RangeError('a fault schedule needs at least one node');
  if (!(options.startMs < options.endMs))
    throw new RangeError(
      `a fault schedule needs startMs < endMs (got ${options.startMs} ≥ ${options.endMs})`,
    );
  const faultsMin = options.faultsMin ?? 0;
  if (!(faultsMin <= options.faultsMax))
    throw new RangeError(`faultsMin must be ≤ faultsMax (got ${faultsMin} > ${options.faultsMax})`);
}

/**
 * A timed fault schedule, sorted by time. Draws the enabled families and a weight for each first
 * (swarm testing), then the faults.
 */
export function faultScheduleArbitrary(options: FaultScheduleOptions): fc.Arbitrary<TimedFault[]> {
  validate(options);
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
      const weighted = enabled.map((family, index) => {
        const awaitMs = options.awaitMs?.[family];
        const arbitrary = familyArbitrary(family, options);
        return {
          arbitrary:
            awaitMs === undefined
              ? arbitrary
              : arbitrary.map((fault) => ({ ...fault, awaitMs }) as TimedFault),
          weight: weights[index] ?? 1,
        };
      });
      const fault = fc.tuple(
        fc.integer({ min: options.startMs, max: options.endMs - 1 }),
        fc.oneof(...weighted),
      );
      return options.faultsMin === undefined
        ? fc.array(fault, { maxLength: options.faultsMax })
        : fc.array(fault, { minLength: options.faultsMin, maxLength: options.faultsMax });
    })
    .map((timed) => sortFaults(timed.map(([atMs, fault]) => ({ ...fault, atMs }) as TimedFault)));
}

/** The layers of a profile drawn independently, merged into one schedule sorted by time. */
export function faultProfileArbitrary(profile: FaultProfile): fc.Arbitrary<TimedFault[]> {
  return fc
    .tuple(...profile.map((layer) => faultScheduleArbitrary(layer)))
    .map((layers) => sortFaults(layers.flat()));
}

function sortFaults(faults: TimedFault[]): TimedFault[] {
  return faults.sort((a, b) => a.atMs - b.atMs || compareKinds(a, b));
}

function compareKinds(a: TimedFault, b: TimedFault): number {
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** The schedule a seed gives: the same seed, the same schedule, on any machine. */
export function sampleFaultSchedule(
  options: FaultScheduleOptions | FaultProfile,
  seed: number,
): TimedFault[] {
  const arbitrary =
    'nodes' in options ? faultScheduleArbitrary(options) : faultProfileArbitrary(options);
  const [schedule] = fc.sample(arbitrary, { seed, numRuns: 1 });
  return schedule ?? [];
}
