// The network: TCP-like connections between nodes. Messages on one connection (source → target)
// arrive in the order they were sent; separate connections are independent and may overtake each
// other. Each message takes a latency drawn from its link's distribution, plus any extra latency
// and serialisation time of a slowed link.
//
// Faults:
// - partitions block links, silently (messages are lost and senders learn of it only through
//   their own timeouts, as with a pulled cable) or by refusing connections (`reject`: the sender
//   is told at once). Blocking a link breaks its connection: what was on the wire is lost too, and
//   after a heal messages travel on a new connection, so TCP's no-gaps order is never broken.
// - slow links: extra latency and a bandwidth limit (a slow follower).
// - clogs: messages arriving on a clogged link are held, in order, until it is released.
// - chaos for non-TCP modes: random drops and duplicates (duplicates may arrive out of order).
// A crash never purges messages on the wire: a request from a node's previous incarnation can still
// arrive after it restarts.

import { AssertionError, assert, assertNever, BoundExceededError } from './assert.ts';
import type { Rng } from './rng.ts';
import { type Scheduler, SimEvent } from './scheduler.ts';
import { assertMs, type Ms } from './time.ts';
import { TraceLink, TraceNode } from './trace.ts';

export type NodeId = string;

export interface Message {
  readonly kind: string;
}

export type LatencyDistribution =
  | { readonly kind: 'constant'; readonly ms: Ms }
  | { readonly kind: 'uniform'; readonly minMs: Ms; readonly maxMs: Ms }
  /**
   * A piecewise-linear quantile function: points of [quantile, ms] from [0, min] to [1, max], with
   * quantiles and milliseconds non-decreasing. `[[0, 1], [0.5, 2], [0.99, 10], [1, 200]]` gives a
   * median of 2 ms and a long tail.
   */
  | { readonly kind: 'quantiles'; readonly points: readonly (readonly [number, Ms])[] };

/** Every link's latency unless set otherwise: 1 to 3 ms, a round trip within a rack or a zone. */
export const DEFAULT_LATENCY: LatencyDistribution = { kind: 'uniform', minMs: 1, maxMs: 3 };

/** The longest a message takes under `latency` (its distribution's top). */
export function latencyMaxMs(latency: LatencyDistribution): Ms {
  if (latency.kind === 'constant') return latency.ms;
  if (latency.kind === 'uniform') return latency.maxMs;
  return (latency.points[latency.points.length - 1] as readonly [number, Ms])[1];
}

export type BlockMode = 'silent' | 'reject';

export interface LinkSlowness {
  /** Added to every message's latency. */
  readonly extraLatencyMs?: Ms;
  /** Bytes per second the link can carry; messages queue behind each other. Absent: unlimited. */
  readonly bandwidthBytesPerSec?: number;
}

export interface ChaosOptions {
  readonly dropProbability: number;
  readonly duplicateProbability: number;
}

/** Where the network hands a message or a refusal: the node host. */
export interface Endpoint<M extends Message> {
  readonly id: NodeId;
  /** True when a message now would be refused (process gone, OS up: the port is closed). */
  refusesConnections(): boolean;
  /** True when the endpoint takes messages at all (false: silently gone). */
  isReachable(): boolean;
  deliver(source: NodeId, message: M): void;
  /** The connection to `target` was refused or reset; `message` did not arrive. */
  unreachable(target: NodeId, message: M): void;
}

export interface NetworkOptions {
  readonly latency?: LatencyDistribution;
  /** Most messages in flight at once over the whole network. */
  readonly inFlightMax?: number;
  /** Most messages a clogged link may hold. */
  readonly heldMax?: number;
}

