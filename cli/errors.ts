// A user's mistake: one clear line on stderr and exit code 2, never a stack trace.

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses a non-negative integer option, or throws a UsageError naming the option. */
export function parseNonNegativeInteger(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text))
    throw new UsageError(`${option} must be a non-negative integer (got "${text}")`);
  if (!Number.isSafeInteger(value))
    throw new UsageError(`${option} must be at most ${Number.MAX_SAFE_INTEGER} (got "${text}")`);
  return value;
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'it exists and is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'a read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
};

/** A file system error in words, with its code: `no space left on the device (ENOSPC)`. */
export function fileErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const words = Object.hasOwn(FILE_ERRORS, code) ? FILE_ERRORS[code] : undefined;
  return words === undefined ? code : `${words} (${code})`;
}

/**
 * Does a file operation; a file system error becomes one line, `cannot <doing> <path>: <why>`
 * (a disk that fills during a run is no reason for a stack trace).
 */
export function onFile<T>(doing: string, path: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException)?.code === undefined)
      throw error;
    throw new UsageError(`cannot ${doing} ${path === '' ? '""' : path}: ${fileErrorText(error)}`);
  }
}

/** Parses an integer option that must be at least 1, or throws a UsageError saying so. */
export function parsePositiveInteger(option: string, text: string): number {
  // One wording for every value below 1 (-3 and 0 alike), and for text that is no integer.
  if (!/^\d+$/.test(text) || Number(text) === 0)
    throw new UsageError(`${option} must be an integer of at least 1 (got "${text}")`);
  return parseNonNegativeInteger(option, text);
}

/** The warning `--mode both` gives (fuzz, repro, shrink): only KRaft is built, so KRaft runs. */
export const MODE_BOTH_WARNING =
  'warning: --mode both runs KRaft only: ZooKeeper mode is not built yet';
