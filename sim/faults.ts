// Timed faults as plain data: what a scenario's timeline, a fuzz seed's schedule and a shrunk
// failing case are made of. Serialisable as JSON, applied to a world by `applyFault`.

import { assertNever } from './kernel/assert.ts';
import type { CrashKind } from './kernel/disk.ts';
import type { BlockMode, Message, NodeId } from './kernel/network.ts';
import type { Ms } from './kernel/time.ts';
import type { World } from './kernel/world.ts';

export type Fault =
  /** Cut every link between nodes of different groups; nodes in no group keep all their links. */
  | {
      readonly kind: 'partition';
      readonly groups: readonly (readonly NodeId[])[];
      readonly mode: BlockMode;
    }
  /** Cut the links from every source to every target, one way only. */
  | {
      readonly kind: 'partition-one-way';
      readonly sources: readonly NodeId[];
      readonly targets: readonly NodeId[];
      readonly mode: BlockMode;
    }
  | { readonly kind: 'isolate'; readonly node: NodeId; readonly mode: BlockMode }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly node: NodeId; readonly crash: CrashKind }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'stop'; readonly node: NodeId }
  | { readonly kind: 'pause'; readonly node: NodeId; readonly durationMs: Ms }
  | { readonly kind: 'slow'; readonly node: NodeId; readonly extraLatencyMs: Ms }
  | { readonly kind: 'unslow' }
  | { readonly kind: 'clog'; readonly source: NodeId; readonly target: NodeId }
  | { readonly kind: 'release' };

export type TimedFault = Fault & { readonly atMs: Ms };

/**
 * A fault may name a node by role instead of id: `@leader` is resolved when the fault fires (the
 * current metadata leader, say), so a schedule can say "isolate the leader" without knowing who
 * will lead. A reference that resolves to nothing makes the fault do nothing.
 */
export type NodeResolver = (reference: NodeId) => NodeId | null;

export const ROLE_PREFIX = '@';

/** Without a resolver, no role reference resolves. */
function noRoles(): NodeId | null {
  return null;
}

/** The fault with every node reference resolved, or null when one resolves to nothing. */
export function resolveFault(fault: Fault, resolve: NodeResolver): Fault | null {
  const one = (node: NodeId): NodeId | null =>
    node.startsWith(ROLE_PREFIX) ? resolve(node) : node;
  const many = (nodes: readonly NodeId[]): NodeId[] | null => {
    const resolved: NodeId[] = [];
    for (const node of nodes) {
      const each = one(node);
      if (each === null) return null;
      if (!resolved.includes(each)) resolved.push(each);
    }
    return resolved;
  };
  switch (fault.kind) {
    case 'partition': {
      const groups = fault.groups.map(many);
      if (groups.some((group) => group === null)) return null;
      const resolved = groups as NodeId[][];
      // A node named twice (by id and by role) stays on the first side.
      const seen = new Set<NodeId>();
      const disjoint = resolved.map((group) =>
        group.filter((node) => !seen.has(node) && seen.add(node) !== undefined),
      );
      if (disjoint.some((group) => group.length === 0)) return null;
      return { ...fault, groups: disjoint };
    }
    case 'partition-one-way': {
      const sources = many(fault.sources);
      const targets = many(fault.targets);
      if (sources === null || targets === null) return null;
      return { ...fault, sources, targets };
    }
    case 'isolate':
    case 'crash':
    case 'restart':
    case 'stop':
    case 'pause':
    case 'slow': {
      const node = one(fault.node);
      return node === null ? null : { ...fault, node };
    }
    case 'clog': {
      const source = one(fault.source);
      const target = one(fault.target);
      return source === null || target === null || source === target
        ? null
        : { ...fault, source, target };
    }
    case 'heal':
    case 'unslow':
    case 'release':
      return fault;
    default:
      return assertNever(fault, 'fault');
  }
}

export type FaultKind = Fault['kind'];

/**
 * Applies one fault now. A fault that does not fit the node's state (crash a node that is down,
 * restart one that is up, pause one that is not up) does nothing: schedules are drawn blind, and
 * shrinking removes faults, so each must make sense on its own.
 */
export function applyFault<M extends Message>(
  world: World<M>,
  unresolved: Fault,
  resolve: NodeResolver = noRoles,
): void {
  const fault = resolveFault(unresolved, resolve);
  if (fault === null) return;
  switch (fault.kind) {
    case 'partition':
      world.partition(fault.groups, fault.mode);
      return;
    case 'partition-one-way':
      world.partitionOneWay(fault.sources, fault.targets, fault.mode);
      return;
    case 'isolate':
      world.isolate(fault.node, fault.mode);
      return;
    case 'heal':
      world.heal();
      return;
    case 'crash':
      if (world.node(fault.node).status !== 'down') world.crash(fault.node, fault.crash);
      return;
    case 'restart':
      if (world.node(fault.node).status === 'down') world.restart(fault.node);
      return;
    case 'stop':
      if (world.node(fault.node).status === 'up') world.stop(fault.node);
      return;
    case 'pause':
      if (world.node(fault.node).status === 'up') world.pause(fault.node, fault.durationMs);
      return;
    case 'slow':
      world.slow(fault.node, { extraLatencyMs: fault.extraLatencyMs });
      return;
    case 'unslow':
      world.unslowAll();
      return;
    case 'clog':
      world.clog(fault.source, fault.target);
      return;
    case 'release':
      world.releaseAll();
      return;
    default:
      assertNever(fault, 'fault');
  }
}

/** Schedules every fault of a schedule on the world's clock. */
export function scheduleFaults<M extends Message>(
  world: World<M>,
  faults: readonly TimedFault[],
  resolve: NodeResolver = noRoles,
): void {
  for (const fault of faults) {
    world.at(fault.atMs, `fault ${fault.kind}`, () => applyFault(world, fault, resolve));
  }
}

/** The heal phase's first step: every partition, slow link and clog gone; every down node restarted. */
export function healEverything<M extends Message>(world: World<M>): void {
  world.heal();
  world.unslowAll();
  world.releaseAll();
  for (const host of world.nodes()) if (host.status === 'down') world.restart(host.id);
}
