import { describe, expect, it } from 'vitest';
import { applyFault, healEverything } from '../faults.ts';
import { AssertionError } from './assert.ts';
import type { LogFile } from './disk.ts';
import type { NodeId } from './network.ts';
import type { Machine, NodeContext, TimerHandle } from './node.ts';
import type { TraceEvent } from './trace.ts';
import { World } from './world.ts';

interface Note {
  readonly kind: 'note';
  readonly seq: number;
}

interface ProbeOptions {
  /** Timers to set in start(): [delayMs, label]. */
  readonly timers?: readonly (readonly [number, string])[];
  /** How stop() behaves: absent method, finish after a delay, or never finish. */
  readonly stop?: 'none' | 'after-5ms' | 'never';
}

/**
 * A small machine that notes everything it handles in a log kept outside the world (so the test
 * sees it across incarnations), keeps some state in memory and some on disk.
 */
class Probe implements Machine<Note> {
  memory = 0;
  readonly records: LogFile<string>;
  readonly timers: TimerHandle[] = [];
  stopCalls = 0;
  /** Absent when the options say so: the host then stops the node at once. */
  readonly stop?: () => void;

  constructor(
    readonly context: NodeContext<Note>,
    readonly notes: string[],
    readonly options: ProbeOptions,
  ) {
    this.records = context.disk.log<string>('records');
    if (options.stop !== 'none') this.stop = () => this.#stop();
  }

  start(): void {
    this.#note(`start records=${this.records.records().join(',')}`);
    for (const [delayMs, label] of this.options.timers ?? []) {
      this.timers.push(this.context.setTimer(delayMs, label, () => this.#note(`timer ${label}`)));
    }
  }

  onMessage(source: NodeId, message: Note): void {
    this.#note(`message ${message.seq} from ${source}`);
  }

  onUnreachable(target: NodeId, message: Note): void {
    this.#note(`unreachable ${message.seq} to ${target}`);
  }

  #stop(): void {
    this.stopCalls++;
    this.#note('stop');
    this.records.append('written while stopping');
    if (this.options.stop === 'never') return;
    this.context.setTimer(5, 'shutdown', () => {
      this.#note('stopped');
      this.context.stopped();
    });
  }

  #note(what: string): void {
    this.notes.push(
      `${this.context.nowMs} ${this.context.nodeId}#${this.context.incarnation} ${what}`,
    );
  }
}

function probeWorld(options: ProbeOptions = {}, stopTimeoutMs = 30_000) {
  const events: TraceEvent[] = [];
  const world = new World<Note>({
    seed: 'node',
    latency: { kind: 'constant', ms: 10 },
    writebackMs: null,
    host: { stopTimeoutMs },
    trace: { sink: (event) => events.push(event) },
  });
  const notes: string[] = [];
  const builds: Probe[] = [];
  const contexts: NodeContext<Note>[] = [];
  for (const id of ['a', 'b']) {
    world.addNode(id, (context) => {
      contexts.push(context);
      const probe = new Probe(context, notes, id === 'b' ? options : {});
      builds.push(probe);
      return probe;
    });
  }
  const probe = (id: NodeId): Probe => world.node(id).machine as Probe;
  /** The live context of a node. */
  const context = (id: NodeId): NodeContext<Note> =>
    contexts.findLast((each) => each.nodeId === id) as NodeContext<Note>;
  let seqNext = 0;
  const send = (source: NodeId, target: NodeId): number => {
    const seq = seqNext++;
    context(source).send(target, { kind: 'note', seq });
    return seq;
  };
  return { world, notes, builds, probe, context, send, events };
}

