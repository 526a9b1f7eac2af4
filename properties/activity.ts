// Which nodes were entered since the last look. A machine's state changes only when its node is
// entered (NodeHost.activity: a message, a timer, a lifecycle change) or when an action calls into
// it from outside (Scheduler.actionsFired); per-event checks and samplers use this to skip the
// nodes no event touched, which is most of them after any one event.

import type { Message, NodeId } from '../sim/kernel/network.ts';
import type { NodeHost } from '../sim/kernel/node.ts';
import type { World } from '../sim/kernel/world.ts';

interface Seen<M extends Message> {
  readonly id: NodeId;
  readonly host: NodeHost<M>;
  activity: number;
}

export class ActivityWatch<M extends Message> {
  readonly #world: World<M>;
  /** The nodes watched: a live list (a broker added during the run joins it). */
  readonly #ids: readonly NodeId[];
  #seen: Seen<M>[] = [];
  #actions = -1;

  constructor(world: World<M>, ids: readonly NodeId[]) {
    this.#world = world;
    this.#ids = ids;
  }

  /**
   * Calls `visit` for every node entered since the last call (every node, the first time and after
   * an action fired), with its index in the ids; returns how many it visited.
   */
  visitEntered(visit?: (id: NodeId, host: NodeHost<M>, index: number) => void): number {
    const actions = this.#world.scheduler.actionsFired;
    let all = actions !== this.#actions;
    this.#actions = actions;
    if (this.#seen.length !== this.#ids.length) {
      this.#seen = this.#seeAll();
      all = true;
    }
    let visited = 0;
    const seens = this.#seen;
    // Indexed: a for-of here allocated an iterator per look (two or three looks per event).
    for (let index = 0; index < seens.length; index++) {
      const seen = seens[index] as Seen<M>;
      const activity = seen.host.activity;
      if (activity === seen.activity && !all) continue;
      seen.activity = activity;
      visited++;
      visit?.(seen.id, seen.host, index);
    }
    return visited;
  }

  /**
   * A fresh look at every node. Apart from visitEntered: a closure there (it reads `this`) made
   * every call allocate its context, though the closure is only made when a node is added.
   */
  #seeAll(): Seen<M>[] {
    return this.#ids.map((id) => ({ id, host: this.#world.node(id), activity: -1 }));
  }
}
