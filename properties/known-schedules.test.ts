// The known shortest schedules of KAFKA.md (known-schedules.ts): each shows its loss with the
// matching switch or configuration, and no loss it may not show without it.

import { describe, expect, it } from 'vitest';
import { type KafkaRunResult, runKafka } from './kafka-harness.ts';
import { ALLOWED_LOSS_SCHEDULES, jepsen2013Clean, KNOWN_SCHEDULES } from './known-schedules.ts';

const SEED = 1;

function summary(result: KafkaRunResult): string {
  return result.violations
    .map((violation) => `${violation.invariant}: ${violation.message}`)
    .join('\n');
}

function reasons(result: KafkaRunResult): Set<string> {
  return new Set(result.allowed.map((loss) => loss.reason));
}

describe('the known schedules', () => {
  for (const schedule of KNOWN_SCHEDULES.filter((each) => each.bug !== null)) {
    it(`${schedule.name}: ${schedule.bug} breaks ${schedule.breaks}, and nothing breaks without it`, {
      timeout: 60_000,
    }, () => {
      const broken = runKafka(
        schedule.spec(SEED, new Set([schedule.bug as NonNullable<typeof schedule.bug>])),
      );
      expect(broken.counts.has(schedule.breaks), summary(broken)).toBe(true);
      const fixed = runKafka(schedule.spec(SEED, new Set()));
      expect(fixed.violations, summary(fixed)).toEqual([]);
      // The fixed run lost no committed record either: at most the acks=1 writes it may lose.
      const allowed = [...reasons(fixed)].filter(
        (reason) => reason !== 'acks-1' && reason !== 'offline-after-unclean-shutdowns',
      );
      expect(allowed).toEqual([]);
    });
  }

  it('jepsen-2013: with unclean election the leader-only writes are lost, as allowed', {
    timeout: 60_000,
  }, () => {
    const result = runKafka(
      (
        KNOWN_SCHEDULES.find(
          (each) => each.name === 'jepsen-2013',
        ) as (typeof KNOWN_SCHEDULES)[number]
      ).spec(SEED, new Set()),
    );
    expect(result.violations, summary(result)).toEqual([]);
    expect(reasons(result).has('unclean-election')).toBe(true);
  });

  it('jepsen-2013 without unclean election: nothing is lost, the partition waits offline', {
    timeout: 60_000,
  }, () => {
    const result = runKafka(jepsen2013Clean(SEED));
    expect(result.violations, summary(result)).toEqual([]);
    expect(reasons(result).has('unclean-election')).toBe(false);
    expect(reasons(result).has('offline-after-unclean-shutdowns')).toBe(true);
  });

  for (const { reason, spec } of ALLOWED_LOSS_SCHEDULES) {
    it(`shows the allowed loss ${reason}, and no violation`, { timeout: 60_000 }, () => {
      const result = runKafka(spec(SEED));
      expect(result.violations, summary(result)).toEqual([]);
      expect(reasons(result).has(reason), [...reasons(result)].join(',')).toBe(true);
    });
  }
});