describe('NodeHost lifecycle', () => {
  it('starts, crashes and restarts, one incarnation per start, each a new machine', () => {
    const { world, builds, probe } = probeWorld();
    const host = world.node('b');
    expect(host.status).toBe('down');
    expect(host.downReason).toBe('never-started');
    expect(host.incarnation).toBe(0);
    expect(host.machine).toBeNull();
    host.start();
    expect(host.status).toBe('up');
    expect(host.downReason).toBeNull();
    expect(host.incarnation).toBe(1);
    const first = probe('b');
    world.crash('b', 'kill');
    expect(host.status).toBe('down');
    expect(host.downReason).toBe('kill');
    expect(host.machine).toBeNull();
    world.restart('b');
    expect(host.incarnation).toBe(2);
    expect(probe('b')).not.toBe(first);
    expect(builds).toHaveLength(2);
    expect(() => host.start()).toThrow(/b: start while up/);
    world.crash('b', 'powerFailure');
    expect(host.downReason).toBe('powerFailure');
    expect(() => host.crash('kill')).toThrow(/b: crash while down/);
    expect(() => host.stop()).toThrow(/b: stop while down/);
    expect(() => host.pause(10)).toThrow(/b: pause while down/);
  });

  it('restart rebuilds the machine from the disk alone: memory is gone, durable data is not', () => {
    const { world, notes, probe } = probeWorld();
    world.node('b').start();
    probe('b').memory = 42;
    probe('b').records.append('flushed');
    probe('b').records.flush();
    probe('b').records.append('unflushed');
    world.crash('b', 'kill');
    world.restart('b');
    expect(probe('b').memory).toBe(0);
    expect(notes.at(-1)).toBe('0 b#2 start records=flushed,unflushed');
    world.crash('b', 'powerFailure');
    world.restart('b');
    expect(notes.at(-1)).toBe('0 b#3 start records=flushed');
    world.crash('b', 'diskLoss');
    world.restart('b');
    expect(notes.at(-1)).toBe('0 b#4 start records=');
  });

  it('a decommissioned node never starts again: restart faults and the heal leave it down', () => {
    const { world, events } = probeWorld();
    world.node('a').start();
    world.node('b').start();
    world.decommission('b');
    // Decommissioning does not stop it by itself; the operator's shutdown (or a crash) does.
    expect(world.node('b').status).toBe('up');
    world.crash('b', 'kill');
    expect(() => world.restart('b')).toThrow(/b: start after decommissioning/);
    applyFault(world, { kind: 'restart', node: 'b' });
    world.crash('a', 'kill');
    healEverything(world);
    expect(world.node('b').status).toBe('down');
    expect(world.node('a').status).toBe('up');
    expect(events.filter((event) => event.kind === 'node.decommission')).toHaveLength(1);
  });

  it('a bounce of a decommissioned node crashes it and does not bring it back', () => {
    const { world } = probeWorld();
    world.node('b').start();
    world.decommission('b');
    applyFault(world, { kind: 'bounce', node: 'b', crash: 'kill', downMs: 100 });
    world.runFor(1_000);
    expect(world.node('b').status).toBe('down');
    expect(world.node('b').incarnation).toBe(1);
  });

  it('traces starts and crashes with the incarnation', () => {
    const { world, events } = probeWorld();
    world.node('b').start();
    world.crash('b', 'kill');
    world.restart('b');
    const nodeEvents = events
      .filter((event) => event.node === 'b')
      .map((event) => [event.kind, event.fields]);
    expect(nodeEvents).toEqual([
      ['node.start', { incarnation: 1, after: 'never-started' }],
      ['node.crash', expect.objectContaining({ incarnation: 1 })],
      ['node.start', { incarnation: 2, after: 'kill' }],
    ]);
  });
});

