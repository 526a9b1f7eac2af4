import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BoundExceededError } from './assert.ts';
import {
  type BlockMode,
  type Endpoint,
  type LatencyDistribution,
  Network,
  type NetworkOptions,
  type NodeId,
  validateLatency,
} from './network.ts';
import type { Machine, NodeContext } from './node.ts';
import { Rng } from './rng.ts';
import { Scheduler } from './scheduler.ts';
import type { TraceEvent } from './trace.ts';
import { World } from './world.ts';

interface Note {
  readonly kind: 'note';
  readonly seq: number;
}

interface Arrival {
  readonly atMs: number;
  readonly source: NodeId;
  readonly target: NodeId;
  readonly seq: number;
}

/** What an endpoint is: up, down with a closed port (refuses), or down and silent. */
type EndpointState = 'up' | 'refusing' | 'silent';

class FakeEndpoint implements Endpoint<Note> {
  state: EndpointState = 'up';

  constructor(
    readonly id: NodeId,
    readonly scheduler: Scheduler,
    readonly arrivals: Arrival[],
    readonly refusals: Arrival[],
  ) {}

  refusesConnections(): boolean {
    return this.state === 'refusing';
  }

  isReachable(): boolean {
    return this.state === 'up';
  }

  deliver(source: NodeId, message: Note): void {
    this.arrivals.push({ atMs: this.scheduler.nowMs, source, target: this.id, seq: message.seq });
  }

  unreachable(target: NodeId, message: Note): void {
    // Recorded on the sender's side: source is this endpoint.
    this.refusals.push({ atMs: this.scheduler.nowMs, source: this.id, target, seq: message.seq });
  }
}

const NODES = ['a', 'b', 'c'] as const;

function setup(options: NetworkOptions = { latency: { kind: 'constant', ms: 10 } }, seed = 'net') {
  const events: TraceEvent[] = [];
  const scheduler = new Scheduler({ trace: { sink: (event) => events.push(event) } });
  const network = new Network<Note>(scheduler, new Rng(seed), options);
  const arrivals: Arrival[] = [];
  const refusals: Arrival[] = [];
  const endpoints = new Map<NodeId, FakeEndpoint>();
  for (const id of NODES) {
    const endpoint = new FakeEndpoint(id, scheduler, arrivals, refusals);
    endpoints.set(id, endpoint);
    network.attach(endpoint);
  }
  let seqNext = 0;
  const send = (source: NodeId, target: NodeId, sizeBytes = 0): number => {
    const seq = seqNext++;
    network.send(source, target, { kind: 'note', seq }, sizeBytes);
    return seq;
  };
  const at = (atMs: number, action: () => void): void => {
    scheduler.after(atMs - scheduler.nowMs, 'test', action);
  };
  const run = (durationMs = 10_000_000): void => {
    scheduler.runFor(durationMs, 1_000_000);
  };
  const seqs = (source: NodeId, target: NodeId): number[] =>
    arrivals
      .filter((arrival) => arrival.source === source && arrival.target === target)
      .map((arrival) => arrival.seq);
  const drops = (reason: string): TraceEvent[] =>
    events.filter((event) => event.kind === 'net.drop' && event.fields?.['reason'] === reason);
  return { scheduler, network, arrivals, refusals, endpoints, send, at, run, seqs, drops, events };
}

type Setup = ReturnType<typeof setup>;

// ---- the property: per-connection FIFO ---------------------------------------------------------

const nodeIndex = fc.integer({ min: 0, max: NODES.length - 1 });
const linkArbitrary = fc
  .tuple(nodeIndex, fc.integer({ min: 1, max: NODES.length - 1 }))
  .map(([source, offset]) => ({
    source: NODES[source] as NodeId,
    target: NODES[(source + offset) % NODES.length] as NodeId,
  }));

const latencyArbitrary: fc.Arbitrary<LatencyDistribution | null> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: 0, max: 60 }).map((ms) => ({ kind: 'constant' as const, ms })),
  fc
    .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }))
    .map(([x, y]) => ({ kind: 'uniform' as const, minMs: Math.min(x, y), maxMs: Math.max(x, y) })),
  fc.constant({
    kind: 'quantiles' as const,
    points: [
      [0, 0],
      [0.5, 2],
      [0.9, 30],
      [1, 90],
    ] as const,
  }),
);

