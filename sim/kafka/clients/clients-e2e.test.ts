// The clients end to end against real brokers of a KRaft cluster (3 controllers, 3 brokers, fixed
// seeds): the seed's admin / producer / consumer example as written; a leader killed while
// idempotent acks=all producers and a consumer run, through the full harness and its checkers;
// lost produce answers retried with and without idempotence; a consumer across a leader change,
// checked after every event to read below the high watermark only.

import { describe, expect, it } from 'vitest';
import { type KafkaRunResult, replicasOf, runKafka } from '../../../properties/kafka-harness.ts';
import type { TraceEvent } from '../../kernel/trace.ts';
import { activeController, adminOf, brokerOf, buildKraftCluster } from '../kraft/cluster.ts';
import { Consumer } from './consumer.ts';
import { History, type HistoryEntry } from './history.ts';
import { Producer, type SendResult } from './producer.ts';

const TOPIC = 'orders';

/** Every send operation's invoke and its completion, by process and value (values are unique). */
function sends(entries: readonly HistoryEntry[]) {
  const byValue = new Map<string, { invoke: HistoryEntry; completion: HistoryEntry | null }>();
  for (const entry of entries) {
    if (entry.f !== 'send') continue;
    const id = `${entry.process}/${entry.value}`;
    if (entry.type === 'invoke') {
      expect(byValue.has(id), `${id} invoked twice`).toBe(false);
      byValue.set(id, { invoke: entry, completion: null });
      continue;
    }
    const operation = byValue.get(id);
    expect(operation, `${id} completed without an invoke`).toBeDefined();
    expect(operation?.completion ?? null, `${id} completed twice`).toBeNull();
    if (operation !== undefined) operation.completion = entry;
  }
  return [...byValue.values()];
}

/** The final log of the partition's leader: value at each offset. */
function finalLeaderLog(
  result: KafkaRunResult,
  topic: string,
  partition: number,
): (string | null)[] {
  const state = activeController(result.cluster)
    ?.image.topicByName(topic)
    ?.partitions.get(partition);
  const leader = replicasOf(result.cluster, topic, partition).find(
    ({ broker }) => broker === state?.leader,
  );
  expect(leader, `a leader for ${topic}-${partition}`).toBeDefined();
  return (
    leader?.replica.log.batches().flatMap((batch) => batch.records.map((record) => record.value)) ??
    []
  );
}

