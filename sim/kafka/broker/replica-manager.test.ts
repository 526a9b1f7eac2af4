// The broker data plane on real KRaft clusters (3 controllers, 3 brokers, fixed seeds): roles from
// the committed metadata, follower fetching and divergence truncation, ISR shrink and expand, the
// high watermark, produce with acks 0/1/all and its errors, idempotent dedup, the HW checkpoint,
// controlled shutdown, Metadata and topic deletion. A scripted client node sends raw requests so
// each test sees the broker's exact answer.

import { describe, expect, it } from 'vitest';
import type { Machine, NodeContext } from '../../kernel/node.ts';
import type { TraceEvent } from '../../kernel/trace.ts';
import type { Bugs } from '../bugs.ts';
import { History } from '../clients/history.ts';
import { Producer } from '../clients/producer.ts';
import type { PartitionState } from '../controller/metadata-image.ts';
import { CLEAN_SHUTDOWN_FILE } from '../kraft/broker-node.ts';
import {
  activeController,
  adminOf,
  brokerOf,
  buildKraftCluster,
  type KraftCluster,
} from '../kraft/cluster.ts';
import type { ClusterMessage } from '../messages.ts';
import type { RecordInput } from '../storage/partition-log.ts';
import type {
  DataError,
  InitProducerIdResponse,
  MetadataResponse,
  ProducePartition,
  ProducePartitionResponse,
  ProduceResponse,
} from './messages.ts';
import {
  HIGH_WATERMARK_CHECKPOINT_FILE,
  partitionKey,
  type Replica,
  type ReplicaConfig,
} from './replica-manager.ts';

// ---- a scripted client ---------------------------------------------------------------------

interface Received {
  readonly atMs: number;
  readonly source: string;
  readonly message: ClusterMessage;
}

/** Sends what the test says and keeps every answer. */
class ScriptedClient implements Machine<ClusterMessage> {
  readonly received: Received[] = [];
  readonly refused: { readonly target: string; readonly message: ClusterMessage }[] = [];
  readonly #context: NodeContext<ClusterMessage>;
  #requestIdNext = 1;

  constructor(context: NodeContext<ClusterMessage>) {
    this.#context = context;
  }

  start(): void {}

  onMessage(source: string, message: ClusterMessage): void {
    this.received.push({ atMs: this.#context.nowMs, source, message });
  }

  onUnreachable(target: string, message: ClusterMessage): void {
    this.refused.push({ target, message });
  }

  produce(
    target: string,
    request: {
      topic: string;
      partition?: number;
      acks: '0' | '1' | 'all';
      timeoutMs?: number;
      records: readonly RecordInput[];
    },
  ): number {
    return this.produceMany(target, {
      acks: request.acks,
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      partitions: [
        { topic: request.topic, partition: request.partition ?? 0, records: request.records },
      ],
    });
  }

  /** One request with a batch for each of several partitions. */
  produceMany(
    target: string,
    request: {
      acks: '0' | '1' | 'all';
      timeoutMs?: number;
      partitions: readonly ProducePartition[];
    },
  ): number {
    const requestId = this.#requestIdNext++;
    this.#context.send(target, {
      kind: 'client.produce',
      requestId,
      acks: request.acks,
      timeoutMs: request.timeoutMs ?? 30_000,
      partitions: request.partitions,
    });
    return requestId;
  }

  /** Any message, as written by the test. */
  send(target: string, message: ClusterMessage): void {
    this.#context.send(target, message);
  }

  metadata(target: string, topics: readonly string[] | null): number {
    const requestId = this.#requestIdNext++;
    this.#context.send(target, { kind: 'client.metadata', requestId, topics });
    return requestId;
  }

  initProducerId(target: string): number {
    const requestId = this.#requestIdNext++;
    this.#context.send(target, { kind: 'client.init-producer-id', requestId });
    return requestId;
  }

  /** The answer to `requestId` (undefined while none came). */
  answer<K extends ClusterMessage['kind']>(
    requestId: number,
    kind: K,
  ): (Received & { message: Extract<ClusterMessage, { kind: K }> }) | undefined {
    const answers = this.received.filter(
      (received) =>
        received.message.kind === kind &&
        'requestId' in received.message &&
        received.message.requestId === requestId,
    );
    expect(answers.length, `answers to request ${requestId}`).toBeLessThanOrEqual(1);
    return answers[0] as (Received & { message: Extract<ClusterMessage, { kind: K }> }) | undefined;
  }
}

// ---- the cluster ---------------------------------------------------------------------------

const CLIENT = 'client';
const TOPIC = 't';

interface Setup {
  readonly seed?: number;
  readonly replica?: Partial<ReplicaConfig>;
  readonly bugs?: Bugs;
  readonly topics?: readonly {
    name: string;
    partitions?: number;
    replicationFactor?: number;
    minInsyncReplicas?: number;
  }[];
  /** Default 5000 (brokers are unfenced by then). */
  readonly createAtMs?: number;
}

interface Fixture {
  readonly kraft: KraftCluster;
  readonly events: TraceEvent[];
  readonly client: () => ScriptedClient;
  /** Runs `fn` at simulated time `atMs`. */
  readonly at: (atMs: number, fn: () => void) => void;
  /** Runs the world up to the simulated time `untilMs`. */
  readonly runTo: (untilMs: number) => void;
  /** Calls `listener` on every trace event, as it is emitted. */
  readonly onEvent: (listener: (event: TraceEvent) => void) => void;
}

function setup(spec: Setup = {}): Fixture {
  const events: TraceEvent[] = [];
  const listeners: ((event: TraceEvent) => void)[] = [];
  const kraft = buildKraftCluster({
    seed: spec.seed ?? 1,
    controllers: 3,
    brokers: 3,
    ...(spec.replica === undefined ? {} : { replica: spec.replica }),
    ...(spec.bugs === undefined ? {} : { bugs: spec.bugs }),
    trace: {
      sink: (event) => {
        events.push(event);
        for (const listener of listeners) listener(event);
      },
    },
  });
  kraft.world.addNode(CLIENT, (context) => new ScriptedClient(context));
  kraft.world.node(CLIENT).start();
  const topics = spec.topics ?? [{ name: TOPIC }];
  kraft.world.at(spec.createAtMs ?? 5_000, 'create-topics', () =>
    adminOf(kraft).createTopics(
      topics.map((topic) => ({
        name: topic.name,
        numPartitions: topic.partitions ?? 1,
        replicationFactor: topic.replicationFactor ?? 3,
        configs: { minInsyncReplicas: topic.minInsyncReplicas ?? 2 },
      })),
      (error, results) => {
        expect(error).toBe('NONE');
        for (const result of results) expect(result.error).toBe('NONE');
      },
    ),
  );
  return {
    kraft,
    events,
    client: () => kraft.world.node(CLIENT).machine as ScriptedClient,
    at: (atMs, fn) => {
      kraft.world.at(atMs, 'test-step', fn);
    },
    runTo: (untilMs) => {
      kraft.world.runFor(untilMs - kraft.world.nowMs);
    },
    onEvent: (listener) => {
      listeners.push(listener);
    },
  };
}

/** The committed partition state as the active controller has it. */
function stateOf(kraft: KraftCluster, topic = TOPIC, partition = 0): PartitionState {
  const image = activeController(kraft)?.image;
  const topicState = image?.topicByName(topic);
  const state = topicState?.partitions.get(partition);
  if (state === undefined) throw new Error(`no partition ${topic}-${partition} in the image`);
  return state;
}

function topicIdOf(kraft: KraftCluster, topic = TOPIC): string {
  const topicId = activeController(kraft)?.image.topicIdsByName.get(topic);
  if (topicId === undefined) throw new Error(`no topic ${topic}`);
  return topicId;
}

function replicaOn(kraft: KraftCluster, broker: string, topic = TOPIC, partition = 0): Replica {
  const manager = brokerOf(kraft, broker)?.replicaManager;
  const topicId = brokerOf(kraft, broker)?.image.topicIdsByName.get(topic);
  const replica = topicId === undefined ? undefined : manager?.replica(topicId, partition);
  if (replica === undefined) throw new Error(`${broker} has no replica of ${topic}-${partition}`);
  return replica;
}

/** A log as comparable data: [offset, key, value, leader epoch] per record. */
function contents(replica: Replica): (readonly [number, string | null, string | null, number])[] {
  return replica.log
    .batches()
    .flatMap((batch) =>
      batch.records.map(
        (record) => [record.offset, record.key, record.value, batch.leaderEpoch] as const,
      ),
    );
}

function valuesOf(replica: Replica): (string | null)[] {
  return contents(replica).map(([, , value]) => value);
}

function records(prefix: string, count: number, from = 0): RecordInput[] {
  return Array.from({ length: count }, (_, index) => ({
    key: `k-${from + index}`,
    value: `${prefix}-${from + index}`,
  }));
}

function followersOf(state: PartitionState): string[] {
  return state.replicas.filter((id) => id !== state.leader);
}

function eventsOf(events: readonly TraceEvent[], kind: string, node?: string): TraceEvent[] {
  return events.filter(
    (event) => event.kind === kind && (node === undefined || event.node === node),
  );
}