type Operation =
  | {
      readonly op: 'send';
      readonly source: NodeId;
      readonly target: NodeId;
      readonly sizeBytes: number;
    }
  | {
      readonly op: 'slow';
      readonly source: NodeId;
      readonly target: NodeId;
      readonly extraLatencyMs: number;
      readonly bandwidthBytesPerSec: number;
    }
  | {
      readonly op: 'latency';
      readonly source: NodeId;
      readonly target: NodeId;
      readonly latency: LatencyDistribution | null;
    }
  | { readonly op: 'clog' | 'release'; readonly source: NodeId; readonly target: NodeId }
  | { readonly op: 'wait'; readonly ms: number }
  | { readonly op: 'partition'; readonly split: number; readonly mode: BlockMode }
  | { readonly op: 'heal' };

const sendArbitrary = fc
  .record({
    op: fc.constant('send' as const),
    link: linkArbitrary,
    sizeBytes: fc.integer({ min: 0, max: 3_000 }),
  })
  .map(({ link, sizeBytes }): Operation => ({ op: 'send', ...link, sizeBytes }));

const tcpOperations: fc.Arbitrary<Operation>[] = [
  sendArbitrary,
  sendArbitrary,
  sendArbitrary,
  fc
    .tuple(
      linkArbitrary,
      fc.integer({ min: 0, max: 80 }),
      fc.oneof(fc.constant(0), fc.integer({ min: 1_000, max: 200_000 })),
    )
    .map(
      ([link, extraLatencyMs, bandwidthBytesPerSec]): Operation => ({
        op: 'slow',
        ...link,
        extraLatencyMs,
        bandwidthBytesPerSec,
      }),
    ),
  fc
    .tuple(linkArbitrary, latencyArbitrary)
    .map(([link, latency]): Operation => ({ op: 'latency', ...link, latency })),
  linkArbitrary.map((link): Operation => ({ op: 'clog', ...link })),
  linkArbitrary.map((link): Operation => ({ op: 'release', ...link })),
  fc.integer({ min: 0, max: 40 }).map((ms): Operation => ({ op: 'wait', ms })),
];

const faultOperations: fc.Arbitrary<Operation>[] = [
  fc
    .tuple(
      fc.integer({ min: 1, max: NODES.length - 1 }),
      fc.constantFrom<BlockMode>('silent', 'reject'),
    )
    .map(([split, mode]): Operation => ({ op: 'partition', split, mode })),
  fc.constant<Operation>({ op: 'heal' }),
];

function apply(world: Setup, operation: Operation, sent: Map<string, number[]>): void {
  const { network } = world;
  switch (operation.op) {
    case 'send': {
      const seq = world.send(operation.source, operation.target, operation.sizeBytes);
      const key = `${operation.source}>${operation.target}`;
      sent.set(key, [...(sent.get(key) ?? []), seq]);
      return;
    }
    case 'slow':
      network.slowLink(operation.source, operation.target, operation);
      return;
    case 'latency':
      network.setLinkLatency(operation.source, operation.target, operation.latency);
      return;
    case 'clog':
      network.clog(operation.source, operation.target);
      return;
    case 'release':
      network.release(operation.source, operation.target);
      return;
    case 'wait':
      world.run(operation.ms);
      return;
    case 'partition':
      network.partition(
        [NODES.slice(0, operation.split), NODES.slice(operation.split)],
        operation.mode,
      );
      return;
    case 'heal':
      network.heal();
      return;
  }
}

function linkKeys(): string[] {
  const keys: string[] = [];
  for (const source of NODES)
    for (const target of NODES) if (source !== target) keys.push(`${source}>${target}`);
  return keys;
}

describe('Network: per-connection FIFO', () => {
  test.prop(
    [fc.array(fc.oneof(...tcpOperations), { maxLength: 80 }), fc.string({ maxLength: 4 })],
    {
      numRuns: 150,
    },
  )(
    'delivers every message of a connection, in send order, under random latencies, slowness and clogs',
    (operations, seed) => {
      const world = setup({ latency: { kind: 'uniform', minMs: 0, maxMs: 50 } }, seed);
      const sent = new Map<string, number[]>();
      for (const operation of operations) apply(world, operation, sent);
      world.network.releaseAll();
      world.run();
      for (const key of linkKeys()) {
        const [source, target] = key.split('>') as [NodeId, NodeId];
        expect(world.seqs(source, target), key).toEqual(sent.get(key) ?? []);
      }
      const stats = world.network.stats;
      expect(stats.inFlight).toBe(0);
      expect(stats.delivered).toBe(stats.sent);
      expect(stats.dropped).toBe(0);
    },
  );

  test.prop(
    [
      fc.array(fc.oneof(...tcpOperations, ...faultOperations), { maxLength: 80 }),
      fc.string({ maxLength: 4 }),
    ],
    { numRuns: 150 },
  )(
    'never reorders or leaves gaps-then-old-messages on a connection under partitions; heal restores delivery',
    (operations, seed) => {
      const world = setup({ latency: { kind: 'uniform', minMs: 0, maxMs: 50 } }, seed);
      const sent = new Map<string, number[]>();
      for (const operation of operations) apply(world, operation, sent);
      world.network.heal();
      world.network.releaseAll();
      // After the heal every link works again: one more message each, all of which arrive.
      const last = new Map<string, number>();
      for (const key of linkKeys()) {
        const [source, target] = key.split('>') as [NodeId, NodeId];
        apply(world, { op: 'send', source, target, sizeBytes: 1 }, sent);
        last.set(key, (sent.get(key) ?? []).at(-1) as number);
      }
      world.run();
      for (const key of linkKeys()) {
        const [source, target] = key.split('>') as [NodeId, NodeId];
        const received = world.seqs(source, target);
        const order = sent.get(key) ?? [];
        // A subsequence of what was sent, in send order, ending with the message sent after the heal.
        let cursor = 0;
        for (const seq of received) {
          while (cursor < order.length && order[cursor] !== seq) cursor++;
          expect(
            cursor,
            `${key}: ${received.join(',')} not in order ${order.join(',')}`,
          ).toBeLessThan(order.length);
          cursor++;
        }
        expect(received.at(-1)).toBe(last.get(key));
      }
      const stats = world.network.stats;
      expect(stats.inFlight).toBe(0);
      expect(stats.delivered + stats.dropped).toBe(stats.sent);
    },
  );
});

