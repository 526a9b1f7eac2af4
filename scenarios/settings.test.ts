// Settings by Kafka's names (`--set`, a scenario's `settings`): the producers' retry backoff.

import { describe, expect, it } from 'vitest';
import type { KafkaRunSpec } from '../properties/kafka-harness.ts';
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
