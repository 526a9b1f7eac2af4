import { describe, expect, it } from 'vitest';
import { DeadlineTimer } from './deadline.ts';
import type { Machine, NodeContext } from './node.ts';
import type { TraceEvent } from './trace.ts';
import { World } from './world.ts';

interface Never {
  readonly kind: 'never';
}

/**
 * A machine with a set of pending deadlines, the way a broker keeps requests waiting: each one is
 * handled when its moment comes, all through one DeadlineTimer.
 */
class Waiter implements Machine<Never> {
  readonly pending = new Map<string, number>();
  readonly expired: string[] = [];
  readonly timer: DeadlineTimer;
  /** Timers the DeadlineTimer asked the node for. */
  armed = 0;

  constructor(readonly context: NodeContext<Never>) {
    const counting = {
      get nowMs() {
        return context.nowMs;
      },
      setTimer: (delayMs: number, label: string, action: () => void) => {
        this.armed++;
        return context.setTimer(delayMs, label, action);
      },
      cancelTimer: context.cancelTimer.bind(context),
    };
    this.timer = new DeadlineTimer(counting, 'deadline', () => this.#due());
  }

  start(): void {}
  onMessage(): void {}
  onUnreachable(): void {}

  wait(name: string, atMs: number): void {
    this.pending.set(name, atMs);
    this.timer.want(atMs);
  }

  #due(): number | null {
    let next: number | null = null;
    for (const [name, atMs] of this.pending) {
      if (atMs <= this.context.nowMs) {
        this.expired.push(`${this.context.nowMs} ${name}`);
        this.pending.delete(name);
      } else if (next === null || atMs < next) {
        next = atMs;
      }
    }
    return next;
  }
}

function waiterWorld() {
  const events: TraceEvent[] = [];
  const world = new World<Never>({
    seed: 'deadline',
    latency: { kind: 'constant', ms: 1 },
    writebackMs: null,
    trace: { sink: (event) => events.push(event) },
  });
  world.addNode('w', (context) => new Waiter(context));
  world.node('w').start();
  const waiter = world.node('w').machine as Waiter;
  const timers = () => events.filter((event) => event.kind === 'timer').length;
  return { world, waiter, timers };
}

describe('DeadlineTimer', () => {
  it('honours every deadline at its exact moment, whatever order they were asked in', () => {
    const { world, waiter } = waiterWorld();
    waiter.wait('c', 30);
    waiter.wait('a', 10);
    waiter.wait('b', 20);
    waiter.wait('a2', 10);
    world.runFor(5);
    waiter.wait('d', 15);
    world.runFor(100);
    expect(waiter.expired).toEqual(['10 a', '10 a2', '15 d', '20 b', '30 c']);
    // c, then a earlier; then the firings at 10, 15 and 20 each arm the next.
    expect(waiter.armed).toBe(5);
  });

  it('keeps one timer armed: a later deadline than the armed one arms nothing new', () => {
    const { world, waiter, timers } = waiterWorld();
    waiter.wait('a', 10);
    for (let i = 0; i < 50; i++) waiter.wait(`late${i}`, 10);
    world.runFor(100);
    expect(waiter.expired).toHaveLength(51);
    expect(waiter.armed).toBe(1);
    expect(timers()).toBe(1);
  });

  it('fires early only to be re-armed when what it waited for is gone', () => {
    const { world, waiter } = waiterWorld();
    waiter.wait('a', 10);
    waiter.wait('b', 40);
    waiter.pending.delete('a');
    world.runFor(20);
    expect(waiter.expired).toEqual([]);
    world.runFor(30);
    expect(waiter.expired).toEqual(['40 b']);
  });

  it('does nothing once stopped, and can be armed again after', () => {
    const { world, waiter, timers } = waiterWorld();
    waiter.wait('a', 10);
    waiter.timer.stop();
    world.runFor(50);
    expect(waiter.expired).toEqual([]);
    expect(timers()).toBe(0);
    waiter.wait('b', 60);
    world.runFor(50);
    expect(waiter.expired).toEqual(['60 a', '60 b']);
  });
});
