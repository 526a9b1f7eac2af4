import { describe, expect, it } from 'vitest';
import { RAFT_LOG_FILE, type RaftEntry } from '../sim/kafka/raft/log.ts';
import { DEFAULT_RAFT_CONFIG, type RaftNode } from '../sim/kafka/raft/raft-node.ts';
import type { Message } from '../sim/kernel/network.ts';
import { World } from '../sim/kernel/world.ts';
import { RaftChecker, stalenessBoundMs } from './raft-checker.ts';
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

describe('metadata-staleness-bounded on slowed links', () => {
  // A quiet quorum: c1 leads and has committed one entry, which the observer b1 never applies.
  // The bound is the timeouts' plus a round trip per voter and one more, on the links as they are.
  function staleAtMs(extraLatencyMs: number): number | undefined {
    const world = new World<Message>({ seed: 1 });
    const idle = () => ({ start() {}, onMessage() {} });
    for (const id of ['c1', 'b1']) {
      world.addNode(id, idle);
      world.node(id).start();
    }
    world
      .node('c1')
      .disk.log<RaftEntry>(RAFT_LOG_FILE)
      .append({ epoch: 1, payload: { type: 'leader-change', leaderId: 'c1' }, sizeBytes: 8 }, 8);
    const states = new Map([
      ['c1', { isLeader: true, epoch: 1, highWatermark: 1, changes: 0 }],
      ['b1', { isLeader: false, epoch: 1, highWatermark: 0, changes: 0 }],
    ]);
    if (extraLatencyMs > 0) world.network.slowNode('b1', { extraLatencyMs });
    const log = new ViolationLog();
    const config = { ...DEFAULT_RAFT_CONFIG, voters: ['c1'] };
    const checker = new RaftChecker(
      world,
      config,
      ['b1'],
      (host) => (states.get(host.id) ?? null) as RaftNode | null,
      log,
    );
    world.scheduler.addStepCheck(() => checker.check());
    // An event every millisecond that touches no node: the checker runs after each.
    const endMs = stalenessBoundMs(config) + 5_000;
    for (let atMs = 1; atMs <= endMs; atMs++) world.at(atMs, 'tick', () => {});
    world.runFor(endMs);
    return log.violations.find((each) => each.invariant === 'metadata-staleness-bounded')?.atMs;
  }

  it('gives a leaderless observer a round trip per voter it may ask, and one to the leader', () => {
    const boundMs = stalenessBoundMs(DEFAULT_RAFT_CONFIG);
    // Default links (1–3 ms): two round trips of at most 6 ms past the timeouts' bound.
    const quick = staleAtMs(0);
    expect(quick).toBeGreaterThanOrEqual(boundMs);
    expect(quick).toBeLessThanOrEqual(boundMs + 1 + 2 * 6);
    // 600 ms more each way: two round trips of up to 1,206 ms.
    const slow = staleAtMs(600);
    expect(slow).toBeGreaterThan(boundMs + 2 * 1_200);
    expect(slow).toBeLessThanOrEqual(boundMs + 1 + 2 * 1_206);
  });
});
