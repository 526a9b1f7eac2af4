import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine, NodeContext } from '../../kernel/node.ts';
import type { TraceEvent } from '../../kernel/trace.ts';
import { World } from '../../kernel/world.ts';
import type {
  DataError,
  MetadataRequest,
  ProducePartitionResponse,
  ProduceRequest,
  ProduceResponse,
  TopicMetadata,
} from '../broker/messages.ts';
import type { ClusterMessage } from '../messages.ts';
import { ClientConfigError } from './client-metadata.ts';
import { History, type HistoryEntry } from './history.ts';
import {
  murmur2,
  PRODUCER_DEFAULTS,
  Producer,
  type ProducerConfig,
  partitionForKey,
  resolveProducerConfig,
  type SendResult,
  toPositive,
  utf8Bytes,
} from './producer.ts';

// ---- a scripted fake cluster ---------------------------------------------------------------

/** What a broker does with one produce request. */
type ProduceAction =
  /** The default: the leader appends (deduplicating idempotent batches) and answers. */
  | 'answer'
  /** Swallows the request: nothing appended, no answer. */
  | 'drop'
  /** Appends, then the answer is lost. */
  | 'append-drop'
  /** Answers with an error without appending. */
  | { readonly error: DataError }
  /** Appends, then answers with an error (NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT). */
  | { readonly appendThenError: DataError };

interface FakePartition {
  leader: string | null;
  leaderEpoch: number;
  readonly log: { value: string | null; key: string | null }[];
  /** producerId → the batches appended under it. */
  readonly producers: Map<number, { baseSequence: number; count: number; baseOffset: number }[]>;
}

/** One partition's batch of a produce request, as the request carried it. */
interface ProduceBatchView {
  readonly requestId: number;
  readonly acks: ProduceRequest['acks'];
  readonly topic: string;
  readonly partition: number;
  readonly records: ProduceRequest['partitions'][number]['records'];
}

/** One batch a broker received (a request carries one per partition, each scripted alone). */
interface ReceivedProduce {
  readonly broker: string;
  readonly atMs: number;
  readonly request: ProduceBatchView;
  /** How many partitions the whole request carried. */
  readonly batchesInRequest: number;
}

class FakeCluster {
  readonly brokers = ['b1', 'b2', 'b3'];
  readonly topics = new Map<string, FakePartition[]>();
  readonly produces: ReceivedProduce[] = [];
  readonly metadataRequests: { broker: string; request: MetadataRequest }[] = [];
  producerIdNext = 1000;
  /** Decides each produce request's fate; called with the request's index among all received. */
  script: (received: ReceivedProduce, index: number) => ProduceAction = () => 'answer';

  addTopic(name: string, partitions: number, leader = 'b1'): void {
    this.topics.set(
      name,
      Array.from({ length: partitions }, () => ({
        leader,
        leaderEpoch: 1,
        log: [],
        producers: new Map(),
      })),
    );
  }

  partition(topic: string, partition: number): FakePartition {
    const state = this.topics.get(topic)?.[partition];
    if (state === undefined) throw new Error(`no ${topic}-${partition}`);
    return state;
  }

  moveLeader(topic: string, partition: number, leader: string): void {
    const state = this.partition(topic, partition);
    state.leader = leader;
    state.leaderEpoch++;
  }

  values(topic: string, partition: number): (string | null)[] {
    return this.partition(topic, partition).log.map((record) => record.value);
  }

  metadataTopics(names: readonly string[] | null): TopicMetadata[] {
    return (names ?? [...this.topics.keys()]).map((name) => {
      const partitions = this.topics.get(name);
      if (partitions === undefined)
        return { name, topicId: null, error: 'UNKNOWN_TOPIC_OR_PARTITION', partitions: [] };
      return {
        name,
        topicId: `id-${name}`,
        error: 'NONE',
        partitions: partitions.map((state, partition) => ({
          partition,
          leader: state.leader,
          leaderEpoch: state.leaderEpoch,
          replicas: this.brokers,
          isr: this.brokers,
        })),
      };
    });
  }

  /** The leader's append, deduplicating idempotent batches as Kafka's producer state does. */
  append(request: ProduceBatchView): { error: DataError; baseOffset: number } {
    const state = this.partition(request.topic, request.partition);
    const first = request.records[0];
    const producerId = first?.producerId;
    const baseSequence = first?.sequence;
    if (producerId !== undefined && baseSequence !== undefined) {
      const batches = state.producers.get(producerId) ?? [];
      const same = batches.find((batch) => batch.baseSequence === baseSequence);
      if (same !== undefined) return { error: 'NONE', baseOffset: same.baseOffset };
      const last = batches[batches.length - 1];
      const expected = last === undefined ? 0 : last.baseSequence + last.count;
      if (baseSequence !== expected)
        return { error: 'OUT_OF_ORDER_SEQUENCE_NUMBER', baseOffset: -1 };
      batches.push({ baseSequence, count: request.records.length, baseOffset: state.log.length });
      state.producers.set(producerId, batches);
    }
    const baseOffset = state.log.length;
    for (const record of request.records) state.log.push({ key: record.key, value: record.value });
    return { error: 'NONE', baseOffset };
  }
}

