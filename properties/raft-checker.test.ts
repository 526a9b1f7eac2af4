import { describe, expect, it } from 'vitest';
import { RAFT_LOG_FILE, type RaftEntry } from '../sim/kafka/raft/log.ts';
import { DEFAULT_RAFT_CONFIG, type RaftNode } from '../sim/kafka/raft/raft-node.ts';
import type { Message } from '../sim/kernel/network.ts';
import { World } from '../sim/kernel/world.ts';
import { RaftChecker } from './raft-checker.ts';
import { ViolationLog } from './violation.ts';

describe('the Raft checker', () => {
  it("checks the log of an observer added during the run (a broker added), not only the first ones'", () => {
    const world = new World<Message>({ seed: 1 });
    const idle = () => ({ start() {}, onMessage() {} });
    const entry = (epoch: number): RaftEntry => ({
      epoch,
      payload: { type: 'leader-change', leaderId: 'c1' },
      sizeBytes: 8,
    });
    for (const id of ['c1', 'b1', 'b2']) {
      world.addNode(id, idle);
      world.node(id).start();
    }
    // c1 leads epoch 1 and has committed its first entry; b1 holds it too.
    world.node('c1').disk.log<RaftEntry>(RAFT_LOG_FILE).append(entry(1), 8);
    world.node('b1').disk.log<RaftEntry>(RAFT_LOG_FILE).append(entry(1), 8);
    // b2, added later, treats an entry of another epoch at that committed offset as committed.
    world.node('b2').disk.log<RaftEntry>(RAFT_LOG_FILE).append(entry(2), 8);
    const states = new Map([
      ['c1', { isLeader: true, epoch: 1, highWatermark: 1, changes: 0 }],
      ['b1', { isLeader: false, epoch: 1, highWatermark: 1, changes: 0 }],
      ['b2', { isLeader: false, epoch: 1, highWatermark: 1, changes: 0 }],
    ]);
    const observers = ['b1'];
    const log = new ViolationLog();
    const checker = new RaftChecker(
      world,
      { ...DEFAULT_RAFT_CONFIG, voters: ['c1'] },
      observers,
      (host) => (states.get(host.id) ?? null) as RaftNode | null,
      log,
    );
    world.scheduler.addStepCheck(() => checker.check());
    world.at(100, 'tick', () => {});
    world.at(200, 'add-broker', () => observers.push('b2'));
    world.at(300, 'tick', () => {});
    world.runFor(1_000);
    const matching = log.violations.filter((each) => each.invariant === 'raft-log-matching');
    expect(matching.map((each) => each.nodes)).toEqual([['b2']]);
  });
});
