// The KRaft metadata quorum: the counterparts of Kafka's own Raft simulation tests, as named
// scenarios, then property tests over random fault schedules (the historical-bug switches are
// hunted in raft-bugs.test.ts).

import { describe, expect, it } from 'vitest';
import type { TimedFault } from '../sim/faults.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { sampleFaultSchedule } from './fault-arbitraries.ts';
import {
  observerIds,
  type QuorumRunOptions,
  type QuorumRunResult,
  runQuorum,
  voterIds,
} from './raft-harness.ts';
import { QUORUM_PROFILES } from './raft-profiles.ts';

interface Observed {
  readonly result: QuorumRunResult;
  readonly events: TraceEvent[];
}

function run(options: Partial<QuorumRunOptions> & { faults?: TimedFault[] }): Observed {
  const events: TraceEvent[] = [];
  const result = runQuorum({
    seed: 1,
    voters: 3,
    observers: 2,
    faultPhaseMs: 20_000,
    healPhaseMs: 15_000,
    ...options,
    onTraceEvent: (event) => {
      if (
        event.kind.startsWith('raft.role') ||
        event.kind.startsWith('fault.') ||
        event.kind === 'node.crash'
      )
        events.push(event);
    },
  });
  return { result, events };
}

/** (atMs, node, epoch) of every time a voter became leader. */
function leaderships(
  events: readonly TraceEvent[],
): { atMs: number; node: string; epoch: number }[] {
  return events
    .filter((event) => event.kind === 'raft.role' && event.fields?.['role'] === 'leader')
    .map((event) => ({
      atMs: event.atMs,
      node: event.node,
      epoch: event.fields?.['epoch'] as number,
    }));
}

function faultTargets(events: readonly TraceEvent[], kind: string): string[] {
  return events
    .filter((event) => event.kind === kind)
    .map((event) => String(event.fields?.['target']));
}

function expectHealthy(result: QuorumRunResult): void {
  expect(
    result.violations,
    result.violations.map((violation) => violation.message).join('\n'),
  ).toEqual([]);
}

