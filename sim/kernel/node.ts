// A node host runs one protocol machine and applies the kernel's faults to it. The machine reaches
// the world only through its context (now, send, timers, disk, rng, trace). Each start builds a
// new machine, an incarnation, from the disk alone; timers of a dead incarnation never fire.
//
// Lifecycle:  down --start--> up --pause--> paused --(resume)--> up
//             up/paused/stopping --crash(kind)--> down      up --stop--> stopping --stopped--> down
// While paused (a GC pause, SIGSTOP) the node handles nothing: messages and timers wait, in order,
// and are handled when it resumes.

import { objectArray } from './arrays.ts';
import { AssertionError, assert, BoundExceededError } from './assert.ts';
import type { CrashKind, Disk } from './disk.ts';
import type { Endpoint, Message, Network, NodeId, Port } from './network.ts';
import type { Rng } from './rng.ts';
import { type Scheduler, SimEvent } from './scheduler.ts';
import { assertMs, type Ms } from './time.ts';
import type {
  Trace,
  TraceFields,
  TraceNode,
  TraceShape,
  TraceShapeOf,
  TraceShapedValue,
} from './trace.ts';

export type NodeStatus = 'down' | 'up' | 'paused' | 'stopping';

/** Why a node is down: never started, a crash kind, or a graceful stop. */
export type DownReason = 'never-started' | CrashKind | 'stop';

export interface TimerHandle {
  readonly label: string;
}

/** The machine's only window on the world. */
export interface NodeContext<M extends Message> {
  readonly nodeId: NodeId;
  /** 1 for the first start, then one more per restart. */
  readonly incarnation: number;
  readonly nowMs: Ms;
  readonly disk: Disk;
  /** The node's own random stream; it continues across incarnations. */
  readonly rng: Rng;
  send(target: NodeId, message: M, sizeBytes?: number): void;
  setTimer(delayMs: Ms, label: string, fire: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
  trace(kind: string, fields?: TraceFields): void;
  /**
   * An event of a declared shape (`traceShape`), for the hottest kinds: the same event as
   * `trace(shape.kind, { [name0]: a, ... })` without building its fields.
   */
  traceShaped(
    shape: TraceShapeOf<4>,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
  ): void;
  traceShaped(
    shape: TraceShapeOf<5>,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
    e: TraceShapedValue,
  ): void;
  traceShaped(
    shape: TraceShapeOf<8>,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
    e: TraceShapedValue,
    f: TraceShapedValue,
    g: TraceShapedValue,
    h: TraceShapedValue,
  ): void;
  /** Ends a graceful shutdown begun by `Machine.stop`. */
  stopped(): void;
}

export interface Machine<M extends Message> {
  /** The node has (re)started; the machine was just built from the disk. */
  start(): void;
  onMessage(source: NodeId, message: M): void;
  /** A connection to `target` was refused or reset; `message` was not delivered. */
  onUnreachable?(target: NodeId, message: M): void;
  /** Begins a graceful shutdown; call `context.stopped()` when done. Absent: stops at once. */
  stop?(): void;
}

export type MachineFactory<M extends Message> = (context: NodeContext<M>) => Machine<M>;

type Deferred<M extends Message> =
  | { readonly kind: 'message'; readonly source: NodeId; readonly message: M }
  | { readonly kind: 'unreachable'; readonly target: NodeId; readonly message: M }
  | { readonly kind: 'timer'; readonly timer: Timer<M> };

class Timer<M extends Message> extends SimEvent implements TimerHandle {
  cancelled = false;

  constructor(
    readonly context: Context<M>,
    readonly label: string,
    readonly action: () => void,
  ) {
    super();
  }

  fire(): void {
    this.context.host.fireTimer(this);
  }
}

class HostEvent<M extends Message> extends SimEvent {
  cancelled = false;

  constructor(
    readonly host: NodeHost<M>,
    readonly what: 'resume' | 'drain' | 'stop-timeout',
    readonly incarnation: number,
  ) {
    super();
  }

  fire(): void {
    this.host.hostEvent(this);
  }
}

class Context<M extends Message> implements NodeContext<M> {
  readonly #port: Port<M>;
  // Held here, not reached through the host on every event.
  readonly #trace: Trace;
  readonly #traceNode: TraceNode;