// ---- latency, slowness, overtaking --------------------------------------------------------------

describe('Network: timing', () => {
  it('delivers after exactly the constant latency plus any extra latency', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    world.at(5, () => world.send('a', 'b'));
    world.at(6, () => world.network.slowLink('a', 'b', { extraLatencyMs: 100 }));
    world.at(7, () => world.send('a', 'b'));
    world.at(8, () => world.send('b', 'a'));
    world.run();
    expect(world.arrivals).toEqual([
      { atMs: 15, source: 'a', target: 'b', seq: 0 },
      { atMs: 18, source: 'b', target: 'a', seq: 2 },
      { atMs: 117, source: 'a', target: 'b', seq: 1 },
    ]);
  });

  it('slowNode slows both directions of every link of the node; unslowAll undoes it', () => {
    const world = setup({ latency: { kind: 'constant', ms: 1 } });
    world.network.slowNode('a', { extraLatencyMs: 50 });
    world.send('a', 'b');
    world.send('c', 'a');
    world.send('b', 'c');
    world.run(1_000);
    expect(world.arrivals.map((arrival) => [arrival.seq, arrival.atMs])).toEqual([
      [2, 1],
      [0, 51],
      [1, 51],
    ]);
    world.network.unslowAll();
    world.send('a', 'b');
    world.run(1_000);
    expect(world.arrivals.at(-1)).toEqual({ atMs: 1_001, source: 'a', target: 'b', seq: 3 });
  });

  it('a bandwidth limit queues messages behind each other by their size', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    world.network.slowLink('a', 'b', { bandwidthBytesPerSec: 1_000 });
    world.send('a', 'b', 500);
    world.send('a', 'b', 500);
    world.send('a', 'b', 0);
    world.send('a', 'c', 500); // another link: not limited
    world.at(2_000, () => world.send('a', 'b', 100)); // the link is idle again by then
    world.run();
    expect(world.arrivals.map((arrival) => [arrival.seq, arrival.atMs])).toEqual([
      [3, 10],
      [0, 510],
      [1, 1_010],
      [2, 1_010],
      [4, 2_110],
    ]);
    expect(() => world.network.slowLink('a', 'b', { bandwidthBytesPerSec: -1 })).toThrow(
      /bandwidthBytesPerSec must be ≥ 0/,
    );
    expect(() => world.network.slowLink('a', 'b', { extraLatencyMs: 1.5 })).toThrow(RangeError);
  });

  it('different connections may overtake each other; one connection never does', () => {
    const world = setup({ latency: { kind: 'constant', ms: 1 } });
    world.network.setLinkLatency('a', 'c', { kind: 'constant', ms: 50 });
    world.send('a', 'c'); // slow connection, sent first
    world.send('b', 'c'); // fast connection, sent second: arrives first
    world.send('a', 'b'); // same source, another target: arrives first too
    // The same slow connection gets fast again: its next message still waits for the first.
    world.network.setLinkLatency('a', 'c', { kind: 'constant', ms: 1 });
    world.send('a', 'c');
    world.run();
    expect(world.arrivals.map((arrival) => [arrival.seq, arrival.atMs])).toEqual([
      [1, 1],
      [2, 1],
      [0, 50],
      [3, 50],
    ]);
    // Removing the link's own latency falls back to the network's.
    world.network.setLinkLatency('a', 'c', { kind: 'constant', ms: 70 });
    world.network.setLinkLatency('a', 'c', null);
    world.network.setLatency({ kind: 'constant', ms: 3 });
    const sentAtMs = world.scheduler.nowMs;
    world.send('a', 'c');
    world.run();
    expect(world.arrivals.at(-1)?.atMs).toBe(sentAtMs + 3);
  });
  it('keeps the order of many messages on one wire while it wraps around and grows', () => {
    // Bursts of a few, then of many more than a wire first holds, each sent while the previous
    // burst is still partly on the wire, and a clog in between.
    const world = setup({ latency: { kind: 'uniform', minMs: 0, maxMs: 20 } });
    const sent: number[] = [];
    let atMs = 0;
    for (const burst of [3, 5, 7, 30, 2, 70, 1, 9]) {
      world.at(atMs, () => {
        for (let i = 0; i < burst; i++) sent.push(world.send('a', 'b', 1));
      });
      atMs += 7;
    }
    world.at(20, () => world.network.clog('a', 'b'));
    world.at(40, () => world.network.release('a', 'b'));
    world.run();
    expect(world.seqs('a', 'b')).toEqual(sent);
    expect(world.network.stats.inFlight).toBe(0);
  });
});

