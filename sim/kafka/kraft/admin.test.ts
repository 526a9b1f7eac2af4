// The admin client end to end on a KRaft cluster: the seed's createTopics example, describeTopics
// through a broker's Metadata, deleteTopics and createPartitions through the active controller.

import { describe, expect, it } from 'vitest';
import type { TopicMetadata } from '../broker/messages.ts';
import type { DescribeTopicsError } from '../clients/admin.ts';
import type {
  ControlError,
  CreatePartitionsResult,
  CreatePartitionsSpec,
  CreateTopicResult,
  CreateTopicSpec,
  DeleteTopicResult,
} from '../controller/messages.ts';
import type { PartitionState } from '../controller/metadata-image.ts';
import {
  activeController,
  adminOf,
  brokerOf,
  buildKraftCluster,
  controllerOf,
  type KraftCluster,
} from './cluster.ts';

/** What an admin call answered; `atMs` is null until it has. */
interface Answer<E, R> {
  error: E | null;
  results: readonly R[];
  atMs: number | null;
  /** How many times it answered: more than once is a bug. */
  answers: number;
}

function cluster(seed = 1): KraftCluster {
  return buildKraftCluster({ seed, controllers: 3, brokers: 3 });
}

/** Schedules an admin call at `atMs` and returns where its answer will land. */
function call<E, R>(
  kraft: KraftCluster,
  atMs: number,
  invoke: (done: (error: E, results: readonly R[]) => void) => void,
): Answer<E, R> {
  const answer: Answer<E, R> = { error: null, results: [], atMs: null, answers: 0 };
  kraft.world.at(atMs, 'admin-call', () =>
    invoke((error, results) => {
      answer.answers++;
      answer.error = error;
      answer.results = results;
      answer.atMs = kraft.world.nowMs;
    }),
  );
  return answer;
}

const createTopics = (kraft: KraftCluster, atMs: number, topics: CreateTopicSpec[]) =>
  call<ControlError, CreateTopicResult>(kraft, atMs, (done) =>
    adminOf(kraft).createTopics(topics, done),
  );

const deleteTopics = (kraft: KraftCluster, atMs: number, names: string[]) =>
  call<ControlError, DeleteTopicResult>(kraft, atMs, (done) =>
    adminOf(kraft).deleteTopics(names, done),
  );

const createPartitions = (kraft: KraftCluster, atMs: number, topics: CreatePartitionsSpec[]) =>
  call<ControlError, CreatePartitionsResult>(kraft, atMs, (done) =>
    adminOf(kraft).createPartitions(topics, done),
  );

const describeTopics = (kraft: KraftCluster, atMs: number, names: string[]) =>
  call<DescribeTopicsError, TopicMetadata>(kraft, atMs, (done) =>
    adminOf(kraft).describeTopics(names, done),
  );

function partitionsOf(kraft: KraftCluster, name: string): PartitionState[] {
  const image = activeController(kraft)?.image;
  const topic = image?.topicByName(name);
  if (topic === undefined) return [];
  return image?.allPartitions().filter((p) => p.topicId === topic.topicId) ?? [];
}

