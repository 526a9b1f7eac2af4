import { describe, expect, it } from 'vitest';
import type { Message, NodeId } from '../sim/kernel/network.ts';
import { World } from '../sim/kernel/world.ts';
import { ActivityWatch } from './activity.ts';

interface Ping extends Message {
  readonly kind: 'ping';
}

/** Nodes that ping the next one on a timer and answer every ping with one of their own. */
function pingingWorld(ids: readonly NodeId[]): World<Ping> {
  const world = new World<Ping>({ seed: 7 });
  ids.forEach((id, index) => {
    const next = ids[(index + 1) % ids.length] as NodeId;
    world.addNode(id, (context) => {
      const tick = (): void => {
        context.send(next, { kind: 'ping' });
        context.setTimer(3 + index, 'tick', tick);
      };
      return {
        start() {
          context.setTimer(1 + index, 'tick', tick);
        },
        onMessage(source) {
          if (context.rng.int(0, 2) === 0) context.send(source, { kind: 'ping' });
        },
      };
    });
  });
  for (const id of ids) world.node(id).start();
  return world;
}

describe('ActivityWatch', () => {
  it('after every event, visits exactly the nodes whose activity moved (one entry or many)', () => {
    const ids = ['n1', 'n2', 'n3', 'n4'];
    const world = pingingWorld(ids);
    const watch = new ActivityWatch(world, ids.slice(0, 3), ids.slice(3));
    const last = new Map<NodeId, number>();
    let manyEntries = 0;
    let oneEntry = 0;
    let entries = world.scheduler.hostEntries;
    let actions = -1;
    let step = 0;
    world.scheduler.addStepCheck(() => {
      // Looks after most events, and now and then after two or three (many entries in between).
      if (++step % 7 === 1 || step % 7 === 2) return;
      const moved = ids.filter((id) => world.node(id).activity !== last.get(id));
      for (const id of ids) last.set(id, world.node(id).activity);
      const now = world.scheduler.hostEntries;
      if (now === entries + 1) oneEntry++;
      else if (now > entries + 1) manyEntries++;
      entries = now;
      // The first look, and the first after an action (it may call into any machine), visit every node.
      const every = world.scheduler.actionsFired !== actions;
      actions = world.scheduler.actionsFired;
      const visited: NodeId[] = [];
      watch.visitEntered((id) => visited.push(id));
      expect(visited).toEqual(every ? ids : moved);
    });
    // A crash and a restart from outside (actions: every node is visited after them).
    world.at(40, 'crash', () => world.crash('n2', 'kill'));
    world.at(60, 'restart', () => world.restart('n2'));
    world.runFor(200);
    expect(oneEntry).toBeGreaterThan(100);
    expect(manyEntries).toBeGreaterThan(0);
  });

  it('visits only watched nodes, in the watch order, when others (made before and after) are entered', () => {
    // Hosts are numbered in the order made (n0 first); the watch's order is another, and two
    // nodes are not watched: an entry into one of them is no watched node's.
    const ids = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
    const world = pingingWorld(ids);
    const watched = ['n4', 'n1', 'n3'];
    const watch = new ActivityWatch(world, watched.slice(0, 2), watched.slice(2));
    const last = new Map<NodeId, number>();
    let actions = -1;
    let unwatchedOnly = 0;
    world.scheduler.addStepCheck(() => {
      const moved = watched.filter((id) => world.node(id).activity !== last.get(id));
      const movedAny = ids.some((id) => world.node(id).activity !== last.get(id));
      for (const id of ids) last.set(id, world.node(id).activity);
      const every = world.scheduler.actionsFired !== actions;
      actions = world.scheduler.actionsFired;
      if (!every && movedAny && moved.length === 0) unwatchedOnly++;
      const visited: NodeId[] = [];
      watch.visitEntered((id) => visited.push(id));
      expect(visited).toEqual(every ? watched : moved);
    });
    world.runFor(200);
    expect(unwatchedOnly).toBeGreaterThan(20);
  });
});
