import { describe, expect, it } from 'vitest';
import { BoundExceededError } from './assert.ts';
import { ActionEvent, IdleError, Scheduler } from './scheduler.ts';

function catchError(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

/** A scheduler with a tick every `everyMs`, forever: something is always pending. */
function ticking(everyMs: number): { scheduler: Scheduler; ticks: number[] } {
  const scheduler = new Scheduler();
  const ticks: number[] = [];
  const tick = (): void => {
    ticks.push(scheduler.nowMs);
    scheduler.after(everyMs, 'tick', tick);
  };
  scheduler.after(everyMs, 'tick', tick);
  return { scheduler, ticks };
}

describe('Scheduler', () => {
  it('fires events in time order, ties in scheduling order, and moves the clock to each', () => {
    const scheduler = new Scheduler();
    const fired: string[] = [];
    const note = (name: string) => () => fired.push(`${name}@${scheduler.nowMs}`);
    scheduler.after(30, 'c', note('c'));
    scheduler.after(10, 'a', note('a'));
    scheduler.after(30, 'd', note('d'));
    scheduler.after(10, 'b', note('b'));
    scheduler.after(0, 'z', note('z'));
    while (scheduler.step()) {}
    expect(fired).toEqual(['z@0', 'a@10', 'b@10', 'c@30', 'd@30']);
    expect(scheduler.eventsFired).toBe(5);
    expect(scheduler.step()).toBe(false);
  });

  it('runUntil stops as soon as the predicate holds, checked before each event', () => {
    const { scheduler, ticks } = ticking(10);
    const summary = scheduler.runUntil(() => ticks.length === 3, {
      eventsMax: 100,
      timeMsMax: 1_000,
    });
    expect(ticks).toEqual([10, 20, 30]);
    expect(summary).toEqual({ events: 3, elapsedMs: 30 });
    expect(scheduler.nowMs).toBe(30);
    // Already true: no event fires.
    expect(scheduler.runUntil(() => true, { eventsMax: 0, timeMsMax: 0 })).toEqual({
      events: 0,
      elapsedMs: 0,
    });
    expect(ticks).toEqual([10, 20, 30]);
  });

  it('runUntil throws BoundExceededError naming eventsMax when it fires too many events', () => {
    const { scheduler, ticks } = ticking(1);
    const error = catchError(() =>
      scheduler.runUntil(() => false, { eventsMax: 25, timeMsMax: 1_000_000 }),
    );
    expect(error).toBeInstanceOf(BoundExceededError);
    expect((error as BoundExceededError).bound).toBe('eventsMax');
    expect((error as BoundExceededError).limit).toBe(25);
    expect((error as Error).message).toMatch(/eventsMax = 25/);
    expect(ticks).toHaveLength(25);
  });

  it('runUntil throws BoundExceededError naming timeMsMax before passing the deadline', () => {
    const { scheduler, ticks } = ticking(100);
    scheduler.runFor(50, 10);
    const error = catchError(() =>
      scheduler.runUntil(() => false, { eventsMax: 1_000, timeMsMax: 250 }),
    );
    expect(error).toBeInstanceOf(BoundExceededError);
    expect((error as BoundExceededError).bound).toBe('timeMsMax');
    expect((error as BoundExceededError).limit).toBe(250);
    expect((error as Error).message).toMatch(/timeMsMax = 250/);
    // Ticks due by 50 + 250 = 300 ms fired (one exactly at the deadline); the one at 400 did not.
    expect(ticks).toEqual([100, 200, 300]);
    expect(scheduler.nowMs).toBeLessThanOrEqual(300);
  });

  it('runUntil fires an event exactly at the deadline and none a millisecond after it', () => {
    const scheduler = new Scheduler();
    const fired: number[] = [];
    for (const atMs of [100, 101]) scheduler.after(atMs, 'event', () => fired.push(atMs));
    expect(() => scheduler.runUntil(() => false, { eventsMax: 10, timeMsMax: 100 })).toThrow(
      BoundExceededError,
    );
    expect(fired).toEqual([100]);
    expect(scheduler.nowMs).toBe(100);
  });

  it('runUntil throws IdleError when nothing is pending and the predicate is false', () => {
    const scheduler = new Scheduler();
    let fired = 0;
    scheduler.after(5, 'once', () => fired++);
    const error = catchError(() =>
      scheduler.runUntil(() => fired === 2, { eventsMax: 100, timeMsMax: 100 }),
    );
    expect(error).toBeInstanceOf(IdleError);
    expect((error as Error).message).toMatch(/nothing pending at 5 ms/);
    expect(fired).toBe(1);
    // Only cancelled events pending is idle too.
    const cancelled = scheduler.after(1, 'cancelled', () => fired++);
    scheduler.cancel(cancelled);
    expect(() => scheduler.runUntil(() => false, { eventsMax: 100, timeMsMax: 100 })).toThrow(
      IdleError,
    );
    expect(fired).toBe(1);
  });

  it('runFor skips idle time, fires events due up to and at its end, and ends at the exact time', () => {
    const scheduler = new Scheduler();
    const fired: number[] = [];
    for (const atMs of [7, 500, 1_000, 1_001]) {
      scheduler.after(atMs, 'event', () => fired.push(scheduler.nowMs));
    }
    const summary = scheduler.runFor(1_000, 100);
    expect(fired).toEqual([7, 500, 1_000]);
    expect(summary).toEqual({ events: 3, elapsedMs: 1_000 });
    expect(scheduler.nowMs).toBe(1_000);
    // Nothing due: the clock still moves to the end.
    expect(scheduler.runFor(0, 100)).toEqual({ events: 0, elapsedMs: 0 });
    expect(scheduler.runFor(250, 100)).toEqual({ events: 1, elapsedMs: 250 });
    expect(fired).toEqual([7, 500, 1_000, 1_001]);
    expect(scheduler.nowMs).toBe(1_250);
    expect(new Scheduler().runFor(123_456_789, 1).elapsedMs).toBe(123_456_789);
  });

  it('runFor throws BoundExceededError naming eventsMax when too many events are due', () => {
    const { scheduler, ticks } = ticking(1);
    const error = catchError(() => scheduler.runFor(1_000, 10));
    expect(error).toBeInstanceOf(BoundExceededError);
    expect((error as BoundExceededError).bound).toBe('eventsMax');
    expect(ticks).toHaveLength(10);
    // Exactly eventsMax events due is within the bound.
    const exact = ticking(1);
    expect(exact.scheduler.runFor(10, 10).events).toBe(10);
  });

  it('never fires a cancelled event and does not count it', () => {
    const scheduler = new Scheduler();
    const fired: string[] = [];
    const first = scheduler.after(10, 'first', () => fired.push('first'));
    scheduler.after(20, 'second', () => fired.push('second'));
    const third = scheduler.after(30, 'third', () => fired.push('third'));
    // Cancelled from inside another event, before it is due.
    scheduler.after(15, 'canceller', () => scheduler.cancel(third));
    scheduler.cancel(first);
    expect(first).toBeInstanceOf(ActionEvent);
    expect(first.label).toBe('first');
    scheduler.runFor(100, 100);
    expect(fired).toEqual(['second']);
    expect(scheduler.eventsFired).toBe(2);
  });

  it('sweeps cancelled events out of the queue and fires the rest in the same order', () => {
    const scheduler = new Scheduler();
    const fired: number[] = [];
    const events: ActionEvent[] = [];
    // Many events on few milliseconds (ties decided by scheduling order), most cancelled, some
    // twice, some after they fired: the survivors still fire in (time, scheduling) order.
    for (let i = 0; i < 1_000; i++)
      events.push(scheduler.after(i % 7, `e${i}`, () => fired.push(i)));
    scheduler.runFor(2, 10_000);
    for (let i = 0; i < 1_000; i++) if (i % 5 !== 0) scheduler.cancel(events[i] as ActionEvent);
    scheduler.cancel(events[1] as ActionEvent);
    expect(scheduler.queue.size).toBeLessThan(400);
    scheduler.runFor(10, 10_000);
    const expected: number[] = [];
    for (let atMs = 0; atMs < 7; atMs++)
      for (let i = atMs; i < 1_000; i += 7) if (atMs <= 2 || i % 5 === 0) expected.push(i);
    expect(fired).toEqual(expected);
    expect(scheduler.queue.size).toBe(0);
  });

  it('refuses to schedule in the past and rejects bad delays', () => {
    const scheduler = new Scheduler();
    scheduler.runFor(100, 10);
    expect(() => scheduler.schedule(new ActionEvent('late', () => {}), 99)).toThrow(
      /cannot schedule in the past \(now 100 ms, asked 99 ms\)/,
    );
    expect(() => scheduler.after(-1, 'negative', () => {})).toThrow(RangeError);
    expect(() => scheduler.after(0.5, 'fraction', () => {})).toThrow(RangeError);
    // Now is not the past.
    let fired = false;
    scheduler.schedule(
      new ActionEvent('now', () => {
        fired = true;
      }),
      100,
    );
    scheduler.step();
    expect(fired).toBe(true);
    expect(scheduler.nowMs).toBe(100);
  });

  it('runs the step checks after every event, seeing its effects', () => {
    const scheduler = new Scheduler();
    let counter = 0;
    const seen: string[] = [];
    scheduler.addStepCheck(() => seen.push(`${scheduler.nowMs}:${counter}`));
    let checksRun = 0;
    scheduler.addStepCheck(() => checksRun++);
    for (const atMs of [1, 1, 4]) scheduler.after(atMs, 'increment', () => counter++);
    const cancelled = scheduler.after(2, 'cancelled', () => counter++);
    scheduler.cancel(cancelled);
    scheduler.runFor(10, 100);
    // Once per fired event, in the order added, never for a cancelled event.
    expect(seen).toEqual(['1:1', '1:2', '4:3']);
    expect(checksRun).toBe(3);
    scheduler.after(1, 'step', () => counter++);
    expect(scheduler.step()).toBe(true);
    expect(seen.at(-1)).toBe('11:4');
  });

  it('a failing step check stops the run at the event that broke the invariant', () => {
    const scheduler = new Scheduler();
    let counter = 0;
    scheduler.addStepCheck(() => {
      if (counter > 2) throw new Error(`counter ${counter} > 2 at ${scheduler.nowMs} ms`);
    });
    for (const atMs of [1, 2, 3, 4, 5]) scheduler.after(atMs, 'increment', () => counter++);
    expect(() => scheduler.runFor(10, 100)).toThrow('counter 3 > 2 at 3 ms');
    expect(counter).toBe(3);
  });
});