// ---- partitions ----------------------------------------------------------------------------------

/** Sends one message on every link and reports which arrived, as "a>b" keys. */
function reachableLinks(world: Setup): string[] {
  const before = world.arrivals.length;
  for (const key of linkKeys()) {
    const [source, target] = key.split('>') as [NodeId, NodeId];
    world.send(source, target);
  }
  world.run(1_000);
  return world.arrivals.slice(before).map((arrival) => `${arrival.source}>${arrival.target}`);
}

describe('Network: partitions', () => {
  it('a symmetric partition blocks both ways between groups; heal restores every link', () => {
    const world = setup();
    world.network.partition([['a'], ['b']]);
    expect(world.network.isBlocked('a', 'b')).toBe(true);
    expect(world.network.isBlocked('b', 'a')).toBe(true);
    expect(world.network.isBlocked('a', 'c')).toBe(false);
    // c is in no group: it keeps all its links.
    expect(reachableLinks(world)).toEqual(['a>c', 'b>c', 'c>a', 'c>b']);
    world.network.heal();
    expect(world.network.isBlocked('a', 'b')).toBe(false);
    expect(reachableLinks(world)).toEqual(linkKeys());
  });

  it('a partition of groups cuts every link that crosses groups', () => {
    const world = setup();
    world.network.partition([['a', 'b'], ['c']]);
    expect(reachableLinks(world)).toEqual(['a>b', 'b>a']);
    expect(() => world.network.partition([['a'], ['a', 'b']])).toThrow(
      /appears in two partition groups/,
    );
    expect(() => world.network.partition([['a'], ['zz']])).toThrow(/unknown node "zz"/);
  });

  it('a one-way partition blocks one direction only', () => {
    const world = setup();
    world.network.partitionOneWay(['a'], ['b', 'c']);
    expect(reachableLinks(world)).toEqual(['b>a', 'b>c', 'c>a', 'c>b']);
    world.network.heal();
    expect(reachableLinks(world)).toEqual(linkKeys());
  });

  it('isolate cuts a node off both ways and leaves the others connected', () => {
    const world = setup();
    world.network.isolate('b');
    expect(reachableLinks(world)).toEqual(['a>c', 'c>a']);
    world.network.heal();
    expect(reachableLinks(world)).toEqual(linkKeys());
  });

  it('a silent partition tells no one; a rejecting one tells the sender at once', () => {
    const silent = setup();
    silent.network.partition([['a'], ['b']], 'silent');
    silent.at(7, () => silent.send('a', 'b'));
    silent.run();
    expect(silent.arrivals).toEqual([]);
    expect(silent.refusals).toEqual([]);
    expect(silent.drops('partition')).toHaveLength(1);

    const reject = setup();
    reject.network.partition([['a'], ['b']], 'reject');
    reject.at(7, () => reject.send('a', 'b'));
    reject.at(9, () => reject.send('b', 'a'));
    reject.run();
    expect(reject.arrivals).toEqual([]);
    expect(reject.refusals).toEqual([
      { atMs: 7, source: 'a', target: 'b', seq: 0 },
      { atMs: 9, source: 'b', target: 'a', seq: 1 },
    ]);
  });

  it('loses messages in flight when a partition starts, even if it heals before they arrive', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    world.at(0, () => world.send('a', 'b'));
    world.at(1, () => world.send('b', 'a'));
    world.at(5, () => world.network.partition([['a'], ['b']]));
    world.at(6, () => world.network.heal());
    world.at(7, () => world.send('a', 'b'));
    world.run();
    expect(world.arrivals).toEqual([{ atMs: 17, source: 'a', target: 'b', seq: 2 }]);
    expect(
      world.drops('connection-broken').map((event) => [event.atMs, event.fields?.['msg']]),
    ).toEqual([
      [10, 0],
      [11, 1],
    ]);
    expect(world.refusals).toEqual([]);
  });

  it('a rejecting partition resets the connection: the sender of a message in flight hears of it on arrival', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    world.at(0, () => world.send('a', 'b'));
    world.at(5, () => world.network.partition([['a'], ['b']], 'reject'));
    world.at(6, () => world.network.heal());
    world.run();
    expect(world.arrivals).toEqual([]);
    expect(world.refusals).toEqual([{ atMs: 10, source: 'a', target: 'b', seq: 0 }]);
  });

  it('messages held by a clog are lost if their connection breaks before release', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    world.network.clog('a', 'b');
    world.at(0, () => world.send('a', 'b'));
    world.at(20, () => world.network.partition([['a'], ['b']]));
    world.at(21, () => world.network.heal());
    world.at(22, () => world.send('a', 'b'));
    world.at(100, () => world.network.release('a', 'b'));
    world.run();
    expect(world.arrivals).toEqual([{ atMs: 100, source: 'a', target: 'b', seq: 1 }]);
    expect(world.drops('connection-broken')).toHaveLength(1);
    expect(world.network.stats.inFlight).toBe(0);
  });
});