  constructor(
    readonly host: NodeHost<M>,
    readonly incarnation: number,
  ) {
    this.#port = host.port;
    this.#trace = host.scheduler.trace;
    this.#traceNode = host.traceNode;
  }

  get nodeId(): NodeId {
    return this.host.id;
  }

  get nowMs(): Ms {
    return this.host.scheduler.nowMs;
  }

  get disk(): Disk {
    return this.host.disk;
  }

  get rng(): Rng {
    return this.host.rng;
  }

  send(target: NodeId, message: M, sizeBytes?: number): void {
    this.#assertAlive('send');
    this.#port.send(target, message, sizeBytes);
  }

  setTimer(delayMs: Ms, label: string, fire: () => void): TimerHandle {
    this.#assertAlive('setTimer');
    const timer = new Timer(this, label, fire);
    const scheduler = this.host.scheduler;
    scheduler.schedule(timer, scheduler.nowMs + assertMs(delayMs, 'timer delayMs'));
    return timer;
  }

  cancelTimer(handle: TimerHandle): void {
    assert(
      handle instanceof Timer && handle.context === this,
      'cancelTimer: a timer of another node or incarnation',
    );
    this.host.scheduler.cancel(handle);
  }

  trace(kind: string, fields?: TraceFields): void {
    this.#assertAlive('trace');
    this.host.scheduler.trace.emit(this.host.id, kind, fields);
  }

  traceShaped(
    shape: TraceShape,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
    e?: TraceShapedValue,
    f?: TraceShapedValue,
    g?: TraceShapedValue,
    h?: TraceShapedValue,
  ): void {
    this.#assertAlive('trace');
    // The overloads above match each shape's field count; passed on as the widest, the values
    // past the shape's own fields are undefined and never read.
    this.#trace.emitShaped(
      this.#traceNode,
      shape as TraceShapeOf<8>,
      a,
      b,
      c,
      d,
      e as TraceShapedValue,
      f as TraceShapedValue,
      g as TraceShapedValue,
      h as TraceShapedValue,
    );
  }

  stopped(): void {
    this.#assertAlive('stopped');
    this.host.finishStop();
  }

  /**
   * Whether this is the running incarnation. Asked of the host, not kept in a field here: V8
   * took a field that stayed true for a whole run as a constant, and threw away the code that
   * read it (then compiled it again) the first time a node died.
   */
  get isLive(): boolean {
    return this.host.isCurrent(this);
  }

  #assertAlive(what: string): void {
    if (!this.isLive)
      throw new AssertionError(
        `${this.host.id}: ${what} from dead incarnation ${this.incarnation}`,
      );
  }
}

export interface NodeHostOptions {
  /** A graceful stop that has not finished by then becomes a kill. */
  readonly stopTimeoutMs?: Ms;
  /** Most messages and timers waiting while paused. */
  readonly deferredMax?: number;
}

/** A host's onMessage while it has no machine (never called: nothing is delivered to it then). */
function noMachine(): void {
  throw new AssertionError('a message delivered to a node without a machine');
}

export class NodeHost<M extends Message> implements Endpoint<M> {
  readonly id: NodeId;
  /** The scheduler's number for this host (Scheduler.hostSerial). */
  readonly serial: number;
  /** The id with its hash, for the trace's hottest events. */
  readonly traceNode: TraceNode;
  readonly scheduler: Scheduler;
  readonly network: Network<M>;
  /** This node's sending side of the network. */
  readonly port: Port<M>;
  readonly disk: Disk;
  readonly rng: Rng;
  readonly #factory: MachineFactory<M>;
  readonly #stopTimeoutMs: Ms;
  readonly #deferredMax: number;
  #status: NodeStatus = 'down';
  #downReason: DownReason = 'never-started';
  #incarnation = 0;
  /**
   * The running incarnation's number, 0 while down: what isCurrent compares (numbers; comparing
   * the context object with a field that became null at the first kill deoptimised the code).
   */
  #liveIncarnation = 0;
  #activity = 0;
  #machine: Machine<M> | null = null;
  /**
   * The running machine's onMessage, read once at its start: read from the machine at every
   * delivery, that load met every machine class (a megamorphic lookup per message delivered).
   */
  #onMessage: Machine<M>['onMessage'] = noMachine;
  readonly #deferred: Deferred<M>[] = objectArray();
  #deferredHead = 0;

