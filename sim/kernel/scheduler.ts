// The one loop: pop the next event, advance the clock to it, fire it, run the per-step checks.
// Idle time is skipped (the clock jumps to the next event). Every run has bounds; passing one is
// an error that names it, never a silent stop.

import { BoundExceededError } from './assert.ts';
import { EventQueue } from './event-queue.ts';
import { assertMs, Clock, type Ms } from './time.ts';
import { Trace, type TraceOptions } from './trace.ts';

/**
 * Something that happens at a simulated time (the queue keeps the time). Subclasses carry their
 * own data and `fire`, and each declares `cancelled = false;` itself: a field initialised in a
 * shared base constructor is stored into objects of every event class from one place, which V8
 * turns into slow megamorphic stores (measured: 40 % of the kernel's time).
 */
export abstract class SimEvent {
  abstract cancelled: boolean;
  abstract fire(): void;
}

/** A callback at a time: faults, scenario steps, resumptions. */
export class ActionEvent extends SimEvent {
  cancelled = false;

  constructor(
    readonly label: string,
    readonly action: () => void,
  ) {
    super();
  }

  fire(): void {
    this.action();
  }
}

export interface RunBounds {
  /** Most events this call may process. */
  readonly eventsMax: number;
  /** Most simulated milliseconds this call may advance the clock. */
  readonly timeMsMax: Ms;
}

export interface RunSummary {
  readonly events: number;
  readonly elapsedMs: Ms;
}

export interface SchedulerOptions {
  /** Most events pending at once. */
  readonly pendingMax?: number;
  readonly trace?: TraceOptions;
}

export class IdleError extends Error {
  override name = 'IdleError';
}

export class Scheduler {
  readonly clock = new Clock();
  readonly queue: EventQueue<SimEvent>;
  readonly trace: Trace;
  readonly #stepChecks: (() => void)[] = [];
  #eventsFired = 0;
  #actionsFired = 0;
  #hostEntries = 0;
  #hostsMade = 0;
  #lastEnteredSerial = -1;
  /** At most how many cancelled events are still queued (see cancel). */
  #cancelledQueued = 0;

  constructor(options: SchedulerOptions = {}) {
    this.queue = new EventQueue<SimEvent>(options.pendingMax ?? 1_000_000);
    this.trace = new Trace(this.clock, options.trace);
  }

  get nowMs(): Ms {
    return this.clock.nowMs;
  }

  /** Events fired since the start (cancelled ones are not counted). */
  get eventsFired(): number {
    return this.#eventsFired;
  }

  schedule(event: SimEvent, atMs: Ms): SimEvent {
    if (atMs < this.clock.nowMs) {
      throw new RangeError(
        `cannot schedule in the past (now ${this.clock.nowMs} ms, asked ${atMs} ms)`,
      );
    }
    this.queue.push(event, atMs);
    return event;
  }

  /** Runs `action` after `delayMs` of simulated time. Cancel with `cancel(handle)`. */
  after(delayMs: Ms, label: string, action: () => void): ActionEvent {
    assertMs(delayMs, 'delayMs');
    const event = new ActionEvent(label, () => {
      this.#actionsFired++;
      action();
    });
    this.schedule(event, this.clock.nowMs + delayMs);
    return event;
  }

  /**
   * Actions (`after`, `World.at`: faults, operations, calls into machines from outside) fired so
   * far: with the nodes' `activity`, what tells a checker that nothing it reads can have changed.
   */
  get actionsFired(): number {
    return this.#actionsFired;
  }

  /**
   * A number for a new node host: 0, 1, 2, ... in the order hosts are made. A checker that watches
   * some hosts finds the one entered last by it in an array, where a Map of hosts cost a hash
   * lookup per event.
   */
  hostSerial(): number {
    return this.#hostsMade++;
  }

  /** The host numbered `serial` was entered (NodeHost.activity moved): counted and remembered. */
  noteHostEntered(serial: number): void {
    this.#hostEntries++;
    this.#lastEnteredSerial = serial;
  }

  /**
   * How many times any host was entered so far. When it moved by one since a checker's last look,
   * only the host `lastEnteredSerial` can have changed: the checker need not read every node's
   * activity.
   */
  get hostEntries(): number {
    return this.#hostEntries;
  }

  /** The serial (hostSerial) of the host entered last, -1 before any (see hostEntries). */
  get lastEnteredSerial(): number {
    return this.#lastEnteredSerial;
  }

  /**
   * Marks `event` so it never fires. A cancelled event stays in the queue until its time, and
   * machines cancel many long timers (request timeouts answered in a few milliseconds: in the
   * reference workload nine in ten queued events were dead), which deepened the heap for every
   * push and pop: once about half the queue may be dead, it is swept.
   */
  cancel(event: SimEvent): void {
    if (event.cancelled) return;
    event.cancelled = true;
    // An upper bound: the event may have fired already, leaving nothing to sweep.
    this.#cancelledQueued++;
    if (this.#cancelledQueued >= SWEEP_MIN && this.#cancelledQueued * 2 >= this.queue.size) {
      this.queue.removeWhere(isCancelled);
      this.#cancelledQueued = 0;
    }
  }