/** The answer to a one-partition produce request. */
function produceAnswer(
  client: ScriptedClient,
  requestId: number,
): ProducePartitionResponse & { atMs: number } {
  const answers = produceAnswers(client, requestId);
  expect(answers.partitions).toHaveLength(1);
  return { ...(answers.partitions[0] as ProducePartitionResponse), atMs: answers.atMs };
}

function produceAnswers(
  client: ScriptedClient,
  requestId: number,
): ProduceResponse & { atMs: number } {
  const answer = client.answer(requestId, 'client.produce-response');
  expect(answer, `produce request ${requestId} answered`).toBeDefined();
  const received = answer as NonNullable<typeof answer>;
  return { ...received.message, atMs: received.atMs };
}

function producerIdAnswer(
  client: ScriptedClient,
  requestId: number,
): InitProducerIdResponse | undefined {
  return client.answer(requestId, 'client.init-producer-id-response')?.message;
}

/** TOPIC's four partitions on three brokers: a broker that leads two of them (one must). */
function twoLedByOne(kraft: KraftCluster) {
  const states = [0, 1, 2, 3].map((partition) => stateOf(kraft, TOPIC, partition));
  const leader = kraft.brokers.find(
    (broker) => states.filter((state) => state.leader === broker).length >= 2,
  ) as string;
  const [p, q] = states.filter((state) => state.leader === leader) as [
    PartitionState,
    PartitionState,
  ];
  return { states, leader, p, q };
}

function errorOf(client: ScriptedClient, requestId: number): DataError {
  return produceAnswer(client, requestId).error;
}

// ---- the tests -----------------------------------------------------------------------------

