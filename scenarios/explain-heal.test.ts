// The stories of what healing did not bring back: a partition left without a leader, a broker out
// of service (leader-elected-after-heal), a partition not fully replicated
// (acked-fully-replicated). Told from the events of real runs (the shrunk `standard` seed 26944,
// whose two offline partitions the checker reported before it learnt that Kafka leaves them
// offline too; `small` seeds that break them under a quorum bug), and from small hand-made event
// lists for what those runs do not show.

import { describe, expect, it } from 'vitest';
import {
  LOST_UNREGISTRATION_SEED,
  lostUnregistrationScenario,
} from '../properties/lost-unregistration-run.ts';
import type { LeaderlessPartition } from '../properties/violation.ts';
import { explainViolations, StoryEvents } from './explain.ts';
import { aboutPartition, type StoryEvent } from './explain-common.ts';
import { generateScenario } from './generate.ts';
import { runScenario, type ViolationReport } from './run.ts';

/** The report the checker gives a partition with no leader at the end (kraft-harness.ts). */
function leaderlessReport(
  topic: string,
  partition: number,
  leaderless: LeaderlessPartition,
  atMs: number,
): ViolationReport {
  return {
    invariant: 'leader-elected-after-heal',
    atMs,
    message: `${topic}-${partition} has no leader after healing (ISR [${leaderless.isr.join(',')}], ELR [${leaderless.elr.join(',')}])`,
    topic,
    partition,
    nodes: [...leaderless.replicas],
    leaderless,
  };
}

const event = (
  atMs: number,
  node: string,
  kind: string,
  fields: StoryEvent['fields'] = {},
): StoryEvent => ({ atMs, node, kind, fields });