// ---- clogs ---------------------------------------------------------------------------------------

describe('Network: clogs', () => {
  it('holds messages on a clogged link and delivers them in order on release, later sends behind', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    world.network.clog('a', 'b');
    world.at(0, () => world.send('a', 'b'));
    world.at(5, () => world.send('a', 'b'));
    world.at(6, () => world.send('b', 'a')); // the other direction is not clogged
    world.run(80);
    expect(world.arrivals).toEqual([{ atMs: 16, source: 'b', target: 'a', seq: 2 }]);
    expect(world.network.stats.inFlight).toBe(2);
    world.at(85, () => world.send('a', 'b')); // arrives at 95: held behind the first two
    world.at(100, () => world.network.release('a', 'b'));
    world.at(100, () => {
      world.network.setLinkLatency('a', 'b', { kind: 'constant', ms: 0 });
      world.send('a', 'b'); // arrives at 100 while the held ones drain: queues behind them
    });
    world.run();
    expect(world.seqs('a', 'b')).toEqual([0, 1, 3, 4]);
    expect(
      world.arrivals.filter((arrival) => arrival.target === 'b').map((arrival) => arrival.atMs),
    ).toEqual([100, 100, 100, 100]);
    expect(world.network.stats.inFlight).toBe(0);
  });

  it('topologyVersion moves whenever isConnected may answer differently, and only then', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    const { network } = world;
    // After every step: did isConnected('a','b') change while the version stood still?
    let version = network.topologyVersion;
    let connected = network.isConnected('a', 'b');
    let moves = 0;
    world.scheduler.addStepCheck(() => {
      const now = network.isConnected('a', 'b');
      if (network.topologyVersion === version) expect(now).toBe(connected);
      else moves++;
      version = network.topologyVersion;
      connected = now;
    });
    world.at(0, () => network.clog('a', 'b'));
    for (let atMs = 1; atMs < 5; atMs++) world.at(atMs, () => world.send('a', 'b'));
    world.at(50, () => network.release('a', 'b')); // held messages drain: still unclean until empty
    world.at(60, () => world.send('c', 'b')); // traffic elsewhere moves nothing
    world.at(70, () => network.partition([['a'], ['b']]));
    world.at(80, () => network.heal());
    world.run();
    expect(world.seqs('a', 'b')).toEqual([0, 1, 2, 3]);
    expect(network.isConnected('a', 'b')).toBe(true);
    expect(moves).toBe(5); // clog, release, drained, partition, heal
  });

  it('clogNode holds both directions; releaseAll lets everything through', () => {
    const world = setup({ latency: { kind: 'constant', ms: 1 } });
    world.network.clogNode('a');
    expect(reachableLinks(world)).toEqual(['b>c', 'c>b']);
    world.network.releaseAll();
    world.run(1);
    expect(world.arrivals.slice(2).map((arrival) => `${arrival.source}>${arrival.target}`)).toEqual(
      ['a>b', 'a>c', 'b>a', 'c>a'],
    );
  });

  it('a clog that returns during the drain holds the rest until the next release', () => {
    const world = setup({ latency: { kind: 'constant', ms: 1 } });
    world.network.clog('a', 'b');
    for (let i = 0; i < 4; i++) world.send('a', 'b');
    world.at(10, () => {
      world.network.release('a', 'b');
      // Clogged again after the first held message drained.
      world.scheduler.after(0, 'clog', () => world.network.clog('a', 'b'));
    });
    world.at(20, () => world.network.release('a', 'b'));
    world.run();
    expect(world.arrivals.map((arrival) => [arrival.seq, arrival.atMs])).toEqual([
      [0, 10],
      [1, 20],
      [2, 20],
      [3, 20],
    ]);
  });

  it('throws BoundExceededError naming heldMax when a clog holds too much', () => {
    const world = setup({ latency: { kind: 'constant', ms: 1 }, heldMax: 3 });
    world.network.clog('a', 'b');
    for (let i = 0; i < 4; i++) world.send('a', 'b');
    expect(() => world.run()).toThrow(/bound heldMax = 3 exceeded: link a → b is clogged/);
  });
});