export interface Link<M extends Message> {
  readonly source: NodeId;
  readonly target: NodeId;
  /** The link as the trace names its deliveries (the ends' hashes computed once, not per delivery). */
  readonly trace: TraceLink;
  readonly targetEndpoint: Endpoint<M>;
  /** Bumped whenever the connection breaks; messages of an older generation are lost. */
  generation: number;
  /** How each past generation broke (index: generation). */
  readonly breakModes: BlockMode[];
  blocked: BlockMode | null;
  latency: LatencyDistribution | null;
  extraLatencyMs: Ms;
  bandwidthBytesPerSec: number;
  busyUntilMs: Ms;
  lastArrivalMs: Ms;
  clogged: boolean;
  readonly held: Delivery<M>[];
  draining: boolean;
  /** The messages on the wire (not duplicates), and the event each of their arrivals is. */
  readonly wire: Wire<M>;
}

/**
 * The messages on one connection's wire, oldest first, in a ring buffer: sending one stores a few
 * values and allocates nothing (an event object per message was 16 MB of the reference workload's
 * allocation). Arrival times on a link never decrease and the queue breaks ties in push order, so
 * the link's arrival events fire in the order its messages were sent: the wire itself is the
 * event, pushed once per message, and each firing takes the oldest message.
 *
 * A message's four values (generation, id, message, send time) sit side by side in one array: a
 * link is used again only after many other events, and four arrays (four array objects, four
 * backing stores) were four times the memory lines to bring back at every send and arrival.
 */