  constructor(
    id: NodeId,
    scheduler: Scheduler,
    network: Network<M>,
    disk: Disk,
    rng: Rng,
    factory: MachineFactory<M>,
    options: NodeHostOptions = {},
  ) {
    this.id = id;
    this.scheduler = scheduler;
    this.serial = scheduler.hostSerial();
    this.network = network;
    this.disk = disk;
    this.rng = rng;
    this.#factory = factory;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
    this.#deferredMax = options.deferredMax ?? 100_000;
    network.attach(this);
    this.port = network.port(id);
    // The network's, which its links share: one per node.
    this.traceNode = network.traceNode(id);
  }

  /**
   * How many times the node was entered: a message, a refused connection, a timer, a host event, a
   * lifecycle change. Its machine's state changes only then, so a checker re-reads it only when
   * this moved (and when `Scheduler.actionsFired` did: an action may call into a machine).
   */
  get activity(): number {
    return this.#activity;
  }

  #enter(): void {
    this.#activity++;
    this.scheduler.noteHostEntered(this.serial);
  }

  get status(): NodeStatus {
    return this.#status;
  }

  get downReason(): DownReason | null {
    return this.#status === 'down' ? this.#downReason : null;
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  /** The running machine (null while down). For checkers and tests; protocol code never reaches across nodes. */
  get machine(): Machine<M> | null {
    return this.#machine;
  }

  /** Taken out of the cluster for good (a decommissioned machine): it never starts again. */
  decommissioned = false;

  /** Starts (or restarts) the node: a new incarnation built from the disk alone. */
  start(): void {
    this.#enter();
    if (this.#status !== 'down')
      throw new AssertionError(`${this.id}: start while ${this.#status}`);
    if (this.decommissioned) throw new AssertionError(`${this.id}: start after decommissioning`);
    this.#incarnation++;
    this.#liveIncarnation = this.#incarnation;
    this.#status = 'up';
    const context = new Context(this, this.#incarnation);
    this.#trace('node.start', { incarnation: this.#incarnation, after: this.#downReason });
    const machine = this.#factory(context);
    this.#machine = machine;
    this.#onMessage = machine.onMessage;
    machine.start();
  }

  crash(kind: CrashKind): void {
    this.#enter();
    if (this.#status === 'down') throw new AssertionError(`${this.id}: crash while down`);
    this.#kill(kind);
    const lostWrites = this.disk.crash(kind);
    this.#trace('node.crash', { crash: kind, incarnation: this.#incarnation, lostWrites });
  }

  /** Begins a graceful shutdown through the machine's own path; a kill if it overruns stopTimeoutMs. */
  stop(): void {
    this.#enter();
    if (this.#status !== 'up') throw new AssertionError(`${this.id}: stop while ${this.#status}`);
    const machine = this.#machine as Machine<M>;
    this.#status = 'stopping';
    this.#trace('node.stopping', { incarnation: this.#incarnation });
    this.scheduler.schedule(
      new HostEvent(this, 'stop-timeout', this.#incarnation),
      this.scheduler.nowMs + this.#stopTimeoutMs,
    );
    if (machine.stop === undefined) this.finishStop();
    else machine.stop();
  }

  /** Freezes the node for `durationMs`: it handles nothing until then. */
  pause(durationMs: Ms): void {
    this.#enter();
    if (this.#status !== 'up') throw new AssertionError(`${this.id}: pause while ${this.#status}`);
    this.#status = 'paused';
    this.#trace('node.pause', { durationMs });
    this.scheduler.schedule(
      new HostEvent(this, 'resume', this.#incarnation),
      this.scheduler.nowMs + assertMs(durationMs, 'pause durationMs'),
    );
  }

  /** Ends a pause now (its timer, when it fires, finds the node up and does nothing). */
  resume(): void {
    if (this.#status !== 'paused') return;
    this.#enter();
    this.#status = 'up';
    this.#trace('node.resume', { deferred: this.#deferred.length - this.#deferredHead });
    this.#drainDeferred();
  }

  finishStop(): void {
    this.#enter();
    if (this.#status !== 'stopping')
      throw new AssertionError(`${this.id}: stopped() while ${this.#status}`);
    this.disk.flushAll();
    this.#kill('stop');
    this.#trace('node.stopped', { incarnation: this.#incarnation });
  }

  /** Whether `context` (one of this host's) is the running incarnation's: a dead one's timers never fire. */
  isCurrent(context: Context<M>): boolean {
    return context.incarnation === this.#liveIncarnation;
  }

  // ---- Endpoint ------------------------------------------------------------------------------

  isReachable(): boolean {
    return this.#status !== 'down';
  }

  refusesConnections(): boolean {
    // The process is gone but the machine's OS is up: a closed port answers with a reset.
    return this.#status === 'down' && (this.#downReason === 'kill' || this.#downReason === 'stop');
  }

  deliver(source: NodeId, message: M): void {
    this.#enter();
    if (this.#mustDefer()) {
      this.#defer({ kind: 'message', source, message });
      return;
    }
    this.#onMessage.call(this.#machine, source, message);
  }

  unreachable(target: NodeId, message: M): void {
    this.#enter();
    if (this.#status === 'down') return;
    if (this.#mustDefer()) {
      this.#defer({ kind: 'unreachable', target, message });
      return;
    }
    this.#machine?.onUnreachable?.(target, message);
  }

  // ---- events --------------------------------------------------------------------------------

  fireTimer(timer: Timer<M>): void {
    this.#enter();
    if (!timer.context.isLive || timer.cancelled) return;
    if (this.#mustDefer()) {
      this.#defer({ kind: 'timer', timer });
      return;
    }
    this.scheduler.trace.emitTimer(this.traceNode, timer.label);
    timer.action();
  }

  hostEvent(event: HostEvent<M>): void {
    this.#enter();
    if (event.incarnation !== this.#incarnation || this.#status === 'down') return;
    switch (event.what) {
      case 'resume':
        this.resume();
        return;
      case 'drain':
        this.#drainDeferred();
        return;
      case 'stop-timeout':
        if (this.#status !== 'stopping') return;
        this.#trace('node.stop-timeout', { timeoutMs: this.#stopTimeoutMs });
        this.crash('kill');
        return;
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  #kill(reason: DownReason): void {
    this.#liveIncarnation = 0;
    this.#machine = null;
    this.#status = 'down';
    this.#downReason = reason;
    if (this.#deferred.length !== 0) {
      this.#deferred.length = 0;
      this.#deferredHead = 0;
    }
  }

  #defer(item: Deferred<M>): void {
    if (this.#deferred.length - this.#deferredHead >= this.#deferredMax) {
      throw new BoundExceededError(
        'deferredMax',
        this.#deferredMax,
        `${this.id} has too many inputs waiting`,
      );
    }
    this.#deferred.push(item);
  }

  /** While inputs wait (paused, or still draining after a pause), new ones queue behind them. */
  #mustDefer(): boolean {
    return this.#status === 'paused' || this.#deferredHead < this.#deferred.length;
  }

  /** Up or stopping: a stopping node still handles messages and timers (its shutdown runs on them). */
  #handlesInputs(): boolean {
    return this.#status === 'up' || this.#status === 'stopping';
  }

  /**
   * Handles one deferred input, then yields to the scheduler for the next (same millisecond), so
   * per-step checks run between them. While inputs remain and the node is up (or stopping), a
   * drain is pending.
   */
  #drainDeferred(): void {
    if (!this.#handlesInputs()) return;
    const item = this.#deferred[this.#deferredHead];
    if (item === undefined) return;
    this.#deferredHead++;
    if (this.#deferredHead === this.#deferred.length) {
      this.#deferred.length = 0;
      this.#deferredHead = 0;
    }
    switch (item.kind) {
      case 'message':
        this.#onMessage.call(this.#machine, item.source, item.message);
        break;
      case 'unreachable':
        this.#machine?.onUnreachable?.(item.target, item.message);
        break;
      case 'timer':
        if (item.timer.context.isLive && !item.timer.cancelled) {
          this.scheduler.trace.emitTimer(this.traceNode, item.timer.label);
          item.timer.action();
        }
        break;
    }
    if (this.#handlesInputs() && this.#deferredHead < this.#deferred.length) {
      this.scheduler.schedule(
        new HostEvent(this, 'drain', this.#incarnation),
        this.scheduler.nowMs,
      );
    }
  }

  #trace(kind: string, fields?: TraceFields): void {
    this.scheduler.trace.emit(this.id, kind, fields);
  }
}
