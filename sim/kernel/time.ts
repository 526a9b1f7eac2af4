// Simulated time: an integer number of milliseconds since the run began. Nothing under sim/ reads
// a wall clock; the scheduler owns the one clock and advances it event by event.

export type Ms = number;

export const SECOND_MS: Ms = 1_000;
export const MINUTE_MS: Ms = 60 * SECOND_MS;
export const HOUR_MS: Ms = 60 * MINUTE_MS;
export const DAY_MS: Ms = 24 * HOUR_MS;

/** Throws unless `value` is a non-negative safe integer: the only valid time or duration. */
export function assertMs(value: number, what: string): Ms {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer of milliseconds (got ${value})`);
  }
  return value;
}

/** `12.345s`, `1m02.000s` and so on: how a simulated time reads in a timeline. */
export function formatMs(ms: Ms): string {
  const minutes = Math.floor(ms / MINUTE_MS);
  const rest = ms - minutes * MINUTE_MS;
  const seconds = Math.floor(rest / SECOND_MS);
  const millis = rest - seconds * SECOND_MS;
  const secondsText = `${seconds}.${String(millis).padStart(3, '0')}s`;
  if (minutes === 0) return secondsText;
  return `${minutes}m${secondsText.padStart(7, '0')}`;
}

/** The scheduler's clock. Only ever moves forward. */
export class Clock {
  #nowMs: Ms = 0;

  get nowMs(): Ms {
    return this.#nowMs;
  }

  advanceTo(atMs: Ms): void {
    if (atMs < this.#nowMs) {
      throw new Error(`clock cannot move backwards (now ${this.#nowMs} ms, asked ${atMs} ms)`);
    }
    this.#nowMs = atMs;
  }
}
