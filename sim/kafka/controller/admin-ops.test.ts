// The admin operations of the controller as pure functions: deleteTopicRecords,
// createPartitionsRecords and assignmentStartIndex, over images built by hand.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetadataImage, type PartitionState } from './metadata-image.ts';
import {
  assignmentStartIndex,
  createPartitionsRecords,
  createTopicRecords,
  deleteTopicRecords,
} from './partition-control.ts';
import type { BrokerId, MetadataRecord } from './records.ts';

/** An image the test fills with records; offsets count up by themselves. */
class TestImage {
  readonly image = new MetadataImage();
  #offset = 0;

  apply(records: readonly MetadataRecord[]): this {
    for (const record of records) this.image.apply(record, this.#offset++);
    return this;
  }

  broker(brokerId: BrokerId, usable = true): this {
    const brokerEpoch = this.#offset;
    this.apply([
      {
        type: 'RegisterBroker',
        brokerId,
        incarnationId: `${brokerId}@${brokerEpoch}`,
        brokerEpoch,
      },
    ]);
    if (usable) this.apply([{ type: 'UnfenceBroker', brokerId, brokerEpoch }]);
    return this;
  }

  fence(brokerId: BrokerId): this {
    const brokerEpoch = this.image.broker(brokerId)?.brokerEpoch ?? -1;
    return this.apply([{ type: 'FenceBroker', brokerId, brokerEpoch }]);
  }

  /** Creates a topic with id `${name}-id` (or `topicId`), failing the test on an error. */
  topic(name: string, numPartitions: number, rf: number, startIndex = 0, topicId = `${name}-id`) {
    const created = createTopicRecords(
      this.image,
      { name, numPartitions, replicationFactor: rf },
      topicId,
      startIndex,
    );
    if (created.error !== 'NONE') throw new Error(created.message);
    return this.apply(created.records);
  }

  partitions(name: string): PartitionState[] {
    const topicId = this.image.topicByName(name)?.topicId;
    return this.image.allPartitions().filter((partition) => partition.topicId === topicId);
  }
}

function brokers(...ids: BrokerId[]): TestImage {
  const test = new TestImage();
  for (const id of ids) test.broker(id);
  return test;
}

function replicasOf(partitions: readonly { readonly replicas: readonly BrokerId[] }[]): string[] {
  return partitions.map((partition) => partition.replicas.join(','));
}

// ---- deleteTopicRecords -----------------------------------------------------------------------

describe('deleteTopicRecords', () => {
  it('removes an existing topic with all its partitions, by its id', () => {
    const test = brokers('b1', 'b2', 'b3').topic('orders', 3, 2).topic('audit', 1, 1);
    const before = test.image.describe();
    const outcome = deleteTopicRecords(test.image, ['orders']);
    // Pure: the image is unchanged until the records are applied.
    expect(test.image.describe()).toBe(before);
    expect(outcome.records).toEqual([{ type: 'RemoveTopic', topicId: 'orders-id' }]);
    expect(outcome.results).toEqual([
      { name: 'orders', error: 'NONE', message: '', topicId: 'orders-id' },
    ]);
    test.apply(outcome.records);
    expect(test.image.topicByName('orders')).toBeUndefined();
    expect(test.image.partition('orders-id', 0)).toBeUndefined();
    expect(test.image.allPartitions().map((p) => p.topicId)).toEqual(['audit-id']);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a name it does not know, one result per name in order', () => {
    const test = brokers('b1', 'b2').topic('a', 1, 1).topic('b', 1, 1);
    const outcome = deleteTopicRecords(test.image, ['b', 'missing', 'a']);
    expect(outcome.results.map((result) => [result.name, result.error])).toEqual([
      ['b', 'NONE'],
      ['missing', 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['a', 'NONE'],
    ]);
    expect(outcome.results[1]?.topicId).toBeNull();
    expect(outcome.results[1]?.message).toContain('missing');
    expect(outcome.records).toEqual([
      { type: 'RemoveTopic', topicId: 'b-id' },
      { type: 'RemoveTopic', topicId: 'a-id' },
    ]);
  });

  it('refuses a name given twice (INVALID_REQUEST at each occurrence) and deletes it not', () => {
    const test = brokers('b1').topic('a', 1, 1).topic('b', 1, 1);
    const outcome = deleteTopicRecords(test.image, ['a', 'b', 'a']);
    expect(outcome.results.map((result) => result.error)).toEqual([
      'INVALID_REQUEST',
      'NONE',
      'INVALID_REQUEST',
    ]);
    expect(outcome.records).toEqual([{ type: 'RemoveTopic', topicId: 'b-id' }]);
  });

  it('deletes nothing for an empty list', () => {
    const test = brokers('b1').topic('a', 1, 1);
    expect(deleteTopicRecords(test.image, [])).toEqual({ records: [], results: [] });
  });

  it('lets a deleted name be created again, under a new topic id', () => {
    const test = brokers('b1', 'b2', 'b3').topic('orders', 2, 3);
    const again = createTopicRecords(
      test.image,
      { name: 'orders', numPartitions: 1, replicationFactor: 1 },
      'orders-id-2',
      0,
    );
    expect(again.error).toBe('TOPIC_ALREADY_EXISTS');
    test.apply(deleteTopicRecords(test.image, ['orders']).records);
    test.topic('orders', 1, 1, 0, 'orders-id-2');
    expect(test.image.topicByName('orders')?.topicId).toBe('orders-id-2');
    expect(test.partitions('orders')).toHaveLength(1);
    expect(test.image.topics.has('orders-id')).toBe(false);
  });
});

// ---- createPartitionsRecords ------------------------------------------------------------------

describe('createPartitionsRecords', () => {
  const grow = (test: TestImage, name: string, totalCount: number, startIndex?: number) =>
    createPartitionsRecords(
      test.image,
      { name, totalCount },
      startIndex ?? assignmentStartIndex(test.image, name),
    );

  it('answers UNKNOWN_TOPIC_OR_PARTITION for an unknown topic', () => {
    const test = brokers('b1', 'b2', 'b3').topic('a', 1, 1);
    const outcome = grow(test, 'missing', 3);
    expect(outcome.error).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    if (outcome.error !== 'NONE') expect(outcome.message).toContain('missing');
  });

  it('refuses a count that is no increase (INVALID_PARTITIONS), naming both counts', () => {
    const test = brokers('b1', 'b2', 'b3').topic('a', 3, 2);
    for (const totalCount of [3, 2, 0, -1, 3.5, Number.NaN]) {
      const outcome = grow(test, 'a', totalCount);
      expect(outcome.error, `totalCount ${totalCount}`).toBe('INVALID_PARTITIONS');
      if (outcome.error !== 'NONE') expect(outcome.message).toContain('has 3 partition(s)');
    }
    expect(grow(test, 'a', 4).error).toBe('NONE');
  });

  it('refuses when fewer usable brokers than the replication factor remain (INVALID_REPLICATION_FACTOR)', () => {
    const test = brokers('b1', 'b2', 'b3').topic('a', 1, 3).fence('b2');
    const outcome = grow(test, 'a', 2);
    expect(outcome.error).toBe('INVALID_REPLICATION_FACTOR');
    if (outcome.error !== 'NONE') expect(outcome.message).toMatch(/3 > 2/);
    // A topic of RF 2 can still grow on the two usable brokers.
    test.topic('b', 1, 2);
    expect(grow(test, 'b', 2).error).toBe('NONE');
  });

  it('adds partitions from the current count with the topic RF, new and fully in sync', () => {
    const test = brokers('b1', 'b2', 'b3', 'b4').topic('a', 2, 3, 1);
    const before = test.partitions('a');
    const outcome = grow(test, 'a', 5);
    if (outcome.error !== 'NONE') throw new Error(outcome.message);
    expect(outcome.records.map((record) => record.partition)).toEqual([2, 3, 4]);
    for (const record of outcome.records) {
      expect(record.type).toBe('Partition');
      expect(record.topicId).toBe('a-id');
      expect(record.replicas).toHaveLength(3);
      expect(new Set(record.replicas).size).toBe(3);
      expect(record.isr).toEqual(record.replicas);
      expect(record.leader).toBe(record.replicas[0]);
      expect([record.leaderEpoch, record.partitionEpoch]).toEqual([0, 0]);
      expect([record.elr, record.lastKnownElr]).toEqual([[], []]);
      expect(record.leaderRecoveryState).toBe('RECOVERED');
    }
    test.apply(outcome.records);
    const after = test.partitions('a');
    expect(after).toHaveLength(5);
    // The existing partitions are left exactly as they were.
    expect(after.slice(0, 2)).toEqual(before);
    expect(test.image.topicByName('a')?.partitions.get(0)).toBe(before[0]);
  });

  it('keeps the existing partitions unchanged even after they moved on', () => {
    const test = brokers('b1', 'b2', 'b3').topic('a', 1, 3);
    test.apply([{ type: 'PartitionChange', topicId: 'a-id', partition: 0, isr: ['b1', 'b2'] }]);
    const before = test.partitions('a')[0];
    expect(before?.partitionEpoch).toBe(1);
    const outcome = grow(test, 'a', 2);
    if (outcome.error !== 'NONE') throw new Error(outcome.message);
    expect(outcome.records.every((record) => record.partition !== 0)).toBe(true);
    test.apply(outcome.records);
    expect(test.partitions('a')[0]).toEqual(before);
    expect(test.partitions('a')[1]?.partitionEpoch).toBe(0);
  });

  it('continues the round-robin: growing gives what creating with the new count would have', () => {
    const grown = brokers('b1', 'b2', 'b3', 'b4').topic('a', 2, 3, 1);
    const outcome = grow(grown, 'a', 6);
    if (outcome.error !== 'NONE') throw new Error(outcome.message);
    grown.apply(outcome.records);
    const created = brokers('b1', 'b2', 'b3', 'b4').topic('a', 6, 3, 1);
    expect(replicasOf(grown.partitions('a'))).toEqual(replicasOf(created.partitions('a')));
    expect(replicasOf(grown.partitions('a'))).toEqual([
      'b2,b3,b4',
      'b3,b4,b1',
      'b4,b1,b2',
      'b1,b2,b3',
      'b2,b3,b4',
      'b3,b4,b1',
    ]);
  });

  it('assigns over the usable brokers only, from the given start index (modulo, negatives too)', () => {
    const test = brokers('b1', 'b2', 'b3', 'b4').topic('a', 1, 2).fence('b2');
    const outcome = grow(test, 'a', 4, -1);
    if (outcome.error !== 'NONE') throw new Error(outcome.message);
    // Usable: b1, b3, b4; start -1 ≡ 2; partition p starts at (2 + p) mod 3.
    expect(replicasOf(outcome.records)).toEqual(['b1,b3', 'b3,b4', 'b4,b1']);
  });

  it('spreads replicas and leaders evenly over the brokers', () => {
    const test = brokers('b1', 'b2', 'b3', 'b4', 'b5').topic('a', 1, 3, 2);
    const outcome = grow(test, 'a', 11);
    if (outcome.error !== 'NONE') throw new Error(outcome.message);
    // Ten new partitions over five brokers: each leads two and holds six replicas.
    const leaders = new Map<string, number>();
    const replicas = new Map<string, number>();
    for (const record of outcome.records) {
      const leader = record.leader as string;
      leaders.set(leader, (leaders.get(leader) ?? 0) + 1);
      for (const id of record.replicas) replicas.set(id, (replicas.get(id) ?? 0) + 1);
    }
    expect([...leaders.values()]).toEqual([2, 2, 2, 2, 2]);
    expect([...replicas.values()]).toEqual([6, 6, 6, 6, 6]);
  });

  it('continues the round-robin for any brokers, counts and start (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }).chain((brokerCount) =>
          fc.record({
            brokerCount: fc.constant(brokerCount),
            rf: fc.integer({ min: 1, max: brokerCount }),
            initial: fc.integer({ min: 1, max: 6 }),
            added: fc.integer({ min: 1, max: 8 }),
            startIndex: fc.integer({ min: -20, max: 20 }),
          }),
        ),
        ({ brokerCount, rf, initial, added, startIndex }) => {
          const ids = Array.from({ length: brokerCount }, (_, index) => `b${index + 1}`);
          const grown = brokers(...ids).topic('t', initial, rf, startIndex);
          const outcome = grow(grown, 't', initial + added);
          if (outcome.error !== 'NONE') throw new Error(outcome.message);
          grown.apply(outcome.records);
          const created = brokers(...ids).topic('t', initial + added, rf, startIndex);
          expect(grown.image.describe()).toBe(created.image.describe());
        },
      ),
    );
  });
});

// ---- assignmentStartIndex ---------------------------------------------------------------------

describe('assignmentStartIndex', () => {
  it("is the index of partition 0's first replica among the usable brokers sorted by id", () => {
    const test = brokers('b10', 'b2', 'b1').topic('a', 1, 2, 2);
    // Sorted naturally: b1, b2, b10; start 2 → b10 first.
    expect(test.partitions('a')[0]?.replicas).toEqual(['b10', 'b1']);
    expect(assignmentStartIndex(test.image, 'a')).toBe(2);
  });

  it('moves on to the next broker when that replica is no longer usable, and is 0 when none follows', () => {
    const test = brokers('b1', 'b2', 'b3', 'b4').topic('a', 1, 1, 1).topic('z', 1, 1, 3);
    test.fence('b2').fence('b4');
    // Usable: b1, b3. Partition 0 of a starts at b2 → next is b3 (index 1); z at b4 → none → 0.
    expect(assignmentStartIndex(test.image, 'a')).toBe(1);
    expect(assignmentStartIndex(test.image, 'z')).toBe(0);
    expect(assignmentStartIndex(test.image, 'missing')).toBe(0);
  });
});
