// The bench's breakdown of a run by what each event did: it times every event and every check it
// names, and changes nothing about the run (the same trace hash as untimed).

import { describe, expect, it } from 'vitest';
import { runKafka } from '../properties/kafka-harness.ts';
import { breakDown, formatBreakdown } from './breakdown.ts';

const run = () =>
  runKafka({
    seed: 3,
    controllers: 1,
    brokers: 3,
    topics: [{ name: 't', partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 }],
    producers: [{ topic: 't', acks: 'all', everyMs: 20 }],
    consumers: [['t']],
    faults: [{ atMs: 6_000, kind: 'crash', node: '@leader', crash: 'kill' }],
    faultPhaseMs: 10_000,
    healPhaseMs: 5_000,
  });

describe('breakDown', () => {
  it('times every event and every check without changing the run', () => {
    const untimed = run();
    const breakdown = breakDown(run);
    expect(breakdown.result.traceHash).toBe(untimed.traceHash);
    const count = (what: string) => breakdown.rows.find((row) => row.what === what)?.count;
    // Both checkers after every event, the end of the run once.
    expect(count('checks: data checker, after each event')).toBe(untimed.events);
    expect(count('checks: Raft checker, after each event')).toBe(untimed.events);
    expect(count('checks: end of run (final reads, verdicts)')).toBe(1);
    // Every event is a delivered message or a timer (or a fault, an action: the rest).
    const handled = breakdown.rows
      .filter((row) => row.what.startsWith('message ') || row.what.startsWith('timer '))
      .reduce((sum, row) => sum + row.count, 0);
    expect(handled).toBeGreaterThan(0.9 * untimed.events);
    expect(handled).toBeLessThanOrEqual(untimed.events);
    for (const kind of ['message fetch', 'message client.produce', 'message raft.fetch'])
      expect(count(kind)).toBeGreaterThan(0);
    const lines = formatBreakdown(breakdown, 3);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^ {2}\d+ other kinds +\d+\.\d %$/);
  });
});
