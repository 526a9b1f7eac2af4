// Assertions that stay on. A protocol assertion that fires in a fuzz run is a found bug, so the
// message must say what was expected and what was seen.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A bound of the simulation was passed (`eventsMax`, `inFlightMax`, …): an error, never a silent stop. */
export class BoundExceededError extends Error {
  override name = 'BoundExceededError';
  constructor(
    readonly bound: string,
    readonly limit: number,
    detail: string,
  ) {
    super(`bound ${bound} = ${limit} exceeded: ${detail}`);
  }
}
