// Which nodes were entered since the last look. A machine's state changes only when its node is
// entered (NodeHost.activity: a message, a timer, a lifecycle change) or when an action calls into
// it from outside (Scheduler.actionsFired); per-event checks and samplers use this to skip the
// nodes no event touched, which is most of them after any one event.

import { objectArray } from '../sim/kernel/arrays.ts';
import type { Message, NodeId } from '../sim/kernel/network.ts';
import type { NodeHost } from '../sim/kernel/node.ts';
import type { World } from '../sim/kernel/world.ts';

interface Seen<M extends Message> {
  readonly id: NodeId;
  readonly host: NodeHost<M>;
  activity: number;
}

type Visit<M extends Message> = (id: NodeId, host: NodeHost<M>, index: number) => void;

const NO_IDS: readonly NodeId[] = [];

export class ActivityWatch<M extends Message> {
  readonly #world: World<M>;
  /**
   * The nodes watched: `#ids`, then `#moreIds` (index `#ids.length` on). Live lists: a broker added
   * during the run joins them.
   */
  readonly #ids: readonly NodeId[];
  readonly #moreIds: readonly NodeId[];
  #seen: Seen<M>[] = objectArray();
  #actions = -1;
  /** The scheduler's hostEntries at the last look. */
  #hostEntries = -1;
  /** By host serial (NodeHost.serial): the index of the watched host, -1 for one not watched. */
  #indexOfSerial = new Int32Array(0);
  /** The indices of the nodes the last look found entered, in order (the first `#lookedCount`). */
  #looked: number[] = [];
  #lookedCount = 0;
  /** How many looks so far (see `looks`). */
  #looks = 0;

  constructor(world: World<M>, ids: readonly NodeId[], moreIds: readonly NodeId[] = NO_IDS) {
    this.#world = world;
    this.#ids = ids;
    this.#moreIds = moreIds;
    // Every node seen now, not at the first look: that path then ran only at a run's first look,
    // compiled without feedback, and the next run's first look threw away the optimised code of
    // look's callers. The first look visits every node all the same (no actions counted yet).
    this.#seeEvery();
  }

  /**
   * Calls `visit` for every node entered since the last look (every node, the first time and after
   * an action fired), with its index in the ids; returns how many it visited.
   */
  visitEntered(visit?: Visit<M>): number {
    this.look();
    return this.visitLooked(visit);
  }

  /**
   * Notes the nodes entered since the last look, for visitLooked and anyLooked. A watch shared by
   * several checks (one look per event, then each check visits what it found) reads every node's
   * activity once per event instead of once per check.
   */
  look(): void {
    this.#looks++;
    const actions = this.#world.scheduler.actionsFired;
    let all = actions !== this.#actions;
    this.#actions = actions;
    // A node was added (the ids are live lists).
    if (this.#seen.length !== this.#ids.length + this.#moreIds.length) {
      this.#seeEvery();
      all = true;
    }
    const seens = this.#seen;
    const looked = this.#looked;
    const scheduler = this.#world.scheduler;
    const entries = scheduler.hostEntries;
    const oneEntry = entries === this.#hostEntries + 1;
    this.#hostEntries = entries;
    let count = 0;
    if (oneEntry && !all) {
      // One host entered since the last look (most events): only it can have moved.
      const serial = scheduler.lastEnteredSerial;
      const indexOfSerial = this.#indexOfSerial;
      const index = serial < indexOfSerial.length ? (indexOfSerial[serial] as number) : -1;
      if (index >= 0) {
        const seen = seens[index] as Seen<M>;
        seen.activity = seen.host.activity;
        looked[count++] = index;
      }
      this.#lookedCount = count;
      return;
    }
    // Indexed: a for-of here allocated an iterator per look (two or three looks per event).
    for (let index = 0; index < seens.length; index++) {
      const seen = seens[index] as Seen<M>;
      const activity = seen.host.activity;
      if (activity === seen.activity && !all) continue;
      seen.activity = activity;
      looked[count++] = index;
    }
    this.#lookedCount = count;
  }

  /**
   * Looks so far. A check that shares the watch and was not run after every look (its last look's
   * number plus one is not this) cannot know which nodes were entered in between: it passes
   * `everyNode` to visitLooked and anyLookedBelow.
   */
  get looks(): number {
    return this.#looks;
  }

  /**
   * Calls `visit` for every node the last look found entered whose index is `from` or more (with
   * `everyNode`, for every node from `from`), in order; returns how many it visited.
   */
  visitLooked(visit?: Visit<M>, from = 0, everyNode = false): number {
    const seens = this.#seen;
    let visited = 0;
    if (everyNode) {
      for (let index = from; index < seens.length; index++) {
        visited++;
        const seen = seens[index] as Seen<M>;
        visit?.(seen.id, seen.host, index);
      }
      return visited;
    }
    const looked = this.#looked;
    for (let position = 0; position < this.#lookedCount; position++) {
      const index = looked[position] as number;
      if (index < from) continue;
      visited++;
      if (visit !== undefined) {
        const seen = seens[index] as Seen<M>;
        visit(seen.id, seen.host, index);
      }
    }
    return visited;
  }

  /**
   * The nodes watched as of the last look. With lookedCount, lookedAt, idAt and hostAt, a check
   * loops over what the last look found in a method of its own: a visit function made per run (an
   * arrow-function field) is a fresh closure each run, and the code that calls it is compiled again.
   */
  get size(): number {
    return this.#seen.length;
  }

  /** How many nodes the last look found entered. */
  get lookedCount(): number {
    return this.#lookedCount;
  }

  /** The index (in the ids) of the `position`th node the last look found entered. */
  lookedAt(position: number): number {
    return this.#looked[position] as number;
  }

  /** The id of the node at `index` in the ids. */
  idAt(index: number): NodeId {
    return (this.#seen[index] as Seen<M>).id;
  }

  /** The host of the node at `index` in the ids. */
  hostAt(index: number): NodeHost<M> {
    return (this.#seen[index] as Seen<M>).host;
  }

  /** Whether the last look found a node entered whose index is below `to` (any, with `everyNode`). */
  anyLookedBelow(to: number, everyNode = false): boolean {
    if (everyNode) return to > 0;
    return this.#lookedCount > 0 && (this.#looked[0] as number) < to;
  }

  /**
   * A fresh look at every node. Apart from look: a closure there (it reads `this`) made every
   * call allocate its context, though the closure is only made when a node is added.
   */
  #seeEvery(): void {
    this.#seen = [...this.#ids, ...this.#moreIds].map((id) => ({
      id,
      host: this.#world.node(id),
      activity: -1,
    }));
    this.#looked = new Array<number>(this.#seen.length).fill(0);
    this.#indexOfSerial = indexOfSerial(this.#seen);
  }
}

function indexOfSerial<M extends Message>(seens: readonly Seen<M>[]): Int32Array<ArrayBuffer> {
  const serials = seens.map((seen) => seen.host.serial);
  const indices = new Int32Array(Math.max(-1, ...serials) + 1).fill(-1);
  serials.forEach((serial, index) => {
    indices[serial] = index;
  });
  return indices;
}
