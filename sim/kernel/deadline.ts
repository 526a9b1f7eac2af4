// One timer for many deadlines. Arming a timer per request and cancelling it when the answer comes
// costs an event in the queue per request, nearly always a dead one (in the reference workload,
// 190 k cancelled timers against 240 k events). Kafka does not do that either: its purgatory and
// its clients check expiry in bulk. A DeadlineTimer keeps one timer armed at or before the earliest
// deadline its owner cares about; when it fires, the owner handles what expired and names the next
// deadline still pending. Every deadline is still honoured at its exact moment.

import type { NodeContext, TimerHandle } from './node.ts';
import type { Ms } from './time.ts';

type TimerContext = Pick<NodeContext<never>, 'nowMs' | 'setTimer' | 'cancelTimer'>;

export class DeadlineTimer {
  readonly #context: TimerContext;
  readonly #label: string;
  readonly #due: () => Ms | null;
  #timer: TimerHandle | null = null;
  #atMs: Ms = Number.POSITIVE_INFINITY;

  /**
   * `due` runs when the timer fires: it handles every deadline that has passed and returns the
   * earliest one still pending, or null when none is.
   */
  constructor(context: TimerContext, label: string, due: () => Ms | null) {
    this.#context = context;
    this.#label = label;
    this.#due = due;
  }

  /** When the timer fires; infinity when it is not armed. */
  get atMs(): Ms {
    return this.#atMs;
  }

  /** Makes sure the timer fires at `atMs` or before. */
  want(atMs: Ms): void {
    if (this.#timer !== null) {
      if (this.#atMs <= atMs) return;
      this.#context.cancelTimer(this.#timer);
    }
    this.#atMs = atMs;
    this.#timer = this.#context.setTimer(
      Math.max(0, atMs - this.#context.nowMs),
      this.#label,
      this.#fire,
    );
  }

  /** Disarms it (nothing pending any more, for good). */
  stop(): void {
    if (this.#timer !== null) this.#context.cancelTimer(this.#timer);
    this.#timer = null;
    this.#atMs = Number.POSITIVE_INFINITY;
  }

  readonly #fire = (): void => {
    this.#timer = null;
    this.#atMs = Number.POSITIVE_INFINITY;
    const next = this.#due();
    if (next !== null) this.want(next);
  };
}