// ---- endpoints that are down, chaos, bounds ------------------------------------------------------

describe('Network: endpoints and chaos', () => {
  it('a target whose port is closed refuses (the sender hears of it); a silent one drops', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 } });
    (world.endpoints.get('b') as FakeEndpoint).state = 'refusing';
    (world.endpoints.get('c') as FakeEndpoint).state = 'silent';
    world.send('a', 'b');
    world.send('a', 'c');
    world.run();
    expect(world.arrivals).toEqual([]);
    expect(world.refusals).toEqual([{ atMs: 10, source: 'a', target: 'b', seq: 0 }]);
    expect(world.drops('refused')).toHaveLength(1);
    expect(world.drops('node-down')).toHaveLength(1);
  });

  it('chaos drops every message at probability 1 and none at 0', () => {
    const world = setup();
    world.network.setChaos({ dropProbability: 1, duplicateProbability: 0 });
    for (let i = 0; i < 20; i++) world.send('a', 'b');
    world.run();
    expect(world.arrivals).toEqual([]);
    expect(world.drops('chaos')).toHaveLength(20);
    world.network.setChaos(null);
    for (let i = 0; i < 20; i++) world.send('a', 'b');
    world.run();
    expect(world.arrivals).toHaveLength(20);
  });

  it('chaos drops some messages at probability 0.5 and keeps the rest in order', () => {
    const world = setup({ latency: { kind: 'uniform', minMs: 1, maxMs: 30 } });
    world.network.setChaos({ dropProbability: 0.5, duplicateProbability: 0 });
    for (let i = 0; i < 400; i++) world.send('a', 'b');
    world.run();
    const received = world.seqs('a', 'b');
    expect(received.length).toBeGreaterThan(120);
    expect(received.length).toBeLessThan(280);
    expect(received).toEqual(received.slice().sort((x, y) => x - y));
    expect(world.network.stats.dropped + received.length).toBe(400);
  });

  it('chaos duplicates every message at probability 1', () => {
    const world = setup({ latency: { kind: 'uniform', minMs: 1, maxMs: 30 } });
    world.network.setChaos({ dropProbability: 0, duplicateProbability: 1 });
    for (let i = 0; i < 50; i++) world.send('a', 'b');
    world.run();
    const received = world.seqs('a', 'b');
    expect(received).toHaveLength(100);
    const counts = new Map<number, number>();
    for (const seq of received) counts.set(seq, (counts.get(seq) ?? 0) + 1);
    expect([...counts.values()].every((count) => count === 2)).toBe(true);
    expect(counts.size).toBe(50);
    expect(world.network.stats.inFlight).toBe(0);
    expect(() => world.network.setChaos({ dropProbability: 1.5, duplicateProbability: 0 })).toThrow(
      /dropProbability must be in \[0, 1\]/,
    );
    expect(() => world.network.setChaos({ dropProbability: 0, duplicateProbability: -1 })).toThrow(
      /duplicateProbability/,
    );
  });

  it('throws BoundExceededError naming inFlightMax when too many messages are on the wire', () => {
    const world = setup({ latency: { kind: 'constant', ms: 10 }, inFlightMax: 5 });
    for (let i = 0; i < 5; i++) world.send('a', 'b');
    let error: unknown;
    try {
      world.send('a', 'b');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BoundExceededError);
    expect((error as BoundExceededError).bound).toBe('inFlightMax');
    world.run();
    world.send('a', 'b'); // room again once they arrived
  });

  it('knows only attached nodes', () => {
    const world = setup();
    expect(world.network.nodeIds()).toEqual(['a', 'b', 'c']);
    expect(() => world.send('a', 'zz')).toThrow(/unknown node "zz"/);
    expect(() => world.send('zz', 'a')).toThrow(/unknown source node "zz"/);
    const again = new FakeEndpoint('a', world.scheduler, [], []);
    expect(() => world.network.attach(again)).toThrow(/already on the network/);
  });

  it('traces every delivery with its source, type, id and send time', () => {
    const world = setup({ latency: { kind: 'constant', ms: 4 } });
    world.at(3, () => world.send('a', 'b'));
    world.run();
    const delivered = world.events.filter((event) => event.kind === 'net.deliver');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      atMs: 7,
      node: 'b',
      fields: { source: 'a', type: 'note', msg: 0, sentAtMs: 3 },
    });
  });
});