describe('clients against a KRaft cluster', () => {
  it("runs the seed's example as written: createTopics, ten acks=all sends, a consumer reads them in order", () => {
    const kraft = buildKraftCluster({ seed: 1, controllers: 3, brokers: 3 });
    const { world } = kraft;
    const history = new History(() => world.nowMs);
    world.addNode(
      'producer',
      (context) =>
        new Producer(context, {
          bootstrapBrokers: kraft.brokers,
          acks: 'all',
          retries: 5,
          history,
        }),
    );
    world.addNode(
      'consumer',
      (context) =>
        new Consumer(context, { bootstrapBrokers: kraft.brokers, topics: ['test-topic'], history }),
    );
    let created: string | null = null;
    world.at(6_000, 'create', () =>
      adminOf(kraft).createTopics(
        [{ name: 'test-topic', numPartitions: 1, replicationFactor: 3 }],
        (error, results) => {
          created = `${error}/${results.map((result) => result.error).join(',')}`;
        },
      ),
    );
    const results: SendResult[] = [];
    world.at(8_000, 'produce', () => {
      world.node('producer').start();
      const producer = world.node('producer').machine as Producer;
      for (let i = 0; i < 10; i++)
        producer.send({ topic: 'test-topic', key: `key-${i}`, value: `message-${i}` }, (result) =>
          results.push(result),
        );
    });
    world.at(8_000, 'consume', () => world.node('consumer').start());
    world.runFor(15_000);
    expect(created).toBe('NONE/NONE');
    const producer = world.node('producer').machine as Producer;
    // Idempotence is on by default with acks=all and retries > 0, as in Kafka 3.0+.
    expect(producer.idempotent).toBe(true);
    expect(results).toEqual(
      Array.from({ length: 10 }, (_, i) => ({
        type: 'ok',
        topic: 'test-topic',
        partition: 0,
        offset: i,
      })),
    );
    expect(producer.completed).toEqual({ ok: 10, fail: 0, info: 0 });
    expect(producer.pendingCount).toBe(0);
    const consumer = world.node('consumer').machine as Consumer;
    expect(consumer.readRecords('test-topic', 0)).toEqual(
      Array.from({ length: 10 }, (_, i) => [i, `key-${i}`, `message-${i}`]),
    );
    expect(consumer.position('test-topic', 0)).toBe(10);
    expect(consumer.truncations('test-topic', 0)).toBe(0);
    // The history: each send an invoke then an ok at its offset; the polls carry the same records.
    const operations = sends(history.entries);
    expect(operations).toHaveLength(10);
    for (const [i, operation] of operations.entries()) {
      expect(operation.invoke).toMatchObject({ acks: 'all', topic: 'test-topic', key: `key-${i}` });
      expect(operation.completion).toMatchObject({
        type: 'ok',
        partition: 0,
        offset: i,
        value: `message-${i}`,
      });
    }
    const polled = history.entries
      .filter((entry) => entry.f === 'poll' && entry.type === 'ok')
      .flatMap((entry) => entry.records ?? []);
    expect(polled).toEqual(consumer.readRecords('test-topic', 0));
    expect(history.openCount).toBe(0);
    // Every replica holds the ten records, committed.
    for (const id of kraft.brokers) {
      const broker = brokerOf(kraft, id);
      const topicId = broker?.image.topicIdsByName.get('test-topic') as string;
      const replica = broker?.replicaManager.replica(topicId, 0);
      expect(replica?.log.batches().flatMap((batch) => batch.records.map((r) => r.value))).toEqual(
        Array.from({ length: 10 }, (_, i) => `message-${i}`),
      );
      expect(replica?.highWatermark).toBe(10);
    }
  });

  describe('a leader killed mid-stream (acks=all, idempotent producers, one consumer)', () => {
    const KILL_AT_MS = 12_000;
    let result: KafkaRunResult | null = null;
    const events: TraceEvent[] = [];
    const outcome = (): KafkaRunResult => {
      result ??= runKafka({
        seed: 7,
        controllers: 3,
        brokers: 3,
        topics: [{ name: TOPIC, partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
        producers: [
          { topic: TOPIC, acks: 'all', idempotent: true, everyMs: 40, partition: 0 },
          { topic: TOPIC, acks: 'all', idempotent: true, everyMs: 55, partition: 0 },
        ],
        consumers: [[TOPIC]],
        faults: [
          { atMs: KILL_AT_MS, kind: 'bounce', node: '@leader', crash: 'kill', downMs: 8_000 },
        ],
        faultPhaseMs: 30_000,
        healPhaseMs: 25_000,
        trace: { sink: (event) => events.push(event) },
      });
      return result;
    };

    it('checks clean: no violation of any invariant', () => {
      expect(outcome().violations).toEqual([]);
    });

    it('retries every send to the new leader; each ends ok, info or fail, and every ok is at its offset in the final log without duplicates', () => {
      const run = outcome();
      const operations = sends(run.history.entries);
      expect(operations.length).toBeGreaterThan(800);
      for (const operation of operations) {
        expect(operation.completion, `${operation.invoke.value} completed`).not.toBeNull();
        expect(['ok', 'info', 'fail']).toContain(operation.completion?.type);
      }
      const log = finalLeaderLog(run, TOPIC, 0);
      const oks = operations.filter((operation) => operation.completion?.type === 'ok');
      expect(oks.length).toBeGreaterThan(0.9 * operations.length);
      for (const { completion } of oks)
        expect(log[completion?.offset as number], `${completion?.value}`).toBe(completion?.value);
      // Idempotence: no value twice, even though batches were retried.
      expect(new Set(log).size).toBe(log.length);
      // The leader did change, and writes were acknowledged in the new epoch after the kill.
      const state = activeController(run.cluster)?.image.topicByName(TOPIC)?.partitions.get(0);
      expect(state?.leaderEpoch).toBeGreaterThanOrEqual(1);
      const lateOks = oks.filter(({ completion }) => (completion?.atMs ?? 0) > KILL_AT_MS + 1_000);
      expect(lateOks.length).toBeGreaterThan(100);
      const retried = events.filter(
        (event) => event.kind === 'producer.produce' && Number(event.fields?.retries) > 0,
      );
      expect(retried.length).toBeGreaterThan(0);
      // Every replica ends with the leader's log.
      for (const { broker, replica } of replicasOf(run.cluster, TOPIC, 0))
        expect(
          replica.log.batches().flatMap((batch) => batch.records.map((record) => record.value)),
          broker,
        ).toEqual(log);
    });
  });

  it('deduplicates retries of writes whose answers were lost when idempotent, and duplicates them when not', () => {
    const run = (idempotent: boolean) => {
      let deduplicated = 0;
      const outcome = runKafka({
        seed: 7,
        controllers: 3,
        brokers: 3,
        topics: [{ name: TOPIC, partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
        producers: [{ topic: TOPIC, acks: 'all', idempotent, everyMs: 40, partition: 0 }],
        consumers: [[TOPIC]],
        faults: [
          // The leader's answers to the producer are lost for 8 s: every request times out and is
          // retried although the leader appended it; then the leader dies.
          {
            atMs: 12_000,
            kind: 'partition-one-way',
            sources: ['@leader'],
            targets: ['p1'],
            mode: 'silent',
          },
          { atMs: 20_000, kind: 'heal' },
          { atMs: 22_000, kind: 'crash', node: '@leader', crash: 'kill' },
        ],
        faultPhaseMs: 30_000,
        healPhaseMs: 25_000,
        trace: {
          sink: (event) => {
            if (event.kind === 'replica.append' && event.fields?.duplicate === true) deduplicated++;
          },
        },
      });
      expect(outcome.violations).toEqual([]);
      const operations = sends(outcome.history.entries);
      for (const { completion } of operations) expect(completion?.type).toBe('ok');
      const log = finalLeaderLog(outcome, TOPIC, 0);
      for (const { completion } of operations)
        expect(log[completion?.offset as number]).toBe(completion?.value);
      return { deduplicated, operations: operations.length, log };
    };
    const idempotent = run(true);
    expect(idempotent.deduplicated).toBeGreaterThan(0);
    expect(idempotent.log).toHaveLength(idempotent.operations);
    expect(new Set(idempotent.log).size).toBe(idempotent.log.length);
    const plain = run(false);
    expect(plain.deduplicated).toBe(0);
    expect(plain.log.length).toBeGreaterThan(plain.operations);
    expect(new Set(plain.log).size).toBe(plain.operations);
  });

  it('keeps a consumer reading across a leader change, never past the HW, every record read in the final log', () => {
    const KILL_AT_MS = 12_000;
    const kraft = buildKraftCluster({
      seed: 3,
      controllers: 3,
      brokers: 3,
      replica: { replicaLagTimeMaxMs: 6_000, replicaSocketTimeoutMs: 5_000 },
    });
    const { world } = kraft;
    const history = new History(() => world.nowMs);
    world.at(5_000, 'create', () =>
      adminOf(kraft).createTopics(
        [
          {
            name: TOPIC,
            numPartitions: 1,
            replicationFactor: 3,
            configs: { minInsyncReplicas: 2 },
          },
        ],
        () => {},
      ),
    );
    world.addNode(
      'p1',
      (context) =>
        new Producer(context, {
          bootstrapBrokers: kraft.brokers,
          history,
          requestTimeoutMs: 5_000,
          deliveryTimeoutMs: 20_000,
        }),
    );
    world.addNode(
      'r1',
      (context) =>
        new Consumer(context, { bootstrapBrokers: kraft.brokers, topics: [TOPIC], history }),
    );
    world.node('p1').start();
    world.node('r1').start();
    world.at(7_000, 'workload', () =>
      (world.node('p1').machine as Producer).startWorkload({
        topic: TOPIC,
        everyMs: 30,
        count: 700,
        partition: 0,
      }),
    );
    let killed: string | null = null;
    world.at(KILL_AT_MS, 'kill-leader', () => {
      killed = activeController(kraft)?.image.topicByName(TOPIC)?.partitions.get(0)?.leader ?? null;
      world.crash(killed as string, 'kill');
    });
    world.at(KILL_AT_MS + 8_000, 'restart', () => world.restart(killed as string));
    // After every event: what the consumer just read lies below the largest HW any replica has.
    const overReads: string[] = [];
    let readSeen = 0;
    let checks = 0;
    world.scheduler.addStepCheck(() => {
      const consumer = world.node('r1').machine as Consumer | null;
      const read = consumer?.readRecords(TOPIC, 0) ?? [];
      if (read.length === readSeen) return;
      let highWatermark = 0;
      for (const { replica } of replicasOf(kraft, TOPIC, 0))
        highWatermark = Math.max(highWatermark, replica.highWatermark);
      for (const [offset, , value] of read.slice(readSeen)) {
        checks++;
        if (offset >= highWatermark) overReads.push(`${value}@${offset} ≥ HW ${highWatermark}`);
      }
      readSeen = read.length;
    });
    world.runFor(50_000);
    expect(killed).not.toBeNull();
    const state = activeController(kraft)?.image.topicByName(TOPIC)?.partitions.get(0);
    expect(state?.leader).not.toBe(killed);
    expect(state?.leaderEpoch).toBe(1);
    const leader = replicasOf(kraft, TOPIC, 0).find(({ broker }) => broker === state?.leader);
    const log = (leader?.replica.log.batches() ?? []).flatMap((batch) =>
      batch.records.map((record) => record.value),
    );
    expect(log.length).toBeGreaterThan(600);
    const consumer = world.node('r1').machine as Consumer;
    const read = consumer.readRecords(TOPIC, 0);
    expect(checks).toBe(read.length);
    expect(overReads).toEqual([]);
    for (const [offset, , value] of read) expect(log[offset], `offset ${offset}`).toBe(value);
    expect(consumer.truncations(TOPIC, 0)).toBe(0);
    expect(read.map(([offset]) => offset)).toEqual(log.map((_, offset) => offset));
    // It read in both leader epochs, and records written after the kill.
    expect(consumer.consumedEpochs(TOPIC, 0).map((entry) => entry.epoch)).toEqual([0, 1]);
    const polls = history.entries.filter((entry) => entry.f === 'poll' && entry.type === 'ok');
    expect(polls.some((entry) => entry.atMs > KILL_AT_MS + 1_000 && entry.atMs < 28_000)).toBe(
      true,
    );
    // Every acked write is in the log at its offset, and the consumer read it.
    const oks = history.entries.filter((entry) => entry.f === 'send' && entry.type === 'ok');
    expect(oks.length).toBeGreaterThan(600);
    for (const ok of oks) expect(log[ok.offset as number]).toBe(ok.value);
  });
});
