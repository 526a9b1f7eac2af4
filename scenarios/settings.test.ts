// Settings by Kafka's names (`--set`, a scenario's `settings`): the producers' retry backoff.

import { describe, expect, it } from 'vitest';
import type { KafkaRunSpec } from '../properties/kafka-harness.ts';
import { FLAGSHIP, SCENARIOS, scenarioByName } from './registry.ts';
import { scenarioSpec } from './run.ts';
import type { Scenario } from './scenario.ts';
import { applySettings } from './settings.ts';

const SPEC = {
  seed: 1,
  controllers: 1,
  brokers: 3,
  topics: [],
  producers: [],
  consumers: [],
  faults: [],
  faultPhaseMs: 1_000,
  healPhaseMs: 1_000,
} as unknown as KafkaRunSpec;

describe('applySettings', () => {
  it('gives every producer retry.backoff.ms and retry.backoff.max.ms', () => {
    const spec = applySettings(
      SPEC,
      { 'retry.backoff.ms': '50', 'retry.backoff.max.ms': 400 },
      '--set',
    );
    expect(spec.producer).toEqual({ retryBackoffMs: 50, retryBackoffMaxMs: 400 });
  });

  it('refuses a backoff that is not a whole number of ms, naming the setting', () => {
    expect(() => applySettings(SPEC, { 'retry.backoff.max.ms': '-1' }, '--set')).toThrow(
      /retry\.backoff\.max\.ms/,
    );
    expect(() => applySettings(SPEC, { 'retry.backoff.ms': 'soon' }, '--set')).toThrow(
      /retry\.backoff\.ms/,
    );
  });
});

describe('warnings for settings that break the checks by themselves', () => {
  const flagship = scenarioByName(FLAGSHIP);
  if (flagship === undefined) throw new Error('no flagship');
  const warningsOf = (scenario: Scenario, sets: Record<string, string> = {}) =>
    scenarioSpec(scenario, { seed: 1, bugs: [], sets }).warnings;

  it('none for the named scenarios and the defaults', () => {
    for (const scenario of SCENARIOS) expect(warningsOf(scenario), scenario.name).toEqual([]);
  });

  it('a socket timeout that leaves no round trip past the fetch wait', () => {
    const sets = { 'replica.fetch.wait.max.ms': '0' };
    expect(warningsOf(flagship, { ...sets, 'replica.socket.timeout.ms': '6' })).toEqual([]);
    expect(warningsOf(flagship, { ...sets, 'replica.socket.timeout.ms': '5' })).toEqual([
      expect.stringMatching(
        /^replica\.socket\.timeout\.ms 5 leaves less than a round trip \(up to 6 ms on kafkasim's links\) past replica\.fetch\.wait\.max\.ms 0: followers' fetches may time out/,
      ),
    ]);
  });

  it('a slow step whose round trip reaches the metadata fetch timeout', () => {
    const slow = (extraLatencyMs: number): Scenario => ({
      ...flagship,
      timeline: [...flagship.timeline, { atMs: 5_000, kind: 'slow', node: 'b2', extraLatencyMs }],
    });
    // 996 ms each way and a 6 ms round trip stay under the 2000 ms fetch timeout; 997 does not.
    expect(warningsOf(slow(996))).toEqual([]);
    expect(warningsOf(slow(997))).toEqual([
      "the slow step at 5000 ms adds 997 ms each way to b2's links: a round trip may then take 2000 ms, as long as the metadata fetch timeout (2000 ms) within which metadata-staleness-bounded and the after-heal checks assume links answer, and they may fail for that alone",
    ]);
  });
});