// ---- latency distributions -----------------------------------------------------------------------

/** Latency of `count` messages, each sent on an idle link so that none waits for another. */
function sampleLatencies(latency: LatencyDistribution, count: number, seed = 'latency'): number[] {
  const world = setup({ latency }, seed);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const sentAtMs = world.scheduler.nowMs;
    world.send('a', 'b');
    world.run(1_000);
    samples.push((world.arrivals[i] as Arrival).atMs - sentAtMs);
  }
  return samples;
}

describe('Network: latency distributions', () => {
  it('constant latency is always the same', () => {
    expect(new Set(sampleLatencies({ kind: 'constant', ms: 17 }, 20))).toEqual(new Set([17]));
  });

  it('uniform latency stays within its bounds and reaches both', () => {
    const samples = sampleLatencies({ kind: 'uniform', minMs: 3, maxMs: 7 }, 300);
    expect(Math.min(...samples)).toBe(3);
    expect(Math.max(...samples)).toBe(7);
    expect(new Set(samples).size).toBe(5);
    expect(new Set(sampleLatencies({ kind: 'uniform', minMs: 5, maxMs: 5 }, 20))).toEqual(
      new Set([5]),
    );
  });

  it('quantile latency follows its piecewise-linear quantile function', () => {
    const samples = sampleLatencies(
      {
        kind: 'quantiles',
        points: [
          [0, 1],
          [0.5, 2],
          [0.99, 10],
          [1, 200],
        ],
      },
      1_000,
    ).sort((x, y) => x - y);
    expect(samples[0]).toBeGreaterThanOrEqual(1);
    expect(samples.at(-1)).toBeLessThanOrEqual(200);
    // Median near 2 ms; 99% at most 10 ms; some of the tail above 10 ms.
    expect(samples[500]).toBeGreaterThanOrEqual(2);
    expect(samples[500]).toBeLessThanOrEqual(3);
    expect(samples[400]).toBeLessThanOrEqual(2);
    expect(samples[970]).toBeLessThanOrEqual(10);
    expect(samples.filter((ms) => ms > 10).length).toBeLessThan(30);
    expect(samples.filter((ms) => ms > 10).length).toBeGreaterThan(0);
    // A flat step: a quantile range of zero width.
    const step = sampleLatencies(
      {
        kind: 'quantiles',
        points: [
          [0, 4],
          [0.5, 4],
          [0.5, 8],
          [1, 8],
        ],
      },
      200,
    );
    expect(new Set(step)).toEqual(new Set([4, 8]));
  });

  it('validateLatency explains what is wrong', () => {
    expect(() => validateLatency({ kind: 'constant', ms: -1 })).toThrow(
      /latency ms must be a non-negative integer/,
    );
    expect(() => validateLatency({ kind: 'constant', ms: 1.5 })).toThrow(RangeError);
    expect(() => validateLatency({ kind: 'uniform', minMs: 5, maxMs: 4 })).toThrow(
      'latency needs minMs ≤ maxMs (got 5 > 4)',
    );
    expect(() => validateLatency({ kind: 'uniform', minMs: -1, maxMs: 4 })).toThrow(
      /latency minMs/,
    );
    expect(() => validateLatency({ kind: 'quantiles', points: [[0, 1]] })).toThrow(
      /at least two points/,
    );
    expect(() =>
      validateLatency({
        kind: 'quantiles',
        points: [
          [0.1, 1],
          [1, 2],
        ],
      }),
    ).toThrow(/start at quantile 0/);
    expect(() =>
      validateLatency({
        kind: 'quantiles',
        points: [
          [0, 1],
          [0.9, 2],
        ],
      }),
    ).toThrow(/end at quantile 1/);
    expect(() =>
      validateLatency({
        kind: 'quantiles',
        points: [
          [0, 5],
          [0.5, 4],
          [1, 6],
        ],
      }),
    ).toThrow('latency quantiles[1] must not decrease');
    expect(() =>
      validateLatency({
        kind: 'quantiles',
        points: [
          [0, 1],
          [0.6, 2],
          [0.5, 3],
          [1, 4],
        ],
      }),
    ).toThrow('latency quantiles[2] must not decrease');
    expect(() =>
      validateLatency({
        kind: 'quantiles',
        points: [
          [0, 1],
          [1, 2.5],
        ],
      }),
    ).toThrow(/quantiles\[1\] ms/);
    const valid: LatencyDistribution = { kind: 'uniform', minMs: 0, maxMs: 0 };
    expect(validateLatency(valid)).toBe(valid);
    // The network validates what it is given.
    const world = setup();
    expect(() => world.network.setLatency({ kind: 'uniform', minMs: 2, maxMs: 1 })).toThrow(
      /minMs ≤ maxMs/,
    );
    expect(() => world.network.setLinkLatency('a', 'b', { kind: 'constant', ms: -3 })).toThrow(
      RangeError,
    );
    expect(
      () =>
        new Network<Note>(new Scheduler(), new Rng('x'), { latency: { kind: 'constant', ms: -1 } }),
    ).toThrow(RangeError);
  });
});

