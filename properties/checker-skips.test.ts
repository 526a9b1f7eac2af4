// The checkers skip, after an event, the nodes no event touched (NodeHost.activity, RaftNode
// changes, the network's topology version, the next staleness deadline): the same verdicts as
// re-reading everything after every event, or the skipping is a bug. Runs that break invariants
// (bug switches on) and clean ones, through both harnesses, each compared with `fullChecks`.

import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { scenarioSpec } from '../scenarios/run.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import { RAFT_LOG_FILE, type RaftEntry } from '../sim/kafka/raft/log.ts';
import { DEFAULT_RAFT_CONFIG, type RaftNode } from '../sim/kafka/raft/raft-node.ts';
import type { Message } from '../sim/kernel/network.ts';
import { World } from '../sim/kernel/world.ts';
import { sampleFaultSchedule } from './fault-arbitraries.ts';
import { runKafka } from './kafka-harness.ts';
import { RaftChecker, stalenessBoundMs } from './raft-checker.ts';
import { runQuorum } from './raft-harness.ts';
import {
  BRIDGED_LEADER_PROFILE,
  FIGURE_8_PROFILE,
  POWER_CYCLED_VOTER_PROFILE,
  type QuorumProfile,
  STALE_VOTER_PROFILE,
} from './raft-profiles.ts';
import { type CheckedRun, ViolationLog } from './violation.ts';

function verdicts(run: Pick<CheckedRun, 'violations' | 'allowed'>): unknown {
  return {
    violations: run.violations.map(({ invariant, atMs, message }) => ({
      invariant,
      atMs,
      message,
    })),
    allowed: run.allowed.map(({ reason, atMs, message }) => ({ reason, atMs, message })),
  };
}

describe('checkers that skip untouched nodes find exactly what full checks find', () => {
  // Seeds of the small profile where a switch is caught (cli/bug-zoo.test.ts), and clean seeds.
  // The first four break an invariant (the comparison is not between empty lists).
  const dataRuns: readonly [string, number, readonly BugName[]][] = [
    ['small', 5, ['truncate-to-hw']],
    ['small', 64, ['no-elr']],
    ['small', 8, ['epoch-lookup-kip101']],
    ['small', 13, ['hw-ignores-min-isr']],
    // Seed 3 has twelve faults awaiting @voted-controller at once; in seed 4 a crash awaiting
    // @leader-of-behind-isr fires after waiting.
    ['small', 3, []],
    ['small', 4, []],
    ['standard', 2, []],
    ['small', 21, ['raft-vote-ignores-log', 'raft-vote-not-persisted']],
    ['small', 22, ['raft-commit-old-epoch', 'raft-no-check-quorum']],
    ['standard', 5, ['isr-join-stale-hw', 'no-broker-epoch']],
  ];
  for (const [index, [profile, seed, bugs]] of dataRuns.entries()) {
    it(`data path: ${profile} seed ${seed}${bugs.length > 0 ? ` with ${bugs.join(', ')}` : ''}`, {
      timeout: 60_000,
    }, () => {
      const scenario = generateScenario(seed, profile as 'small' | 'standard');
      const { spec } = scenarioSpec(scenario, { seed, bugs, sets: {} });
      const skipping = runKafka(spec);
      const full = runKafka({ ...spec, fullChecks: true });
      expect(verdicts(skipping)).toEqual(verdicts(full));
      expect(skipping.traceHash).toBe(full.traceHash);
      expect(skipping.counts).toEqual(full.counts);
      if (index < 4) expect(full.violations.length).toBeGreaterThan(0);
    });
  }

  const quorumRuns: readonly [BugName, QuorumProfile, number][] = [
    ['raft-vote-ignores-log', STALE_VOTER_PROFILE, 1],
    ['raft-commit-old-epoch', FIGURE_8_PROFILE, 11],
    ['raft-vote-not-persisted', POWER_CYCLED_VOTER_PROFILE, 1],
    ['raft-no-check-quorum', BRIDGED_LEADER_PROFILE, 2],
  ];
  for (const [bug, profile, seed] of quorumRuns) {
    it(`metadata quorum: ${profile.name} seed ${seed} with ${bug}, and without`, () => {
      for (const bugs of [new Set([bug]), new Set<BugName>()]) {
        const options = {
          seed,
          voters: 3,
          observers: 2,
          faultPhaseMs: 30_000,
          healPhaseMs: 15_000,
          faults: sampleFaultSchedule(profile.faults(3, 30_000), seed),
          bugs,
          ...(profile.raft === undefined ? {} : { raft: profile.raft }),
        };
        const skipping = runQuorum(options);
        const full = runQuorum({ ...options, fullChecks: true });
        expect(verdicts(skipping)).toEqual(verdicts(full));
        if (bugs.size > 0) expect(full.violations.length).toBeGreaterThan(0);
      }
    });
  }
});