class FakeBroker implements Machine<ClusterMessage> {
  constructor(
    readonly context: NodeContext<ClusterMessage>,
    readonly cluster: FakeCluster,
  ) {}

  start(): void {}

  onMessage(source: string, message: ClusterMessage): void {
    const cluster = this.cluster;
    switch (message.kind) {
      case 'client.metadata':
        cluster.metadataRequests.push({ broker: this.context.nodeId, request: message });
        this.context.send(source, {
          kind: 'client.metadata-response',
          requestId: message.requestId,
          brokers: cluster.brokers,
          topics: cluster.metadataTopics(message.topics),
        });
        return;
      case 'client.init-producer-id':
        this.context.send(source, {
          kind: 'client.init-producer-id-response',
          requestId: message.requestId,
          error: 'NONE',
          producerId: cluster.producerIdNext++,
        });
        return;
      case 'client.produce':
        this.#produce(source, message);
        return;
      default:
        return;
    }
  }

  /** Scripts each partition's batch alone; one 'drop' or 'append-drop' silences the whole answer. */
  #produce(source: string, request: ProduceRequest): void {
    const answers: ProducePartitionResponse[] = [];
    let silent = false;
    const answer = (view: ProduceBatchView, error: DataError, baseOffset: number): void => {
      answers.push({
        topic: view.topic,
        partition: view.partition,
        error,
        baseOffset: error === 'NONE' ? baseOffset : -1,
        leaderEpoch: error === 'NONE' ? 1 : -1,
      });
    };
    for (const data of request.partitions) {
      const view: ProduceBatchView = {
        requestId: request.requestId,
        acks: request.acks,
        topic: data.topic,
        partition: data.partition,
        // Copied, as a log copies what it appends: the records a producer sends are its own
        // objects, numbered anew when their batch is renumbered.
        records: data.records.map((record) => ({
          key: record.key,
          value: record.value,
          producerId: record.producerId,
          sequence: record.sequence,
        })),
      };
      const received: ReceivedProduce = {
        broker: this.context.nodeId,
        atMs: this.context.nowMs,
        request: view,
        batchesInRequest: request.partitions.length,
      };
      const index = this.cluster.produces.length;
      this.cluster.produces.push(received);
      const action = this.cluster.script(received, index);
      if (action === 'drop') {
        silent = true;
        continue;
      }
      if (typeof action === 'object' && 'error' in action) {
        answer(view, action.error, -1);
        continue;
      }
      const state = this.cluster.partition(view.topic, view.partition);
      if (state.leader !== this.context.nodeId) {
        answer(view, 'NOT_LEADER_OR_FOLLOWER', -1);
        continue;
      }
      const appended = this.cluster.append(view);
      if (action === 'append-drop') silent = true;
      else if (typeof action === 'object') answer(view, action.appendThenError, -1);
      else answer(view, appended.error, appended.baseOffset);
    }
    if (silent || request.acks === '0') return;
    const response: ProduceResponse = {
      kind: 'client.produce-response',
      requestId: request.requestId,
      partitions: answers,
    };
    this.context.send(source, response);
  }
}

interface Setup {
  readonly world: World<ClusterMessage>;
  readonly history: History;
  readonly cluster: FakeCluster;
  readonly events: TraceEvent[];
  producer(): Producer;
}

function setup(config: Partial<ProducerConfig> = {}, topics: [string, number][] = [['t', 1]]) {
  const events: TraceEvent[] = [];
  const world = new World<ClusterMessage>({
    seed: 'producer-test',
    latency: { kind: 'constant', ms: 1 },
    trace: { ringCapacity: 16, sink: (event) => events.push(event) },
  });
  const history = new History(() => world.nowMs);
  const cluster = new FakeCluster();
  for (const [name, partitions] of topics) cluster.addTopic(name, partitions);
  for (const id of cluster.brokers)
    world.addNode(id, (context) => new FakeBroker(context, cluster));
  world.addNode(
    'p1',
    (context) => new Producer(context, { bootstrapBrokers: cluster.brokers, history, ...config }),
  );
  for (const id of [...cluster.brokers, 'p1']) world.node(id).start();
  const result: Setup = {
    world,
    history,
    cluster,
    events,
    producer: () => world.node('p1').machine as Producer,
  };
  return result;
}

/** The completion of each value's send, by value. */
function completions(history: History): Map<string, HistoryEntry> {
  const result = new Map<string, HistoryEntry>();
  for (const entry of history.entries) {
    if (entry.f !== 'send' || entry.type === 'invoke' || typeof entry.value !== 'string') continue;
    expect(result.has(entry.value), `${entry.value} completed twice`).toBe(false);
    result.set(entry.value, entry);
  }
  return result;
}

function completion(history: History, value: string): HistoryEntry {
  const entry = completions(history).get(value);
  if (entry === undefined) throw new Error(`${value} has no completion`);
  return entry;
}

// ---- the tests -----------------------------------------------------------------------------