// ---- with real nodes: crashes and restarts -------------------------------------------------------

interface Received {
  readonly atMs: number;
  readonly node: NodeId;
  readonly incarnation: number;
  readonly what: 'message' | 'unreachable';
  readonly peer: NodeId;
  readonly seq: number;
}

class Recorder implements Machine<Note> {
  constructor(
    readonly context: NodeContext<Note>,
    readonly log: Received[],
  ) {}

  start(): void {}

  onMessage(source: NodeId, message: Note): void {
    this.#record('message', source, message);
  }

  onUnreachable(target: NodeId, message: Note): void {
    this.#record('unreachable', target, message);
  }

  #record(what: Received['what'], peer: NodeId, message: Note): void {
    const context = this.context;
    this.log.push({
      atMs: context.nowMs,
      node: context.nodeId,
      incarnation: context.incarnation,
      what,
      peer,
      seq: message.seq,
    });
  }
}

function recorderWorld() {
  const world = new World<Note>({ seed: 'nodes', latency: { kind: 'constant', ms: 10 } });
  const log: Received[] = [];
  const contexts = new Map<NodeId, NodeContext<Note>>();
  for (const id of ['a', 'b']) {
    world.addNode(id, (context) => {
      contexts.set(id, context);
      return new Recorder(context, log);
    });
    world.node(id).start();
  }
  const send = (source: NodeId, target: NodeId, seq: number): void =>
    (contexts.get(source) as NodeContext<Note>).send(target, { kind: 'note', seq });
  return { world, log, send };
}

describe('Network: crashed nodes', () => {
  it('refuses a message to a node killed while it was on the wire, and tells the sender', () => {
    const { world, log, send } = recorderWorld();
    world.at(0, 'step', () => send('a', 'b', 1));
    world.at(5, 'step', () => world.crash('b', 'kill'));
    world.at(20, 'step', () => send('a', 'b', 2));
    world.runFor(100);
    expect(log).toEqual([
      { atMs: 10, node: 'a', incarnation: 1, what: 'unreachable', peer: 'b', seq: 1 },
      { atMs: 30, node: 'a', incarnation: 1, what: 'unreachable', peer: 'b', seq: 2 },
    ]);
  });

  it('drops a message to a node that lost power without telling the sender', () => {
    const { world, log, send } = recorderWorld();
    world.at(0, 'step', () => send('a', 'b', 1));
    world.at(5, 'step', () => world.crash('b', 'powerFailure'));
    world.at(20, 'step', () => send('a', 'b', 2));
    world.runFor(100);
    expect(log).toEqual([]);
    expect(world.network.stats.dropped).toBe(2);
  });

  it('delivers a message sent before a crash to the restarted target, and one from a dead sender', () => {
    const { world, log, send } = recorderWorld();
    world.at(0, 'step', () => send('a', 'b', 1));
    world.at(2, 'step', () => world.crash('b', 'powerFailure'));
    world.at(5, 'step', () => world.restart('b'));
    world.at(20, 'step', () => send('b', 'a', 2));
    world.at(22, 'step', () => world.crash('b', 'kill'));
    world.runFor(100);
    expect(log).toEqual([
      { atMs: 10, node: 'b', incarnation: 2, what: 'message', peer: 'a', seq: 1 },
      { atMs: 30, node: 'a', incarnation: 1, what: 'message', peer: 'b', seq: 2 },
    ]);
  });

  it('the refusal of a message from a sender that has since crashed reaches no one', () => {
    const { world, log, send } = recorderWorld();
    world.crash('b', 'kill');
    world.at(0, 'step', () => send('a', 'b', 1));
    world.at(5, 'step', () => world.crash('a', 'kill'));
    world.runFor(100);
    expect(log).toEqual([]);
    expect(world.network.stats.dropped).toBe(1);
  });
});