describe('NodeHost timers', () => {
  it('timers of a dead incarnation never fire, even after a restart', () => {
    const { world, notes } = probeWorld({ timers: [[100, 'tick']] });
    world.node('b').start(); // incarnation 1: tick due at 100
    world.at(50, 'crash', () => world.crash('b', 'kill'));
    world.at(60, 'restart', () => world.restart('b')); // incarnation 2: tick due at 160
    world.runFor(500);
    expect(notes.filter((note) => note.includes('timer'))).toEqual(['160 b#2 timer tick']);
  });

  it('cancelTimer stops a timer; a handle of another incarnation or node is refused', () => {
    const { world, notes, probe, context } = probeWorld({
      timers: [
        [10, 'kept'],
        [20, 'cancelled'],
      ],
    });
    world.node('a').start();
    world.node('b').start();
    const [, cancelled] = probe('b').timers as [TimerHandle, TimerHandle];
    context('b').cancelTimer(cancelled);
    world.runFor(100);
    expect(notes.filter((note) => note.includes('timer'))).toEqual(['10 b#1 timer kept']);
    const oldTimer = context('b').setTimer(10, 'old', () => notes.push('old fired'));
    expect(() => context('a').cancelTimer(oldTimer)).toThrow(
      /a timer of another node or incarnation/,
    );
    world.crash('b', 'kill');
    world.restart('b');
    expect(() => context('b').cancelTimer(oldTimer)).toThrow(AssertionError);
    world.runFor(100);
    expect(notes).not.toContain('old fired');
  });

  it('traces every timer that fires, with its label', () => {
    const { world, events } = probeWorld({ timers: [[7, 'tick']] });
    world.node('b').start();
    world.runFor(10);
    expect(events.filter((event) => event.kind === 'timer')).toMatchObject([
      { atMs: 7, node: 'b', fields: { label: 'tick' } },
    ]);
  });
});

describe('NodeHost pause', () => {
  it('defers messages and timers while paused and handles them in order on resume', () => {
    const { world, notes, send, events } = probeWorld({ timers: [[50, 'tick']] });
    world.node('a').start();
    world.node('b').start();
    world.at(10, 'pause', () => world.pause('b', 100)); // paused 10 .. 110
    world.at(10, 'send', () => send('a', 'b')); // arrives at 20
    world.at(50, 'send', () => send('a', 'b')); // arrives at 60, after the tick at 50
    world.at(100, 'send', () => send('a', 'b')); // arrives at 110, just after the resume
    world.at(101, 'send', () => send('a', 'b')); // arrives at 111, after the drain
    world.runFor(30);
    expect(world.node('b').status).toBe('paused');
    world.runFor(200);
    expect(notes.filter((note) => note.includes('b#1') && !note.includes('start'))).toEqual([
      '110 b#1 message 0 from a',
      '110 b#1 timer tick',
      '110 b#1 message 1 from a',
      '110 b#1 message 2 from a',
      '111 b#1 message 3 from a',
    ]);
    expect(world.node('b').status).toBe('up');
    expect(events.find((event) => event.kind === 'node.resume')).toMatchObject({
      atMs: 110,
      fields: { deferred: 3 },
    });
  });

  it("the heal ends a pause at once, and the pause's own end later changes nothing", () => {
    const { world, notes, send, events } = probeWorld();
    world.node('a').start();
    world.node('b').start();
    world.pause('b', 1_000);
    send('a', 'b'); // arrives at 10, deferred
    world.at(100, 'heal', () => healEverything(world));
    world.runFor(2_000);
    expect(notes.filter((note) => note.includes('b#1') && !note.includes('start'))).toEqual([
      '100 b#1 message 0 from a',
    ]);
    expect(events.filter((event) => event.kind === 'fault.resume')).toMatchObject([
      { atMs: 100, fields: { target: 'b' } },
    ]);
    expect(events.filter((event) => event.kind === 'node.resume')).toHaveLength(1);
    expect(world.node('b').status).toBe('up');
  });

  it('a crash while paused discards what was waiting; the next incarnation never sees it', () => {
    const { world, notes, send } = probeWorld({ timers: [[30, 'tick']] });
    world.node('a').start();
    world.node('b').start();
    world.pause('b', 100);
    send('a', 'b'); // arrives at 10, deferred
    world.at(50, 'crash', () => world.crash('b', 'kill'));
    world.at(60, 'restart', () => world.restart('b'));
    world.runFor(300);
    expect(notes.filter((note) => note.includes(' b#'))).toEqual([
      '0 b#1 start records=',
      '60 b#2 start records=',
      '90 b#2 timer tick',
    ]);
    // The resume of the dead incarnation does not touch the new one.
    expect(world.node('b').status).toBe('up');
  });

  it('a message refused by a paused sender is held until it resumes', () => {
    const { world, notes, send } = probeWorld();
    world.node('a').start();
    world.node('b').start();
    world.crash('b', 'kill');
    send('a', 'b'); // refused at 10
    world.pause('a', 50);
    world.runFor(100);
    expect(notes.filter((note) => note.includes('unreachable'))).toEqual([
      '50 a#1 unreachable 0 to b',
    ]);
  });
});