describe('murmur2 and the default partitioner', () => {
  it("matches Kafka's Utils.murmur2 test vectors (UtilsTest.testMurmur2)", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [text, expected] of vectors) expect(murmur2(utf8Bytes(text)), text).toBe(expected);
  });

  it('encodes UTF-8 as Java does, lone surrogates as "?"', () => {
    expect([...utf8Bytes('aé€😀')]).toEqual([
      0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
    ]);
    expect([...utf8Bytes('a\ud800b')]).toEqual([0x61, 0x3f, 0x62]);
  });

  it('chooses toPositive(murmur2(key)) % partitions, always in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (key, count) => {
        const partition = partitionForKey(key, count);
        expect(partition).toBe(toPositive(murmur2(utf8Bytes(key))) % count);
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(partition).toBeLessThan(count);
      }),
    );
  });

  it('hashes a key that is not ASCII from its UTF-8 bytes', () => {
    for (const key of ['aé€😀', 'é', 'abcé', 'abcdé', '\u0080', 'a\ud800b', '😀😀'])
      expect(partitionForKey(key, 1_000_003), key).toBe(
        toPositive(murmur2(utf8Bytes(key))) % 1_000_003,
      );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 64 }), (key, count) => {
        expect(partitionForKey(key, count)).toBe(toPositive(murmur2(utf8Bytes(key))) % count);
      }),
    );
  });
});

describe('Producer configuration', () => {
  const history = new History(() => 0);
  const base = { bootstrapBrokers: ['b1'], history };

  it("applies Kafka's defaults: acks=all, idempotent, retries MAX_INT", () => {
    const config = resolveProducerConfig(base, 'p1');
    expect(config.acks).toBe('all');
    expect(config.idempotent).toBe(true);
    expect(config.retries).toBe(Number.MAX_SAFE_INTEGER);
    expect(config.requestTimeoutMs).toBe(30_000);
    expect(config.deliveryTimeoutMs).toBe(120_000);
    expect(config.maxInFlightRequestsPerConnection).toBe(5);
    expect(config.process).toBe('p1');
  });

  it('turns idempotence off for acks other than all unless it was asked for explicitly', () => {
    expect(resolveProducerConfig({ ...base, acks: '1' }, 'p1').idempotent).toBe(false);
    expect(() =>
      resolveProducerConfig({ ...base, acks: '1', enableIdempotence: true }, 'p1'),
    ).toThrow(/enableIdempotence requires: acks must be 'all'/);
    expect(() =>
      resolveProducerConfig(
        { ...base, enableIdempotence: true, maxInFlightRequestsPerConnection: 6 },
        'p1',
      ),
    ).toThrow(ClientConfigError);
  });

  it('rejects invalid values with messages that name the setting', () => {
    const cases: [Partial<ProducerConfig>, RegExp][] = [
      [{ deliveryTimeoutMs: 1_000 }, /deliveryTimeoutMs must be ≥ requestTimeoutMs \+ lingerMs/],
      [{ retryBackoffMs: -1 }, /retryBackoffMs must be a non-negative integer/],
      [{ retryBackoffMaxMs: 1.5 }, /retryBackoffMaxMs must be a non-negative integer/],
      [{ retries: 1.5 }, /retries must be an integer/],
      [{ batchSize: 0 }, /batchSize must be an integer ≥ 1/],
      [{ bootstrapBrokers: [] }, /bootstrapBrokers must name at least one broker/],
      [{ acks: '2' as '1' }, /acks must be '0', '1' or 'all'/],
    ];
    for (const [config, message] of cases)
      expect(() => resolveProducerConfig({ ...base, ...config }, 'p1')).toThrow(message);
  });
});

