// Determinism is the product: the same seed gives the same run, event for event, under partitions,
// crashes of every kind, pauses, slow links and clogs; different seeds give different runs.

import { describe, expect, it } from 'vitest';
import { type GossipRunOptions, runGossip } from './gossip.ts';
import { firstDifference, type TraceEvent } from './trace.ts';

const OPTIONS: GossipRunOptions = {
  nodes: 5,
  pingEveryMs: 10,
  flushEveryPongs: 8,
  durationMs: 4_000,
  faultEveryMs: 150,
};

function recordedRun(seed: number): { hash: string; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const result = runGossip(seed, {
    ...OPTIONS,
    trace: { ringCapacity: 16, sink: (event) => events.push(event) },
  });
  return { hash: result.traceHash, events };
}

describe('kernel determinism', () => {
  it('gives the same trace hash for the same seed, over 150 seeds', () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const first = runGossip(seed, OPTIONS);
      const second = runGossip(seed, OPTIONS);
      if (first.traceHash !== second.traceHash) {
        // Rerun with every event recorded to name the first one that differs.
        const difference = firstDifference(recordedRun(seed).events, recordedRun(seed).events);
        expect.fail(`seed ${seed}: ${first.traceHash} then ${second.traceHash}; ${difference}`);
      }
      hashes.add(first.traceHash);
    }
    expect(hashes.size, 'different seeds must give different runs').toBe(150);
  });

  it('exercises every fault kind across those seeds', () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      for (const event of recordedRun(seed).events) {
        if (event.kind.startsWith('fault.') || event.kind.startsWith('node.'))
          kinds.add(event.kind);
        if (event.kind === 'node.crash') kinds.add(`crash:${event.fields?.['crash']}`);
        if (event.kind === 'net.drop') kinds.add(`drop:${event.fields?.['reason']}`);
      }
    }
    for (const kind of [
      'fault.partition',
      'fault.partition-one-way',
      'fault.isolate',
      'fault.heal',
      'fault.slow',
      'fault.clog',
      'fault.pause',
      'fault.stop',
      'fault.restart',
      'crash:kill',
      'crash:powerFailure',
      'crash:diskLoss',
      'node.stopped',
      'node.resume',
      'drop:partition',
      'drop:connection-broken',
      'drop:refused',
      'drop:node-down',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('pins the hashes of a few fixed seeds (a change here is a change of behaviour)', () => {
    const pinned = [1, 2, 3].map((seed) => runGossip(seed, OPTIONS).traceHash);
    expect(pinned).toMatchInlineSnapshot(`
      [
        "5e937abe53533651",
        "54262899c2288bdf",
        "b87e4d5db98330b7",
      ]
    `);
  });

  it('names the first event where two runs part ways', () => {
    const base = recordedRun(7).events;
    const changed = base.map((event, index) =>
      index === 40 ? { ...event, fields: { ...event.fields, extra: 1 } } : event,
    );
    expect(firstDifference(base, base)).toBeUndefined();
    expect(firstDifference(base, changed)).toMatch(/^event 40 differs:/);
    expect(firstDifference(base, base.slice(0, 10))).toMatch(/^only the first run has event 10:/);
  });
});
