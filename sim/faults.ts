// Timed faults as plain data: what a scenario's timeline, a fuzz seed's schedule and a shrunk
// failing case are made of. Serialisable as JSON, applied to a world by `applyFault`.

import { objectArray } from './kernel/arrays.ts';
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
  /** Cut a node off; with `healAfterMs`, heal every partition that long after. */
  | {
      readonly kind: 'isolate';
      readonly node: NodeId;
      readonly mode: BlockMode;
      readonly healAfterMs?: Ms;
    }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly node: NodeId; readonly crash: CrashKind }
  /** Crash a node, then restart that same node `downMs` later (a power cycle, a reboot). */
  | {
      readonly kind: 'bounce';
      readonly node: NodeId;
      readonly crash: CrashKind;
      readonly downMs: Ms;
    }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'stop'; readonly node: NodeId }
  | { readonly kind: 'pause'; readonly node: NodeId; readonly durationMs: Ms }
  /** Every link of a node slower: extra latency and, optionally, a bandwidth cap (bytes/s). */
  | {
      readonly kind: 'slow';
      readonly node: NodeId;
      readonly extraLatencyMs: Ms;
      readonly bandwidthBytesPerSec?: number;
    }
  | { readonly kind: 'unslow' }
  | { readonly kind: 'clog'; readonly source: NodeId; readonly target: NodeId }
  | { readonly kind: 'release' };

/**
 * A fault and when it fires. With `awaitMs`, a fault whose role references do not all resolve at
 * `atMs` waits up to that long and fires right after the first event that makes them resolve:
 * "crash the first voter that grants a vote after 10 s" (see resolveFault).
 */
export type TimedFault = Fault & { readonly atMs: Ms; readonly awaitMs?: Ms };

/**
 * A fault may name a node by role instead of id: `@leader` is resolved when the fault fires (the
 * current metadata leader, say), so a schedule can say "isolate the leader" without knowing who
 * will lead. A reference that resolves to nothing makes the fault do nothing (or, with `awaitMs`,
 * wait for the role).
 */
export type NodeResolver = (reference: NodeId) => NodeId | null;

export const ROLE_PREFIX = '@';

/** Without a way to know, every event may have moved what roles read. */
function alwaysChanged(): boolean {
  return false;
}

/** Without a resolver, no role reference resolves. */
function noRoles(): NodeId | null {
  return null;
}

/** The fault with every node reference resolved, or null when one resolves to nothing. */
function resolveOne(node: NodeId, resolve: NodeResolver): NodeId | null {
  return node.startsWith(ROLE_PREFIX) ? resolve(node) : node;
}

function resolveMany(nodes: readonly NodeId[], resolve: NodeResolver): NodeId[] | null {
  const resolved: NodeId[] = [];
  for (const node of nodes) {
    const each = resolveOne(node, resolve);
    if (each === null) return null;
    if (!resolved.includes(each)) resolved.push(each);
  }
  return resolved;
}

/**
 * Whether every node of `nodes` resolves: asked before a group's array is made, as a fault that
 * awaits its roles is resolved after every event, and most of those times to nothing.
 */
function allResolve(nodes: readonly NodeId[], resolve: NodeResolver): boolean {
  for (let index = 0; index < nodes.length; index++)
    if (resolveOne(nodes[index] as NodeId, resolve) === null) return false;
  return true;
}

