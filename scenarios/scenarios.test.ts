// The named scenarios (registry.ts): each shows exactly the outcome it declares with seed 1, each
// demonstration shows its outcome with its bug switched back on, the timeline shows what the
// description tells the reader to look for, and the registry is well formed.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKafka } from '../properties/kafka-harness.ts';
import { brokerOf } from '../sim/kafka/kraft/cluster.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { FLAGSHIP, SCENARIOS, scenarioByName } from './registry.ts';
import { runScenario, type ScenarioReport, scenarioSpec } from './run.ts';
import type { Expectation, Scenario } from './scenario.ts';
import { validateScenario } from './validate.ts';

const SEED = 1;
const TIMEOUT_MS = 60_000;

/** Why a run is not what was expected: the verdict, the first violations, the allowed losses. */
function explain(report: ScenarioReport): string {
  const violations = report.violations
    .slice(0, 5)
    .map((violation) => `  ${violation.invariant} at ${violation.atMs} ms: ${violation.message}`);
  return [
    `${report.scenario} (seed ${report.seed}, bugs [${report.bugs.join(',')}]):`,
    ...report.verdict.map((line) => `  ${line}`),
    ...violations,
    `  allowed losses shown: [${shownReasons(report).join(', ')}]`,
  ].join('\n');
}

