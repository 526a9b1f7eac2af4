// A world wires the kernel together: one scheduler (clock, queue, trace), one network, and a host
// per node with its own disk and random stream. Its methods are the verbs a scenario uses
// (partition, heal, crash, restart, slow, clog, pause, runFor); each fault is traced.

import { AssertionError } from './assert.ts';
import { interned } from './interned.ts';
import { type CrashKind, Disk } from './disk.ts';
import {
  type BlockMode,
  type LatencyDistribution,
  type LinkSlowness,
  type Message,
  Network,
  type NodeId,
} from './network.ts';
import { type MachineFactory, NodeHost, type NodeHostOptions } from './node.ts';
import { Rng } from './rng.ts';
import { type ActionEvent, type RunBounds, type RunSummary, Scheduler } from './scheduler.ts';
import type { Ms } from './time.ts';
import type { TraceOptions } from './trace.ts';

export interface WorldOptions {
  readonly seed: string | number;
  readonly latency?: LatencyDistribution;
  readonly trace?: TraceOptions;
  readonly pendingMax?: number;
  readonly inFlightMax?: number;
  /** Disk write-back age (see disk.ts); null: only explicit flushes make data durable. */
  readonly writebackMs?: Ms | null;
  readonly host?: NodeHostOptions;
}

/** The trace's node name for faults and other world actions. */
export const WORLD_NODE = 'world';

export class World<M extends Message> {
  readonly scheduler: Scheduler;
  readonly rng: Rng;
  readonly network: Network<M>;
  readonly #nodeRngs: Rng;
  readonly #hosts = new Map<NodeId, NodeHost<M>>();
  readonly #options: WorldOptions;

  constructor(options: WorldOptions) {
    this.#options = options;
    const schedulerOptions = {
      ...(options.pendingMax === undefined ? {} : { pendingMax: options.pendingMax }),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    };
    this.scheduler = new Scheduler(schedulerOptions);
    this.rng = new Rng(options.seed);
    this.#nodeRngs = this.rng.fork('node');
    const networkOptions = {
      ...(options.latency === undefined ? {} : { latency: options.latency }),
      ...(options.inFlightMax === undefined ? {} : { inFlightMax: options.inFlightMax }),
    };
    this.network = new Network<M>(this.scheduler, this.rng.fork('network'), networkOptions);
  }

  get nowMs(): Ms {
    return this.scheduler.nowMs;
  }

  get traceHash(): string {
    return this.scheduler.trace.hash;
  }

  /** Adds a node (down until `start`). */
  addNode(name: NodeId, factory: MachineFactory<M>): NodeHost<M> {
    const id = interned(name);
    if (id === WORLD_NODE) throw new AssertionError(`"${WORLD_NODE}" is reserved`);
    if (this.#hosts.has(id)) throw new AssertionError(`node "${id}" already exists`);
    const disk = new Disk(() => this.scheduler.nowMs, {
      writebackMs: this.#options.writebackMs === undefined ? 30_000 : this.#options.writebackMs,
    });
    const host = new NodeHost(
      id,
      this.scheduler,
      this.network,
      disk,
      this.#nodeRngs.fork(id),
      factory,
      this.#options.host,
    );
    this.#hosts.set(id, host);
    return host;
  }

  node(id: NodeId): NodeHost<M> {
    const host = this.#hosts.get(id);
    if (host === undefined) throw new AssertionError(`unknown node "${id}"`);
    return host;
  }

  nodes(): NodeHost<M>[] {
    return [...this.#hosts.values()];
  }

  // ---- faults --------------------------------------------------------------------------------

  partition(groups: readonly (readonly NodeId[])[], mode: BlockMode = 'silent'): void {
    this.#fault('fault.partition', {
      groups: groups.map((group) => group.join(',')).join(' | '),
      mode,
    });
    this.network.partition(groups, mode);
  }

  partitionOneWay(
    sources: readonly NodeId[],
    targets: readonly NodeId[],
    mode: BlockMode = 'silent',
  ): void {
    this.#fault('fault.partition-one-way', {
      sources: sources.join(','),
      targets: targets.join(','),
      mode,
    });
    this.network.partitionOneWay(sources, targets, mode);
  }

  isolate(node: NodeId, mode: BlockMode = 'silent'): void {
    this.#fault('fault.isolate', { target: node, mode });
    this.network.isolate(node, mode);
  }

  heal(): void {
    this.#fault('fault.heal', undefined);
    this.network.heal();
  }

  crash(node: NodeId, kind: CrashKind): void {
    this.#fault('fault.crash', { target: node, crash: kind });
    this.node(node).crash(kind);
  }

  stop(node: NodeId): void {
    this.#fault('fault.stop', { target: node });
    this.node(node).stop();
  }

  /**
   * Takes a node out for good, as an operator decommissions a machine: whatever state it is in
   * now, it never starts again (restarts and the heal leave it down).
   */
  decommission(node: NodeId): void {
    this.trace('node.decommission', { target: node });
    this.node(node).decommissioned = true;
  }

  /** Starts a node that is down (after a crash or stop): a new incarnation from its disk. */
  restart(node: NodeId): void {
    this.#fault('fault.restart', { target: node });
    this.node(node).start();
  }

  pause(node: NodeId, durationMs: Ms): void {
    this.#fault('fault.pause', { target: node, durationMs });
    this.node(node).pause(durationMs);
  }

  /** Ends every pause now (the heal): a paused node handles what waited for it. */
  resumeAll(): void {
    for (const host of this.nodes()) {
      if (host.status !== 'paused') continue;
      this.#fault('fault.resume', { target: host.id });
      host.resume();
    }
  }

  slow(node: NodeId, slowness: LinkSlowness): void {
    this.#fault('fault.slow', {
      target: node,
      extraLatencyMs: slowness.extraLatencyMs ?? 0,
      bandwidthBytesPerSec: slowness.bandwidthBytesPerSec ?? 0,
    });
    this.network.slowNode(node, slowness);
  }

  unslowAll(): void {
    this.#fault('fault.unslow', undefined);
    this.network.unslowAll();
  }

  clog(source: NodeId, target: NodeId): void {
    this.#fault('fault.clog', { source, target });
    this.network.clog(source, target);
  }

  release(source: NodeId, target: NodeId): void {
    this.#fault('fault.release', { source, target });
    this.network.release(source, target);
  }

  releaseAll(): void {
    this.#fault('fault.release-all', undefined);
    this.network.releaseAll();
  }

  // ---- time ----------------------------------------------------------------------------------

  /** Runs `action` at simulated time `atMs` (a scripted fault or step). */
  at(atMs: Ms, label: string, action: () => void): ActionEvent {
    return this.scheduler.after(atMs - this.scheduler.nowMs, label, action);
  }

  runFor(durationMs: Ms, eventsMax = 10_000_000): RunSummary {
    return this.scheduler.runFor(durationMs, eventsMax);
  }

  runUntil(predicate: () => boolean, bounds: RunBounds): RunSummary {
    return this.scheduler.runUntil(predicate, bounds);
  }

  /** Records a world action (an operation of a scenario, say) in the trace. */
  trace(kind: string, fields?: Record<string, string | number>): void {
    this.scheduler.trace.emit(WORLD_NODE, kind, fields);
  }

  #fault(kind: string, fields: Record<string, string | number> | undefined): void {
    this.scheduler.trace.emit(WORLD_NODE, kind, fields);
  }
}
