// Kafka's exponential retry backoff (KIP-580, `ExponentialBackoff` with multiplier 2 and jitter
// 0.2), as its producer and admin client use it between attempts: the first backoff is
// `retry.backoff.ms`, each later one twice the last, up to `retry.backoff.max.ms`, each scaled
// by a random factor in [0.8, 1.2) so that clients failing together do not retry in step, and
// never above the maximum. With a maximum not above the first backoff it is constant (and exact).

import type { Ms } from '../../kernel/time.ts';

const MULTIPLIER = 2;
const JITTER = 0.2;

/** The backoff after `attempts` earlier backoffs (0 for the first); `random` in [0, 1) sets the jitter. */
export function exponentialBackoffMs(
  attempts: number,
  initialMs: Ms,
  maxMs: Ms,
  random: number,
): Ms {
  const initial = Math.min(initialMs, maxMs);
  // No backoff at all: Kafka's exponent is 0 then (and 0 × 2^1024 would be NaN here).
  if (initial === 0 || maxMs <= initial) return initial;
  // Kafka caps the exponent at log2(max / initial), which caps the term at the maximum; capping the
  // term itself gives the same without a logarithm (not bit-exact across platforms).
  const term = Math.min(initial * MULTIPLIER ** attempts, maxMs);
  const factor = 1 - JITTER + 2 * JITTER * random;
  return Math.min(Math.floor(factor * term), maxMs);
}
