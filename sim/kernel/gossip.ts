// A toy protocol that exercises every part of the kernel, for the kernel's own tests, the
// determinism check, the demo and the benchmark. Nodes ping random peers on jittered timers, answer
// pings with pongs, append every pong to a log on disk (flushing now and then) and keep a durable
// checkpoint; a graceful stop flushes and says goodbye. A seed also draws a fault schedule:
// partitions of each shape, crashes of each kind, restarts, stops, pauses, slow links and clogs.

import { AssertionError } from './assert.ts';
import { CRASH_KINDS } from './disk.ts';
import type { NodeId } from './network.ts';
import type { Machine, NodeContext } from './node.ts';
import type { Rng } from './rng.ts';
import type { Ms } from './time.ts';
import type { TraceOptions } from './trace.ts';
import { World } from './world.ts';

export type GossipMessage =
  | { readonly kind: 'ping'; readonly seq: number; readonly incarnation: number }
  | { readonly kind: 'pong'; readonly seq: number; readonly from: NodeId }
  | { readonly kind: 'goodbye' };

interface PongRecord {
  readonly from: NodeId;
  readonly seq: number;
}

export interface GossipOptions {
  readonly nodes: number;
  /** Mean gap between a node's pings (each gap is drawn from [1, 2 × mean]). */
  readonly pingEveryMs: Ms;
  readonly flushEveryPongs: number;
}

export class GossipNode implements Machine<GossipMessage> {
  readonly #context: NodeContext<GossipMessage>;
  readonly #peers: readonly NodeId[];
  readonly #options: GossipOptions;
  readonly #pongs;
  readonly #checkpoint;
  #seqNext: number;
  pongsUnflushed = 0;
  unreachableCount = 0;

  constructor(
    context: NodeContext<GossipMessage>,
    peers: readonly NodeId[],
    options: GossipOptions,
  ) {
    this.#context = context;
    this.#peers = peers;
    this.#options = options;
    this.#pongs = context.disk.log<PongRecord>('pongs');
    this.#checkpoint = context.disk.checkpoint<{ seqNext: number }>('checkpoint');
    this.#seqNext = this.#checkpoint.read()?.seqNext ?? 0;
  }

  get pongCount(): number {
    return this.#pongs.length;
  }

  start(): void {
    this.#scheduleTick();
  }

  onMessage(source: NodeId, message: GossipMessage): void {
    switch (message.kind) {
      case 'ping':
        this.#context.send(
          source,
          { kind: 'pong', seq: message.seq, from: this.#context.nodeId },
          64,
        );
        return;
      case 'pong':
        this.#pongs.append({ from: source, seq: message.seq }, 64);
        this.pongsUnflushed++;
        if (this.pongsUnflushed >= this.#options.flushEveryPongs) {
          this.#pongs.flush();
          this.pongsUnflushed = 0;
        }
        return;
      case 'goodbye':
        this.#context.trace('gossip.goodbye', { from: source });
        return;
    }
  }

  onUnreachable(): void {
    this.unreachableCount++;
  }

  stop(): void {
    for (const peer of this.#peers) this.#context.send(peer, { kind: 'goodbye' }, 16);
    this.#checkpoint.writeDurably({ seqNext: this.#seqNext });
    this.#context.setTimer(5, 'shutdown', () => this.#context.stopped());
  }

  #scheduleTick(): void {
    const gapMs = this.#context.rng.int(1, 2 * this.#options.pingEveryMs);
    this.#context.setTimer(gapMs, 'ping', () => {
      const peer = this.#context.rng.pick(this.#peers);
      this.#context.send(
        peer,
        { kind: 'ping', seq: this.#seqNext++, incarnation: this.#context.incarnation },
        128,
      );
      if (this.#seqNext % 16 === 0) this.#checkpoint.write({ seqNext: this.#seqNext });
      this.#scheduleTick();
    });
  }
}