describe('the Raft checker with nothing moving but time', () => {
  // A quiet quorum (frozen Raft states, no messages): a connected observer that never learned the
  // committed entry becomes too stale once the bound passes, and only time tells the checker so.
  // `extraLatencyMs` slows the observer's links: the bound grows by a round trip per voter it may
  // ask and one to the leader.
  function quietRun(fullChecks: boolean, extraLatencyMs = 0): ViolationLog {
    const world = new World<Message>({ seed: 1 });
    const idle = () => ({ start() {}, onMessage() {} });
    world.addNode('c1', idle);
    world.addNode('b1', idle);
    world.node('c1').start();
    world.node('b1').start();
    const entry: RaftEntry = {
      epoch: 1,
      payload: { type: 'leader-change', leaderId: 'c1' },
      sizeBytes: 8,
    };
    world.node('c1').disk.log<RaftEntry>(RAFT_LOG_FILE).append(entry, 8);
    const states = new Map([
      ['c1', { isLeader: true, epoch: 1, highWatermark: 1, changes: 0 }],
      ['b1', { isLeader: false, epoch: 1, highWatermark: 0, changes: 0 }],
    ]);
    if (extraLatencyMs > 0) world.network.slowNode('b1', { extraLatencyMs });
    const config = { ...DEFAULT_RAFT_CONFIG, voters: ['c1'] };
    const log = new ViolationLog();
    const checker = new RaftChecker(
      world,
      config,
      ['b1'],
      (host) => (states.get(host.id) ?? null) as RaftNode | null,
      log,
      { fullChecks },
    );
    world.scheduler.addStepCheck(() => checker.check());
    // The timeouts' bound and one request timeout (its one voter is reachable: a request on its
    // way to a gone node is the only one that may go unanswered).
    const boundMs = stalenessBoundMs(config) + config.requestTimeoutMs;
    // One event per 100 ms that touches no node: only the clock moves.
    for (let atMs = 100; atMs <= boundMs + 3_000; atMs += 100) world.at(atMs, 'tick', () => {});
    world.runFor(boundMs + 3_000);
    return log;
  }

  const staleAtMs = (log: ViolationLog) =>
    log.violations.find((each) => each.invariant === 'metadata-staleness-bounded')?.atMs ?? -1;

  it('reports the stale observer at the deadline, as full checks do', () => {
    const skipping = quietRun(false);
    const full = quietRun(true);
    expect(skipping.violations.map((each) => each.invariant)).toContain(
      'metadata-staleness-bounded',
    );
    expect(verdicts(skipping)).toEqual(verdicts(full));
    // Connected since the first tick (100 ms); on default links (1-3 ms) two round trips of at
    // most 6 ms past the timeouts' bound and a request timeout; then the next tick.
    const boundMs = stalenessBoundMs(DEFAULT_RAFT_CONFIG) + DEFAULT_RAFT_CONFIG.requestTimeoutMs;
    expect(staleAtMs(skipping)).toBeGreaterThan(100 + boundMs);
    expect(staleAtMs(skipping)).toBeLessThanOrEqual(100 + boundMs + 12 + 100);
  });

  it('on slowed links, a round trip later for each voter it may ask and the leader, as full checks do', () => {
    // 600 ms more each way: two round trips of 1,202-1,206 ms.
    const skipping = quietRun(false, 600);
    const full = quietRun(true, 600);
    expect(verdicts(skipping)).toEqual(verdicts(full));
    const boundMs = stalenessBoundMs(DEFAULT_RAFT_CONFIG) + DEFAULT_RAFT_CONFIG.requestTimeoutMs;
    expect(staleAtMs(skipping)).toBeGreaterThan(100 + boundMs + 2 * 1_200);
    expect(staleAtMs(skipping)).toBeLessThanOrEqual(100 + boundMs + 2 * 1_206 + 100);
  });
});
