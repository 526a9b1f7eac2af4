import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine, NodeContext } from '../../kernel/node.ts';
import { World } from '../../kernel/world.ts';
import type { FetchPartitionResponse, FetchRequest, TopicMetadata } from '../broker/messages.ts';
import type { ClusterMessage } from '../messages.ts';
import { NO_PRODUCER_ID, NO_SEQUENCE, type RecordBatch } from '../storage/partition-log.ts';
import {
  Consumer,
  type ConsumerConfig,
  LOG_TRUNCATION_ERROR,
  resolveConsumerConfig,
} from './consumer.ts';
import { History, type HistoryRecord } from './history.ts';

// ---- a scripted fake cluster: per-broker logs, a leader per partition ----------------------

interface FakeLog {
  batches: RecordBatch[];
  highWatermark: number;
  logStartOffset: number;
}

interface FakePartition {
  leader: string | null;
  leaderEpoch: number;
  /** Each broker's replica. */
  readonly logs: Map<string, FakeLog>;
}

function logEndOffset(log: FakeLog): number {
  const last = log.batches[log.batches.length - 1];
  return last === undefined ? log.logStartOffset : last.lastOffset + 1;
}

/** Kafka's leader-epoch cache lookup: the largest epoch ≤ `epoch` and where it ends. */
function endOffsetFor(log: FakeLog, epoch: number): { epoch: number; endOffset: number } {
  const entries: { epoch: number; startOffset: number }[] = [];
  for (const batch of log.batches) {
    if (entries[entries.length - 1]?.epoch !== batch.leaderEpoch)
      entries.push({ epoch: batch.leaderEpoch, startOffset: batch.baseOffset });
  }
  let found = -1;
  entries.forEach((entry, index) => {
    if (entry.epoch <= epoch) found = index;
  });
  const entry = entries[found];
  if (entry === undefined) return { epoch: -1, endOffset: -1 };
  return { epoch: entry.epoch, endOffset: entries[found + 1]?.startOffset ?? logEndOffset(log) };
}

class FakeCluster {
  readonly brokers = ['b1', 'b2', 'b3'];
  readonly topics = new Map<string, FakePartition[]>();
  readonly fetches: { broker: string; atMs: number; request: FetchRequest }[] = [];
  /** When each metadata request arrived. */
  readonly metadataRequests: number[] = [];
  /** Brokers whose metadata lags: how many leader epochs behind the cluster's they answer with. */
  readonly epochLag = new Map<string, number>();

  addTopic(name: string, partitions: number, leaders: readonly string[] = ['b1']): void {
    this.topics.set(
      name,
      Array.from({ length: partitions }, (_, index) => ({
        leader: leaders[index % leaders.length] as string,
        leaderEpoch: 1,
        logs: new Map(
          this.brokers.map((id) => [id, { batches: [], highWatermark: 0, logStartOffset: 0 }]),
        ),
      })),
    );
  }

  partition(topic: string, partition: number): FakePartition {
    const state = this.topics.get(topic)?.[partition];
    if (state === undefined) throw new Error(`no ${topic}-${partition}`);
    return state;
  }

  log(topic: string, partition: number, broker: string): FakeLog {
    return this.partition(topic, partition).logs.get(broker) as FakeLog;
  }

  /** Appends one committed batch to the given replicas (default: all, replicated). */
  append(
    topic: string,
    partition: number,
    values: readonly string[],
    options: { epoch?: number; brokers?: readonly string[] } = {},
  ): void {
    const state = this.partition(topic, partition);
    for (const broker of options.brokers ?? this.brokers) {
      const log = this.log(topic, partition, broker);
      const baseOffset = logEndOffset(log);
      log.batches.push({
        baseOffset,
        lastOffset: baseOffset + values.length - 1,
        leaderEpoch: options.epoch ?? state.leaderEpoch,
        records: values.map((value, index) => ({
          key: `k-${value}`,
          value,
          offset: baseOffset + index,
        })),
        sizeBytes: 100,
        appendedAtMs: 0,
        producerId: NO_PRODUCER_ID,
        baseSequence: NO_SEQUENCE,
        lastSequence: NO_SEQUENCE,
      });
      log.highWatermark = logEndOffset(log);
    }
  }

