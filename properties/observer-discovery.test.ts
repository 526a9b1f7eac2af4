// An observer (a broker) that has lost its metadata leader asks the voters in turn until one names
// the new leader. A voter it cannot reach (down, or cut off) never answers: each such ask costs a
// request timeout, and so does a request already on its way to a node that is gone (a voter that
// had not yet heard of the election named the old leader). The metadata-staleness bound counts
// them. `kafkasim shrink 83601` on a checker whose bound did not: the metadata leader lost power
// with one voter cut off, and each broker then asked gone nodes, 2 s each (the old leader that a
// voter still named, the cut-off voter, one that crashed meanwhile), and reached the new leader
// ~8 s after its election, past the timeouts' 7 s bound.

import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { runScenario } from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { DEFAULT_RAFT_CONFIG } from '../sim/kafka/raft/raft-node.ts';
import { stalenessBoundMs } from './raft-checker.ts';

describe('the metadata-staleness bound', () => {
  it('counts a request timeout for each voter an observer cannot reach while it looks for the leader', () => {
    const scenario: Scenario = {
      ...generateScenario(83601, 'small'),
      timeline: [
        { atMs: 8008, kind: 'bounce', node: '@controller', crash: 'powerFailure', downMs: 3958 },
        { atMs: 9254, kind: 'isolate', node: 'c1', mode: 'silent' },
        { atMs: 20415, kind: 'bounce', node: '@controller', crash: 'kill', downMs: 2067 },
        {
          atMs: 21389,
          kind: 'bounce',
          node: '@controller-follower',
          crash: 'kill',
          downMs: 3750,
        },
        { atMs: 37640, kind: 'bounce', node: '@controller', crash: 'powerFailure', downMs: 4653 },
        {
          atMs: 43265,
          kind: 'bounce',
          node: '@controller-follower',
          crash: 'powerFailure',
          downMs: 4462,
        },
      ] as Scenario['timeline'],
      faultPhaseMs: 45606,
    };
    // b2's unanswered metadata fetches (a request timeout each), in a row from ~39.5 s.
    let timeouts = 0;
    const report = runScenario(scenario, {
      seed: 83601,
      bugs: [],
      sets: {},
      traceSink: (event) => {
        if (event.kind !== 'timer' || event.fields?.['label'] !== 'raft.fetch-timeout') return;
        if (event.node === 'b2' && event.atMs >= 39_000) timeouts++;
      },
    });
    // The search took longer than the timeouts' bound alone allows...
    const searchMs = timeouts * DEFAULT_RAFT_CONFIG.requestTimeoutMs;
    expect(searchMs).toBeGreaterThan(stalenessBoundMs(DEFAULT_RAFT_CONFIG));
    // ...and is within the bound that counts the voters it could not reach.
    expect(report.counts['metadata-staleness-bounded'] ?? 0).toBe(0);
    expect(report.ok).toBe(true);
  }, 30_000);
});