class Wire<M extends Message> extends SimEvent {
  cancelled = false;
  /** Message i of the ring at i * WIRE_STRIDE: generation, id, message, sentAtMs. */
  #slots: (number | M | undefined)[] = new Array<number | M | undefined>(
    WIRE_INITIAL_CAPACITY * WIRE_STRIDE,
  ).fill(0);
  /** Capacity in messages (a power of two). */
  #capacity = WIRE_INITIAL_CAPACITY;
  #head = 0;
  #size = 0;

  /** The link this wire belongs to (set once, right after the link is made). */
  link: Link<M> | null = null;

  constructor(readonly network: Network<M>) {
    super();
  }

  fire(): void {
    this.network.arriveOnWire(this.link as Link<M>);
  }

  push(generation: number, id: number, message: M, sentAtMs: Ms): void {
    if (this.#size === this.#capacity) this.#grow();
    const at = ((this.#head + this.#size) & (this.#capacity - 1)) * WIRE_STRIDE;
    const slots = this.#slots;
    slots[at] = generation;
    slots[at + 1] = id;
    slots[at + 2] = message;
    slots[at + 3] = sentAtMs;
    this.#size++;
  }

  // The oldest message's values, read before `shift`.
  get generation(): number {
    return this.#slots[this.#head * WIRE_STRIDE] as number;
  }

  get id(): number {
    return this.#slots[this.#head * WIRE_STRIDE + 1] as number;
  }

  get message(): M {
    return this.#slots[this.#head * WIRE_STRIDE + 2] as M;
  }

  get sentAtMs(): Ms {
    return this.#slots[this.#head * WIRE_STRIDE + 3] as Ms;
  }

  shift(): void {
    assert(this.#size > 0, 'a wire event fired with no message on the wire');
    this.#slots[this.#head * WIRE_STRIDE + 2] = undefined;
    this.#head = (this.#head + 1) & (this.#capacity - 1);
    this.#size--;
  }

  /** Doubles the capacity, the oldest message first again. */
  #grow(): void {
    const capacity = this.#capacity;
    const split = this.#head * WIRE_STRIDE;
    const slots = this.#slots;
    this.#slots = slots
      .slice(split)
      .concat(slots.slice(0, split), new Array(capacity * WIRE_STRIDE).fill(0));
    this.#capacity = capacity * 2;
    this.#head = 0;
  }
}

const WIRE_INITIAL_CAPACITY = 8;
const WIRE_STRIDE = 4;

/** A duplicated message (chaos), or one held by a clogged link. */
class Delivery<M extends Message> extends SimEvent {
  cancelled = false;

  constructor(
    readonly network: Network<M>,
    readonly link: Link<M>,
    readonly generation: number,
    readonly id: number,
    readonly message: M,
    readonly sentAtMs: Ms,
  ) {
    super();
  }

  fire(): void {
    this.network.arrive(this);
  }
}

class Drain<M extends Message> extends SimEvent {
  cancelled = false;

  constructor(
    readonly network: Network<M>,
    readonly link: Link<M>,
  ) {
    super();
  }

  fire(): void {
    this.network.drainOne(this.link);
  }
}

class Refusal<M extends Message> extends SimEvent {
  cancelled = false;

  constructor(
    readonly network: Network<M>,
    readonly link: Link<M>,
    readonly message: M,
  ) {
    super();
  }

  fire(): void {
    this.network.notifyUnreachable(this.link, this.message);
  }
}

export class Port<M extends Message> {
  constructor(
    readonly network: Network<M>,
    readonly source: NodeId,
    readonly outgoing: Map<NodeId, Link<M>>,
  ) {}

  send(target: NodeId, message: M, sizeBytes = 0): void {
    // No remembered last link: in the reference workload nine sends in ten went to another peer
    // than the one before, and each miss compared two names before the Map lookup anyway.
    const link = this.outgoing.get(target) ?? this.network.linkFor(this.source, target);
    this.network.sendOnLink(link, message, sizeBytes);
  }
}

export class Network<M extends Message> {
  readonly #scheduler: Scheduler;
  readonly #rng: Rng;
  readonly #endpoints = new Map<NodeId, Endpoint<M>>();
  /** Each attached node's name with its hash (the trace's), shared by its host and its links. */
  readonly #traceNodes = new Map<NodeId, TraceNode>();
  readonly #links = new Map<NodeId, Map<NodeId, Link<M>>>();
  readonly #inFlightMax: number;
  readonly #heldMax: number;
  #latency: LatencyDistribution;
  #chaos: ChaosOptions | null = null;
  #inFlight = 0;
  #topologyVersion = 0;
  #messageIdNext = 0;
  #delivered = 0;
  #dropped = 0;

  constructor(scheduler: Scheduler, rng: Rng, options: NetworkOptions = {}) {
    this.#scheduler = scheduler;
    this.#rng = rng;
    this.#latency = validateLatency(options.latency ?? DEFAULT_LATENCY);
    this.#inFlightMax = options.inFlightMax ?? 1_000_000;
    this.#heldMax = options.heldMax ?? 100_000;
  }

  get stats(): { sent: number; delivered: number; dropped: number; inFlight: number } {
    return {
      sent: this.#messageIdNext,
      delivered: this.#delivered,
      dropped: this.#dropped,
      inFlight: this.#inFlight,
    };
  }

  attach(endpoint: Endpoint<M>): void {
    if (this.#endpoints.has(endpoint.id))
      throw new AssertionError(`node "${endpoint.id}" is already on the network`);
    this.#endpoints.set(endpoint.id, endpoint);
    this.#traceNodes.set(endpoint.id, new TraceNode(endpoint.id));
    this.#links.set(endpoint.id, new Map());
  }

  /** The trace's record of an attached node (see #traceNodes). */
  traceNode(id: NodeId): TraceNode {
    const node = this.#traceNodes.get(id);
    if (node === undefined) throw new AssertionError(`node "${id}" is not on the network`);
    return node;
  }

  nodeIds(): NodeId[] {
    return [...this.#endpoints.keys()];
  }

  send(source: NodeId, target: NodeId, message: M, sizeBytes = 0): void {
    this.sendOnLink(this.#link(source, target), message, sizeBytes);
  }

  /** A sender bound to `source`, which skips looking the source up on every message. */
  port(source: NodeId): Port<M> {
    const outgoing = this.#links.get(source);
    if (outgoing === undefined)
      throw new AssertionError(`unknown source node "${source}" on the network`);
    return new Port(this, source, outgoing);
  }

  /** For Port: the link source → target, created on first use. */
  linkFor(source: NodeId, target: NodeId): Link<M> {
    return this.#link(source, target);
  }

  sendOnLink(link: Link<M>, message: M, sizeBytes: number): void {
    const nowMs = this.#scheduler.nowMs;
    const id = this.#messageIdNext++;
    if (link.blocked !== null) {
      this.#drop(link, id, message, 'partition');
      if (link.blocked === 'reject')
        this.#scheduler.schedule(new Refusal(this, link, message), nowMs);
      return;
    }
    const chaos = this.#chaos;
    if (chaos !== null && chaos.dropProbability > 0 && this.#rng.chance(chaos.dropProbability)) {
      this.#drop(link, id, message, 'chaos');
      return;
    }
    let departMs = nowMs;
    if (link.bandwidthBytesPerSec > 0) {
      const transmitMs = Math.ceil((sizeBytes * 1000) / link.bandwidthBytesPerSec);
      departMs = Math.max(nowMs, link.busyUntilMs) + transmitMs;
      link.busyUntilMs = departMs;
    }
    const latencyMs = this.#drawLatency(link) + link.extraLatencyMs;
    const arrivalMs = Math.max(departMs + latencyMs, link.lastArrivalMs);
    link.lastArrivalMs = arrivalMs;
    // Onto the wire once #enqueue has checked the bound and scheduled its arrival.
    this.#enqueue(link.wire, arrivalMs);
    link.wire.push(link.generation, id, message, nowMs);
    if (
      chaos !== null &&
      chaos.duplicateProbability > 0 &&
      this.#rng.chance(chaos.duplicateProbability)
    ) {
      const duplicateMs = nowMs + this.#drawLatency(link) + link.extraLatencyMs;
      this.#enqueue(new Delivery(this, link, link.generation, id, message, nowMs), duplicateMs);
    }
  }

  /** Called by a link's wire when its oldest message reaches the target's side of the link. */
  arriveOnWire(link: Link<M>): void {
    const wire = link.wire;
    const generation = wire.generation;
    const id = wire.id;
    const message = wire.message;
    const sentAtMs = wire.sentAtMs;
    wire.shift();
    this.#arrive(link, generation, id, message, sentAtMs, null);
  }

  /** Called by a delivery event (a duplicate) when its message reaches the target's side. */
  arrive(delivery: Delivery<M>): void {
    const { link, generation, id, message, sentAtMs } = delivery;
    this.#arrive(link, generation, id, message, sentAtMs, delivery);
  }

  #arrive(
    link: Link<M>,
    generation: number,
    id: number,
    message: M,
    sentAtMs: Ms,
    delivery: Delivery<M> | null,
  ): void {
    if (generation !== link.generation) {
      this.#inFlight--;
      this.#drop(link, id, message, 'connection-broken');
      if (link.breakModes[generation] === 'reject') this.notifyUnreachable(link, message);
      return;
    }
    if (link.clogged || link.held.length > 0) {
      if (link.held.length >= this.#heldMax) {
        throw new BoundExceededError(
          'heldMax',
          this.#heldMax,
          `link ${link.source} → ${link.target} is clogged`,
        );
      }
      link.held.push(delivery ?? new Delivery(this, link, generation, id, message, sentAtMs));
      return;
    }
    this.#inFlight--;
    this.#handOver(link, id, message, sentAtMs);
  }

  /** Releases one held message of a draining link, then schedules the next. */
  drainOne(link: Link<M>): void {
    if (link.clogged) {
      link.draining = false;
      return;
    }
    const delivery = link.held.shift();
    if (delivery === undefined) {
      link.draining = false;
      return;
    }
    this.#inFlight--;
    if (delivery.generation !== link.generation) {
      this.#drop(link, delivery.id, delivery.message, 'connection-broken');
      if (link.breakModes[delivery.generation] === 'reject')
        this.notifyUnreachable(link, delivery.message);
    } else {
      this.#handOver(link, delivery.id, delivery.message, delivery.sentAtMs);
    }
    if (link.held.length > 0)
      this.#scheduler.schedule(new Drain(this, link), this.#scheduler.nowMs);
    else {
      link.draining = false;
      this.#topologyVersion++;
    }
  }

  notifyUnreachable(link: Link<M>, message: M): void {
    const sourceEndpoint = this.#endpoints.get(link.source);
    if (sourceEndpoint !== undefined) sourceEndpoint.unreachable(link.target, message);
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Cuts every link between nodes of different groups, both ways. Nodes in no group keep all links. */
  partition(groups: readonly (readonly NodeId[])[], mode: BlockMode = 'silent'): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, index) => {
      for (const node of group) {
        this.#endpoint(node);
        if (groupOf.has(node))
          throw new AssertionError(`node "${node}" appears in two partition groups`);
        groupOf.set(node, index);
      }
    });
    for (const [source, sourceGroup] of groupOf) {
      for (const [target, targetGroup] of groupOf) {
        if (sourceGroup !== targetGroup) this.#block(this.#link(source, target), mode);
      }
    }
  }

  /** Cuts the links from every source to every target, one way only: targets still reach sources. */
  partitionOneWay(
    sources: readonly NodeId[],
    targets: readonly NodeId[],
    mode: BlockMode = 'silent',
  ): void {
    for (const source of sources) {
      for (const target of targets) {
        if (source !== target) this.#block(this.#link(source, target), mode);
      }
    }
  }

  /** Cuts a node off from every other node, both ways. */
  isolate(node: NodeId, mode: BlockMode = 'silent'): void {
    const others = this.nodeIds().filter((other) => other !== node);
    this.partitionOneWay([node], others, mode);
    this.partitionOneWay(others, [node], mode);
  }

  /** Restores every blocked link (on new connections). Slowness and clogs stay. */
  heal(): void {
    // Only the blocked links are written: a write of the same value to every link was, for the
    // compiler, a field that changes.
    for (const link of this.#allLinks()) {
      if (link.blocked !== null) link.blocked = null;
    }
    this.#topologyVersion++;
  }

  /**
   * Moves whenever isBlocked, isClogged, isConnected or longestTripMs may answer differently (a
   * block, a heal, a clog, a release, a held queue drained, a slowness set or lifted): a checker
   * caches connectivity until it moves.
   */
  get topologyVersion(): number {
    return this.#topologyVersion;
  }

  /** True when a message from source to target would currently be blocked. */
  isBlocked(source: NodeId, target: NodeId): boolean {
    return this.#links.get(source)?.get(target)?.blocked != null;
  }

  /** True when messages from source to target are being held (clogged, or still draining). */
  isClogged(source: NodeId, target: NodeId): boolean {
    const link = this.#links.get(source)?.get(target);
    return link !== undefined && (link.clogged || link.held.length > 0);
  }

  /** True when messages flow freely both ways between a and b (no partition, no clog). */
  isConnected(a: NodeId, b: NodeId): boolean {
    return (
      !this.isBlocked(a, b) &&
      !this.isBlocked(b, a) &&
      !this.isClogged(a, b) &&
      !this.isClogged(b, a)
    );
  }

  /**
   * The longest a message from source to target may take now: the top of its link's latency
   * distribution plus the link's added slowness (a bandwidth limit aside: it depends on the load).
   */
  longestTripMs(source: NodeId, target: NodeId): Ms {
    const link = this.#links.get(source)?.get(target);
    return latencyMaxMs(link?.latency ?? this.#latency) + (link?.extraLatencyMs ?? 0);
  }

  /** Slows every link to and from `node`. */
  slowNode(node: NodeId, slowness: LinkSlowness): void {
    for (const other of this.nodeIds()) {
      if (other === node) continue;
      this.slowLink(node, other, slowness);
      this.slowLink(other, node, slowness);
    }
  }

  slowLink(source: NodeId, target: NodeId, slowness: LinkSlowness): void {
    const link = this.#link(source, target);
    link.extraLatencyMs = assertMs(slowness.extraLatencyMs ?? 0, 'extraLatencyMs');
    const bandwidth = slowness.bandwidthBytesPerSec ?? 0;
    if (!(Number.isFinite(bandwidth) && bandwidth >= 0))
      throw new AssertionError(`bandwidthBytesPerSec must be ≥ 0 (got ${bandwidth})`);
    link.bandwidthBytesPerSec = bandwidth;
    this.#topologyVersion++;
  }

  /** Removes all slowness, everywhere. */
  unslowAll(): void {
    // Only the slowed links are written (as in heal).
    for (const link of this.#allLinks()) {
      if (link.extraLatencyMs !== 0) link.extraLatencyMs = 0;
      if (link.bandwidthBytesPerSec !== 0) link.bandwidthBytesPerSec = 0;
    }
    this.#topologyVersion++;
  }

  /** Holds every message that arrives on source → target until `release`. */
  clog(source: NodeId, target: NodeId): void {
    this.#link(source, target).clogged = true;
    this.#topologyVersion++;
  }

  clogNode(node: NodeId): void {
    for (const other of this.nodeIds()) {
      if (other === node) continue;
      this.clog(node, other);
      this.clog(other, node);
    }
  }

  release(source: NodeId, target: NodeId): void {
    const link = this.#link(source, target);
    link.clogged = false;
    this.#topologyVersion++;
    if (link.held.length > 0 && !link.draining) {
      link.draining = true;
      this.#scheduler.schedule(new Drain(this, link), this.#scheduler.nowMs);
    }
  }

  releaseAll(): void {
    for (const link of this.#allLinks()) {
      if (link.clogged) this.release(link.source, link.target);
    }
  }

  /** Sets the latency distribution of every link without one of its own. */
  setLatency(latency: LatencyDistribution): void {
    this.#latency = validateLatency(latency);
    this.#topologyVersion++;
  }

  setLinkLatency(source: NodeId, target: NodeId, latency: LatencyDistribution | null): void {
    this.#link(source, target).latency = latency === null ? null : validateLatency(latency);
    this.#topologyVersion++;
  }

  /** Random drops and duplicates (not TCP-like); null turns them off. */
  setChaos(chaos: ChaosOptions | null): void {
    if (chaos !== null) {
      for (const [name, value] of Object.entries(chaos)) {
        if (!(value >= 0 && value <= 1))
          throw new AssertionError(`${name} must be in [0, 1] (got ${value})`);
      }
    }
    this.#chaos = chaos;
  }

  // ---- internals -----------------------------------------------------------------------------

  #handOver(link: Link<M>, id: number, message: M, sentAtMs: Ms): void {
    const target = link.targetEndpoint;
    if (!target.isReachable()) {
      const refused = target.refusesConnections();
      this.#drop(link, id, message, refused ? 'refused' : 'node-down');
      if (refused) this.notifyUnreachable(link, message);
      return;
    }
    this.#delivered++;
    this.#scheduler.trace.emitDelivery(link.trace, message.kind, id, sentAtMs);
    target.deliver(link.source, message);
  }

  #enqueue(delivery: SimEvent, arrivalMs: Ms): void {
    if (this.#inFlight >= this.#inFlightMax) {
      throw new BoundExceededError(
        'inFlightMax',
        this.#inFlightMax,
        'too many messages on the wire',
      );
    }
    this.#inFlight++;
    this.#scheduler.schedule(delivery, arrivalMs);
  }

  #drop(link: Link<M>, id: number, message: M, reason: string): void {
    this.#dropped++;
    this.#scheduler.trace.emit(link.target, 'net.drop', {
      source: link.source,
      type: message.kind,
      msg: id,
      reason,
    });
  }

  #block(link: Link<M>, mode: BlockMode): void {
    this.#topologyVersion++;
    if (link.blocked === null) {
      link.breakModes[link.generation] = mode;
      link.generation++;
    }
    link.blocked = mode;
  }

  #drawLatency(link: Link<M>): Ms {
    const latency = link.latency ?? this.#latency;
    switch (latency.kind) {
      case 'constant':
        return latency.ms;
      case 'uniform':
        return this.#rng.int(latency.minMs, latency.maxMs);
      case 'quantiles':
        return quantileLatency(latency.points, this.#rng.next());
      default:
        return assertNever(latency, 'latency distribution');
    }
  }

  #endpoint(node: NodeId): Endpoint<M> {
    const endpoint = this.#endpoints.get(node);
    if (endpoint === undefined) throw new AssertionError(`unknown node "${node}" on the network`);
    return endpoint;
  }

  #link(source: NodeId, target: NodeId): Link<M> {
    const outgoing = this.#links.get(source);
    if (outgoing === undefined)
      throw new AssertionError(`unknown source node "${source}" on the network`);
    let link = outgoing.get(target);
    if (link === undefined) {
      link = {
        source,
        target,
        trace: new TraceLink(
          this.#traceNodes.get(source) as TraceNode,
          this.#traceNodes.get(target) as TraceNode,
        ),
        targetEndpoint: this.#endpoint(target),
        generation: 0,
        breakModes: [],
        blocked: null,
        latency: null,
        extraLatencyMs: 0,
        bandwidthBytesPerSec: 0,
        busyUntilMs: 0,
        lastArrivalMs: 0,
        clogged: false,
        held: [],
        draining: false,
        wire: new Wire(this),
      };
      link.wire.link = link;
      outgoing.set(target, link);
    }
    return link;
  }

  *#allLinks(): Generator<Link<M>> {
    for (const outgoing of this.#links.values()) yield* outgoing.values();
  }
}