describe('Producer', () => {
  it("runs the seed's example: acks=all, retries=5, key-i/message-i, ok with offsets", () => {
    const { world, history, cluster, producer } = setup({ acks: 'all', retries: 5 }, [
      ['test-topic', 1],
    ]);
    for (let i = 0; i < 10; i++)
      producer().send({ topic: 'test-topic', key: `key-${i}`, value: `message-${i}` });
    expect(producer().pendingCount).toBe(10);
    world.runFor(1_000);
    expect(producer().pendingCount).toBe(0);
    for (let i = 0; i < 10; i++) {
      const entry = completion(history, `message-${i}`);
      expect(entry).toMatchObject({ type: 'ok', acks: 'all', partition: 0, offset: i });
      expect(entry.key).toBe(`key-${i}`);
    }
    expect(cluster.values('test-topic', 0)).toEqual(
      Array.from({ length: 10 }, (_, i) => `message-${i}`),
    );
    const invokes = history.entries.filter((entry) => entry.type === 'invoke');
    expect(invokes).toHaveLength(10);
    // The first sends waited for metadata: the invoke names no partition yet.
    expect(invokes[0]?.partition).toBe(-1);
  });

  it('sends each record to its key partition and records offsets per partition', () => {
    const { world, history, cluster, producer } = setup({}, [['t', 3]]);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (const key of keys) producer().send({ topic: 't', key, value: `v-${key}` });
    world.runFor(1_000);
    const next = [0, 0, 0];
    for (const key of keys) {
      const partition = partitionForKey(key, 3);
      const entry = completion(history, `v-${key}`);
      expect(entry).toMatchObject({ type: 'ok', partition });
      expect(cluster.values('t', partition)[entry.offset as number]).toBe(`v-${key}`);
      next[partition] = (next[partition] as number) + 1;
    }
    expect([0, 1, 2].map((p) => cluster.values('t', p).length)).toEqual(next);
  });

  it('spreads keyless records round robin', () => {
    const { world, history, producer } = setup({}, [['t', 3]]);
    world.runFor(10);
    for (let i = 0; i < 6; i++) producer().send({ topic: 't', value: `v${i}` });
    world.runFor(1_000);
    const partitions = Array.from({ length: 6 }, (_, i) => completion(history, `v${i}`).partition);
    expect(partitions).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('acks=0: ok without an offset as soon as the request is on the wire', () => {
    const { world, history, cluster, producer } = setup({ acks: '0' });
    producer().send({ topic: 't', key: 'k', value: 'first' });
    world.runFor(100);
    const sentAtMs = world.nowMs;
    producer().send({ topic: 't', key: 'k', value: 'second' });
    const entry = completion(history, 'second');
    expect(entry.type).toBe('ok');
    expect(entry.atMs).toBe(sentAtMs);
    expect(entry.offset).toBeUndefined();
    expect(completion(history, 'first').offset).toBeUndefined();
    expect(JSON.parse(history.toJsonLines().split('\n')[entry.index] as string)).not.toHaveProperty(
      'offset',
    );
    world.runFor(100);
    expect(cluster.values('t', 0)).toEqual(['first', 'second']);
    expect(cluster.produces.every(({ request }) => request.acks === '0')).toBe(true);
  });

  it('NOT_LEADER_OR_FOLLOWER: refreshes metadata and retries at the new leader', () => {
    const { world, history, cluster, events, producer } = setup();
    cluster.script = (_, index) => {
      if (index === 0) cluster.moveLeader('t', 0, 'b2');
      return 'answer';
    };
    producer().send({ topic: 't', key: 'k', value: 'v' });
    world.runFor(1_000);
    // To b1, at b1 again while the refreshed metadata may still be on its way, then to b2.
    const brokers = cluster.produces.map((produce) => produce.broker);
    expect(brokers[0]).toBe('b1');
    expect(brokers[brokers.length - 1]).toBe('b2');
    expect(brokers.length).toBeLessThanOrEqual(3);
    expect(completion(history, 'v')).toMatchObject({ type: 'ok', offset: 0 });
    expect(cluster.metadataRequests.length).toBeGreaterThanOrEqual(2);
    const retry = events.find((event) => event.kind === 'producer.retry');
    expect(retry?.fields).toMatchObject({ error: 'NOT_LEADER_OR_FOLLOWER' });
    // Each retry waited out its backoff: at least 80 % of retryBackoffMs (KIP-580's jitter).
    for (let index = 1; index < cluster.produces.length; index++) {
      const gap = (cluster.produces[index]?.atMs ?? 0) - (cluster.produces[index - 1]?.atMs ?? 0);
      expect(gap).toBeGreaterThanOrEqual(80);
    }
  });

  it('sends one request per broker, carrying a batch for each partition it leads', () => {
    const { world, history, cluster, producer } = setup({}, [
      ['t', 2],
      ['u', 1],
    ]);
    cluster.moveLeader('u', 0, 'b2');
    producer().send({ topic: 't', partition: 0, key: 'k', value: 't0' });
    producer().send({ topic: 't', partition: 1, key: 'k', value: 't1' });
    producer().send({ topic: 'u', partition: 0, key: 'k', value: 'u0' });
    world.runFor(1_000);
    expect(
      cluster.produces.map(({ broker, request, batchesInRequest }) => [
        broker,
        request.requestId,
        `${request.topic}-${request.partition}`,
        batchesInRequest,
      ]),
    ).toEqual([
      ['b1', cluster.produces[0]?.request.requestId, 't-0', 2],
      ['b1', cluster.produces[0]?.request.requestId, 't-1', 2],
      ['b2', cluster.produces[2]?.request.requestId, 'u-0', 1],
    ]);
    for (const value of ['t0', 't1', 'u0'])
      expect(completion(history, value)).toMatchObject({ type: 'ok', offset: 0 });
  });

  it("one partition's error in a shared request retries that batch alone; the other is acked", () => {
    const { world, history, cluster, events, producer } = setup({}, [['t', 2]]);
    cluster.script = ({ request }, index) =>
      index === 1 && request.partition === 1 ? { error: 'NOT_ENOUGH_REPLICAS' } : 'answer';
    producer().send({ topic: 't', partition: 0, key: 'k', value: 'a' });
    producer().send({ topic: 't', partition: 1, key: 'k', value: 'b' });
    world.runFor(1_000);
    expect(
      cluster.produces.map(({ request, batchesInRequest }) => [
        `${request.topic}-${request.partition}`,
        batchesInRequest,
      ]),
    ).toEqual([
      ['t-0', 2],
      ['t-1', 2],
      ['t-1', 1],
    ]);
    expect(completion(history, 'a')).toMatchObject({ type: 'ok', offset: 0 });
    expect(completion(history, 'b')).toMatchObject({ type: 'ok', offset: 0 });
    expect(events.filter((event) => event.kind === 'producer.retry')).toHaveLength(1);
    expect(cluster.values('t', 1)).toEqual(['b']);
  });

  it('a shared request that times out retries every batch it carried', () => {
    const { world, history, cluster, producer } = setup(
      { requestTimeoutMs: 1_000, deliveryTimeoutMs: 60_000 },
      [['t', 2]],
    );
    cluster.script = (_, index) => (index < 2 ? 'drop' : 'answer');
    producer().send({ topic: 't', partition: 0, key: 'k', value: 'a' });
    producer().send({ topic: 't', partition: 1, key: 'k', value: 'b' });
    world.runFor(5_000);
    expect(cluster.produces.map(({ batchesInRequest }) => batchesInRequest)).toEqual([2, 2, 2, 2]);
    expect(cluster.produces[2]?.atMs).toBeGreaterThanOrEqual(
      (cluster.produces[0]?.atMs ?? 0) + 1_000,
    );
    // Both retried together after the timeout, and acked then.
    for (const value of ['a', 'b'])
      expect(completion(history, value)).toMatchObject({ type: 'ok' });
    expect(producer().inFlightTo('b1')).toBe(0);
  });

  it('a request timeout makes the send info, even when a later retry fails cleanly', () => {
    const { world, history, cluster, producer } = setup({
      retries: 2,
      requestTimeoutMs: 1_000,
      deliveryTimeoutMs: 60_000,
    });
    cluster.script = (_, index) => (index === 0 ? 'append-drop' : { error: 'NOT_ENOUGH_REPLICAS' });
    const results: SendResult[] = [];
    producer().send({ topic: 't', key: 'k', value: 'v' }, (result) => results.push(result));
    world.runFor(10_000);
    expect(cluster.produces).toHaveLength(3);
    expect(completion(history, 'v')).toMatchObject({ type: 'info', error: 'TIMEOUT' });
    expect(results).toEqual([{ type: 'info', topic: 't', partition: 0, error: 'TIMEOUT' }]);
  });

  it('backs off exponentially between retries of a batch, ±20 %, up to retryBackoffMaxMs (KIP-580)', () => {
    const { world, cluster, producer } = setup({ retries: 7 });
    cluster.script = () => ({ error: 'NOT_ENOUGH_REPLICAS' });
    producer().send({ topic: 't', key: 'k', value: 'v' });
    world.runFor(20_000);
    expect(cluster.produces).toHaveLength(8);
    const gaps = cluster.produces
      .slice(1)
      .map((produce, index) => produce.atMs - (cluster.produces[index]?.atMs ?? 0));
    // 100, 200, 400, 800, then 1000 (the maximum), each within ±20 % (plus the round trip).
    [100, 200, 400, 800, 1_000, 1_000, 1_000].forEach((nominal, index) => {
      expect(gaps[index]).toBeGreaterThanOrEqual(Math.floor(0.8 * nominal));
      expect(gaps[index]).toBeLessThanOrEqual(Math.min(1.2 * nominal, 1_000) + 20);
    });
  });

  it('retries exhausted: fails with the last error after retries + 1 attempts', () => {
    const { world, history, cluster, producer } = setup({ retries: 3 });
    cluster.script = () => ({ error: 'NOT_ENOUGH_REPLICAS' });
    producer().send({ topic: 't', key: 'k', value: 'v' });
    world.runFor(10_000);
    expect(cluster.produces).toHaveLength(4);
    expect(completion(history, 'v')).toMatchObject({ type: 'fail', error: 'NOT_ENOUGH_REPLICAS' });
    expect(producer().completed).toEqual({ ok: 0, fail: 1, info: 0 });
  });

  it('NOT_ENOUGH_REPLICAS_AFTER_APPEND and REQUEST_TIMED_OUT are indeterminate', () => {
    for (const error of ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'REQUEST_TIMED_OUT'] as const) {
      const { world, history, cluster, producer } = setup({ retries: 1, acks: '1' });
      cluster.script = (_, index) =>
        index === 0 ? { appendThenError: error } : { error: 'NOT_ENOUGH_REPLICAS' };
      producer().send({ topic: 't', key: 'k', value: 'v' });
      world.runFor(10_000);
      expect(completion(history, 'v')).toMatchObject({ type: 'info', error });
    }
  });

  it('delivery timeout: a topic that never appears fails with UNKNOWN_TOPIC_OR_PARTITION', () => {
    const { world, history, cluster, producer } = setup({
      requestTimeoutMs: 1_000,
      deliveryTimeoutMs: 5_000,
    });
    world.runFor(50);
    producer().send({ topic: 'missing', key: 'k', value: 'v' });
    world.runFor(10_000);
    const entry = completion(history, 'v');
    expect(entry).toMatchObject({ type: 'fail', error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(entry.atMs).toBe(5_050);
    expect(cluster.produces).toHaveLength(0);
    // It kept asking (paced by retryBackoffMs) while it waited.
    expect(cluster.metadataRequests.length).toBeGreaterThan(10);
    expect(cluster.metadataRequests.length).toBeLessThan(60);
  });

  it('delivery timeout with a silently partitioned leader: info, the request may have arrived', () => {
    const { world, history, cluster, producer } = setup({
      requestTimeoutMs: 1_000,
      deliveryTimeoutMs: 5_000,
    });
    producer().send({ topic: 't', key: 'k', value: 'warm-up' });
    world.runFor(100);
    world.partition([['b1'], ['p1', 'b2', 'b3']]);
    producer().send({ topic: 't', key: 'k', value: 'v' });
    world.runFor(10_000);
    expect(completion(history, 'v')).toMatchObject({ type: 'info', error: 'TIMEOUT' });
    expect(cluster.values('t', 0)).toEqual(['warm-up']);
  });

  it('a refused connection wrote nothing: the send fails rather than ends as info', () => {
    const { world, history, producer } = setup({ retries: 2 });
    producer().send({ topic: 't', key: 'k', value: 'warm-up' });
    world.runFor(100);
    world.crash('b1', 'kill');
    producer().send({ topic: 't', key: 'k', value: 'v' });
    world.runFor(10_000);
    expect(completion(history, 'v')).toMatchObject({ type: 'fail', error: 'NETWORK_EXCEPTION' });
  });

  it('idempotent retry keeps the producer id and sequences; a duplicate answer is one ok each', () => {
    const { world, history, cluster, producer } = setup({ requestTimeoutMs: 1_000 });
    cluster.script = (_, index) => (index === 0 ? 'append-drop' : 'answer');
    world.runFor(20);
    for (const value of ['a', 'b', 'c']) producer().send({ topic: 't', key: 'k', value });
    world.runFor(5_000);
    expect(cluster.produces).toHaveLength(2);
    const [first, second] = cluster.produces.map((produce) => produce.request.records);
    expect(second).toEqual(first);
    expect(first?.map((record) => record.sequence)).toEqual([0, 1, 2]);
    expect(first?.[0]?.producerId).toBe(1000);
    expect(cluster.values('t', 0)).toEqual(['a', 'b', 'c']);
    expect(['a', 'b', 'c'].map((value) => completion(history, value))).toMatchObject([
      { type: 'ok', offset: 0 },
      { type: 'ok', offset: 1 },
      { type: 'ok', offset: 2 },
    ]);
  });

  it('keeps order behind a lost request: later sequences wait for the retry (OUT_OF_ORDER)', () => {
    const { world, history, cluster, producer } = setup({ requestTimeoutMs: 1_000, batchSize: 1 });
    cluster.script = (_, index) => (index === 0 ? 'drop' : 'answer');
    world.runFor(20);
    for (const value of ['a', 'b', 'c']) producer().send({ topic: 't', key: 'k', value });
    world.runFor(5_000);
    const sequences = cluster.produces.map(({ request }) => request.records[0]?.sequence);
    expect(sequences.slice(0, 3)).toEqual([0, 1, 2]);
    expect(cluster.values('t', 0)).toEqual(['a', 'b', 'c']);
    expect(['a', 'b', 'c'].map((value) => completion(history, value).type)).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
  });

  it('after a batch fails for good, the partition numbers its next records under a new producer id', () => {
    const { world, history, cluster, producer } = setup({ retries: 1, batchSize: 1 });
    cluster.script = ({ request }) =>
      request.records[0]?.value === 'a' ? { error: 'NOT_ENOUGH_REPLICAS' } : 'answer';
    world.runFor(20);
    producer().send({ topic: 't', key: 'k', value: 'a' });
    producer().send({ topic: 't', key: 'k', value: 'b' });
    world.runFor(5_000);
    expect(completion(history, 'a')).toMatchObject({ type: 'fail' });
    expect(completion(history, 'b')).toMatchObject({ type: 'ok', offset: 0 });
    const records = cluster.produces.map(({ request }) => request.records[0]);
    // b went out behind a (OUT_OF_ORDER while a was unresolved), then was numbered anew.
    expect(records.map((record) => [record?.value, record?.producerId, record?.sequence])).toEqual([
      ['a', 1000, 0],
      ['b', 1000, 1],
      ['a', 1000, 0],
      ['b', 1001, 0],
    ]);
  });

  it('retries an OUT_OF_ORDER no earlier batch explains under a new producer id (KIP-360): written once', () => {
    const { world, history, cluster, producer } = setup({ batchSize: 1 });
    world.runFor(20);
    producer().send({ topic: 't', key: 'k', value: 'a' });
    world.runFor(1_000);
    expect(completion(history, 'a')).toMatchObject({ type: 'ok', offset: 0 });
    // The leader loses a and the producer's state with it (a truncation): b's sequence 1 is a gap
    // to it, and no batch of the producer is unresolved to explain it.
    const state = cluster.partition('t', 0);
    state.log.length = 0;
    state.producers.clear();
    producer().send({ topic: 't', key: 'k', value: 'b' });
    world.runFor(5_000);
    expect(completion(history, 'b')).toMatchObject({ type: 'ok', offset: 0 });
    const records = cluster.produces.map(({ request }) => request.records[0]);
    expect(records.map((record) => [record?.value, record?.producerId, record?.sequence])).toEqual([
      ['a', 1000, 0],
      ['b', 1000, 1],
      ['b', 1001, 0],
    ]);
    expect(cluster.values('t', 0)).toEqual(['b']);
  });

  it('does not number anew an OUT_OF_ORDER batch an earlier attempt may have written: a duplicate', () => {
    const { world, history, cluster, producer } = setup({ batchSize: 1, requestTimeoutMs: 1_000 });
    world.runFor(20);
    producer().send({ topic: 't', key: 'k', value: 'a' });
    world.runFor(1_000);
    // b's first attempt is appended and its answer lost (a timeout); then the leader loses a's
    // state, so b's retry is a gap to it. b may be in a log somewhere: it is not sent again anew.
    cluster.script = (_, index) => (index === 1 ? 'append-drop' : 'answer');
    producer().send({ topic: 't', key: 'k', value: 'b' });
    world.runFor(500);
    cluster.partition('t', 0).producers.clear();
    world.runFor(10_000);
    expect(completion(history, 'b')).toMatchObject({ type: 'info' });
    expect(cluster.values('t', 0)).toEqual(['a', 'b']);
    const records = cluster.produces.map(({ request }) => request.records[0]?.producerId);
    expect(new Set(records)).toEqual(new Set([1000]));
  });

  it('keeps at most maxInFlightRequestsPerConnection requests in flight to a broker', () => {
    const { world, history, cluster, producer } = setup({ batchSize: 1 });
    producer().send({ topic: 't', key: 'k', value: 'warm-up' });
    world.runFor(20);
    world.clog('b1', 'p1');
    for (let i = 1; i <= 20; i++) producer().send({ topic: 't', key: 'k', value: `v${i}` });
    world.runFor(500);
    expect(producer().inFlightTo('b1')).toBe(5);
    expect(cluster.produces).toHaveLength(1 + 5);
    world.release('b1', 'p1');
    world.runFor(1_000);
    expect(producer().pendingCount).toBe(0);
    for (let i = 1; i <= 20; i++) expect(completion(history, `v${i}`).offset).toBe(i);
  });

  it('acks=1 is not idempotent: records carry no producer id nor sequence', () => {
    const { world, cluster, producer } = setup({ acks: '1' });
    producer().send({ topic: 't', key: 'k', value: 'v' });
    world.runFor(100);
    expect(producer().idempotent).toBe(false);
    expect(cluster.produces[0]?.request.records).toEqual([{ key: 'k', value: 'v' }]);
  });

  it('a callback may send again: the sends it makes go out in order', () => {
    const { world, history, cluster, producer } = setup({ acks: '0' });
    let next = 1;
    const chain = (): void => {
      if (next < 5) producer().send({ topic: 't', key: 'k', value: `c${next++}` }, chain);
    };
    producer().send({ topic: 't', key: 'k', value: 'c0' }, chain);
    world.runFor(100);
    expect(cluster.values('t', 0)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect([...completions(history).values()].map((entry) => entry.type)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
  });

  it('lingerMs gathers records into one request', () => {
    const { world, cluster, producer } = setup({ lingerMs: 50 });
    world.runFor(20);
    for (let i = 0; i < 3; i++) producer().send({ topic: 't', key: 'k', value: `v${i}` });
    world.runFor(30);
    expect(cluster.produces).toHaveLength(0);
    world.runFor(100);
    expect(cluster.produces.map(({ request }) => request.records.length)).toEqual([3]);
  });

  it('lingering partitions wake the producer once, at the earliest linger end', () => {
    const { world, cluster, events, producer } = setup({ lingerMs: 50 }, [['t', 3]]);
    // A first record, so the topic's metadata is known (records linger from when they are routed).
    producer().send({ topic: 't', partition: 0, key: 'k', value: 'first' });
    world.runFor(500);
    cluster.produces.length = 0;
    events.length = 0;
    producer().send({ topic: 't', partition: 0, key: 'k', value: 'a' });
    producer().send({ topic: 't', partition: 1, key: 'k', value: 'b' });
    world.runFor(10);
    producer().send({ topic: 't', partition: 2, key: 'k', value: 'c' });
    world.runFor(200);
    // Two wake-ups, not one per partition: 50 ms after the first records, and after the last.
    const lingers = events.filter(
      (event) => event.kind === 'timer' && event.fields?.['label'] === 'producer.linger',
    );
    expect(lingers.map((event) => event.atMs)).toEqual([550, 560]);
    // Partitions 0 and 1 go together (one request to their leader), partition 2 on its own.
    const requests = cluster.produces.map(({ request }) => request.requestId);
    expect(cluster.produces.map(({ request }) => `${request.topic}-${request.partition}`)).toEqual([
      't-0',
      't-1',
      't-2',
    ]);
    expect(requests[0]).toBe(requests[1]);
    expect(requests[2]).not.toBe(requests[0]);
  });

  it('runs a workload of unique values at a fixed interval, and close() stops it', () => {
    const { world, history, producer } = setup({}, [['t', 2]]);
    producer().startWorkload({ topic: 't', everyMs: 100, count: 10, valuePrefix: 'p1' });
    world.runFor(450);
    producer().close();
    world.runFor(2_000);
    const invokes = history.entries.filter((entry) => entry.type === 'invoke');
    expect(invokes.map((entry) => [entry.atMs, entry.key, entry.value])).toEqual([
      [0, 'key-0', 'p1-0'],
      [100, 'key-1', 'p1-1'],
      [200, 'key-2', 'p1-2'],
      [300, 'key-3', 'p1-3'],
      [400, 'key-4', 'p1-4'],
    ]);
    expect(producer().pendingCount).toBe(0);
    expect(() => producer().send({ topic: 't', value: 'late' })).toThrow(/send after close/);
    expect(() =>
      producer().startWorkload({ topic: 't', everyMs: 1, count: 1, valuePrefix: 'p1' }),
    ).toThrow(/already used/);
  });

  it('fails a workload send without sending when pendingMax records are in flight (a full buffer)', () => {
    const { world, history, producer } = setup({ pendingMax: 3 }, [['t', 1]]);
    producer().startWorkload({ topic: 't', everyMs: 100, burst: 5, count: 5, valuePrefix: 'p' });
    world.runFor(1);
    const failed = history.entries.filter((entry) => entry.type === 'fail');
    // Three accepted, two refused at once: definitely not written, as Kafka's
    // BufferExhaustedException once max.block.ms has passed.
    expect(failed.map((entry) => [entry.value, entry.error])).toEqual([
      ['p-3', 'BUFFER_EXHAUSTED'],
      ['p-4', 'BUFFER_EXHAUSTED'],
    ]);
    expect(producer().pendingCount).toBe(3);
  });

  it('sends a burst workload together: one batch per partition per burst', () => {
    const { world, history, cluster, producer } = setup({}, [['t', 2]]);
    producer().startWorkload({ topic: 't', everyMs: 100, burst: 4, count: 10, valuePrefix: 'p' });
    world.runFor(1_000);
    const invokes = history.entries.filter((entry) => entry.type === 'invoke');
    expect(invokes.map((entry) => [entry.atMs, entry.value])).toEqual([
      ...[0, 1, 2, 3].map((i) => [0, `p-${i}`]),
      ...[4, 5, 6, 7].map((i) => [100, `p-${i}`]),
      ...[8, 9].map((i) => [200, `p-${i}`]),
    ]);
    // Each burst's records went out as one batch per partition, not one request per record.
    const perBurst = [0, 100, 200].map((atMs) =>
      cluster.produces
        .filter((p) => p.atMs >= atMs && p.atMs < atMs + 100)
        .map(({ request }) => request.records.length),
    );
    for (const sizes of perBurst) expect(sizes.length).toBeLessThanOrEqual(2);
    expect(perBurst.map((sizes) => sizes.reduce((a, b) => a + b, 0))).toEqual([4, 4, 2]);
    expect(producer().pendingCount).toBe(0);
    expect(() =>
      producer().startWorkload({ topic: 't', everyMs: 1, count: 1, burst: 0, valuePrefix: 'q' }),
    ).toThrow(/burst/);
  });

  it('every send completes exactly once, never as fail when an attempt wrote it', () => {
    const actions = fc.constantFrom<ProduceAction>(
      'answer',
      'answer',
      'drop',
      'append-drop',
      { error: 'NOT_LEADER_OR_FOLLOWER' },
      { error: 'NOT_ENOUGH_REPLICAS' },
      { error: 'BROKER_NOT_AVAILABLE' },
      { appendThenError: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' },
      { appendThenError: 'REQUEST_TIMED_OUT' },
    );
    fc.assert(
      fc.property(
        fc.array(actions, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        (script, idempotent, batchSize) => {
          const { world, history, cluster, producer } = setup(
            {
              acks: idempotent ? 'all' : '1',
              enableIdempotence: idempotent,
              retries: 4,
              batchSize,
              requestTimeoutMs: 500,
              deliveryTimeoutMs: 3_000,
            },
            [['t', 2]],
          );
          cluster.script = (_, index) => script[index % script.length] as ProduceAction;
          for (let i = 0; i < 8; i++) producer().send({ topic: 't', key: `k${i}`, value: `v${i}` });
          world.runFor(10_000);
          expect(producer().pendingCount).toBe(0);
          expect(history.openCount).toBe(0);
          const done = completions(history);
          expect(done.size).toBe(8);
          for (const partition of [0, 1]) {
            const log = cluster.values('t', partition);
            for (const value of log) expect(done.get(value as string)?.type).not.toBe('fail');
            if (idempotent) expect(new Set(log).size).toBe(log.length);
          }
          for (const entry of done.values()) {
            if (entry.type !== 'ok') continue;
            expect(cluster.values('t', entry.partition)[entry.offset as number]).toBe(entry.value);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('Producer defaults', () => {
  it('exports the defaults it documents', () => {
    expect(PRODUCER_DEFAULTS.batchSize).toBe(16);
    expect(PRODUCER_DEFAULTS.lingerMs).toBe(0);
  });
});