describe('ReplicaManager on a KRaft cluster', () => {
  it('acks=all on RF 3 / min ISR 2: every replica ends with the same log, HW = LEO, offsets as acked', () => {
    const fx = setup();
    const history = new History(() => fx.kraft.world.nowMs);
    fx.kraft.world.addNode(
      'p1',
      (context) =>
        new Producer(context, {
          bootstrapBrokers: fx.kraft.brokers,
          acks: 'all',
          history,
          batchSize: 3,
        }),
    );
    fx.kraft.world.node('p1').start();
    for (let i = 0; i < 20; i++) {
      fx.at(7_000 + i * 37, () =>
        (fx.kraft.world.node('p1').machine as Producer).send({
          topic: TOPIC,
          partition: 0,
          key: `k-${i}`,
          value: `v-${i}`,
        }),
      );
    }
    fx.runTo(20_000);
    const oks = history.entries.filter((entry) => entry.type === 'ok');
    expect(oks).toHaveLength(20);
    expect(history.openCount).toBe(0);
    const state = stateOf(fx.kraft);
    expect(state.isr).toHaveLength(3);
    const leaderLog = contents(replicaOn(fx.kraft, state.leader as string));
    expect(leaderLog).toHaveLength(20);
    // The acked offsets are exactly 0..19 and each holds its own record in the leader's log.
    expect(oks.map((entry) => entry.offset ?? -1).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, index) => index),
    );
    for (const ok of oks) {
      const record = leaderLog[ok.offset as number];
      expect(record?.[1]).toBe(ok.key);
      expect(record?.[2]).toBe(ok.value);
      expect(record?.[3]).toBe(0);
    }
    for (const broker of fx.kraft.brokers) {
      const replica = replicaOn(fx.kraft, broker);
      expect(contents(replica), `${broker}'s log`).toEqual(leaderLog);
      expect(replica.logEndOffset).toBe(20);
      expect(replica.highWatermark, `${broker}'s HW`).toBe(20);
      expect(replica.role).toBe(broker === state.leader ? 'leader' : 'follower');
      expect(replica.leaderEpoch).toBe(state.leaderEpoch);
      expect(replica.log.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    }
  });

  it('answers NOT_LEADER_OR_FOLLOWER on a follower and a non-replica, UNKNOWN_TOPIC_OR_PARTITION for unknown topics and partitions', () => {
    const fx = setup({
      topics: [{ name: TOPIC }, { name: 'two', replicationFactor: 2 }],
    });
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const [follower] = followersOf(state) as [string];
    const two = stateOf(fx.kraft, 'two');
    const outsider = fx.kraft.brokers.find((id) => !two.replicas.includes(id)) as string;
    const client = fx.client();
    const onFollower = client.produce(follower, {
      topic: TOPIC,
      acks: '1',
      records: records('x', 1),
    });
    const onFollowerAll = client.produce(follower, {
      topic: TOPIC,
      acks: 'all',
      records: records('x', 1),
    });
    const onOutsider = client.produce(outsider, {
      topic: 'two',
      acks: '1',
      records: records('y', 1),
    });
    const unknownTopic = client.produce(state.leader as string, {
      topic: 'nope',
      acks: '1',
      records: records('z', 1),
    });
    const unknownPartition = client.produce(state.leader as string, {
      topic: TOPIC,
      partition: 7,
      acks: 'all',
      records: records('z', 1),
    });
    const onLeader = client.produce(state.leader as string, {
      topic: TOPIC,
      acks: '1',
      records: records('ok', 1),
    });
    fx.runTo(9_000);
    expect(errorOf(client, onFollower)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(errorOf(client, onFollowerAll)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(errorOf(client, onOutsider)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(errorOf(client, unknownTopic)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(errorOf(client, unknownPartition)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    for (const id of [onFollower, onOutsider, unknownTopic, unknownPartition]) {
      const answer = produceAnswer(client, id);
      expect([answer.baseOffset, answer.leaderEpoch]).toEqual([-1, -1]);
      expect(answer.partition).toBe(id === unknownPartition ? 7 : 0);
    }
    const ok = produceAnswer(client, onLeader);
    expect([ok.error, ok.baseOffset, ok.leaderEpoch]).toEqual(['NONE', 0, 0]);
    // Nothing was appended anywhere but the one record on the leader.
    for (const broker of fx.kraft.brokers)
      expect(valuesOf(replicaOn(fx.kraft, broker))).toEqual(['ok-0']);
  });

  it('takes one request for several partitions: each appended or refused alone, one answer once every acks=all partition is committed', () => {
    // Four partitions on three brokers: some broker leads two of them.
    const fx = setup({ topics: [{ name: TOPIC, partitions: 4 }] });
    fx.runTo(8_000);
    const { states, leader, p, q } = twoLedByOne(fx.kraft);
    const other = states.find((state) => state.leader !== leader) as PartitionState;
    const client = fx.client();
    const request = client.produceMany(leader, {
      acks: 'all',
      partitions: [
        { topic: TOPIC, partition: p.partition, records: records('p', 2) },
        { topic: TOPIC, partition: other.partition, records: records('o', 1) },
        { topic: TOPIC, partition: q.partition, records: records('q', 3) },
        { topic: 'nope', partition: 0, records: records('n', 1) },
      ],
    });
    fx.runTo(9_000);
    const answer = produceAnswers(client, request);
    expect(answer.partitions.map((each) => [each.partition, each.error, each.baseOffset])).toEqual([
      [p.partition, 'NONE', 0],
      [other.partition, 'NOT_LEADER_OR_FOLLOWER', -1],
      [q.partition, 'NONE', 0],
      [0, 'UNKNOWN_TOPIC_OR_PARTITION', -1],
    ]);
    expect(answer.partitions[3]?.topic).toBe('nope');
    // Answered only once both appended partitions were committed on every replica.
    for (const [state, count] of [
      [p, 2],
      [q, 3],
    ] as const) {
      const replica = replicaOn(fx.kraft, leader, TOPIC, state.partition);
      expect(replica.logEndOffset).toBe(count);
      expect(replica.highWatermark).toBe(count);
      for (const follower of followersOf(state))
        expect(valuesOf(replicaOn(fx.kraft, follower, TOPIC, state.partition))).toHaveLength(count);
    }
    const appends = eventsOf(fx.events, 'replica.append', leader);
    expect(appends.map((event) => event.fields?.records)).toEqual([2, 3]);
    // Not answered at the append: the followers had to fetch both first.
    expect(answer.atMs).toBeGreaterThan((appends[1] as TraceEvent).atMs + 1);
    // The partition led elsewhere got nothing.
    for (const broker of other.replicas)
      expect(replicaOn(fx.kraft, broker, TOPIC, other.partition).logEndOffset).toBe(0);
  });

  it('times out every acks=all partition of a request still waiting, in one answer', () => {
    const fx = setup({
      topics: [{ name: TOPIC, partitions: 4 }],
      replica: { replicaLagTimeMaxMs: 10_000 },
    });
    fx.runTo(8_000);
    const { leader, p, q } = twoLedByOne(fx.kraft);
    // The leader hears no follower: nothing it appends can be committed while the ISR holds.
    fx.kraft.world.partition([[leader], fx.kraft.brokers.filter((broker) => broker !== leader)]);
    const client = fx.client();
    let sentAtMs = 0;
    let request = -1;
    fx.at(8_500, () => {
      sentAtMs = fx.kraft.world.nowMs;
      request = client.produceMany(leader, {
        acks: 'all',
        timeoutMs: 2_000,
        partitions: [
          { topic: TOPIC, partition: p.partition, records: records('p', 1) },
          { topic: TOPIC, partition: q.partition, records: records('q', 2) },
        ],
      });
    });
    fx.runTo(10_000);
    expect(client.answer(request, 'client.produce-response')).toBeUndefined();
    fx.runTo(11_000);
    const answer = produceAnswers(client, request);
    expect(answer.partitions.map((each) => [each.partition, each.error, each.baseOffset])).toEqual([
      [p.partition, 'REQUEST_TIMED_OUT', -1],
      [q.partition, 'REQUEST_TIMED_OUT', -1],
    ]);
    expect(answer.atMs - sentAtMs).toBeGreaterThanOrEqual(2_000);
    expect(answer.atMs - sentAtMs).toBeLessThan(2_000 + 10);
    expect(replicaOn(fx.kraft, leader, TOPIC, p.partition).logEndOffset).toBe(1);
    expect(replicaOn(fx.kraft, leader, TOPIC, q.partition).logEndOffset).toBe(2);
  });

  it('rejects acks=all with NOT_ENOUGH_REPLICAS before the append once both followers left the ISR; acks=1 still appends', () => {
    const fx = setup({ replica: { replicaLagTimeMaxMs: 3_000 } });
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const client = fx.client();
    const before = client.produce(leader, { topic: TOPIC, acks: 'all', records: records('a', 2) });
    fx.runTo(9_000);
    expect(errorOf(client, before)).toBe('NONE');
    for (const follower of followersOf(state)) fx.kraft.world.crash(follower, 'kill');
    // Lag 3 s, checked every 1.5 s; the controller fences them after the 9 s session timeout anyway.
    fx.runTo(22_000);
    const shrunk = stateOf(fx.kraft);
    expect(shrunk.leader).toBe(leader);
    expect(shrunk.isr).toEqual([leader]);
    const replica = replicaOn(fx.kraft, leader);
    expect(replica.leaderState?.isr).toEqual([leader]);
    const leoBefore = replica.logEndOffset;
    const hwBefore = replica.highWatermark;
    const all = client.produce(leader, { topic: TOPIC, acks: 'all', records: records('b', 1) });
    fx.runTo(22_100);
    expect(errorOf(client, all)).toBe('NOT_ENOUGH_REPLICAS');
    expect(replica.logEndOffset).toBe(leoBefore);
    const one = client.produce(leader, { topic: TOPIC, acks: '1', records: records('c', 1) });
    const zero = client.produce(leader, { topic: TOPIC, acks: '0', records: records('d', 1) });
    fx.runTo(22_200);
    const answer = produceAnswer(client, one);
    expect([answer.error, answer.baseOffset]).toEqual(['NONE', leoBefore]);
    expect(client.answer(zero, 'client.produce-response')).toBeUndefined();
    expect(replica.logEndOffset).toBe(leoBefore + 2);
    expect(valuesOf(replica).slice(-2)).toEqual(['c-0', 'd-0']);
    // Below min ISR the high watermark stays put (KAFKA-15583).
    expect(replica.highWatermark).toBe(hwBefore);
  });

  it('appends an acks=all write a lagging ISR member never fetches and answers REQUEST_TIMED_OUT after timeoutMs; it commits once the ISR shrinks', () => {
    const fx = setup({ replica: { replicaLagTimeMaxMs: 10_000, replicaSocketTimeoutMs: 3_000 } });
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const [stuck, healthy] = followersOf(state) as [string, string];
    fx.kraft.world.partition([[leader], [stuck]]);
    const client = fx.client();
    let sentAtMs = 0;
    let request = -1;
    fx.at(8_500, () => {
      sentAtMs = fx.kraft.world.nowMs;
      request = client.produce(leader, {
        topic: TOPIC,
        acks: 'all',
        timeoutMs: 2_000,
        records: records('w', 3),
      });
    });
    fx.runTo(8_600);
    const replica = replicaOn(fx.kraft, leader);
    // Appended at once; the healthy follower copies it too, but the ISR still counts the stuck one.
    expect(replica.logEndOffset).toBe(3);
    const appended = eventsOf(fx.events, 'replica.append', leader);
    expect(appended).toHaveLength(1);
    fx.runTo(12_000);
    const answer = produceAnswer(client, request);
    expect(answer.error).toBe('REQUEST_TIMED_OUT');
    expect([answer.baseOffset, answer.leaderEpoch]).toEqual([-1, -1]);
    const appendedAtMs = (appended[0] as TraceEvent).atMs;
    expect(answer.atMs - appendedAtMs).toBeGreaterThanOrEqual(2_000);
    expect(answer.atMs - sentAtMs).toBeLessThan(2_000 + 10);
    expect(replica.highWatermark).toBe(0);
    expect(replicaOn(fx.kraft, healthy).logEndOffset).toBe(3);
    expect(stateOf(fx.kraft).isr).toContain(stuck);
    // The stuck follower leaves the ISR after the lag time (checked every 5 s); the write is then
    // committed.
    fx.runTo(25_000);
    expect(stateOf(fx.kraft).isr).not.toContain(stuck);
    expect(replica.highWatermark).toBe(3);
  });

  it('answers NOT_ENOUGH_REPLICAS_AFTER_APPEND only with hw-ignores-min-isr; REQUEST_TIMED_OUT without it', () => {
    const outcome = (bugs: Bugs) => {
      const fx = setup({ replica: { replicaLagTimeMaxMs: 3_000 }, bugs });
      fx.runTo(8_000);
      const state = stateOf(fx.kraft);
      const leader = state.leader as string;
      fx.kraft.world.partition([[leader], followersOf(state)]);
      const client = fx.client();
      const request = client.produce(leader, {
        topic: TOPIC,
        acks: 'all',
        timeoutMs: 10_000,
        records: records('w', 1),
      });
      fx.runTo(20_000);
      expect(stateOf(fx.kraft).isr).toEqual([leader]);
      expect(replicaOn(fx.kraft, leader).logEndOffset).toBe(1);
      return errorOf(client, request);
    };
    expect(outcome(new Set())).toBe('REQUEST_TIMED_OUT');
    expect(outcome(new Set(['hw-ignores-min-isr']))).toBe('NOT_ENOUGH_REPLICAS_AFTER_APPEND');
  });

  it('shrinks the ISR of a follower cut off from its leader after replicaLagTimeMaxMs and takes it back once it caught up', () => {
    const fx = setup({
      replica: { replicaLagTimeMaxMs: 3_000, replicaSocketTimeoutMs: 2_000 },
    });
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const [cut] = followersOf(state) as [string];
    const isrOverTime: { atMs: number; isr: readonly string[] }[] = [];
    for (let atMs = 8_000; atMs <= 30_000; atMs += 250)
      fx.at(atMs, () => isrOverTime.push({ atMs, isr: stateOf(fx.kraft).isr }));
    const client = fx.client();
    for (let i = 0; i < 20; i++)
      fx.at(9_000 + i * 500, () =>
        client.produce(leader, { topic: TOPIC, acks: 'all', records: records('r', 1, i) }),
      );
    fx.at(10_000, () => fx.kraft.world.partition([[leader], [cut]]));
    fx.at(20_000, () => fx.kraft.world.heal());
    fx.runTo(30_000);
    const without = isrOverTime.filter((sample) => !sample.isr.includes(cut));
    expect(without.length).toBeGreaterThan(0);
    const shrunkAtMs = (without[0] as { atMs: number }).atMs;
    // Not before the lag time, counted from the follower's last caught-up fetch (at most one fetch
    // wait, 500 ms, before the cut), and within one check interval (1.5 s) plus the round trips.
    expect(shrunkAtMs).toBeGreaterThan(12_500);
    expect(shrunkAtMs).toBeLessThanOrEqual(15_000);
    const rejoined = isrOverTime.filter(
      (sample) => sample.atMs > shrunkAtMs && sample.isr.includes(cut),
    );
    expect(rejoined.length).toBeGreaterThan(0);
    const rejoinedAtMs = (rejoined[0] as { atMs: number }).atMs;
    expect(rejoinedAtMs).toBeGreaterThan(20_000);
    expect(rejoinedAtMs).toBeLessThan(26_000);
    // Out of the ISR for the whole cut (never back before the heal), in it at the end.
    for (const sample of isrOverTime)
      if (sample.atMs >= shrunkAtMs && sample.atMs <= 20_000) expect(sample.isr).not.toContain(cut);
    expect(new Set(stateOf(fx.kraft).isr)).toEqual(new Set(state.replicas));
    expect(stateOf(fx.kraft).leader).toBe(leader);
    const shrinks = eventsOf(fx.events, 'replica.isr-shrink', leader);
    expect(shrinks.map((event) => event.fields?.lagging)).toEqual([cut]);
    const expands = eventsOf(fx.events, 'replica.isr-expand', leader);
    expect(expands.map((event) => event.fields?.joining)).toEqual([cut]);
    // Every write was acked (ISR 2 ≥ min ISR during the cut) and the cut follower caught up.
    for (let i = 0; i < 20; i++) expect(errorOf(client, i + 1)).toBe('NONE');
    const leaderLog = contents(replicaOn(fx.kraft, leader));
    expect(leaderLog).toHaveLength(20);
    for (const broker of fx.kraft.brokers) {
      expect(contents(replicaOn(fx.kraft, broker))).toEqual(leaderLog);
      expect(replicaOn(fx.kraft, broker).highWatermark).toBe(20);
    }
  });

  it('truncates the divergent tail of a restarted old leader (diverging-epoch) and ends identical to the new leader', () => {
    const fx = setup({ replica: { replicaSocketTimeoutMs: 3_000 } });
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const oldLeader = state.leader as string;
    const client = fx.client();
    const committed = client.produce(oldLeader, {
      topic: TOPIC,
      acks: 'all',
      records: records('c', 4),
    });
    fx.runTo(9_000);
    expect(errorOf(client, committed)).toBe('NONE');
    // Cut the leader off from its followers (not from the controllers): acks=1 writes stay on it.
    fx.kraft.world.partition([[oldLeader], followersOf(state)]);
    const divergent = [1, 2, 3].map((i) =>
      client.produce(oldLeader, { topic: TOPIC, acks: '1', records: records('lost', 2, 2 * i) }),
    );
    fx.runTo(9_500);
    for (const id of divergent) expect(errorOf(client, id)).toBe('NONE');
    expect(replicaOn(fx.kraft, oldLeader).logEndOffset).toBe(10);
    fx.kraft.world.crash(oldLeader, 'kill');
    fx.kraft.world.heal();
    fx.runTo(22_000);
    const elected = stateOf(fx.kraft);
    const newLeader = elected.leader as string;
    expect(newLeader).not.toBe(oldLeader);
    expect(elected.leaderEpoch).toBe(1);
    const fresh = client.produce(newLeader, {
      topic: TOPIC,
      acks: 'all',
      records: records('n', 3),
    });
    fx.runTo(23_000);
    const freshAnswer = produceAnswer(client, fresh);
    expect([freshAnswer.error, freshAnswer.baseOffset, freshAnswer.leaderEpoch]).toEqual([
      'NONE',
      4,
      1,
    ]);
    fx.kraft.world.restart(oldLeader);
    fx.runTo(40_000);
    const truncations = eventsOf(fx.events, 'replica.truncate', oldLeader);
    expect(truncations.map((event) => event.fields)).toEqual([
      {
        partition: partitionKey(topicIdOf(fx.kraft), 0),
        from: 10,
        to: 4,
        reason: 'diverging-epoch',
      },
    ]);
    const leaderLog = contents(replicaOn(fx.kraft, newLeader));
    expect(leaderLog.map(([, , value]) => value)).toEqual([
      'c-0',
      'c-1',
      'c-2',
      'c-3',
      'n-0',
      'n-1',
      'n-2',
    ]);
    for (const broker of fx.kraft.brokers) {
      const replica = replicaOn(fx.kraft, broker);
      expect(contents(replica), `${broker}'s log`).toEqual(leaderLog);
      expect(replica.log.epochEntries()).toEqual([
        { epoch: 0, startOffset: 0 },
        { epoch: 1, startOffset: 4 },
      ]);
      expect(replica.highWatermark).toBe(7);
    }
    // The old leader rejoined the ISR once caught up.
    expect(new Set(stateOf(fx.kraft).isr)).toEqual(new Set(state.replicas));
  });

  it('fails an acks=all write still waiting with NOT_LEADER_OR_FOLLOWER once a deposed leader learns of the new epoch, then truncates it', () => {
    const fx = setup();
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const oldLeader = state.leader as string;
    const client = fx.client();
    const committed = client.produce(oldLeader, {
      topic: TOPIC,
      acks: 'all',
      records: records('c', 2),
    });
    fx.runTo(8_500);
    expect(errorOf(client, committed)).toBe('NONE');
    // The old leader keeps only the client: fenced after the session timeout, replaced.
    const others = [
      ...fx.kraft.controllers,
      ...fx.kraft.brokers.filter((id) => id !== oldLeader),
      'admin',
    ];
    fx.kraft.world.partition([[oldLeader, CLIENT], others]);
    const waiting = client.produce(oldLeader, {
      topic: TOPIC,
      acks: 'all',
      timeoutMs: 60_000,
      records: records('z', 1),
    });
    fx.runTo(20_000);
    expect(client.answer(waiting, 'client.produce-response')).toBeUndefined();
    expect(replicaOn(fx.kraft, oldLeader).role).toBe('leader');
    expect(replicaOn(fx.kraft, oldLeader).logEndOffset).toBe(3);
    const elected = stateOf(fx.kraft);
    expect(elected.leader).not.toBe(oldLeader);
    expect(elected.leaderEpoch).toBe(1);
    fx.kraft.world.heal();
    fx.runTo(35_000);
    const answer = produceAnswer(client, waiting);
    expect(answer.error).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(answer.atMs).toBeGreaterThan(20_000);
    expect(replicaOn(fx.kraft, oldLeader).role).toBe('follower');
    expect(
      eventsOf(fx.events, 'replica.truncate', oldLeader).map((event) => event.fields?.reason),
    ).toEqual(['diverging-epoch']);
    for (const broker of fx.kraft.brokers)
      expect(valuesOf(replicaOn(fx.kraft, broker)), broker).toEqual(['c-0', 'c-1']);
  });

  it('stops fetching a partition fenced at the epoch it holds until the metadata brings a newer one (onPartitionFenced)', () => {
    const fx = setup();
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const followers = followersOf(state);
    // As if the leader had moved on an epoch its followers' metadata has not reached yet: each
    // follower's next fetch is answered FENCED_LEADER_EPOCH.
    replicaOn(fx.kraft, leader).leaderEpoch = state.leaderEpoch + 1;
    const fetchesFrom = (follower: string, target: string, fromMs: number) =>
      eventsOf(fx.events, 'net.deliver', target).filter(
        (event) =>
          event.fields?.source === follower &&
          event.fields?.type === 'fetch' &&
          event.atMs >= fromMs,
      ).length;
    fx.runTo(9_000);
    for (const follower of followers) expect(replicaOn(fx.kraft, follower).fetchable).toBe(false);
    // Kafka's fetcher drops the partition (markPartitionFailed): no retry at the backoff.
    fx.runTo(15_000);
    for (const follower of followers) expect(fetchesFrom(follower, leader, 9_000)).toBe(0);
    // A new leader (a new epoch in the metadata): the survivors fetch again, from it.
    fx.kraft.world.crash(leader, 'kill');
    fx.runTo(25_000);
    const elected = stateOf(fx.kraft);
    expect(elected.leaderEpoch).toBeGreaterThan(state.leaderEpoch);
    const follower = followers.find((id) => id !== elected.leader) as string;
    expect(replicaOn(fx.kraft, follower).fetchable).toBe(true);
    expect(fetchesFrom(follower, elected.leader as string, 15_000)).toBeGreaterThan(0);
  });

  it('serves fetches with KIP-320 fencing errors, diverging epochs, out-of-range offsets, and consumers only below the HW', () => {
    const fx = setup({ replica: { replicaSocketTimeoutMs: 2_000 } });
    fx.runTo(8_000);
    const first = stateOf(fx.kraft);
    const client = fx.client();
    client.produce(first.leader as string, { topic: TOPIC, acks: 'all', records: records('a', 4) });
    fx.runTo(8_500);
    fx.kraft.world.stop(first.leader as string);
    fx.runTo(11_000);
    const second = stateOf(fx.kraft);
    const leader = second.leader as string;
    expect(second.leaderEpoch).toBe(1);
    const epoch1 = client.produce(leader, { topic: TOPIC, acks: 'all', records: records('b', 3) });
    fx.kraft.world.restart(first.leader as string);
    fx.runTo(20_000);
    expect(errorOf(client, epoch1)).toBe('NONE');
    expect(new Set(stateOf(fx.kraft).isr)).toEqual(new Set(first.replicas));
    // Two acks=1 records the cut-off follower cannot fetch: LEO 9, HW stays 7.
    const [cut, other] = followersOf(stateOf(fx.kraft)) as [string, string];
    fx.kraft.world.partition([[leader], [cut]]);
    client.produce(leader, { topic: TOPIC, acks: '1', records: records('c', 2) });
    fx.runTo(21_000);
    const replica = replicaOn(fx.kraft, leader);
    expect([replica.logEndOffset, replica.highWatermark]).toEqual([9, 7]);
    const topicId = topicIdOf(fx.kraft);
    let requestIdNext = 1_000;
    const fetch = (
      target: string,
      partition: {
        fetchOffset: number;
        lastFetchedEpoch?: number;
        currentLeaderEpoch?: number;
        topicId?: string;
      },
      maxWaitMs = 0,
      maxBytes = 1_000_000,
    ) => {
      const requestId = requestIdNext++;
      client.send(target, {
        kind: 'fetch',
        requestId,
        replicaId: null,
        replicaEpoch: -1,
        maxWaitMs,
        maxBytes,
        partitions: [
          {
            topicId: partition.topicId ?? topicId,
            partition: 0,
            fetchOffset: partition.fetchOffset,
            lastFetchedEpoch: partition.lastFetchedEpoch ?? -1,
            currentLeaderEpoch: partition.currentLeaderEpoch ?? 1,
          },
        ],
      });
      return requestId;
    };
    const answerOf = (requestId: number) => {
      const received = client.answer(requestId, 'fetch-response');
      const partition = received?.message.partitions[0];
      if (partition === undefined) throw new Error(`no answer to fetch ${requestId}`);
      return {
        atMs: received?.atMs as number,
        error: partition.error,
        highWatermark: partition.highWatermark,
        logEndOffset: partition.logEndOffset,
        leaderEpoch: partition.leaderEpoch,
        divergingEpoch: partition.divergingEpoch,
        offsets: partition.batches.flatMap((batch) => batch.records.map((record) => record.offset)),
      };
    };
    const all = fetch(leader, { fetchOffset: 0 });
    const unchecked = fetch(leader, { fetchOffset: 0, currentLeaderEpoch: -1 });
    const fenced = fetch(leader, { fetchOffset: 0, currentLeaderEpoch: 0 });
    const unknownEpoch = fetch(leader, { fetchOffset: 0, currentLeaderEpoch: 2 });
    const onFollower = fetch(other, { fetchOffset: 0 });
    const diverged = fetch(leader, { fetchOffset: 6, lastFetchedEpoch: 0 });
    const agreed = fetch(leader, { fetchOffset: 4, lastFetchedEpoch: 0 });
    const laterEpoch = fetch(leader, { fetchOffset: 9, lastFetchedEpoch: 5 });
    const outOfRange = fetch(leader, { fetchOffset: 100 });
    const unknownTopic = fetch(leader, { fetchOffset: 0, topicId: 'nope-1' });
    const firstBatchBytes = replica.log.batches()[0]?.sizeBytes as number;
    // KIP-74: at least one whole batch, however small maxBytes is; never more than fits after it.
    const tiny = fetch(leader, { fetchOffset: 0 }, 0, 1);
    const oneBatch = fetch(leader, { fetchOffset: 0 }, 0, firstBatchBytes + 1);
    const middle = fetch(leader, { fetchOffset: 5 }, 0, 1);
    fx.runTo(21_100);
    expect(answerOf(tiny).offsets).toEqual([0, 1, 2, 3]);
    expect(answerOf(oneBatch).offsets).toEqual([0, 1, 2, 3]);
    expect(answerOf(middle).offsets).toEqual([4, 5, 6]);
    expect(answerOf(all)).toMatchObject({
      error: 'NONE',
      highWatermark: 7,
      logEndOffset: 9,
      leaderEpoch: 1,
      divergingEpoch: null,
      offsets: [0, 1, 2, 3, 4, 5, 6],
    });
    expect(answerOf(unchecked)).toMatchObject({ error: 'NONE', offsets: [0, 1, 2, 3, 4, 5, 6] });
    expect(answerOf(fenced)).toMatchObject({
      error: 'FENCED_LEADER_EPOCH',
      leaderEpoch: 1,
      offsets: [],
    });
    expect(answerOf(unknownEpoch)).toMatchObject({
      error: 'UNKNOWN_LEADER_EPOCH',
      leaderEpoch: 1,
      offsets: [],
    });
    expect(answerOf(onFollower)).toMatchObject({ error: 'NOT_LEADER_OR_FOLLOWER', offsets: [] });
    expect(answerOf(diverged)).toMatchObject({
      error: 'NONE',
      divergingEpoch: { epoch: 0, endOffset: 4 },
      offsets: [],
    });
    expect(answerOf(agreed)).toMatchObject({
      error: 'NONE',
      divergingEpoch: null,
      offsets: [4, 5, 6],
    });
    expect(answerOf(laterEpoch)).toMatchObject({ divergingEpoch: { epoch: 1, endOffset: 9 } });
    expect(answerOf(outOfRange)).toMatchObject({ error: 'OFFSET_OUT_OF_RANGE', offsets: [] });
    expect(answerOf(unknownTopic)).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    // A consumer at the HW is held (long poll) until the HW moves, then answered at once.
    const held = fetch(leader, { fetchOffset: 7, lastFetchedEpoch: 1 }, 20_000);
    const heldEmpty = fetch(leader, { fetchOffset: 7, lastFetchedEpoch: 1 }, 300);
    fx.runTo(22_000);
    expect(client.answer(held, 'fetch-response')).toBeUndefined();
    const empty = answerOf(heldEmpty);
    expect(empty).toMatchObject({ error: 'NONE', highWatermark: 7, offsets: [] });
    expect(empty.atMs).toBeGreaterThanOrEqual(21_100 + 300);
    fx.kraft.world.heal();
    fx.runTo(30_000);
    expect(replica.highWatermark).toBe(9);
    const released = answerOf(held);
    expect(released).toMatchObject({ error: 'NONE', highWatermark: 9, offsets: [7, 8] });
    expect(released.atMs).toBeLessThan(26_000);
  });

  it('stamps batches with increasing leader epochs across two leader changes', () => {
    const fx = setup({ topics: [{ name: TOPIC, minInsyncReplicas: 1 }] });
    fx.runTo(8_000);
    const client = fx.client();
    const leaders: string[] = [];
    const writes: number[] = [];
    const writeRound = (round: number) => {
      const state = stateOf(fx.kraft);
      leaders.push(state.leader as string);
      writes.push(
        client.produce(state.leader as string, {
          topic: TOPIC,
          acks: 'all',
          records: records(`e${round}`, 2),
        }),
      );
    };
    writeRound(0);
    fx.runTo(9_000);
    // First change: a controlled shutdown of the leader.
    fx.kraft.world.stop(leaders[0] as string);
    fx.runTo(12_000);
    writeRound(1);
    fx.runTo(13_000);
    // Second change: a kill of the new leader (fenced after the session timeout).
    fx.kraft.world.restart(leaders[0] as string);
    fx.kraft.world.crash(leaders[1] as string, 'kill');
    fx.runTo(26_000);
    writeRound(2);
    fx.runTo(27_000);
    fx.kraft.world.restart(leaders[1] as string);
    fx.runTo(40_000);
    expect(new Set(leaders).size).toBe(3);
    const epochs = writes.map((id) => produceAnswer(fx.client(), id));
    for (const answer of epochs) expect(answer.error).toBe('NONE');
    expect(epochs.map((answer) => answer.baseOffset)).toEqual([0, 2, 4]);
    const leaderEpochs = epochs.map((answer) => answer.leaderEpoch);
    expect(leaderEpochs[0]).toBe(0);
    expect(leaderEpochs[1]).toBeGreaterThan(leaderEpochs[0] as number);
    expect(leaderEpochs[2]).toBeGreaterThan(leaderEpochs[1] as number);
    const final = stateOf(fx.kraft);
    expect(final.leaderEpoch).toBe(leaderEpochs[2]);
    for (const broker of fx.kraft.brokers) {
      const replica = replicaOn(fx.kraft, broker);
      const batches = replica.log.batches();
      expect(batches.map((batch) => [batch.baseOffset, batch.leaderEpoch])).toEqual([
        [0, leaderEpochs[0]],
        [2, leaderEpochs[1]],
        [4, leaderEpochs[2]],
      ]);
      expect(replica.log.epochEntries()).toEqual([
        { epoch: leaderEpochs[0], startOffset: 0 },
        { epoch: leaderEpochs[1], startOffset: 2 },
        { epoch: leaderEpochs[2], startOffset: 4 },
      ]);
      expect(replica.leaderEpoch).toBe(final.leaderEpoch);
    }
  });

  it('restarts a killed follower with the checkpointed HW (≤ LEO), and clamps it to the LEO after a power failure', () => {
    const fx = setup();
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const [killed, powered] = followersOf(state) as [string, string];
    const key = partitionKey(topicIdOf(fx.kraft), 0);
    const client = fx.client();
    client.produce(leader, { topic: TOPIC, acks: 'all', records: records('a', 5) });
    // The checkpoints run every 5 s from each broker's start; 10 s later every broker wrote HW 5.
    fx.runTo(19_000);
    const checkpointOf = (broker: string) => {
      const disk = fx.kraft.world.node(broker).disk;
      if (!disk.has(HIGH_WATERMARK_CHECKPOINT_FILE)) return undefined;
      return disk.checkpoint<Record<string, number>>(HIGH_WATERMARK_CHECKPOINT_FILE).read()?.[key];
    };
    expect(checkpointOf(killed)).toBe(5);
    expect(checkpointOf(powered)).toBe(5);
    // More writes, committed everywhere, then the crash before the next checkpoint.
    const more = client.produce(leader, { topic: TOPIC, acks: 'all', records: records('b', 5) });
    const crashAtMs = fx.kraft.world.nowMs + 1_200;
    fx.at(crashAtMs, () => {
      expect(errorOf(client, more)).toBe('NONE');
      for (const broker of [killed, powered]) {
        const replica = replicaOn(fx.kraft, broker);
        expect(replica.logEndOffset).toBe(10);
        expect(replica.highWatermark).toBe(10);
        // Still the old checkpoint on disk.
        expect(checkpointOf(broker)).toBe(5);
      }
      fx.kraft.world.crash(killed, 'kill');
      fx.kraft.world.crash(powered, 'powerFailure');
    });
    fx.runTo(crashAtMs + 1);
    fx.kraft.world.restart(killed);
    fx.kraft.world.restart(powered);
    // The replica opens once the broker has registered again; look at the first role it takes.
    const opened = (broker: string) => {
      const taken = fx.events.filter(
        (event) =>
          event.node === broker &&
          event.kind === 'replica.follower' &&
          event.atMs > crashAtMs &&
          event.fields?.partition === key,
      );
      return taken[0]?.fields;
    };
    fx.runTo(crashAtMs + 20_000);
    // A kill keeps the whole log: the HW comes back from the checkpoint, below the LEO.
    expect(opened(killed)).toMatchObject({ logEndOffset: 10, highWatermark: 5 });
    // A power failure loses the unflushed log (no flush.ms, 30 s write-back), not the checkpoint
    // written durably: the HW must not come back above the LEO.
    const powerOpened = opened(powered);
    expect(powerOpened).toBeDefined();
    const leo = powerOpened?.logEndOffset as number;
    expect(leo).toBeLessThan(10);
    expect(powerOpened?.highWatermark).toBe(Math.min(5, leo));
    // Both caught up again.
    for (const broker of fx.kraft.brokers) {
      expect(replicaOn(fx.kraft, broker).logEndOffset).toBe(10);
      expect(replicaOn(fx.kraft, broker).highWatermark).toBe(10);
    }
  });

  it('deduplicates a repeated idempotent batch with the original offset, refuses a sequence gap, and takes any first sequence from a producer it has no state for', () => {
    const fx = setup();
    fx.runTo(8_000);
    const leader = stateOf(fx.kraft).leader as string;
    const client = fx.client();
    const init = client.initProducerId(leader);
    fx.runTo(8_100);
    const initAnswer = producerIdAnswer(client, init);
    expect(initAnswer?.error).toBe('NONE');
    const producerId = initAnswer?.producerId as number;
    expect(producerId).toBeGreaterThanOrEqual(0);
    const batch = (from: number, count: number, value = 'v'): RecordInput[] =>
      Array.from({ length: count }, (_, index) => ({
        key: null,
        value: `${value}-${from + index}`,
        producerId,
        sequence: from + index,
      }));
    const send = (records: RecordInput[], acks: 'all' | '1' = 'all') =>
      client.produce(leader, { topic: TOPIC, acks, records });
    // Another producer's plain record first, so the idempotent offsets do not start at 0.
    const plain = send(records('plain', 1), '1');
    fx.runTo(8_200);
    const first = send(batch(0, 3));
    fx.runTo(8_400);
    const again = send(batch(0, 3));
    const second = send(batch(3, 2));
    fx.runTo(8_600);
    const gap = send(batch(7, 1));
    const staleDuplicate = send(batch(0, 3));
    const wrongStart = client.produce(leader, {
      topic: TOPIC,
      acks: 'all',
      records: [{ key: null, value: 'other', producerId: producerId + 1, sequence: 4 }],
    });
    fx.runTo(9_000);
    expect(produceAnswer(client, plain).baseOffset).toBe(0);
    const firstAnswer = produceAnswer(client, first);
    expect([firstAnswer.error, firstAnswer.baseOffset]).toEqual(['NONE', 1]);
    const againAnswer = produceAnswer(client, again);
    expect([againAnswer.error, againAnswer.baseOffset]).toEqual(['NONE', 1]);
    const secondAnswer = produceAnswer(client, second);
    expect([secondAnswer.error, secondAnswer.baseOffset]).toEqual(['NONE', 4]);
    expect(errorOf(client, gap)).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    const staleAnswer = produceAnswer(client, staleDuplicate);
    expect([staleAnswer.error, staleAnswer.baseOffset]).toEqual(['NONE', 1]);
    // A producer the leader has no state for starts wherever it starts (Kafka's checkSequence).
    const wrongStartAnswer = produceAnswer(client, wrongStart);
    expect([wrongStartAnswer.error, wrongStartAnswer.baseOffset]).toEqual(['NONE', 6]);
    const expected = ['plain-0', 'v-0', 'v-1', 'v-2', 'v-3', 'v-4', 'other'];
    for (const broker of fx.kraft.brokers)
      expect(valuesOf(replicaOn(fx.kraft, broker)), broker).toEqual(expected);
    // A new leader rebuilds the producer state from its log: a retry still deduplicates there.
    fx.kraft.world.stop(leader);
    fx.runTo(12_000);
    const newLeader = stateOf(fx.kraft).leader as string;
    expect(newLeader).not.toBe(leader);
    const retried = client.produce(newLeader, { topic: TOPIC, acks: 'all', records: batch(3, 2) });
    const next = client.produce(newLeader, { topic: TOPIC, acks: 'all', records: batch(5, 1) });
    const gapThere = client.produce(newLeader, { topic: TOPIC, acks: 'all', records: batch(9, 1) });
    fx.runTo(13_000);
    const retriedAnswer = produceAnswer(client, retried);
    expect([retriedAnswer.error, retriedAnswer.baseOffset]).toEqual(['NONE', 4]);
    const nextAnswer = produceAnswer(client, next);
    expect([nextAnswer.error, nextAnswer.baseOffset]).toEqual(['NONE', 7]);
    expect(errorOf(client, gapThere)).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(valuesOf(replicaOn(fx.kraft, newLeader))).toEqual([...expected, 'v-5']);
  });

  it("refuses a follower's fetch from a previous incarnation with NOT_LEADER_OR_FOLLOWER (KIP-903)", () => {
    const fx = setup();
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const [follower] = followersOf(state) as [string];
    const registered = brokerOf(fx.kraft, leader)?.image.broker(follower)?.brokerEpoch as number;
    const client = fx.client();
    const fetchAs = (replicaEpoch: number, requestId: number) =>
      client.send(leader, {
        kind: 'fetch',
        requestId,
        replicaId: follower,
        replicaEpoch,
        maxWaitMs: 0,
        maxBytes: 1_000_000,
        partitions: [
          {
            topicId: topicIdOf(fx.kraft),
            partition: 0,
            fetchOffset: 0,
            lastFetchedEpoch: -1,
            currentLeaderEpoch: state.leaderEpoch,
          },
        ],
      });
    fetchAs(registered - 1, 9_001);
    fetchAs(registered, 9_002);
    fx.runTo(8_100);
    const errorOfFetch = (requestId: number) =>
      client.answer(requestId, 'fetch-response')?.message.partitions[0]?.error;
    expect(errorOfFetch(9_001)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(errorOfFetch(9_002)).toBe('NONE');
  });

  it('hands out distinct producer ids from every broker and incarnation, none before registration', () => {
    const fx = setup();
    fx.runTo(8_000);
    const client = fx.client();
    const requests = [...fx.kraft.brokers, ...fx.kraft.brokers].map((broker) =>
      client.initProducerId(broker),
    );
    fx.runTo(8_100);
    const ids = requests.map((id) => {
      const answer = producerIdAnswer(client, id);
      expect(answer?.error).toBe('NONE');
      return answer?.producerId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    // A restarted broker answers BROKER_NOT_AVAILABLE until registered, then ids unused so far.
    fx.kraft.world.crash('b1', 'kill');
    fx.kraft.world.restart('b1');
    const early = client.initProducerId('b1');
    fx.runTo(8_200);
    expect(producerIdAnswer(client, early)?.error).toBe('BROKER_NOT_AVAILABLE');
    fx.runTo(25_000);
    expect(brokerOf(fx.kraft, 'b1')?.state).toBe('running');
    const later = [client.initProducerId('b1'), client.initProducerId('b1')];
    fx.runTo(25_100);
    for (const id of later) {
      const answer = producerIdAnswer(client, id);
      expect(answer?.error).toBe('NONE');
      ids.push(answer?.producerId);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('catches a follower up on a backlog larger than replicaFetchMaxBytes in several fetches', () => {
    const fx = setup({ replica: { replicaFetchMaxBytes: 300, replicaSocketTimeoutMs: 2_000 } });
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const [behind] = followersOf(state) as [string];
    fx.kraft.world.partition([[leader], [behind]]);
    const client = fx.client();
    for (let i = 0; i < 30; i++)
      client.produce(leader, { topic: TOPIC, acks: '1', records: records('backlog', 2, 2 * i) });
    fx.runTo(9_000);
    expect(replicaOn(fx.kraft, leader).logEndOffset).toBe(60);
    expect(replicaOn(fx.kraft, behind).logEndOffset).toBe(0);
    const progress: number[] = [];
    fx.onEvent((event) => {
      if (event.node !== behind || event.kind !== 'net.deliver') return;
      const end = brokerOf(fx.kraft, behind)?.replicaManager.replicas()[0]?.logEndOffset;
      if (end !== undefined && progress[progress.length - 1] !== end) progress.push(end);
    });
    fx.kraft.world.heal();
    fx.runTo(15_000);
    expect(contents(replicaOn(fx.kraft, behind))).toEqual(contents(replicaOn(fx.kraft, leader)));
    // Each fetch brought a few batches (about 100 bytes each), never the whole backlog at once.
    const steps = progress.slice(1).map((end, index) => end - (progress[index] as number));
    expect(steps.length).toBeGreaterThan(5);
    for (const step of steps) expect(step).toBeLessThanOrEqual(8);
  });

  it('moves leadership away in a controlled shutdown, flushes logs and HW checkpoint, writes the clean-shutdown marker, loses no acked write', () => {
    const fx = setup({ topics: [{ name: TOPIC, partitions: 3 }] });
    const history = new History(() => fx.kraft.world.nowMs);
    fx.kraft.world.addNode(
      'p1',
      (context) =>
        new Producer(context, {
          bootstrapBrokers: fx.kraft.brokers,
          acks: 'all',
          history,
          requestTimeoutMs: 3_000,
          deliveryTimeoutMs: 20_000,
        }),
    );
    fx.kraft.world.node('p1').start();
    fx.at(7_000, () =>
      (fx.kraft.world.node('p1').machine as Producer).startWorkload({
        topic: TOPIC,
        everyMs: 20,
        count: 400,
      }),
    );
    fx.runTo(9_000);
    const victim = stateOf(fx.kraft, TOPIC, 0).leader as string;
    const victimBroker = brokerOf(fx.kraft, victim);
    const committedAtStop: PartitionState[] = [];
    fx.onEvent((event) => {
      if (event.node === victim && event.kind === 'node.stopped')
        for (let partition = 0; partition < 3; partition++)
          committedAtStop.push(stateOf(fx.kraft, TOPIC, partition));
    });
    fx.kraft.world.stop(victim);
    fx.runTo(15_000);
    expect(eventsOf(fx.events, 'broker.controlled-shutdown', victim)).toHaveLength(1);
    expect(fx.kraft.world.node(victim).downReason).toBe('stop');
    expect(eventsOf(fx.events, 'node.stop-timeout', victim)).toEqual([]);
    // When it stopped, the committed metadata had moved every leadership away and out of every ISR.
    expect(committedAtStop).toHaveLength(3);
    for (const state of committedAtStop) {
      expect(state.leader).not.toBe(victim);
      expect(state.leader).not.toBeNull();
      expect(state.isr).not.toContain(victim);
    }
    expect(committedAtStop[0]?.leaderEpoch).toBe(1);
    const disk = fx.kraft.world.node(victim).disk;
    expect(disk.has(CLEAN_SHUTDOWN_FILE)).toBe(true);
    expect(disk.checkpoint<{ brokerEpoch: number }>(CLEAN_SHUTDOWN_FILE).readDurable()).toEqual({
      brokerEpoch: activeController(fx.kraft)?.image.broker(victim)?.brokerEpoch,
    });
    // Every log is flushed in full, and the HW checkpoint on disk is the HWs it stopped with.
    const stoppedReplicas = victimBroker?.replicaManager.replicas() ?? [];
    expect(stoppedReplicas).toHaveLength(3);
    const checkpoint = disk
      .checkpoint<Record<string, number>>(HIGH_WATERMARK_CHECKPOINT_FILE)
      .readDurable();
    for (const replica of stoppedReplicas) {
      expect(replica.logEndOffset).toBeGreaterThan(0);
      expect(replica.log.flushedOffset, `${replica.key} flushed`).toBe(replica.logEndOffset);
      expect(checkpoint?.[replica.key], `${replica.key} HW checkpoint`).toBe(replica.highWatermark);
    }
    fx.kraft.world.restart(victim);
    fx.runTo(40_000);
    expect(history.openCount).toBe(0);
    const oks = history.entries.filter((entry) => entry.type === 'ok');
    expect(oks.length).toBeGreaterThan(300);
    for (const ok of oks) {
      const state = stateOf(fx.kraft, TOPIC, ok.partition);
      const log = contents(replicaOn(fx.kraft, state.leader as string, TOPIC, ok.partition));
      expect(log[ok.offset as number]?.[2], `${ok.value} at ${ok.partition}/${ok.offset}`).toBe(
        ok.value,
      );
    }
    for (let partition = 0; partition < 3; partition++) {
      const state = stateOf(fx.kraft, TOPIC, partition);
      const leaderLog = contents(replicaOn(fx.kraft, state.leader as string, TOPIC, partition));
      for (const broker of fx.kraft.brokers)
        expect(contents(replicaOn(fx.kraft, broker, TOPIC, partition))).toEqual(leaderLog);
    }
  });

  it('lets a broker finish its controlled shutdown only once the new leaders have applied their leadership', () => {
    // Kafka's controller answers shouldShutDown only when the broker leads nothing AND every
    // active broker has replayed the metadata up to the controlled-shutdown records
    // (BrokerHeartbeatManager: controlledShutdownOffset <= lowestActiveOffset), so that the new
    // leaders already act as leaders when the old one goes away.
    for (const seed of [1, 2, 3, 4, 5]) {
      const fx = setup({ seed, topics: [{ name: TOPIC, partitions: 3 }] });
      fx.runTo(9_000);
      const victim = stateOf(fx.kraft, TOPIC, 0).leader as string;
      const notActing: string[] = [];
      let stopped = false;
      fx.onEvent((event) => {
        if (event.node !== victim || event.kind !== 'node.stopped') return;
        stopped = true;
        for (let partition = 0; partition < 3; partition++) {
          const state = stateOf(fx.kraft, TOPIC, partition);
          const replica =
            state.leader === null ? undefined : replicaOn(fx.kraft, state.leader, TOPIC, partition);
          if (replica?.role !== 'leader' || replica.leaderEpoch !== state.leaderEpoch)
            notActing.push(
              `seed ${seed}: partition ${partition} leader ${state.leader} epoch ${state.leaderEpoch} is ${replica?.role} in epoch ${replica?.leaderEpoch}`,
            );
        }
      });
      fx.kraft.world.stop(victim);
      fx.runTo(15_000);
      expect(stopped).toBe(true);
      expect(notActing).toEqual([]);
    }
  });

  it('answers Metadata with leaders, epochs, replicas and ISR; UNKNOWN_TOPIC_OR_PARTITION before creation', () => {
    const fx = setup({
      createAtMs: 6_000,
      topics: [
        { name: TOPIC, partitions: 2 },
        { name: 'small', replicationFactor: 1 },
      ],
    });
    const client = () => fx.client();
    const early: number[] = [];
    fx.at(5_500, () => early.push(client().metadata('b1', [TOPIC]), client().metadata('b2', null)));
    const late: number[] = [];
    fx.at(9_000, () =>
      late.push(client().metadata('b1', [TOPIC, 'missing']), client().metadata('b3', null)),
    );
    fx.runTo(9_500);
    const metadata = (id: number) =>
      client().answer(id, 'client.metadata-response')?.message as MetadataResponse;
    const before = metadata(early[0] as number);
    expect(before.topics).toEqual([
      { name: TOPIC, topicId: null, error: 'UNKNOWN_TOPIC_OR_PARTITION', partitions: [] },
    ]);
    expect(metadata(early[1] as number).topics).toEqual([]);
    expect([...before.brokers].sort()).toEqual(['b1', 'b2', 'b3']);
    const after = metadata(late[0] as number);
    const [topic, missing] = after.topics;
    expect(missing).toEqual({
      name: 'missing',
      topicId: null,
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      partitions: [],
    });
    expect(topic?.error).toBe('NONE');
    expect(topic?.topicId).toBe(topicIdOf(fx.kraft));
    expect(topic?.partitions.map((p) => p.partition)).toEqual([0, 1]);
    for (const partition of topic?.partitions ?? []) {
      const state = stateOf(fx.kraft, TOPIC, partition.partition);
      expect(partition).toEqual({
        partition: partition.partition,
        leader: state.leader,
        leaderEpoch: state.leaderEpoch,
        replicas: state.replicas,
        isr: state.isr,
      });
      // What the leader's own replica says agrees.
      expect(replicaOn(fx.kraft, state.leader as string, TOPIC, partition.partition).role).toBe(
        'leader',
      );
    }
    const all = metadata(late[1] as number);
    expect(all.topics.map((t) => t.name)).toEqual([TOPIC, 'small']);
    expect(all.topics[1]?.partitions[0]?.replicas).toHaveLength(1);
    // After a leader change, the metadata shows the new leader and epoch and the shrunk ISR.
    const leader = stateOf(fx.kraft).leader as string;
    fx.kraft.world.stop(leader);
    fx.runTo(13_000);
    const other = fx.kraft.brokers.find((id) => id !== leader) as string;
    const moved = client().metadata(other, [TOPIC]);
    fx.runTo(13_100);
    const movedPartition = metadata(moved).topics[0]?.partitions[0];
    expect(movedPartition?.leader).not.toBe(leader);
    expect(movedPartition?.leader).not.toBeNull();
    expect(movedPartition?.leaderEpoch).toBe(1);
    expect(movedPartition?.isr).not.toContain(leader);
    expect(metadata(moved).brokers).not.toContain(leader);
  });

  it('caps min ISR at the replication factor, and answers a leaderless partition with leader null and NOT_LEADER_OR_FOLLOWER', () => {
    const fx = setup({ topics: [{ name: 'solo', replicationFactor: 1, minInsyncReplicas: 2 }] });
    fx.runTo(8_000);
    const client = fx.client();
    const owner = stateOf(fx.kraft, 'solo').leader as string;
    const other = fx.kraft.brokers.find((id) => id !== owner) as string;
    const written = client.produce(owner, { topic: 'solo', acks: 'all', records: records('s', 2) });
    fx.runTo(8_500);
    // Effective min ISR = min(2, RF 1) = 1: acks=all is accepted and committed by the leader alone.
    const answer = produceAnswer(client, written);
    expect([answer.error, answer.baseOffset]).toEqual(['NONE', 0]);
    expect(replicaOn(fx.kraft, owner, 'solo').highWatermark).toBe(2);
    fx.kraft.world.stop(owner);
    fx.runTo(12_000);
    expect(fx.kraft.world.node(owner).status).toBe('down');
    expect(stateOf(fx.kraft, 'solo').leader).toBeNull();
    const described = client.metadata(other, ['solo']);
    const refused = client.produce(other, { topic: 'solo', acks: '1', records: records('x', 1) });
    fx.runTo(12_100);
    const metadata = client.answer(described, 'client.metadata-response')?.message as
      | MetadataResponse
      | undefined;
    expect(metadata?.topics[0]?.error).toBe('NONE');
    expect(metadata?.topics[0]?.partitions[0]?.leader).toBeNull();
    expect(metadata?.brokers).not.toContain(owner);
    expect(errorOf(client, refused)).toBe('NOT_LEADER_OR_FOLLOWER');
    // After a clean shutdown it is elected again on its return, with its data.
    fx.kraft.world.restart(owner);
    fx.runTo(25_000);
    expect(stateOf(fx.kraft, 'solo').leader).toBe(owner);
    expect(valuesOf(replicaOn(fx.kraft, owner, 'solo'))).toEqual(['s-0', 's-1']);
  });

  it('drops the replicas and files of a deleted topic on every broker, and keeps the others', () => {
    const fx = setup({
      topics: [
        { name: 'gone', partitions: 2 },
        { name: 'kept', partitions: 1 },
      ],
    });
    fx.runTo(8_000);
    const client = fx.client();
    for (const partition of [0, 1]) {
      const leader = stateOf(fx.kraft, 'gone', partition).leader as string;
      client.produce(leader, { topic: 'gone', partition, acks: 'all', records: records('g', 3) });
    }
    const keptLeader = stateOf(fx.kraft, 'kept').leader as string;
    client.produce(keptLeader, { topic: 'kept', acks: 'all', records: records('k', 2) });
    fx.runTo(16_000);
    const goneId = topicIdOf(fx.kraft, 'gone');
    const keptId = topicIdOf(fx.kraft, 'kept');
    const filesOf = (broker: string, topicId: string) =>
      fx.kraft.world
        .node(broker)
        .disk.names()
        .filter((name) => name.startsWith(`${topicId}-`));
    for (const broker of fx.kraft.brokers) {
      expect(filesOf(broker, goneId).length).toBeGreaterThan(0);
      expect(replicaOn(fx.kraft, broker, 'gone', 1).logEndOffset).toBe(3);
    }
    let deleted: string | null = null;
    fx.at(16_000, () =>
      adminOf(fx.kraft).deleteTopics(['gone'], (error, results) => {
        deleted = `${error}/${results.map((result) => result.error).join(',')}`;
      }),
    );
    fx.runTo(20_000);
    expect(deleted).toBe('NONE/NONE');
    for (const broker of fx.kraft.brokers) {
      const manager = brokerOf(fx.kraft, broker)?.replicaManager;
      expect(manager?.replica(goneId, 0)).toBeUndefined();
      expect(manager?.replica(goneId, 1)).toBeUndefined();
      expect(manager?.replicas().map((replica) => replica.topicId)).toEqual([keptId]);
      expect(filesOf(broker, goneId), `${broker}'s files`).toEqual([]);
      expect(filesOf(broker, keptId).length).toBeGreaterThan(0);
      expect(valuesOf(replicaOn(fx.kraft, broker, 'kept'))).toEqual(['k-0', 'k-1']);
      expect(
        eventsOf(fx.events, 'replica.deleted', broker).map((event) => event.fields?.partition),
      ).toEqual([`${goneId}-0`, `${goneId}-1`]);
    }
    const late = client.produce(keptLeader, { topic: 'gone', acks: '1', records: records('x', 1) });
    fx.runTo(26_000);
    expect(errorOf(client, late)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    // The next HW checkpoint no longer names it.
    for (const broker of fx.kraft.brokers) {
      const checkpoint = fx.kraft.world
        .node(broker)
        .disk.checkpoint<Record<string, number>>(HIGH_WATERMARK_CHECKPOINT_FILE)
        .read();
      expect(Object.keys(checkpoint ?? {})).toEqual([`${keptId}-0`]);
    }
  });

  it('deletes the files of a topic deleted while the broker was down once it restarts', () => {
    const fx = setup({ topics: [{ name: 'gone' }] });
    fx.runTo(8_000);
    const client = fx.client();
    const leader = stateOf(fx.kraft, 'gone').leader as string;
    client.produce(leader, { topic: 'gone', acks: 'all', records: records('g', 3) });
    fx.runTo(9_000);
    const goneId = topicIdOf(fx.kraft, 'gone');
    const down = followersOf(stateOf(fx.kraft, 'gone'))[0] as string;
    fx.kraft.world.stop(down);
    fx.runTo(12_000);
    fx.at(12_000, () => adminOf(fx.kraft).deleteTopics(['gone'], () => {}));
    fx.runTo(15_000);
    fx.kraft.world.restart(down);
    fx.runTo(30_000);
    expect(brokerOf(fx.kraft, down)?.state).toBe('running');
    const files = fx.kraft.world
      .node(down)
      .disk.names()
      .filter((name) => name.startsWith(`${goneId}-`));
    expect(files).toEqual([]);
  });
});

// ---- what a fetch answers and when, as Kafka -------------------------------------------------

describe('ReplicaManager answers fetches when and with what Kafka does', () => {
  it("answers a follower's fetch with the high watermark from before that fetch (Partition.readRecords' initialHighWatermark)", () => {
    // Kafka's Partition.fetchRecords reads (readRecords snapshots `initialHighWatermark`) before
    // updateFollowerFetchState advances the HW, and the answer carries the snapshot: a follower
    // learns the HW its own fetch moved only from its next answer (the lag KIP-101 is about).
    const fx = setup();
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const [f1, f2] = followersOf(state) as [string, string];
    const client = fx.client();
    client.produce(leader, { topic: TOPIC, acks: 'all', records: records('a', 4) });
    fx.runTo(9_000);
    // Cut the followers off; three acks=1 records, one batch each: LEO 7, HW 4.
    fx.kraft.world.partition([[leader], [f1, f2]]);
    for (let i = 0; i < 3; i++)
      client.produce(leader, { topic: TOPIC, acks: '1', records: records('b', 1, i) });
    fx.runTo(9_100);
    const replica = replicaOn(fx.kraft, leader);
    expect([replica.logEndOffset, replica.highWatermark]).toEqual([7, 4]);
    const image = brokerOf(fx.kraft, leader)?.image;
    const fetchAs = (follower: string, fetchOffset: number, requestId: number) =>
      client.send(leader, {
        kind: 'fetch',
        requestId,
        replicaId: follower,
        replicaEpoch: image?.broker(follower)?.brokerEpoch as number,
        maxWaitMs: 0,
        maxBytes: 1_000_000,
        partitions: [
          {
            topicId: topicIdOf(fx.kraft),
            partition: 0,
            fetchOffset,
            lastFetchedEpoch: state.leaderEpoch,
            currentLeaderEpoch: state.leaderEpoch,
          },
        ],
      });
    // f2 (as far as the leader knows) has everything; f1 has 6 records: this fetch moves the HW to 6.
    fetchAs(f2, 7, 9_101);
    fetchAs(f1, 6, 9_102);
    fx.runTo(9_200);
    expect(replica.highWatermark).toBe(6);
    const answer = client.answer(9_102, 'fetch-response')?.message.partitions[0];
    expect(answer?.batches.map((batch) => batch.baseOffset)).toEqual([6]);
    // The HW from before this fetch, as Kafka answers.
    expect(answer?.highWatermark).toBe(4);
  });

  it("keeps a consumer's long poll held over an append that does not move the HW (DelayedFetch: a consumer's end is the HW)", () => {
    // Kafka: ReplicaManager.appendRecords runs delayedFetchPurgatory.checkAndComplete, but a
    // consumer's DelayedFetch.tryComplete measures the bytes up to the HW, so an append below an
    // unmoved HW leaves it held until maxWaitMs (or the HW moves).
    const fx = setup();
    fx.runTo(8_000);
    const state = stateOf(fx.kraft);
    const leader = state.leader as string;
    const client = fx.client();
    client.produce(leader, { topic: TOPIC, acks: 'all', records: records('a', 4) });
    fx.runTo(9_000);
    fx.kraft.world.partition([[leader], followersOf(state)]);
    client.send(leader, {
      kind: 'fetch',
      requestId: 9_201,
      replicaId: null,
      replicaEpoch: -1,
      maxWaitMs: 5_000,
      maxBytes: 1_000_000,
      partitions: [
        {
          topicId: topicIdOf(fx.kraft),
          partition: 0,
          fetchOffset: 4,
          lastFetchedEpoch: -1,
          currentLeaderEpoch: state.leaderEpoch,
        },
      ],
    });
    fx.runTo(9_100);
    client.produce(leader, { topic: TOPIC, acks: '1', records: records('b', 1) });
    fx.runTo(10_000);
    const replica = replicaOn(fx.kraft, leader);
    expect([replica.logEndOffset, replica.highWatermark]).toEqual([5, 4]);
    // Still held (it used to be answered at the append, empty).
    expect(client.answer(9_201, 'fetch-response')).toBeUndefined();
  });
});