describe('metadata quorum scenarios', () => {
  it('initial-election-elects-one-leader-quickly', () => {
    const { result, events } = run({ faultPhaseMs: 5_000, healPhaseMs: 5_000 });
    expectHealthy(result);
    const leaders = leaderships(events);
    expect(leaders).toHaveLength(1);
    // Election timeout 1 s + up to 1 s of jitter, then a pre-vote and a vote round.
    expect(leaders[0]?.atMs).toBeLessThan(2_500);
    // About one record every 100 ms for 10 s, all committed.
    expect(result.committed).toBeGreaterThan(70);
  });

  for (const crash of ['kill', 'powerFailure'] as const) {
    it(`new-leader-after-the-leader-crashes-with-${crash}`, () => {
      const { result, events } = run({
        faults: [{ atMs: 5_000, kind: 'crash', node: '@leader', crash }],
      });
      expectHealthy(result);
      const [crashed] = faultTargets(events, 'fault.crash');
      const after = leaderships(events).filter((leadership) => leadership.atMs > 5_000);
      expect(after.length).toBeGreaterThan(0);
      expect(after[0]?.node).not.toBe(crashed);
      // Fetch timeout 2 s, then the election: a new leader well inside the staleness bound.
      expect((after[0]?.atMs ?? 0) - 5_000).toBeLessThan(5_000);
    });
  }

  it('recovers-after-all-voters-crash', () => {
    const faults: TimedFault[] = voterIds(3).map((node, index) => ({
      atMs: 5_000 + index * 10,
      kind: 'crash',
      node,
      crash: 'powerFailure',
    }));
    faults.push(
      ...voterIds(3).map((node) => ({ atMs: 8_000, kind: 'restart', node }) as TimedFault),
    );
    const { result, events } = run({ faults });
    expectHealthy(result);
    expect(
      leaderships(events).filter((leadership) => leadership.atMs > 8_000).length,
    ).toBeGreaterThan(0);
    expect(result.committed).toBeGreaterThan(100);
  });

  it('new-leader-after-the-leader-is-partitioned-away', () => {
    const { result, events } = run({
      faults: [{ atMs: 5_000, kind: 'isolate', node: '@leader', mode: 'silent' }],
    });
    expectHealthy(result);
    const [isolated] = faultTargets(events, 'fault.isolate');
    const during = leaderships(events).filter(
      (leadership) => leadership.atMs > 5_000 && leadership.atMs < 20_000,
    );
    expect(during.map((leadership) => leadership.node)).not.toContain(isolated);
    expect(during.length).toBeGreaterThan(0);
    // The isolated leader resigned by check-quorum (1.5 × fetch timeout).
    const resigned = events.filter(
      (event) => event.kind === 'raft.role' && event.node === isolated && event.atMs > 5_000,
    );
    expect(resigned.length).toBeGreaterThan(0);
  });

  it('makes-progress-when-only-a-majority-is-reachable', () => {
    const progress = (faults: TimedFault[]) =>
      run({ voters: 5, faultPhaseMs: 20_000, healPhaseMs: 1, faults }).result.committed;
    const baseline = progress([]);
    const cut = progress([
      {
        atMs: 1,
        kind: 'partition',
        groups: [
          ['c4', 'c5'],
          ['c1', 'c2', 'c3', 'b1', 'b2'],
        ],
        mode: 'silent',
      },
    ]);
    // The majority side elects and commits on; the minority never takes over.
    expect(cut).toBeGreaterThan(baseline * 0.8);
  });

  it('survives-back-to-back-leader-failures', () => {
    const faults: TimedFault[] = [
      { atMs: 5_000, kind: 'crash', node: '@leader', crash: 'kill' },
      { atMs: 9_000, kind: 'crash', node: '@leader', crash: 'powerFailure' },
    ];
    const { result, events } = run({ voters: 5, faults });
    expectHealthy(result);
    const crashed = faultTargets(events, 'fault.crash');
    expect(new Set(crashed).size).toBe(2);
    const last = leaderships(events).filter(
      (leadership) => leadership.atMs > 9_000 && leadership.atMs < 20_000,
    );
    expect(last.length).toBeGreaterThan(0);
    expect(crashed).not.toContain(last[0]?.node);
  });

  it('a-rejoining-voter-does-not-disrupt-a-healthy-leader', () => {
    const faults: TimedFault[] = [
      { atMs: 5_000, kind: 'isolate', node: '@follower', mode: 'silent' },
      { atMs: 15_000, kind: 'heal' },
    ];
    const { result, events } = run({ faults });
    expectHealthy(result);
    // The cut-off voter times out and asks for pre-votes, which the others refuse while they hear
    // from their leader: it never bumps the epoch, so the leader keeps leading.
    expect(leaderships(events)).toHaveLength(1);
    const afterCut = (role: string) =>
      events.filter(
        (event) =>
          event.kind === 'raft.role' && event.fields?.['role'] === role && event.atMs > 5_000,
      );
    expect(afterCut('prospective').length).toBeGreaterThan(0);
    expect(afterCut('candidate')).toEqual([]);
  });

  it('a-voter-that-lost-its-leader-follows-again-after-the-heal', () => {
    const faults: TimedFault[] = [
      { atMs: 5_000, kind: 'isolate', node: '@follower', mode: 'silent' },
      { atMs: 15_000, kind: 'heal' },
    ];
    const { result, events } = run({ faults });
    expectHealthy(result);
    const [cut] = faultTargets(events, 'fault.isolate') as [string];
    const leader = leaderships(events)[0] as { node: string; epoch: number };
    // Its pre-votes are refused while the others hear from the leader, and it fetches from
    // nobody; the leader's BeginQuorumEpoch to a voter silent for fetchTimeoutMs / 2 brings it back.
    const followsAgain = events.find(
      (event) =>
        event.node === cut &&
        event.atMs > 15_000 &&
        event.kind === 'raft.role' &&
        event.fields?.['role'] === 'follower',
    );
    expect(followsAgain?.fields).toMatchObject({ epoch: leader.epoch, leader: leader.node });
    expect((followsAgain?.atMs ?? Number.POSITIVE_INFINITY) - 15_000).toBeLessThan(2_000);
  });

  it('a-graceful-leader-shutdown-hands-over-at-once', () => {
    const { result, events } = run({ faults: [{ atMs: 5_000, kind: 'stop', node: '@leader' }] });
    expectHealthy(result);
    const after = leaderships(events).filter((leadership) => leadership.atMs > 5_000);
    // EndQuorumEpoch: the others elect without waiting out the fetch timeout.
    expect((after[0]?.atMs ?? Number.POSITIVE_INFINITY) - 5_000).toBeLessThan(1_500);
  });

  it('gives the same trace hash for the same seed and schedule', () => {
    const faults: TimedFault[] = [
      { atMs: 3_000, kind: 'crash', node: '@leader', crash: 'powerFailure' },
    ];
    const first = run({ seed: 9, faults }).result.traceHash;
    expect(run({ seed: 9, faults }).result.traceHash).toBe(first);
    expect(run({ seed: 10, faults }).result.traceHash).not.toBe(first);
  });
});

const FAULT_NODES = (voters: number) => [
  ...voterIds(voters),
  ...observerIds(2),
  '@leader',
  '@leader',
  '@follower',
];

/**
 * A seed's schedule: the general swarm (every family, no aim) for one seed in five, else one of
 * the bug-hunting profiles (raft-profiles.ts) in turn, with the Raft settings it runs with.
 */
function randomRun(seed: number, voters: number): QuorumRunResult {
  const profile = QUORUM_PROFILES[seed % (QUORUM_PROFILES.length + 1)];
  const faults = sampleFaultSchedule(
    profile === undefined
      ? { nodes: FAULT_NODES(voters), startMs: 0, endMs: 30_000, faultsMax: 20 }
      : profile.faults(voters, 30_000),
    seed,
  );
  return runQuorum({
    seed,
    voters,
    observers: 2,
    faultPhaseMs: 30_000,
    healPhaseMs: 15_000,
    faults,
    ...(profile?.raft === undefined ? {} : { raft: profile.raft }),
  });
}

describe('metadata quorum under random faults', () => {
  for (const voters of [3, 5]) {
    it(`breaks no invariant over 40 seeds of random faults (${voters} voters)`, {
      timeout: 120_000,
    }, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const result = randomRun(seed, voters);
        expect(
          result.violations,
          `seed ${seed}: ${result.violations.map((violation) => violation.message).join('\n')}`,
        ).toEqual([]);
      }
    });
  }
});