function shownReasons(report: ScenarioReport): string[] {
  const reasons = Object.keys(report.allowedCounts);
  return reasons.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The allowed losses the run showed that the expectation does not declare. */
function undeclaredReasons(report: ScenarioReport, expected: Expectation): string[] {
  return shownReasons(report).filter((reason) => !expected.allowed.includes(reason));
}

/** Timeline lines as `node text`, the form the patterns below match. */
function timelineLines(report: ScenarioReport): string[] {
  return report.timeline.map((entry) => `${entry.node} ${entry.text}`);
}

/**
 * What each description tells the reader to look for in the timeline (the seed-1 run). A model
 * change that keeps the verdict but loses the point of a scenario fails here.
 */
const SHOWS: Readonly<Record<string, readonly RegExp[]>> = {
  'admin-creates-a-topic-with-three-replicas': [
    /becomes the active controller/,
    /^b\d registered/,
    /^b\d unfenced: running/,
    /test-topic-0: leader in epoch 0 .*ISR \[b\d,b\d,b\d\]/,
  ],
  'producer-sends-ten-keyed-messages-with-acks-all': [
    /acks=all writes to test-topic-0: 10 ok, offsets 0–9/,
  ],
  'acks-all-survives-a-leader-crash': [
    /crash target=b\d crash=kill/,
    /fences b\d: no heartbeat/,
    /orders-0: leader in epoch 1/,
    /orders-0: ISR now \[b\d,b\d,b\d\]/,
  ],
  'acks-1-loses-writes-on-leader-failover': [
    /orders-0: leader in epoch 1/,
    /truncates its log \d+ → \d+ \(diverging-epoch\)/,
    /allowed loss \(acks-1\)/,
  ],
  'acks-0-loses-writes-silently': [
    /acks=0 writes to orders-0: \d+ ok$/,
    /truncates its log \d+ → \d+ \(diverging-epoch\)/,
    /allowed loss \(acks-0\)/,
  ],
  'min-insync-replicas-rejects-writes-to-a-small-isr': [
    /HW stalled/,
    /orders-0: ISR now \[b\d\]$/,
    /acks=all writes to orders-0: \d+ fail \(NOT_ENOUGH_REPLICAS\)/,
    /caught up, ISR expand proposed/,
    /HW moves again/,
  ],
  'a-slow-follower-leaves-the-isr-and-rejoins': [
    /slow target=b\d .*bandwidthBytesPerSec=200/,
    /HW stalled/,
    /lagging, ISR shrink proposed/,
    /orders-0: ISR now \[b\d,b\d\]$/,
    /caught up, ISR expand proposed/,
  ],
  'an-isolated-leader-loses-only-acks-1-writes': [
    /HW stalled/,
    /fences b\d: no heartbeat/,
    /orders-0: leader in epoch 1/,
    /acks=all writes to orders-0: \d+ info \(TIMEOUT\)/,
    /truncates its log \d+ → \d+ \(diverging-epoch\)/,
    /allowed loss \(acks-1\)/,
  ],
  'controller-failover-keeps-the-cluster-working': [
    /crash target=c\d crash=kill/,
    /becomes the active controller \(metadata epoch [2-9]/,
    /fences b\d: no heartbeat/,
    /orders-0: leader in epoch 1/,
  ],
  'a-new-broker-registers-and-joins-the-metadata': [
    /add-broker b4/,
    /^b4 registered/,
    /^b4 unfenced: running/,
  ],
  'controlled-shutdown-moves-leadership-first': [
    /remove-broker b\d/,
    /asks for a controlled shutdown/,
    /orders-0: leader in epoch 1/,
  ],
  'unclean-leader-election-loses-acknowledged-writes': [
    /orders-0: leader in epoch \d+ \(LEO \d+, HW \d+, ISR \[b\d\]\)/,
    /truncates its log \d+ → \d+ \(diverging-epoch\)/,
    /allowed loss \(unclean-election\)/,
  ],
  'min-isr-1-loses-writes-to-a-power-failure': [
    /orders-0: ISR now \[b\d\]$/,
    /crash target=b\d crash=powerFailure/,
    /allowed loss \(lossy-crashes\)/,
  ],
  'kip-101-epoch-truncation-keeps-acked-writes': [
    /orders-0: leader in epoch 2/,
    /fail \(NOT_ENOUGH_REPLICAS\)/,
  ],
  'kip-279-fast-failovers-truncate-a-divergent-epoch': [
    /orders-0: leader in epoch 2/,
    /truncates its log \d+ → \d+ \(diverging-epoch\)/,
  ],
  'kafka-7128-isr-join-waits-for-the-epoch-start': [
    /orders-0: leader in epoch 1 .*ISR \[b\d\]\)/,
    /clog source=b\d target=b\d/,
  ],
  'kip-966-last-replica-standing-loses-nothing-with-elr': [
    /orders-0: ISR now \[b\d\]$/,
    /crash target=b\d crash=powerFailure/,
    /orders-0: leader in epoch 1/,
  ],
  'kafka-15583-the-high-watermark-waits-for-min-isr': [
    /orders-0: HW stalled at \d+ \(LEO \d+, ISR \[b\d,b\d,b\d\]\)/,
    /orders-0: ISR \[b\d,b\d,b\d\] → \[b\d\], ELR \[\] → \[b\d,b\d\]/,
    /crash target=b\d crash=powerFailure \(@leader is b\d\)/,
    /orders-0: elects b\d for leader epoch 1 \(b\d fenced; from the ELR \(KIP-966\)/,
  ],
  'kip-903-a-restarted-replica-rejoins-only-in-its-new-broker-epoch': [
    /crash target=b\d crash=powerFailure \(@replica-2 is b\d\)/,
    /clog source=b\d target=b\d/,
    /^b\d registered \(broker epoch [1-9]\d+\)/,
    /orders-0: ISR now \[b\d\]$/,
  ],
  'jepsen-2013-unclean-election-loses-a-lone-leaders-writes': [
    /orders-0: ISR now \[b\d\]$/,
    /orders-0: leader in epoch 1/,
    /truncates its log \d+ → \d+ \(diverging-epoch\)/,
  ],
  'jepsen-2013-without-unclean-election-nothing-is-lost': [
    /orders-0: ISR now \[b\d\]$/,
    /crash target=b\d crash=kill/,
  ],
};

function missingFromTimeline(scenario: Scenario, report: ScenarioReport): string[] {
  const lines = timelineLines(report);
  return (SHOWS[scenario.name] ?? [])
    .filter((pattern) => !lines.some((line) => pattern.test(line)))
    .map((pattern) => `timeline shows nothing matching ${pattern}`);
}

describe('every named scenario, with seed 1', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${outcome(scenario.expect)}`, { timeout: TIMEOUT_MS }, () => {
      const report = runScenario(scenario, { seed: SEED, bugs: [], sets: {} });
      expect(report.ok, explain(report)).toBe(true);
      expect(undeclaredReasons(report, scenario.expect), explain(report)).toEqual([]);
      expect(missingFromTimeline(scenario, report)).toEqual([]);
    });
    for (const demonstration of scenario.demonstrates) {
      it(`${scenario.name} --bug ${demonstration.bug}: ${outcome(demonstration)}`, {
        timeout: TIMEOUT_MS,
      }, () => {
        const report = runScenario(scenario, {
          seed: SEED,
          bugs: [demonstration.bug],
          sets: {},
        });
        expect(report.ok, explain(report)).toBe(true);
        expect(undeclaredReasons(report, demonstration), explain(report)).toEqual([]);
      });
    }
  }
});

function outcome(expected: Expectation): string {
  const parts = [
    expected.violations.length === 0
      ? 'every invariant holds'
      : `breaks ${expected.violations.join(', ')}`,
  ];
  if (expected.allowed.length > 0) parts.push(`allows ${expected.allowed.join(', ')}`);
  return parts.join('; ');
}

describe("the seed's examples", () => {
  it('the producer sends key-0..key-9 / message-0..message-9, each acknowledged in order', () => {
    const scenario = scenarioByName('producer-sends-ten-keyed-messages-with-acks-all');
    if (scenario === undefined) throw new Error('the seed producer scenario is not registered');
    expect(scenario.producers).toEqual([
      expect.objectContaining({ acks: 'all', count: 10, config: { retries: 5 } }),
    ]);
    const report = runScenario(scenario, { seed: SEED, bugs: [], sets: {} });
    const acked = report.history.entries
      .filter((entry) => entry.f === 'send' && entry.type === 'ok')
      .map((entry) => [entry.key, entry.value, entry.offset]);
    expect(acked).toEqual(
      Array.from({ length: 10 }, (_, index) => [`key-${index}`, `message-${index}`, index]),
    );
  });

  it('the admin creates test-topic with 1 partition on 3 replicas', () => {
    const scenario = scenarioByName('admin-creates-a-topic-with-three-replicas');
    if (scenario === undefined) throw new Error('the seed admin scenario is not registered');
    const report = runScenario(scenario, { seed: SEED, bugs: [], sets: {} });
    expect(report.partitions).toHaveLength(1);
    expect(report.partitions[0]).toMatchObject({ topic: 'test-topic', partition: 0 });
    expect(report.partitions[0]?.isr).toHaveLength(3);
  });
});

describe('what the descriptions claim beyond the timeline', () => {
  it('without unclean election the Jepsen 2013 partition is led again by its last known leader, nothing lost', {
    timeout: TIMEOUT_MS,
  }, () => {
    const scenario = scenarioByName('jepsen-2013-without-unclean-election-nothing-is-lost');
    if (scenario === undefined) throw new Error('not registered');
    const events: TraceEvent[] = [];
    const report = runScenario(scenario, {
      seed: SEED,
      bugs: [],
      sets: {},
      traceSink: (event) => events.push(event),
    });
    // The old leader, killed, comes back and is elected from lastKnownElr (KIP-966), RECOVERING.
    const firstLeader = events.find((event) => event.kind === 'replica.leader')?.node;
    expect(firstLeader).toBeDefined();
    expect(report.partitions[0]?.leader).toBe(firstLeader);
    expect(report.violations).toEqual([]);
    expect(report.allowedLosses).toEqual([]);
  });

  it('with min.insync.replicas 2 the lone leader refuses the writes it would have lost', {
    timeout: TIMEOUT_MS,
  }, () => {
    const scenario = scenarioByName('min-isr-1-loses-writes-to-a-power-failure');
    if (scenario === undefined) throw new Error('not registered');
    const report = runScenario(scenario, {
      seed: SEED,
      bugs: [],
      sets: { 'min.insync.replicas': '2' },
    });
    expect(report.violations).toEqual([]);
    expect(shownReasons(report)).toEqual([]);
  });
  it('without unclean election the unclean-election schedule loses nothing: the last known leader returns', {
    timeout: TIMEOUT_MS,
  }, () => {
    const scenario = scenarioByName('unclean-leader-election-loses-acknowledged-writes');
    if (scenario === undefined) throw new Error('not registered');
    const report = runScenario(scenario, {
      seed: SEED,
      bugs: [],
      sets: { 'unclean.leader.election.enable': 'false' },
    });
    expect(report.violations).toEqual([]);
    expect(shownReasons(report)).toEqual([]);
    expect(report.partitions[0]?.leader).not.toBeNull();
  });

  it("the added broker is registered and unfenced in every broker's metadata", {
    timeout: TIMEOUT_MS,
  }, () => {
    const scenario = scenarioByName('a-new-broker-registers-and-joins-the-metadata');
    if (scenario === undefined) throw new Error('not registered');
    const { spec } = scenarioSpec(scenario, { seed: SEED, bugs: [], sets: {} });
    const { cluster } = runKafka(spec);
    expect(cluster.brokers).toEqual(['b1', 'b2', 'b3', 'b4']);
    for (const id of cluster.brokers) {
      expect(brokerOf(cluster, id)?.image.broker('b4')?.fenced, id).toBe(false);
    }
  });
});

describe('the timeline reads only the trace kinds it names', () => {
  // Without --trace the run hands the recorder only the kinds it says it wants: the same timeline
  // as when every event goes to a sink.
  for (const name of [
    'acks-all-survives-a-leader-crash',
    'a-slow-follower-leaves-the-isr-and-rejoins',
    'controlled-shutdown-moves-leadership-first',
    'kip-279-fast-failovers-truncate-a-divergent-epoch',
    'unclean-leader-election-loses-acknowledged-writes',
  ]) {
    it(name, { timeout: 30_000 }, () => {
      const scenario = scenarioByName(name) as Scenario;
      const filtered = runScenario(scenario, { seed: 1, bugs: [], sets: {} });
      let events = 0;
      const everything = runScenario(scenario, {
        seed: 1,
        bugs: [],
        sets: {},
        traceSink: () => events++,
      });
      expect(events).toBeGreaterThan(everything.stats.events);
      expect(filtered.timeline).toEqual(everything.timeline);
      expect(filtered.traceHash).toBe(everything.traceHash);
      expect(filtered.timeline.length).toBeGreaterThan(3);
    });
  }
});

describe('the registry', () => {
  const directory = import.meta.dirname;
  const scenarioFiles = readdirSync(directory)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .filter((file) =>
      readFileSync(join(directory, file), 'utf8').includes('export default defineScenario('),
    )
    .map((file) => file.slice(0, -'.ts'.length));

  it('names are unique, kebab-case sentences, each the name of its own file', () => {
    const names = SCENARIOS.map((scenario) => scenario.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+){2,}$/);
    const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    expect([...names].sort(byName)).toEqual([...scenarioFiles].sort(byName));
    for (const name of names) {
      const source = readFileSync(join(directory, `${name}.ts`), 'utf8');
      expect(source, `${name}.ts`).toContain(`name: '${name}'`);
    }
  });

  it('summaries are one line; descriptions teach, in a few sentences', () => {
    for (const scenario of SCENARIOS) {
      expect(scenario.summary, scenario.name).not.toContain('\n');
      expect(scenario.summary.length, scenario.name).toBeLessThanOrEqual(100);
      expect(scenario.description.length, scenario.name).toBeGreaterThanOrEqual(200);
    }
  });

  it('every scenario passes validation', () => {
    for (const scenario of SCENARIOS) expect(() => validateScenario(scenario)).not.toThrow();
  });

  it('every scenario says what its timeline shows (SHOWS above)', () => {
    const names = SCENARIOS.map((scenario) => scenario.name);
    expect(Object.keys(SHOWS).filter((name) => !names.includes(name))).toEqual([]);
    expect(names.filter((name) => SHOWS[name] === undefined)).toEqual([]);
  });

  it('has the flagship, and it replays exactly: same seed, same trace', {
    timeout: TIMEOUT_MS,
  }, () => {
    const flagship = scenarioByName(FLAGSHIP);
    if (flagship === undefined) throw new Error(`flagship ${FLAGSHIP} is not registered`);
    const first = runScenario(flagship, { seed: 7, bugs: [], sets: {} });
    const second = runScenario(flagship, { seed: 7, bugs: [], sets: {} });
    expect(second.traceHash).toBe(first.traceHash);
    expect(second.timeline).toEqual(first.timeline);
    expect(first.ok, explain(first)).toBe(true);
  });
});