// Module-level helpers rather than closures: a fault awaiting its roles is resolved after every
// event, and each closure made costs.
export function resolveFault(fault: Fault, resolve: NodeResolver): Fault | null {
  switch (fault.kind) {
    case 'partition': {
      for (let index = 0; index < fault.groups.length; index++)
        if (!allResolve(fault.groups[index] as readonly NodeId[], resolve)) return null;
      const groups = fault.groups.map((group) => resolveMany(group, resolve));
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
      if (!allResolve(fault.sources, resolve) || !allResolve(fault.targets, resolve)) return null;
      const sources = resolveMany(fault.sources, resolve);
      const targets = resolveMany(fault.targets, resolve);
      if (sources === null || targets === null) return null;
      return { ...fault, sources, targets };
    }
    case 'isolate':
    case 'crash':
    case 'bounce':
    case 'restart':
    case 'stop':
    case 'pause':
    case 'slow': {
      const node = resolveOne(fault.node, resolve);
      return node === null ? null : { ...fault, node };
    }
    case 'clog': {
      const source = resolveOne(fault.source, resolve);
      const target = resolveOne(fault.target, resolve);
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
 * Applies one fault now; false when a role reference resolved to nothing. A fault that does not
 * fit the node's state (crash a node that is down, restart one that is up, pause one that is not
 * up) does nothing: schedules are drawn blind, and shrinking removes faults, so each must make
 * sense on its own.
 */
export function applyFault<M extends Message>(
  world: World<M>,
  unresolved: Fault,
  resolve: NodeResolver = noRoles,
  sinceMs: Ms = world.nowMs,
): boolean {
  const fault = resolveFault(unresolved, resolve);
  if (fault === null) return false;
  traceStep(world, unresolved, resolve, sinceMs);
  applyResolved(world, fault);
  return true;
}

function applyResolved<M extends Message>(world: World<M>, fault: Fault): void {
  switch (fault.kind) {
    case 'partition':
      world.partition(fault.groups, fault.mode);
      return;
    case 'partition-one-way':
      world.partitionOneWay(fault.sources, fault.targets, fault.mode);
      return;
    case 'isolate':
      world.isolate(fault.node, fault.mode);
      if (fault.healAfterMs !== undefined)
        world.at(world.nowMs + fault.healAfterMs, 'fault heal', () => world.heal());
      return;
    case 'heal':
      world.heal();
      return;
    case 'crash':
      if (world.node(fault.node).status !== 'down') world.crash(fault.node, fault.crash);
      else traceMisfit(world, fault, fault.node);
      return;
    case 'bounce': {
      const node = fault.node;
      if (world.node(node).status === 'down') {
        traceMisfit(world, fault, node);
        return;
      }
      world.crash(node, fault.crash);
      world.at(world.nowMs + fault.downMs, 'fault restart', () => {
        if (restartable(world, node)) world.restart(node);
      });
      return;
    }
    case 'restart':
      if (restartable(world, fault.node)) world.restart(fault.node);
      else traceMisfit(world, fault, fault.node);
      return;
    case 'stop':
      if (world.node(fault.node).status === 'up') world.stop(fault.node);
      else traceMisfit(world, fault, fault.node);
      return;
    case 'pause':
      if (world.node(fault.node).status === 'up') world.pause(fault.node, fault.durationMs);
      else traceMisfit(world, fault, fault.node);
      return;
    case 'slow':
      world.slow(
        fault.node,
        fault.bandwidthBytesPerSec === undefined
          ? { extraLatencyMs: fault.extraLatencyMs }
          : {
              extraLatencyMs: fault.extraLatencyMs,
              bandwidthBytesPerSec: fault.bandwidthBytesPerSec,
            },
      );
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

/**
 * Schedules every fault of a schedule on the world's clock, those before `endMs` only (the end of
 * a fault phase). A fault that awaits its roles is checked again after every event until they
 * resolve or its wait runs out (at `endMs` at the latest); it then fires at once, before the next
 * event, on the nodes the roles name at that moment. `rolesUnchanged`, when given, says after an
 * event that nothing `resolve` reads can have moved since the event before (no node it reads was
 * entered, no action fired): the faults still waiting then resolve to nothing again, and are not
 * asked.
 */
export function scheduleFaults<M extends Message>(
  world: World<M>,
  faults: readonly TimedFault[],
  resolve: NodeResolver = noRoles,
  endMs: Ms = Number.POSITIVE_INFINITY,
  rolesUnchanged: () => boolean = alwaysChanged,
): void {
  const awaiting: { readonly fault: TimedFault; readonly untilMs: Ms }[] = [];
  /** The earliest end of a wait in `awaiting`. */
  let firstUntilMs = Number.POSITIVE_INFINITY;
  const timed = faults.filter((fault) => fault.atMs < endMs);
  for (const fault of timed) {
    world.at(fault.atMs, `fault ${fault.kind}`, () => {
      if (applyFault(world, fault, resolve, fault.atMs)) return;
      if (fault.awaitMs === undefined) {
        traceSkip(world, fault, 'then');
        return;
      }
      // The wait ends before endMs: nothing fires once the fault phase is over.
      const untilMs = Math.min(fault.atMs + fault.awaitMs, endMs - 1);
      awaiting.push({ fault, untilMs });
      firstUntilMs = Math.min(firstUntilMs, untilMs);
    });
  }
  if (!timed.some((fault) => fault.awaitMs !== undefined)) return;
  // Within one check, until a fault fires, a reference names the same node for every fault that
  // awaits it (generated schedules have up to ~20 faults awaiting one role at once). The few
  // references asked are held in two short arrays, emptied by their count: a Map cleared at every
  // check made a new table each time (~1 % of a small fuzz seed's time went to that alone).
  const namedReferences = objectArray<NodeId>();
  const namedNodes = objectArray<NodeId | null>();
  let namedCount = 0;
  const resolveOnce = (reference: NodeId): NodeId | null => {
    for (let index = 0; index < namedCount; index++)
      if (namedReferences[index] === reference) return namedNodes[index] as NodeId | null;
    const node = resolve(reference);
    namedReferences[namedCount] = reference;
    namedNodes[namedCount] = node;
    namedCount++;
    return node;
  };
  world.scheduler.addStepCheck(() => {
    if (awaiting.length === 0) return;
    // Asked once per event, before any fault below fires.
    let unchanged = rolesUnchanged();
    // No wait ran out and nothing moved: every fault still waiting resolves to nothing again.
    if (unchanged && world.nowMs <= firstUntilMs) return;
    namedCount = 0;
    firstUntilMs = Number.POSITIVE_INFINITY;
    for (let index = 0; index < awaiting.length; ) {
      const { fault, untilMs } = awaiting[index] as (typeof awaiting)[number];
      const expired = world.nowMs > untilMs;
      const resolved = expired || unchanged ? null : resolveFault(fault, resolveOnce);
      if (!expired && resolved === null) {
        firstUntilMs = Math.min(firstUntilMs, untilMs);
        index++;
        continue;
      }
      awaiting.splice(index, 1);
      // Fired here, between two events: the next awaiting fault already sees its effect.
      if (resolved !== null) {
        traceStep(world, fault, resolveOnce, fault.atMs);
        applyResolved(world, resolved);
        unchanged = false;
        namedCount = 0;
      } else
        traceSkip(
          world,
          fault,
          untilMs < fault.atMs + (fault.awaitMs ?? 0)
            ? 'before the fault phase ended'
            : `within awaitMs ${fault.awaitMs} ms`,
        );
    }
  });
}

/**
 * A fault that does not fit its node's state does nothing (see applyFault): the trace says so, as
 * for a step whose roles named no node (`skip crash b3: b3 is down already`).
 */
function traceMisfit<M extends Message>(world: World<M>, fault: Fault, node: NodeId): void {
  const host = world.node(node);
  const state = host.decommissioned ? 'decommissioned' : host.status;
  world.trace('fault.skip', { step: fault.kind, roles: node, why: `${node} is ${state}` });
}

/**
 * A step that names nodes by role says, as it fires, which node each role named (`fault.step`):
 * the fault's own event names only the node, and a step that waited for its moment
 * (`@leader-of-behind-isr`, awaitMs) fires long after its time. Nothing for a step without roles.
 */
function traceStep<M extends Message>(
  world: World<M>,
  fault: Fault,
  resolve: NodeResolver,
  sinceMs: Ms,
): void {
  const roles = rolesOf(fault);
  if (roles.length === 0) return;
  world.trace('fault.step', {
    step: fault.kind,
    roles: roles.map((role) => `${role}=${resolve(role) ?? '-'}`).join(','),
    sinceMs,
  });
}

/**
 * A step whose roles named no node when it fired (or when its wait ran out) does nothing; the
 * trace says so (`fault.skip`), so that a timeline read after the fact shows every step's fate.
 */
function traceSkip<M extends Message>(world: World<M>, fault: TimedFault, when: string): void {
  const roles = rolesOf(fault);
  const why =
    roles.length === 1 ? `no node was ${roles[0]} ${when}` : `its roles named no node ${when}`;
  world.trace('fault.skip', { step: fault.kind, roles: roles.join(','), why });
}

/** The role references a fault names (`@leader`), each once, in the order named. */
function rolesOf(fault: Fault): string[] {
  const named: string[] = [];
  switch (fault.kind) {
    case 'partition':
      for (const group of fault.groups) named.push(...group);
      break;
    case 'partition-one-way':
      named.push(...fault.sources, ...fault.targets);
      break;
    case 'clog':
      named.push(fault.source, fault.target);
      break;
    case 'heal':
    case 'unslow':
    case 'release':
      break;
    default:
      named.push(fault.node);
  }
  return [...new Set(named.filter((node) => node.startsWith(ROLE_PREFIX)))];
}

/**
 * The heal phase's first step: every partition, slow link and clog gone; every down node restarted
 * (except `keepDown`: nodes taken out of the cluster on purpose, such as a decommissioned broker).
 */
export function healEverything<M extends Message>(
  world: World<M>,
  keepDown: ReadonlySet<NodeId> = new Set(),
): void {
  world.heal();
  world.unslowAll();
  world.releaseAll();
  world.resumeAll();
  for (const host of world.nodes()) {
    if (keepDown.has(host.id) || host.decommissioned) continue;
    if (host.status === 'down') world.restart(host.id);
    else if (host.status === 'stopping') restartWhenStopped(world, host.id, HEAL_STOP_WAIT_MS);
  }
}

/** Down, and not decommissioned (a decommissioned node never starts again). */
function restartable<M extends Message>(world: World<M>, node: NodeId): boolean {
  const host = world.node(node);
  return host.status === 'down' && !host.decommissioned;
}

/** How long the heal phase waits for a graceful stop under way to finish (the host's stop timeout). */
const HEAL_STOP_WAIT_MS: Ms = 31_000;
const HEAL_POLL_MS: Ms = 100;

/** A node still shutting down when the heal begins is restarted as soon as it is down. */
function restartWhenStopped<M extends Message>(world: World<M>, node: NodeId, waitMs: Ms): void {
  world.at(world.nowMs + HEAL_POLL_MS, 'heal restart', () => {
    const status = world.node(node).status;
    if (restartable(world, node)) world.restart(node);
    else if (status === 'stopping' && waitMs > HEAL_POLL_MS)
      restartWhenStopped(world, node, waitMs - HEAL_POLL_MS);
  });
}