describe('NodeHost graceful stop', () => {
  it("runs the machine's stop(), then flushes the disk: a later power failure loses nothing", () => {
    const { world, notes, probe, send } = probeWorld({ stop: 'after-5ms' });
    world.node('a').start();
    world.node('b').start();
    probe('b').records.append('unflushed before the stop');
    world.at(10, 'stop', () => world.stop('b'));
    world.at(10, 'send', () => send('a', 'b')); // arrives at 20, after the stop finished at 15
    world.runFor(12);
    expect(world.node('b').status).toBe('stopping');
    expect(probe('b').stopCalls).toBe(1);
    world.runFor(100);
    expect(world.node('b').status).toBe('down');
    expect(world.node('b').downReason).toBe('stop');
    expect(notes.filter((note) => note.includes(' b#'))).toEqual([
      '0 b#1 start records=',
      '10 b#1 stop',
      '15 b#1 stopped',
    ]);
    // The port is closed: the message is refused and the sender told.
    expect(notes.at(-1)).toBe('20 a#1 unreachable 0 to b');
    world.restart('b');
    world.crash('b', 'powerFailure');
    world.restart('b');
    expect(notes.at(-1)).toBe(
      '112 b#3 start records=unflushed before the stop,written while stopping',
    );
  });

  it('keeps handling messages while stopping', () => {
    const { world, notes, send } = probeWorld({ stop: 'after-5ms' });
    world.node('a').start();
    world.node('b').start();
    send('a', 'b'); // arrives at 10
    world.at(8, 'stop', () => world.stop('b'));
    world.runFor(100);
    expect(notes.filter((note) => note.includes(' b#1'))).toEqual([
      '0 b#1 start records=',
      '8 b#1 stop',
      '10 b#1 message 0 from a',
      '13 b#1 stopped',
    ]);
  });

  it('a machine without stop() stops at once', () => {
    const { world, probe } = probeWorld({ stop: 'none' });
    world.node('b').start();
    probe('b').records.append('unflushed');
    world.stop('b');
    expect(world.node('b').status).toBe('down');
    expect(world.node('b').downReason).toBe('stop');
    world.restart('b');
    world.crash('b', 'powerFailure');
    world.restart('b');
    expect(probe('b').records.records()).toEqual(['unflushed']);
  });

  it('a stop that overruns stopTimeoutMs becomes a kill', () => {
    const { world, events, probe, context } = probeWorld({ stop: 'never' }, 1_000);
    world.node('b').start();
    const deadContext = context('b');
    probe('b').records.append('unflushed');
    world.at(10, 'stop', () => world.stop('b'));
    world.runFor(1_009);
    expect(world.node('b').status).toBe('stopping');
    world.runFor(1);
    expect(world.node('b').status).toBe('down');
    expect(world.node('b').downReason).toBe('kill');
    expect(events.filter((event) => event.node === 'b').map((event) => event.kind)).toEqual([
      'node.start',
      'node.stopping',
      'node.stop-timeout',
      'node.crash',
    ]);
    // A kill: nothing was flushed by the host, but the page cache kept it.
    world.restart('b');
    expect(probe('b').records.records()).toEqual(['unflushed', 'written while stopping']);
    expect(() => deadContext.stopped()).toThrow(/b: stopped from dead incarnation 1/);
  });

  it('the stop timeout of an earlier incarnation does not cut short a later stop', () => {
    const { world } = probeWorld({ stop: 'never' }, 1_000);
    world.node('b').start();
    world.stop('b'); // its timeout is due at 1 000
    world.at(10, 'crash', () => world.crash('b', 'kill'));
    world.at(20, 'restart', () => world.restart('b'));
    world.at(500, 'stop', () => world.stop('b')); // incarnation 2: its timeout is due at 1 500
    world.runFor(1_200);
    expect(world.node('b').status).toBe('stopping');
    expect(world.node('b').incarnation).toBe(2);
    world.runFor(300);
    expect(world.node('b').status).toBe('down');
  });

  it('a stop while inputs deferred by a pause are still draining completes gracefully', () => {
    const { world, notes, send } = probeWorld({ stop: 'after-5ms' });
    world.node('a').start();
    world.node('b').start();
    world.at(0, 'pause', () => {
      world.pause('b', 100); // resumes at 100
      // Scheduled after the resume: runs while the deferred inputs drain.
      world.at(100, 'stop', () => world.stop('b'));
    });
    world.at(0, 'send', () => {
      send('a', 'b');
      send('a', 'b');
      send('a', 'b');
    });
    world.runFor(500);
    expect(notes.filter((note) => note.includes(' b#1'))).toEqual([
      '0 b#1 start records=',
      '100 b#1 message 0 from a',
      '100 b#1 stop',
      '100 b#1 message 1 from a',
      '100 b#1 message 2 from a',
      '105 b#1 stopped',
    ]);
    expect(world.node('b').downReason).toBe('stop');
  });
});

