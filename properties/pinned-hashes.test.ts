// No-regression pins: the trace hashes of a few fixed runs. A change here is a change of
// behaviour: deliberate (update the pins and say why in the commit) or a determinism bug (a hash
// that differs between processes or machines, which the same-process tests cannot see).

import { describe, expect, it } from 'vitest';
import type { TimedFault } from '../sim/faults.ts';
import { runKafka } from './kafka-harness.ts';
import { KNOWN_SCHEDULES } from './known-schedules.ts';
import { runKraft } from './kraft-harness.ts';
import { runQuorum } from './raft-harness.ts';

const FAULTS: TimedFault[] = [
  { atMs: 4_000, kind: 'crash', node: '@leader', crash: 'powerFailure' },
  { atMs: 6_000, kind: 'partition', groups: [['c1'], ['c2', 'c3']], mode: 'silent' },
  { atMs: 9_000, kind: 'heal' },
  { atMs: 10_000, kind: 'restart', node: 'c1' },
  { atMs: 10_000, kind: 'restart', node: 'c2' },
  { atMs: 10_000, kind: 'restart', node: 'c3' },
];

describe('pinned trace hashes', () => {
  it('of a metadata quorum run', () => {
    const result = runQuorum({
      seed: 1,
      voters: 3,
      observers: 2,
      faults: FAULTS,
      faultPhaseMs: 12_000,
      healPhaseMs: 8_000,
    });
    expect(result.violations).toEqual([]);
    expect(result.traceHash).toMatchInlineSnapshot(`"2c6971ddec65496d"`);
  });

  it('of a whole KRaft cluster run', () => {
    const result = runKraft({
      seed: 1,
      controllers: 3,
      brokers: 3,
      faults: FAULTS,
      faultPhaseMs: 12_000,
      healPhaseMs: 20_000,
    });
    expect(result.violations).toEqual([]);
    expect(result.traceHash).toMatchInlineSnapshot(`"9a0da38e0db09413"`);
  });

  it('of a whole cluster with the data path (the KIP-101 schedule, fixed)', () => {
    const schedule = KNOWN_SCHEDULES[0];
    if (schedule === undefined) throw new Error('no known schedule');
    const result = runKafka(schedule.spec(1, new Set()));
    expect(result.violations).toEqual([]);
    expect(result.traceHash).toMatchInlineSnapshot(`"572a289916a0c650"`);
  });
});