  moveLeader(topic: string, partition: number, leader: string, epoch?: number): void {
    const state = this.partition(topic, partition);
    state.leader = leader;
    state.leaderEpoch = epoch ?? state.leaderEpoch + 1;
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

  /** A leader's answer to one partition of a consumer's fetch, as Kafka's would be. */
  answer(broker: string, request: FetchRequest['partitions'][number]): FetchPartitionResponse {
    const topic = request.topicId.slice('id-'.length);
    const state = this.partition(topic, request.partition);
    const log = this.log(topic, request.partition, broker);
    const base = {
      topicId: request.topicId,
      partition: request.partition,
      highWatermark: log.highWatermark,
      logStartOffset: log.logStartOffset,
      logEndOffset: logEndOffset(log),
      leaderEpoch: state.leaderEpoch,
      divergingEpoch: null,
      batches: [],
    };
    if (state.leader !== broker) return { ...base, error: 'NOT_LEADER_OR_FOLLOWER' };
    const brokerEpoch = state.leaderEpoch - (this.epochLag.get(broker) ?? 0);
    if (request.currentLeaderEpoch < brokerEpoch) return { ...base, error: 'FENCED_LEADER_EPOCH' };
    if (request.currentLeaderEpoch > brokerEpoch) return { ...base, error: 'UNKNOWN_LEADER_EPOCH' };
    if (request.lastFetchedEpoch >= 0) {
      const end = endOffsetFor(log, request.lastFetchedEpoch);
      if (end.epoch < request.lastFetchedEpoch || end.endOffset < request.fetchOffset)
        return { ...base, error: 'NONE', divergingEpoch: end };
    }
    if (request.fetchOffset < log.logStartOffset || request.fetchOffset > logEndOffset(log))
      return { ...base, error: 'OFFSET_OUT_OF_RANGE' };
    const batches = log.batches.filter(
      (batch) => batch.lastOffset >= request.fetchOffset && batch.baseOffset < log.highWatermark,
    );
    return { ...base, error: 'NONE', batches };
  }
}

class FakeBroker implements Machine<ClusterMessage> {
  constructor(
    readonly context: NodeContext<ClusterMessage>,
    readonly cluster: FakeCluster,
  ) {}

  start(): void {}