  /** A check that runs after every event (per-step invariants). It throws or records on failure. */
  addStepCheck(check: () => void): void {
    this.#stepChecks.push(check);
  }

  /** Fires the next live event. False when nothing is pending. */
  step(): boolean {
    const atMs = this.#nextLiveAtMs();
    if (atMs === Number.POSITIVE_INFINITY) return false;
    this.#fireNext(atMs);
    return true;
  }

  /**
   * Fires the event at the head of the queue, live and due at `atMs` (as #nextLiveAtMs just
   * said), then runs the per-step checks.
   */
  #fireNext(atMs: Ms): void {
    const event = this.queue.pop() as SimEvent;
    this.clock.advanceTo(smallIntegerIfExact(atMs));
    this.#eventsFired++;
    event.fire();
    const checks = this.#stepChecks;
    for (let i = 0; i < checks.length; i++) (checks[i] as () => void)();
  }

  /** Fires up to `count` events; returns how many fired (fewer only when nothing is pending). */
  runSteps(count: number): number {
    let fired = 0;
    while (fired < count && this.step()) fired++;
    return fired;
  }

  /**
   * Fires events until `predicate` holds (checked before each event). Throws BoundExceededError
   * when the bounds pass first, and IdleError when nothing is pending and the predicate is false.
   */
  runUntil(predicate: () => boolean, bounds: RunBounds): RunSummary {
    const startMs = this.clock.nowMs;
    const deadlineMs = startMs + assertMs(bounds.timeMsMax, 'timeMsMax');
    const startEvents = this.#eventsFired;
    while (!predicate()) {
      const events = this.#eventsFired - startEvents;
      if (events >= bounds.eventsMax) {
        throw new BoundExceededError(
          'eventsMax',
          bounds.eventsMax,
          `condition still false at ${this.clock.nowMs} ms`,
        );
      }
      const nextAtMs = this.#nextLiveAtMs();
      if (nextAtMs === Number.POSITIVE_INFINITY) {
        throw new IdleError(
          `nothing pending at ${this.clock.nowMs} ms and the condition is still false`,
        );
      }
      if (nextAtMs > deadlineMs) {
        throw new BoundExceededError(
          'timeMsMax',
          bounds.timeMsMax,
          `condition still false at ${deadlineMs} ms`,
        );
      }
      this.#fireNext(nextAtMs);
    }
    return { events: this.#eventsFired - startEvents, elapsedMs: this.clock.nowMs - startMs };
  }

  /** Fires every event due within `durationMs`, then sets the clock to the end of that span. */
  runFor(durationMs: Ms, eventsMax: number): RunSummary {
    const startMs = this.clock.nowMs;
    const endMs = startMs + assertMs(durationMs, 'durationMs');
    const startEvents = this.#eventsFired;
    this.#fireThrough(endMs, startEvents, eventsMax, durationMs);
    this.clock.advanceTo(endMs);
    return { events: this.#eventsFired - startEvents, elapsedMs: durationMs };
  }

  /**
   * runFor's loop: fires every event due by `endMs`, at most `eventsMax` since `startEvents`.
   * On its own, so that the code compiled while it runs (on-stack, in the first long run) ends
   * in a return: compiled inside runFor, it held runFor's last lines, never run by then, and
   * bailed out there at the end of every run ('insufficient type feedback').
   */
  #fireThrough(endMs: Ms, startEvents: number, eventsMax: number, durationMs: Ms): void {
    for (;;) {
      const nextAtMs = this.#nextLiveAtMs();
      if (nextAtMs > endMs) return;
      if (this.#eventsFired - startEvents >= eventsMax) {
        throw new BoundExceededError(
          'eventsMax',
          eventsMax,
          `runFor(${durationMs}) reached ${this.clock.nowMs} ms of ${endMs} ms`,
        );
      }
      this.#fireNext(nextAtMs);
    }
  }

  /**
   * The time of the next event that will fire (cancelled ones are dropped); Infinity when none.
   * The time comes from the queue's own key array: one property load less on an event of any
   * class (see SimEvent).
   */
  #nextLiveAtMs(): Ms {
    const queue = this.queue;
    for (;;) {
      const next = queue.peek();
      if (next === undefined) return Number.POSITIVE_INFINITY;
      if (!next.cancelled) return queue.peekAtMs();
      queue.pop();
      if (this.#cancelledQueued > 0) this.#cancelledQueued--;
    }
  }
}

/** Fewer cancelled events than this are left in the queue: sweeping a small heap gains little. */
const SWEEP_MIN = 64;

// Helpers as consts, not function declarations: see trace.ts.
const isCancelled = (event: SimEvent): boolean => {
  return event.cancelled;
};

/**
 * The same number, as a small integer where it is one. A time read from the queue's Float64Array is
 * a boxed double to the engine; stored as is, it makes the clock's field a double, and every
 * `nowMs` then stored elsewhere (a message's send time, a timer, a deadline) allocates a box.
 */
const smallIntegerIfExact = (ms: Ms): Ms => {
  const integer = ms | 0;
  return integer === ms ? integer : ms;
};
