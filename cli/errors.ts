// A user's mistake: one clear line on stderr and exit code 2, never a stack trace.

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses a non-negative integer option, or throws a UsageError naming the option. */
export function parseNonNegativeInteger(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${option} must be a non-negative integer (got "${text}")`);
  }
  return value;
}

export function parsePositiveInteger(option: string, text: string): number {
  const value = parseNonNegativeInteger(option, text);
  if (value === 0) throw new UsageError(`${option} must be at least 1 (got 0)`);
  return value;
}

/** The warning `--mode both` gives (fuzz, repro, shrink): only KRaft is built, so KRaft runs. */
export const MODE_BOTH_WARNING =
  'warning: --mode both runs KRaft only: ZooKeeper mode is not built yet';