  onMessage(source: string, message: ClusterMessage): void {
    if (message.kind === 'client.metadata') {
      this.cluster.metadataRequests.push(this.context.nowMs);
      this.context.send(source, {
        kind: 'client.metadata-response',
        requestId: message.requestId,
        brokers: this.cluster.brokers,
        topics: this.cluster.metadataTopics(message.topics),
      });
    } else if (message.kind === 'fetch') {
      const id = this.context.nodeId;
      this.cluster.fetches.push({ broker: id, atMs: this.context.nowMs, request: message });
      this.context.send(source, {
        kind: 'fetch-response',
        requestId: message.requestId,
        partitions: message.partitions.map((partition) => this.cluster.answer(id, partition)),
      });
    }
  }
}

function setup(
  config: Partial<ConsumerConfig> = {},
  topics: [string, number, string[]?][] = [['t', 1]],
) {
  const world = new World<ClusterMessage>({
    seed: 'consumer-test',
    latency: { kind: 'constant', ms: 1 },
    trace: { ringCapacity: 16 },
  });
  const history = new History(() => world.nowMs);
  const cluster = new FakeCluster();
  for (const [name, partitions, leaders] of topics) cluster.addTopic(name, partitions, leaders);
  for (const id of cluster.brokers)
    world.addNode(id, (context) => new FakeBroker(context, cluster));
  world.addNode(
    'c1',
    (context) =>
      new Consumer(context, {
        bootstrapBrokers: cluster.brokers,
        topics: topics.map(([name]) => name),
        history,
        pollIntervalMs: 10,
        ...config,
      }),
  );
  for (const id of [...cluster.brokers, 'c1']) world.node(id).start();
  return { world, history, cluster, consumer: () => world.node('c1').machine as Consumer };
}

function values(records: readonly HistoryRecord[]): (string | null)[] {
  return records.map(([, , value]) => value);
}

function offsets(records: readonly HistoryRecord[]): number[] {
  return records.map(([offset]) => offset);
}

function range(from: number, to: number, prefix = 'v'): string[] {
  return Array.from({ length: to - from }, (_, index) => `${prefix}${from + index}`);
}

// ---- the tests -----------------------------------------------------------------------------

describe('Consumer configuration', () => {
  const base = { bootstrapBrokers: ['b1'], topics: ['t'], history: new History(() => 0) };

  it("applies Kafka's defaults", () => {
    const config = resolveConsumerConfig(base, 'c1');
    expect(config).toMatchObject({
      fetchMaxWaitMs: 500,
      requestTimeoutMs: 30_000,
      autoOffsetReset: 'earliest',
      process: 'c1',
    });
  });

  it('rejects invalid values with messages that name the setting', () => {
    expect(() => resolveConsumerConfig({ ...base, topics: [] }, 'c1')).toThrow(/topics/);
    expect(() => resolveConsumerConfig({ ...base, fetchMaxWaitMs: -5 }, 'c1')).toThrow(
      /fetchMaxWaitMs must be a non-negative integer/,
    );
    expect(() =>
      resolveConsumerConfig({ ...base, requestTimeoutMs: 400, fetchMaxWaitMs: 500 }, 'c1'),
    ).toThrow(/requestTimeoutMs must be > fetchMaxWaitMs/);
    expect(() =>
      resolveConsumerConfig({ ...base, autoOffsetReset: 'none' as 'latest' }, 'c1'),
    ).toThrow(/autoOffsetReset/);
  });
});

describe('Consumer', () => {
  it('reads every partition in order and records each non-empty read as a poll', () => {
    const { world, history, cluster, consumer } = setup({}, [['t', 2]]);
    cluster.append('t', 0, ['a0', 'a1']);
    cluster.append('t', 1, ['b0']);
    world.runFor(200);
    cluster.append('t', 0, ['a2']);
    world.runFor(1_000);
    expect(values(consumer().readRecords('t', 0))).toEqual(['a0', 'a1', 'a2']);
    expect(offsets(consumer().readRecords('t', 0))).toEqual([0, 1, 2]);
    expect(consumer().readRecords('t', 1)).toEqual([[0, 'k-b0', 'b0']]);
    expect(consumer().position('t', 0)).toBe(3);
    const polls = history.entries.filter((entry) => entry.f === 'poll');
    // invoke + ok per non-empty read; the many empty fetches are not in the history.
    expect(polls.map((entry) => [entry.type, entry.partition, entry.records?.length])).toEqual([
      ['invoke', 0, undefined],
      ['ok', 0, 2],
      ['invoke', 1, undefined],
      ['ok', 1, 1],
      ['invoke', 0, undefined],
      ['ok', 0, 1],
    ]);
    expect(polls[1]).toMatchObject({
      process: 'c1',
      records: [
        [0, 'k-a0', 'a0'],
        [1, 'k-a1', 'a1'],
      ],
    });
    expect(cluster.fetches.length).toBeGreaterThan(10);
  });

  it('refuses a read past readRecordsMax, and the history gets no poll of it', () => {
    const { world, history, cluster, consumer } = setup({ readRecordsMax: 3 });
    cluster.append('t', 0, ['a0', 'a1']);
    world.runFor(200);
    cluster.append('t', 0, ['a2', 'a3']);
    expect(() => world.runFor(1_000)).toThrow(/readRecordsMax/);
    expect(values(consumer().readRecords('t', 0))).toEqual(['a0', 'a1']);
    // The refused read moved the position all the same, as it always did.
    expect(consumer().position('t', 0)).toBe(4);
    expect(history.entries.filter((entry) => entry.f === 'poll').length).toBe(2);
    expect(history.recordsAt(history.length - 1)).toEqual([
      [0, 'k-a0', 'a0'],
      [1, 'k-a1', 'a1'],
    ]);
  });

  it('sends one fetch per leader, with the consumer fields and the epochs KIP-320 needs', () => {
    const { world, cluster } = setup({}, [['t', 3, ['b1', 'b1', 'b2']]]);
    cluster.append('t', 0, ['a0']);
    world.runFor(100);
    const first = cluster.fetches.filter((fetch) => fetch.broker === 'b1')[0]?.request;
    expect(first).toMatchObject({ replicaId: null, replicaEpoch: -1, maxWaitMs: 500 });
    expect(first?.partitions.map((partition) => partition.partition)).toEqual([0, 1]);
    expect(first?.partitions[0]).toEqual({
      topicId: 'id-t',
      partition: 0,
      fetchOffset: 0,
      lastFetchedEpoch: -1,
      currentLeaderEpoch: 1,
    });
    const b2 = cluster.fetches.find((fetch) => fetch.broker === 'b2')?.request;
    expect(b2?.partitions.map((partition) => partition.partition)).toEqual([2]);
    const fromB1 = cluster.fetches.filter((fetch) => fetch.broker === 'b1');
    const later = fromB1[fromB1.length - 1]?.request.partitions[0];
    expect(later).toMatchObject({ partition: 0, fetchOffset: 1, lastFetchedEpoch: 1 });
  });

  it('reads in order across a leader change, from the new leader, without repeating an offset', () => {
    const { world, history, cluster, consumer } = setup();
    cluster.append('t', 0, range(0, 5));
    world.runFor(500);
    cluster.moveLeader('t', 0, 'b2');
    cluster.append('t', 0, range(5, 10));
    world.runFor(2_000);
    const read = consumer().readRecords('t', 0);
    expect(offsets(read)).toEqual(range(0, 10).map((_, index) => index));
    expect(values(read)).toEqual(range(0, 10));
    const fromB2 = cluster.fetches.filter((fetch) => fetch.broker === 'b2');
    expect(fromB2[0]?.request.partitions[0]).toMatchObject({
      currentLeaderEpoch: 2,
      fetchOffset: 5,
    });
    expect(history.entries.some((entry) => entry.type === 'info')).toBe(false);
  });

  it('detects a log truncation (KIP-320) and records it, then reads the new records', () => {
    const { world, history, cluster, consumer } = setup();
    cluster.append('t', 0, range(0, 7));
    cluster.append('t', 0, range(7, 10), { brokers: ['b1'] });
    world.runFor(500);
    expect(consumer().position('t', 0)).toBe(10);
    // An unclean election: b2, which never had offsets 7..9, leads epoch 2 and writes its own.
    cluster.moveLeader('t', 0, 'b2');
    cluster.append('t', 0, ['x7', 'x8'], { brokers: ['b2'] });
    world.runFor(2_000);
    const truncation = history.entries.filter((entry) => entry.type === 'info');
    expect(truncation).toHaveLength(1);
    expect(truncation[0]).toMatchObject({
      f: 'poll',
      topic: 't',
      partition: 0,
      offset: 7,
      error: LOG_TRUNCATION_ERROR,
    });
    const read = consumer().readRecords('t', 0);
    expect(offsets(read)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8]);
    expect(values(read).slice(10)).toEqual(['x7', 'x8']);
    expect(consumer().position('t', 0)).toBe(9);
    expect(consumer().truncations('t', 0)).toBe(1);
    expect(consumer().consumedEpochs('t', 0)).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 7 },
    ]);
  });

  it("truncates as far back as its own epoch bookkeeping says, below the leader's end offset", () => {
    const { world, history, cluster, consumer } = setup();
    cluster.append('t', 0, range(0, 5), { epoch: 1 });
    cluster.moveLeader('t', 0, 'b1', 3);
    cluster.append('t', 0, range(5, 10), { epoch: 3, brokers: ['b1'] });
    world.runFor(500);
    expect(consumer().position('t', 0)).toBe(10);
    // b2 has a different history: epoch 2 at 5..7, then it leads epoch 4.
    cluster.append('t', 0, ['y5', 'y6', 'y7'], { epoch: 2, brokers: ['b2'] });
    cluster.moveLeader('t', 0, 'b2', 4);
    cluster.append('t', 0, ['y8', 'y9'], { brokers: ['b2'] });
    world.runFor(2_000);
    // The leader says epoch 2 ends at 8, but what this consumer read of epoch 3 starts at 5.
    const truncation = history.entries.find((entry) => entry.type === 'info');
    expect(truncation).toMatchObject({ offset: 5, error: LOG_TRUNCATION_ERROR });
    const read = consumer().readRecords('t', 0);
    expect(values(read).slice(10)).toEqual(['y5', 'y6', 'y7', 'y8', 'y9']);
    expect(offsets(read).slice(10)).toEqual([5, 6, 7, 8, 9]);
  });

  it('OFFSET_OUT_OF_RANGE: resets to the log start (earliest) without recording a truncation', () => {
    const { world, history, cluster, consumer } = setup();
    for (const id of cluster.brokers) cluster.log('t', 0, id).logStartOffset = 3;
    cluster.append('t', 0, range(3, 6));
    world.runFor(500);
    expect(offsets(consumer().readRecords('t', 0))).toEqual([3, 4, 5]);
    expect(history.entries.some((entry) => entry.type === 'info')).toBe(false);
  });

  it("autoOffsetReset 'latest' starts at the high watermark", () => {
    const { world, cluster, consumer } = setup({ autoOffsetReset: 'latest' });
    cluster.append('t', 0, range(0, 4));
    world.runFor(300);
    expect(consumer().position('t', 0)).toBe(4);
    cluster.append('t', 0, ['v4']);
    world.runFor(300);
    expect(consumer().readRecords('t', 0)).toEqual([[4, 'k-v4', 'v4']]);
  });

  it('UNKNOWN_LEADER_EPOCH: fetches again without asking for metadata, as Kafka', () => {
    // The consumer knows epoch 2 (b2 leads) before b2's own metadata does: b2 answers
    // UNKNOWN_LEADER_EPOCH until it catches up. Kafka's consumer only retries (its epoch is the
    // newer one); asking for metadata again would tell it nothing new.
    const { world, cluster, consumer } = setup();
    cluster.append('t', 0, range(0, 3));
    world.runFor(300);
    cluster.epochLag.set('b2', 1);
    cluster.moveLeader('t', 0, 'b2');
    world.runFor(300);
    const fetchesToB2 = () => cluster.fetches.filter((fetch) => fetch.broker === 'b2').length;
    const metadataBefore = cluster.metadataRequests.length;
    const b2Before = fetchesToB2();
    world.runFor(1_000);
    expect(fetchesToB2()).toBeGreaterThan(b2Before + 2);
    expect(cluster.metadataRequests.length).toBe(metadataBefore);
    cluster.epochLag.delete('b2');
    cluster.append('t', 0, range(3, 5));
    world.runFor(500);
    expect(offsets(consumer().readRecords('t', 0))).toEqual([0, 1, 2, 3, 4]);
  });

  it('a silent partition of the leader: the fetch times out, reading resumes after healing', () => {
    const { world, cluster, consumer } = setup({ requestTimeoutMs: 2_000 });
    cluster.append('t', 0, range(0, 3));
    world.runFor(300);
    world.partition([['b1'], ['c1', 'b2', 'b3']]);
    cluster.append('t', 0, range(3, 6));
    world.runFor(1_000);
    expect(consumer().position('t', 0)).toBe(3);
    world.heal();
    world.runFor(5_000);
    expect(offsets(consumer().readRecords('t', 0))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('waits for a topic created later', () => {
    const { world, cluster, consumer } = setup({ topics: ['late'] }, []);
    world.runFor(1_000);
    expect(consumer().assignment()).toEqual([]);
    // First the topic without its partitions (a broker that applied only the topic record).
    cluster.addTopic('late', 0);
    world.runFor(1_000);
    expect(consumer().assignment()).toEqual([]);
    cluster.addTopic('late', 2);
    cluster.append('late', 1, ['z0']);
    world.runFor(1_000);
    expect(consumer().assignment()).toEqual([
      { topic: 'late', partition: 0 },
      { topic: 'late', partition: 1 },
    ]);
    expect(consumer().readRecords('late', 1)).toEqual([[0, 'k-z0', 'z0']]);
  });

  it('never records an offset twice without a truncation, whatever the network does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            atMs: fc.integer({ min: 0, max: 4_000 }),
            what: fc.constantFrom('append', 'append', 'move-leader', 'partition', 'heal'),
            broker: fc.constantFrom('b1', 'b2', 'b3'),
            partition: fc.integer({ min: 0, max: 1 }),
          }),
          { maxLength: 30 },
        ),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (steps, chaos) => {
          const { world, history, cluster, consumer } = setup(
            { requestTimeoutMs: 1_000, fetchMaxWaitMs: 100 },
            [['t', 2]],
          );
          world.network.setChaos({ dropProbability: chaos, duplicateProbability: chaos });
          let written = 0;
          const sorted = [...steps].sort((left, right) => left.atMs - right.atMs);
          for (const step of sorted) {
            world.at(step.atMs, step.what, () => {
              if (step.what === 'append')
                cluster.append('t', step.partition, [`w${written++}`, `w${written++}`]);
              else if (step.what === 'move-leader')
                cluster.moveLeader('t', step.partition, step.broker);
              else if (step.what === 'partition') world.isolate(step.broker);
              else world.heal();
            });
          }
          world.at(5_000, 'heal', () => {
            world.heal();
            world.network.setChaos(null);
          });
          world.runFor(20_000);
          expect(history.entries.some((entry) => entry.type === 'info')).toBe(false);
          for (const partition of [0, 1]) {
            const read = consumer().readRecords('t', partition);
            const log = cluster.log('t', partition, 'b1');
            const all = log.batches.flatMap((batch) => batch.records.map((r) => r.value));
            expect(values(read)).toEqual(all);
            expect(offsets(read)).toEqual(all.map((_, index) => index));
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