describe('NodeContext', () => {
  it('refuses every action from a dead incarnation', () => {
    const { world, context } = probeWorld();
    world.node('a').start();
    world.node('b').start();
    const dead = context('b');
    expect(dead.incarnation).toBe(1);
    expect(dead.nodeId).toBe('b');
    world.crash('b', 'kill');
    world.restart('b');
    expect(() => dead.send('a', { kind: 'note', seq: 0 })).toThrow(
      /b: send from dead incarnation 1/,
    );
    expect(() => dead.setTimer(1, 'late', () => {})).toThrow(/b: setTimer from dead incarnation 1/);
    expect(() => dead.trace('late')).toThrow(/b: trace from dead incarnation 1/);
    expect(() => dead.stopped()).toThrow(/b: stopped from dead incarnation 1/);
    expect(() => context('b').send('a', { kind: 'note', seq: 1 })).not.toThrow();
  });

  it('gives the machine its clock, disk, node stream and trace', () => {
    const { world, context, events } = probeWorld();
    world.node('b').start();
    world.runFor(25);
    const live = context('b');
    expect(live.nowMs).toBe(25);
    expect(live.disk).toBe(world.node('b').disk);
    expect(live.rng).toBe(world.node('b').rng);
    live.trace('probe.hello', { value: 1 });
    expect(events.at(-1)).toMatchObject({
      atMs: 25,
      node: 'b',
      kind: 'probe.hello',
      fields: { value: 1 },
    });
    // The stream continues across incarnations.
    world.crash('b', 'kill');
    world.restart('b');
    expect(context('b').rng).toBe(live.rng);
  });
});

describe('bounds', () => {
  it('names deferredMax when a paused node has too many inputs waiting', () => {
    const world = new World<Note>({ seed: 1, host: { deferredMax: 2 } });
    world.addNode('a', (context) => ({
      start() {
        for (let seq = 0; seq < 3; seq++) context.send('b', { kind: 'note', seq });
      },
      onMessage() {},
    }));
    world.addNode('b', () => ({ start() {}, onMessage() {} }));
    world.node('b').start();
    world.node('b').pause(1_000);
    world.node('a').start();
    expect(() => world.runFor(100)).toThrow(
      /bound deferredMax = 2 exceeded: b has too many inputs waiting/,
    );
  });
});