describe('the story of a partition left without a leader', () => {
  it('tells who could lead it, who led it, and what became of each replica (seed 26944, shrunk)', () => {
    const story = new StoryEvents();
    const report = runScenario(lostUnregistrationScenario(), {
      seed: LOST_UNREGISTRATION_SEED,
      bugs: [],
      sets: {},
      traceSink: story.sink,
    });
    const offline = report.partitions.filter((row) => row.leader === null);
    expect(offline.map((row) => `${row.topic}-${row.partition}`)).toEqual([
      'orders-1',
      'events1-1',
    ]);
    const atMs = report.stats.simulatedMs;
    const violations = offline.map((row) =>
      leaderlessReport(
        row.topic,
        row.partition,
        {
          replicas: row.replicas.map((replica) => replica.broker),
          isr: row.isr,
          elr: row.elr,
          lastKnownElr: ['b5'],
          uncleanLeaderElection: false,
        },
        atMs,
      ),
    );
    const lines = explainViolations({
      violations,
      events: story.events,
      history: report.history.entries,
      counts: { 'leader-elected-after-heal': 2 },
    });
    const text = lines.join('\n');
    expect(text).not.toContain('no story is told');
    expect(lines.slice(0, 3)).toEqual([
      '2 violations, as the verdict counts them; what the stories below tell of them:',
      '  leader-elected-after-heal ×2   told below: orders-1',
      '                                 events1-1: left without a leader the same way as orders-1: the same replicas, and the same ones that could lead',
    ]);
    const told = lines.slice(lines.indexOf('') + 1);
    expect(told[0]).toBe(
      `orders-1 has no leader after healing: leader-elected-after-heal (noticed at ${atMs} ms)`,
    );
    expect(told[1]).toBe(
      '  at the end replicas [b3, b4, b5], ISR [], ELR [b5], last known leader b5',
    );
    // b3 led from the start; b5 took over when the controller fenced b3, until it stopped.
    expect(told[2]).toBe(
      '  leaders    b3 in leader epoch 0 from 5108 ms until 21313 ms; b5 in leader epoch 1 from 21313 ms until 22332 ms (it stopped)',
    );
    expect(told[3]).toMatch(/^ {2}why {8}unclean leader election is off: /);
    expect(told[3]).toContain(
      'the only one it may elect: b5 down since 22332 ms (its removal asked at 21309 ms)',
    );
    // The one that could lead first, with the answer that made the admin stop asking.
    expect(told[4]).toMatch(/^ {2}b5 {9}/);
    expect(told[4]).toContain('21309 ms its removal asked');
    expect(told[4]).toContain('22332 ms stopped');
    expect(told[4]).toContain(
      '24755 ms the controller answered the unregistration BROKER_ID_NOT_REGISTERED, and the admin stopped asking',
    );
    // The others, and why they fell out: fenced, then an unclean shutdown (a lost disk).
    expect(told[5]).toMatch(/^ {2}b3 {9}/);
    expect(told[5]).toContain('21123 ms fenced by c2: no heartbeat within the session timeout');
    expect(told[5]).toContain('38903 ms crashed (diskLoss, 339 unflushed writes lost)');
    expect(told[6]).toMatch(/^ {2}b4 {9}.*8009 ms crashed \(diskLoss/);
    expect(told[7]).toBe(
      '  enabled by 8007 ms partition-one-way sources=c3,b2,b3 targets=c1,b3,b1,c2 mode=silent',
    );
    expect(told).toContain('             21309 ms stop target=b5');
  }, 30_000);

  it('says when no replica is left that the controller may elect', () => {
    const lines = explainViolations({
      violations: [
        leaderlessReport(
          't',
          0,
          {
            replicas: ['b1', 'b2'],
            isr: [],
            elr: [],
            lastKnownElr: [],
            uncleanLeaderElection: false,
          },
          9000,
        ),
      ],
      events: [
        event(1000, 'b1', 'replica.leader', { partition: 't-3-0', leaderEpoch: 0 }),
        event(4000, 'b1', 'node.crash', { crash: 'powerFailure', lostWrites: 0 }),
      ],
      history: [],
    });
    expect(lines).toContain(
      '  leaders    b1 in leader epoch 0 from 1000 ms until 4000 ms (it crashed: powerFailure)',
    );
    expect(lines.find((line) => line.startsWith('  why'))).toMatch(
      /unclean leader election is off: .*; no replica is left that it may elect$/,
    );
    expect(lines).toContain('  b1         4000 ms crashed (powerFailure)');
    expect(lines).toContain('  b2         nothing happened to it: up and unfenced from the start');
  });

  it('tells each replica that could lead, with unclean election on', () => {
    const lines = explainViolations({
      violations: [
        leaderlessReport(
          't',
          1,
          {
            replicas: ['b1', 'b2'],
            isr: ['b2'],
            elr: ['b1'],
            lastKnownElr: [],
            uncleanLeaderElection: true,
          },
          9000,
        ),
      ],
      events: [
        // Another partition's leader, and the same partition number of another topic: not told.
        event(500, 'b2', 'replica.leader', { partition: 't-3-0', leaderEpoch: 0 }),
        event(600, 'b2', 'replica.leader', { partition: 'tt-4-1', leaderEpoch: 0 }),
        event(2000, 'c1', 'controller.session-expired', { broker: 'b2', brokerEpoch: 3 }),
        event(3000, 'b1', 'node.stopped', {}),
      ],
      history: [],
    });
    expect(lines).toContain('  leaders    no broker took up its leadership in the run');
    expect(lines.find((line) => line.startsWith('  why'))).toBe(
      '  why        unclean leader election is on, yet no replica is registered, unfenced and running; those it may elect: b2 up, fenced at 2000 ms (by c1: its session expired); b1 down since 3000 ms',
    );
    expect(lines).toContain(
      '  b2         2000 ms fenced by c1: no heartbeat within the session timeout',
    );
  });

  it('tells what became of a broker not back in service', () => {
    const lines = explainViolations({
      violations: [
        {
          invariant: 'leader-elected-after-heal',
          atMs: 9000,
          message: 'broker b3 is not registered, unfenced and running after healing (fenced)',
          nodes: ['b3'],
        },
      ],
      events: [
        event(0, 'b3', 'node.start', { incarnation: 1, after: 'never-started' }),
        event(2000, 'b3', 'broker.registered', { brokerEpoch: 4 }),
        event(4000, 'b3', 'broker.state', { state: 'running', brokerEpoch: 4 }),
        event(5000, 'b3', 'node.crash', { crash: 'kill', lostWrites: 0 }),
        event(6000, 'b3', 'node.start', { incarnation: 2, after: 'kill' }),
      ],
      history: [],
    });
    expect(lines.slice(3)).toEqual([
      'b3 is not back in service after healing: leader-elected-after-heal (noticed at 9000 ms)',
      "  at the end fenced in the active controller's metadata; the broker: up since 6000 ms, not yet unfenced",
      '  b3         2000 ms registered (broker epoch 4); 4000 ms unfenced; 5000 ms crashed (kill); 6000 ms restarted',
      '  enabled by no fault',
    ]);
  });
});

describe('the stories of what healing did not bring back, in runs with a quorum bug', () => {
  /** A small seed's run under raft-vote-not-persisted, its after-heal violations explained. */
  function healStories(seed: number): string[] {
    const story = new StoryEvents();
    const report = runScenario(generateScenario(seed, 'small'), {
      seed,
      bugs: ['raft-vote-not-persisted'],
      sets: {},
      traceSink: story.sink,
    });
    return explainViolations({
      violations: report.violations.filter((each) =>
        ['leader-elected-after-heal', 'acked-fully-replicated'].includes(each.invariant),
      ),
      events: story.events,
      history: report.history.entries,
      storiesMax: 9,
    });
  }

  it('tells a partition not fully replicated: who is behind, its ISR changes (small seed 183)', () => {
    const lines = healStories(183);
    expect(lines[1]).toBe('  acked-fully-replicated, 1 kept   told below: orders-0');
    const told = lines.slice(lines.indexOf('') + 1);
    expect(told.slice(0, 5)).toEqual([
      'orders-0 is not fully replicated after healing: acked-fully-replicated (noticed at 95000 ms)',
      '  at the end ISR [b3] is not all replicas [b2,b3] after healing',
      '  leaders    b2 in leader epoch 0 from 5204 ms until 51731 ms; b3 in leader epoch 1 from 51731 ms',
      '  ISR        52740 ms b3: b2 caught up, expand proposed; 52744 ms b3: ISR change refused (FENCED_LEADER_EPOCH)',
      '  b2         2020 ms registered (broker epoch 3); 4032 ms unfenced; 38724 ms fenced by c2: no heartbeat within the session timeout',
    ]);
    expect(told[5]).toMatch(/^ {2}b3 {9}/);
  }, 30_000);

  it('tells brokers the active controller keeps fenced, and the partition they alone could lead (small seed 246)', () => {
    const lines = healStories(246);
    expect(lines[1]).toBe('  leader-elected-after-heal, 3 kept   told below: b1, b3, orders-0');
    // With two metadata leaders, the broker's own word (its heartbeat answer) and the active
    // controller's differ: the story says both.
    expect(lines).toContain(
      "  at the end fenced in the active controller's metadata; the broker: up since 55000 ms, unfenced at 63108 ms (its heartbeat answer)",
    );
    expect(lines).toContain(
      '  at the end replicas [b1, b2, b3], ISR [], ELR [b1, b3], last known leader b3',
    );
    expect(lines.find((line) => line.startsWith('  why'))).toMatch(
      /; those it may elect: b1 up, fenced at 60586 ms \(by c1: its session expired\); b3 up since 55000 ms, unfenced at 63108 ms \(its heartbeat answer\)$/,
    );
  }, 30_000);
});

describe('aboutPartition', () => {
  it('matches a trace key by its topic name and partition, exactly', () => {
    const about = (key: string, topic: string, partition: number) =>
      aboutPartition(event(0, 'b1', 'replica.leader', { partition: key }), topic, partition);
    expect(about('orders-18-1', 'orders', 1)).toBe(true);
    expect(about('orders-18-11', 'orders', 1)).toBe(false);
    expect(about('orders-18-1', 'orders', 11)).toBe(false);
    expect(about('orders-1-18-1', 'orders-1', 1)).toBe(true);
    expect(about('orders-1-18-1', 'orders', 1)).toBe(false);
    expect(about('orders-1', 'orders', 1)).toBe(false);
  });
});