describe('admin client on a KRaft cluster', () => {
  it("creates the seed's test-topic, then describes it: a leader, 3 replicas, an ISR of 3", () => {
    const kraft = cluster();
    const created = createTopics(kraft, 6_000, [
      { name: 'test-topic', numPartitions: 1, replicationFactor: 3 },
    ]);
    const described = describeTopics(kraft, 12_000, ['test-topic', 'nope']);
    kraft.world.runFor(15_000);
    expect(created.error).toBe('NONE');
    expect(created.results[0]?.error).toBe('NONE');
    for (const id of kraft.brokers) expect(brokerOf(kraft, id)?.state).toBe('running');
    expect(described.error).toBe('NONE');
    const [topic, unknown] = described.results;
    expect(topic?.name).toBe('test-topic');
    expect(topic?.error).toBe('NONE');
    expect(topic?.topicId).toBe(created.results[0]?.topicId);
    expect(topic?.partitions).toHaveLength(1);
    const partition = topic?.partitions[0];
    expect(partition?.partition).toBe(0);
    expect(partition?.replicas).toHaveLength(3);
    expect(new Set(partition?.replicas)).toEqual(new Set(['b1', 'b2', 'b3']));
    expect(partition?.isr).toHaveLength(3);
    expect(new Set(partition?.isr)).toEqual(new Set(['b1', 'b2', 'b3']));
    expect(partition?.leader).toBe(partition?.replicas[0]);
    expect(partition?.leaderEpoch).toBe(0);
    expect(unknown).toEqual({
      name: 'nope',
      topicId: null,
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      partitions: [],
    });
  });

  it('deletes topics on every node, answers UNKNOWN_TOPIC_OR_PARTITION for unknown ones, and describe agrees', () => {
    const kraft = cluster();
    const created = createTopics(kraft, 6_000, [
      { name: 'orders', numPartitions: 3, replicationFactor: 2 },
      { name: 'keep', numPartitions: 1, replicationFactor: 3 },
    ]);
    const deleted = deleteTopics(kraft, 10_000, ['orders', 'missing']);
    const again = deleteTopics(kraft, 12_000, ['orders']);
    const described = describeTopics(kraft, 14_000, ['orders', 'keep']);
    kraft.world.runFor(16_000);
    expect(created.results.map((result) => result.error)).toEqual(['NONE', 'NONE']);
    expect(deleted.error).toBe('NONE');
    expect(deleted.results.map((result) => [result.name, result.error])).toEqual([
      ['orders', 'NONE'],
      ['missing', 'UNKNOWN_TOPIC_OR_PARTITION'],
    ]);
    expect(deleted.results[0]?.topicId).toBe(created.results[0]?.topicId);
    expect(again.results[0]?.error).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const ordersId = created.results[0]?.topicId as string;
    for (const id of kraft.controllers) {
      expect(controllerOf(kraft, id)?.image.topicByName('orders')).toBeUndefined();
      expect(controllerOf(kraft, id)?.image.topics.has(ordersId)).toBe(false);
    }
    for (const id of kraft.brokers) {
      expect(brokerOf(kraft, id)?.image.topicByName('orders')).toBeUndefined();
      expect(brokerOf(kraft, id)?.image.topicByName('keep')).toBeDefined();
    }
    expect(described.error).toBe('NONE');
    expect(described.results.map((topic) => [topic.name, topic.error])).toEqual([
      ['orders', 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['keep', 'NONE'],
    ]);
    expect(described.results[0]?.partitions).toEqual([]);
  });

  it('recreates a deleted topic under a new topic id', () => {
    const kraft = cluster();
    const first = createTopics(kraft, 6_000, [
      { name: 'events', numPartitions: 2, replicationFactor: 3 },
    ]);
    const deleted = deleteTopics(kraft, 9_000, ['events']);
    const second = createTopics(kraft, 11_000, [
      { name: 'events', numPartitions: 1, replicationFactor: 2 },
    ]);
    const described = describeTopics(kraft, 14_000, ['events']);
    kraft.world.runFor(16_000);
    expect(first.results[0]?.error).toBe('NONE');
    expect(deleted.results[0]?.error).toBe('NONE');
    expect(second.results[0]?.error).toBe('NONE');
    const firstId = first.results[0]?.topicId;
    const secondId = second.results[0]?.topicId;
    expect(secondId).not.toBeNull();
    expect(secondId).not.toBe(firstId);
    expect(described.results[0]?.topicId).toBe(secondId);
    expect(described.results[0]?.partitions).toHaveLength(1);
    expect(described.results[0]?.partitions[0]?.replicas).toHaveLength(2);
  });

  it('adds partitions and leaves the existing ones unchanged', () => {
    const kraft = cluster();
    createTopics(kraft, 6_000, [{ name: 'grow', numPartitions: 2, replicationFactor: 3 }]);
    kraft.world.runFor(10_000);
    const before = partitionsOf(kraft, 'grow');
    expect(before).toHaveLength(2);
    const grown = createPartitions(kraft, 10_000, [{ name: 'grow', totalCount: 5 }]);
    const described = describeTopics(kraft, 13_000, ['grow']);
    kraft.world.runFor(5_000);
    expect(grown.error).toBe('NONE');
    expect(grown.results).toEqual([{ name: 'grow', error: 'NONE', message: '' }]);
    const after = partitionsOf(kraft, 'grow');
    expect(after.map((partition) => partition.partition)).toEqual([0, 1, 2, 3, 4]);
    expect(after.slice(0, 2)).toEqual(before);
    for (const partition of after.slice(2)) {
      expect(new Set(partition.replicas).size).toBe(3);
      expect(partition.isr).toEqual(partition.replicas);
      expect(partition.leader).toBe(partition.replicas[0]);
      expect([partition.leaderEpoch, partition.partitionEpoch]).toEqual([0, 0]);
    }
    // Round-robin: consecutive partitions start at consecutive brokers, so the leaders differ.
    expect(new Set(after.slice(0, 3).map((partition) => partition.leader)).size).toBe(3);
    for (const id of kraft.brokers)
      expect(brokerOf(kraft, id)?.image.topicByName('grow')?.partitions.size).toBe(5);
    expect(described.results[0]?.partitions.map((partition) => partition.partition)).toEqual([
      0, 1, 2, 3, 4,
    ]);
  });

  it('refuses impossible partition increases with Kafka’s errors', () => {
    const kraft = cluster();
    createTopics(kraft, 6_000, [
      { name: 'wide', numPartitions: 2, replicationFactor: 3 },
      { name: 'narrow', numPartitions: 1, replicationFactor: 2 },
    ]);
    const refused = createPartitions(kraft, 10_000, [
      { name: 'wide', totalCount: 2 },
      { name: 'wide', totalCount: 1 },
      { name: 'missing', totalCount: 3 },
    ]);
    kraft.world.runFor(11_000);
    expect(refused.error).toBe('NONE');
    expect(refused.results.map((result) => result.error)).toEqual([
      'INVALID_PARTITIONS',
      'INVALID_PARTITIONS',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
    expect(partitionsOf(kraft, 'wide')).toHaveLength(2);
    // With b3 shut down, two usable brokers remain: too few for RF 3, enough for RF 2.
    kraft.world.stop('b3');
    kraft.world.runFor(5_000);
    expect(activeController(kraft)?.image.isUsable('b3')).toBe(false);
    const withTwo = createPartitions(kraft, 16_000, [
      { name: 'wide', totalCount: 3 },
      { name: 'narrow', totalCount: 3 },
    ]);
    kraft.world.runFor(3_000);
    expect(withTwo.results.map((result) => result.error)).toEqual([
      'INVALID_REPLICATION_FACTOR',
      'NONE',
    ]);
    expect(withTwo.results[0]?.message).toMatch(/3 > 2/);
    expect(partitionsOf(kraft, 'wide')).toHaveLength(2);
    const narrow = partitionsOf(kraft, 'narrow');
    expect(narrow).toHaveLength(3);
    for (const partition of narrow.slice(1)) expect(partition.replicas).not.toContain('b3');
  });

  it('finds the new active controller after the old one crashes', () => {
    const kraft = cluster();
    createTopics(kraft, 6_000, [{ name: 'doomed', numPartitions: 1, replicationFactor: 3 }]);
    kraft.world.runFor(10_000);
    const old = activeController(kraft);
    const oldId = kraft.controllers.find((id) => controllerOf(kraft, id) === old) as string;
    kraft.world.crash(oldId, 'kill');
    const deleted = deleteTopics(kraft, 10_000, ['doomed']);
    const grown = createPartitions(kraft, 10_000, [{ name: 'doomed', totalCount: 2 }]);
    kraft.world.runFor(15_000);
    expect(deleted.error).toBe('NONE');
    expect(deleted.results[0]?.error).toBe('NONE');
    // Sent at the same instant: it is applied either before the delete or after it.
    expect(['NONE', 'UNKNOWN_TOPIC_OR_PARTITION']).toContain(grown.results[0]?.error);
    expect(activeController(kraft)).not.toBe(old);
    expect(activeController(kraft)?.image.topicByName('doomed')).toBeUndefined();
  });

  it('describes through another broker when the first does not answer, and times out when none does', () => {
    const kraft = cluster();
    createTopics(kraft, 6_000, [{ name: 't', numPartitions: 1, replicationFactor: 3 }]);
    kraft.world.runFor(10_000);
    // The admin asks b1 first (the first bootstrap broker); the network drops it silently.
    kraft.world.partitionOneWay(['admin'], ['b1']);
    const described = describeTopics(kraft, 10_000, ['t']);
    kraft.world.runFor(5_000);
    expect(described.error).toBe('NONE');
    expect(described.results[0]?.error).toBe('NONE');
    expect(described.results[0]?.partitions[0]?.replicas).toHaveLength(3);
    // Not before the request to b1 timed out (2 s).
    expect(described.atMs).toBeGreaterThanOrEqual(12_000);
    kraft.world.isolate('admin');
    const lost = describeTopics(kraft, 15_000, ['t']);
    kraft.world.runFor(60_000);
    expect(lost.error).toBe('REQUEST_TIMED_OUT');
    expect(lost.results).toEqual([]);
  });

  it('moves on at once from a broker that refuses the connection', () => {
    const kraft = cluster();
    createTopics(kraft, 6_000, [{ name: 't', numPartitions: 1, replicationFactor: 3 }]);
    kraft.world.runFor(10_000);
    kraft.world.partitionOneWay(['admin'], ['b1'], 'reject');
    const described = describeTopics(kraft, 10_000, ['t']);
    kraft.world.runFor(5_000);
    expect(described.error).toBe('NONE');
    expect(described.results[0]?.topicId).not.toBeNull();
    expect(described.atMs).toBeLessThan(11_000);
    kraft.world.isolate('admin', 'reject');
    const refused = describeTopics(kraft, 15_000, ['t']);
    // 20 attempts, the backoff doubling from 100 ms to 1 s (KIP-580): given up after 17.5 s.
    kraft.world.runFor(20_000);
    expect(refused.error).toBe('BROKER_NOT_AVAILABLE');
  });

  it('takes an answer that comes after its timeout, once, and stops retrying', () => {
    const kraft = cluster();
    createTopics(kraft, 6_000, [{ name: 't', numPartitions: 1, replicationFactor: 3 }]);
    kraft.world.runFor(10_000);
    // 1 s more each way: the answer comes just after the 2 s request timeout, during the backoff.
    kraft.world.slow('admin', { extraLatencyMs: 1_000 });
    const described = describeTopics(kraft, 10_000, ['t']);
    kraft.world.runFor(60_000);
    expect(described.error).toBe('NONE');
    expect(described.atMs).toBeGreaterThanOrEqual(12_000);
    expect(described.answers).toBe(1);
  });
});