function quantileLatency(points: readonly (readonly [number, Ms])[], draw: number): Ms {
  for (let i = 1; i < points.length; i++) {
    const [q1, ms1] = points[i] as readonly [number, Ms];
    if (draw <= q1) {
      const [q0, ms0] = points[i - 1] as readonly [number, Ms];
      const fraction = q1 === q0 ? 1 : (draw - q0) / (q1 - q0);
      return Math.round(ms0 + fraction * (ms1 - ms0));
    }
  }
  return (points[points.length - 1] as readonly [number, Ms])[1];
}

export function validateLatency(latency: LatencyDistribution): LatencyDistribution {
  switch (latency.kind) {
    case 'constant':
      assertMs(latency.ms, 'latency ms');
      break;
    case 'uniform':
      assertMs(latency.minMs, 'latency minMs');
      assertMs(latency.maxMs, 'latency maxMs');
      if (latency.minMs > latency.maxMs)
        throw new AssertionError(
          `latency needs minMs ≤ maxMs (got ${latency.minMs} > ${latency.maxMs})`,
        );
      break;
    case 'quantiles': {
      const points = latency.points;
      assert(points.length >= 2, 'latency quantiles need at least two points');
      assert(points[0]?.[0] === 0, 'latency quantiles must start at quantile 0');
      assert(points[points.length - 1]?.[0] === 1, 'latency quantiles must end at quantile 1');
      for (let i = 0; i < points.length; i++) {
        const [quantile, ms] = points[i] as readonly [number, Ms];
        assertMs(ms, `latency quantiles[${i}] ms`);
        if (i === 0) continue;
        const [previousQuantile, previousMs] = points[i - 1] as readonly [number, Ms];
        if (!(quantile >= previousQuantile && ms >= previousMs))
          throw new AssertionError(`latency quantiles[${i}] must not decrease`);
      }
      break;
    }
    default:
      assertNever(latency, 'latency distribution');
  }
  return latency;
}