export function gossipNodeIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, index) => `n${index + 1}`);
}

/** Builds a world of started gossip nodes. */
export function buildGossipWorld(
  seed: string | number,
  options: GossipOptions,
  trace?: TraceOptions,
): World<GossipMessage> {
  if (options.nodes < 2)
    throw new AssertionError(`gossip needs at least 2 nodes (got ${options.nodes})`);
  const world = new World<GossipMessage>(trace === undefined ? { seed } : { seed, trace });
  const ids = gossipNodeIds(options.nodes);
  for (const id of ids) {
    const peers = ids.filter((other) => other !== id);
    world.addNode(id, (context) => new GossipNode(context, peers, options));
  }
  for (const id of ids) world.node(id).start();
  return world;
}

/**
 * Schedules a random fault every `faultEveryMs` (on average) until `untilMs`, drawn from the
 * world's `faults` stream: partitions (symmetric, one-way, isolation; silent or reject), heals,
 * crashes of every kind, restarts, graceful stops, pauses, slow nodes and clogs.
 */
export function scheduleRandomFaults(
  world: World<GossipMessage>,
  rng: Rng,
  faultEveryMs: Ms,
  untilMs: Ms,
): void {
  const ids = world.nodes().map((host) => host.id);
  let atMs = world.nowMs;
  for (;;) {
    atMs += rng.int(1, 2 * faultEveryMs);
    if (atMs >= untilMs) break;
    const draw = rng.int(0, 9);
    const node = rng.pick(ids);
    const other = rng.pick(ids);
    const mode = rng.chance(0.25) ? 'reject' : 'silent';
    const split = rng.int(1, ids.length - 1);
    const order = rng.shuffled(ids);
    const amount = rng.int(1, 500);
    world.at(atMs, 'fault', () => {
      const host = world.node(node);
      switch (draw) {
        case 0:
          world.partition([order.slice(0, split), order.slice(split)], mode);
          return;
        case 1:
          world.partitionOneWay(order.slice(0, split), order.slice(split), mode);
          return;
        case 2:
          world.isolate(node, mode);
          return;
        case 3:
          world.heal();
          return;
        case 4:
          if (host.status !== 'down')
            world.crash(node, CRASH_KINDS[amount % CRASH_KINDS.length] ?? 'kill');
          return;
        case 5:
          for (const each of world.nodes()) if (each.status === 'down') world.restart(each.id);
          return;
        case 6:
          if (host.status === 'up') world.stop(node);
          return;
        case 7:
          if (host.status === 'up') world.pause(node, amount);
          return;
        case 8:
          world.slow(node, {
            extraLatencyMs: amount % 50,
            bandwidthBytesPerSec: amount % 2 === 0 ? 64_000 : 0,
          });
          return;
        default:
          if (node === other) world.releaseAll();
          else world.clog(node, other);
      }
    });
  }
}

export interface GossipRunOptions extends GossipOptions {
  readonly durationMs: Ms;
  readonly faultEveryMs: Ms;
  readonly trace?: TraceOptions;
}

export interface GossipRunResult {
  readonly world: World<GossipMessage>;
  readonly traceHash: string;
  readonly events: number;
}

/** One seeded run: faults for the first three quarters, then heal and run to the end. */
export function runGossip(seed: string | number, options: GossipRunOptions): GossipRunResult {
  const world = buildGossipWorld(seed, options, options.trace);
  const faultsUntilMs = Math.floor((options.durationMs * 3) / 4);
  scheduleRandomFaults(world, world.rng.fork('faults'), options.faultEveryMs, faultsUntilMs);
  world.at(faultsUntilMs, 'heal-phase', () => {
    world.heal();
    world.unslowAll();
    world.releaseAll();
    for (const host of world.nodes()) if (host.status === 'down') world.restart(host.id);
  });
  world.runFor(options.durationMs);
  return { world, traceHash: world.traceHash, events: world.scheduler.eventsFired };
}
