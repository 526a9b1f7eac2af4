// No-regression pins: the trace hashes of a few fixed runs. A change here is a change of
// behaviour: deliberate (update the pins and say why in the commit) or a determinism bug (a hash
// that differs between processes or machines, which the same-process tests cannot see).

import { describe, expect, it } from 'vitest';
import { FLAGSHIP, scenarioByName } from '../scenarios/registry.ts';
import { runScenario } from '../scenarios/run.ts';
import type { TimedFault } from '../sim/faults.ts';
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
    expect(result.traceHash).toMatchInlineSnapshot(`"c9d36949b75d5526"`);
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
    expect(result.traceHash).toMatchInlineSnapshot(`"0adea591cfa0a0a1"`);
  });

  it('of a whole cluster with the data path (the flagship scenario)', () => {
    const flagship = scenarioByName(FLAGSHIP);
    if (flagship === undefined) throw new Error(`no flagship scenario ${FLAGSHIP}`);
    const report = runScenario(flagship, { seed: 1, bugs: [], sets: {} });
    expect(report.violations).toEqual([]);
    expect(report.traceHash).toMatchInlineSnapshot(`"b8dc0eb62727f4f7"`);
  });
});
