import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { MetadataImage, type PartitionState, partitionAfterChange } from './metadata-image.ts';
import {
  type AlterPartitionData,
  type AlterPartitionOptions,
  alterPartition,
  compareBrokerIds,
  createTopicRecords,
  electLeader,
  recordsForBrokerUnavailable,
  recordsForBrokerUnregistered,
  recordsForBrokerUsable,
  recordsForUncleanElection,
  recordsForUncleanRestart,
} from './partition-control.ts';
import type {
  BrokerId,
  MetadataRecord,
  PartitionChangeRecord,
  PartitionRecord,
  TopicConfigs,
} from './records.ts';

// ---- a metadata image built by hand -----------------------------------------------------------

type BrokerFlag = 'usable' | 'fenced' | 'shutting-down';

/** An image the test fills with records; offsets count up by themselves. */
class TestImage {
  readonly image = new MetadataImage();
  #offset = 0;

  apply(records: readonly MetadataRecord[]): this {
    for (const record of records) this.image.apply(record, this.#offset++);
    return this;
  }

  broker(brokerId: BrokerId, flag: BrokerFlag = 'usable'): this {
    const brokerEpoch = this.#offset;
    this.apply([
      {
        type: 'RegisterBroker',
        brokerId,
        incarnationId: `${brokerId}@${brokerEpoch}`,
        brokerEpoch,
      },
    ]);
    if (flag !== 'fenced') this.apply([{ type: 'UnfenceBroker', brokerId, brokerEpoch }]);
    if (flag === 'shutting-down')
      this.apply([{ type: 'BrokerInControlledShutdown', brokerId, brokerEpoch }]);
    return this;
  }

  fence(brokerId: BrokerId): this {
    const brokerEpoch = this.epochOf(brokerId);
    this.apply([{ type: 'FenceBroker', brokerId, brokerEpoch }]);
    return this;
  }

  unfence(brokerId: BrokerId): this {
    const brokerEpoch = this.epochOf(brokerId);
    this.apply([{ type: 'UnfenceBroker', brokerId, brokerEpoch }]);
    return this;
  }

  topic(configs: Partial<TopicConfigs> = {}, topicId = 't'): this {
    const full: TopicConfigs = { minInsyncReplicas: 1, uncleanLeaderElection: false, ...configs };
    this.apply([{ type: 'Topic', name: topicId, topicId, configs: full }]);
    return this;
  }

  /** A partition in a given state (epochs 5 by default, so that a bump shows). */
  partition(state: Partial<Omit<PartitionRecord, 'type'>> & { replicas: BrokerId[] }): this {
    const record: PartitionRecord = {
      type: 'Partition',
      topicId: 't',
      partition: 0,
      isr: state.replicas,
      elr: [],
      lastKnownElr: [],
      leader: state.replicas[0] ?? null,
      leaderEpoch: 5,
      partitionEpoch: 5,
      leaderRecoveryState: 'RECOVERED',
      ...state,
    };
    this.apply([record]);
    return this;
  }

  epochOf(brokerId: BrokerId): number {
    const broker = this.image.broker(brokerId);
    if (broker === undefined) throw new Error(`no broker ${brokerId}`);
    return broker.brokerEpoch;
  }

  state(partition = 0, topicId = 't'): PartitionState {
    const state = this.image.partition(topicId, partition);
    if (state === undefined) throw new Error(`no partition ${topicId}-${partition}`);
    return state;
  }
}

function brokers(...ids: BrokerId[]): TestImage {
  const test = new TestImage();
  for (const id of ids) test.broker(id);
  return test;
}

const ELR = { elr: true } as const;
const NO_ELR = { elr: false } as const;

// ---- createTopicRecords -----------------------------------------------------------------------

describe('createTopicRecords', () => {
  const create = (test: TestImage, name: string, numPartitions: number, rf: number, start = 0) =>
    createTopicRecords(
      test.image,
      { name, numPartitions, replicationFactor: rf },
      `${name}-id`,
      start,
    );

  it('assigns replicas round-robin from the start index, the first replica leading', () => {
    const test = brokers('b1', 'b2', 'b3', 'b4');
    const result = create(test, 'orders', 5, 3, 1);
    if (result.error !== 'NONE') throw new Error(result.message);
    test.apply(result.records);
    const replicas = test.image.allPartitions().map((p) => p.replicas.join(','));
    expect(replicas).toEqual(['b2,b3,b4', 'b3,b4,b1', 'b4,b1,b2', 'b1,b2,b3', 'b2,b3,b4']);
    for (const partition of test.image.allPartitions()) {
      expect(partition.isr).toEqual(partition.replicas);
      expect(partition.leader).toBe(partition.replicas[0]);
      expect([partition.leaderEpoch, partition.partitionEpoch]).toEqual([0, 0]);
      expect([partition.elr, partition.lastKnownElr]).toEqual([[], []]);
      expect(partition.leaderRecoveryState).toBe('RECOVERED');
    }
  });

  it('takes the start index modulo the usable brokers, negative ones too', () => {
    const first = (start: number) => {
      const result = create(brokers('b1', 'b2', 'b3'), 't', 1, 1, start);
      if (result.error !== 'NONE') throw new Error(result.message);
      return (result.records[1] as PartitionRecord).replicas[0];
    };
    expect([first(0), first(4), first(7), first(-1)]).toEqual(['b1', 'b2', 'b2', 'b3']);
  });

  it('uses only registered, unfenced brokers not shutting down, in natural id order', () => {
    const test = new TestImage().broker('b10').broker('b2').broker('b1', 'fenced');
    test.broker('b3', 'shutting-down').broker('b9');
    const result = create(test, 't', 3, 1);
    if (result.error !== 'NONE') throw new Error(result.message);
    const leaders = result.records.slice(1).map((record) => (record as PartitionRecord).leader);
    expect(leaders).toEqual(['b2', 'b9', 'b10']);
  });

  it('defaults min ISR to 1 and unclean election to off, and keeps given configs', () => {
    const test = brokers('b1', 'b2');
    const plain = create(test, 'plain', 1, 1);
    const given = createTopicRecords(
      test.image,
      { name: 'given', numPartitions: 1, replicationFactor: 2, configs: { minInsyncReplicas: 2 } },
      'given-id',
      0,
    );
    if (plain.error !== 'NONE' || given.error !== 'NONE') throw new Error('refused');
    expect(plain.records[0]).toMatchObject({
      configs: { minInsyncReplicas: 1, uncleanLeaderElection: false },
    });
    expect(given.records[0]).toMatchObject({
      configs: { minInsyncReplicas: 2, uncleanLeaderElection: false },
    });
  });

  it('refuses an existing name, bad partition counts and bad replication factors', () => {
    const test = brokers('b1', 'b2', 'b3');
    test.topic({}, 'taken');
    expect(create(test, 'taken', 0, 9).error).toBe('TOPIC_ALREADY_EXISTS');
    for (const count of [0, -1, 1.5])
      expect(create(test, 'x', count, 9).error).toBe('INVALID_PARTITIONS');
    for (const rf of [0, -1, 2.5])
      expect(create(test, 'x', 1, rf).error).toBe('INVALID_REPLICATION_FACTOR');
  });

  it('refuses a replication factor above the usable brokers, naming both numbers', () => {
    const test = brokers('b1', 'b2', 'b3').fence('b3');
    const result = create(test, 'x', 1, 3);
    expect(result).toMatchObject({ error: 'INVALID_REPLICATION_FACTOR' });
    if (result.error === 'NONE') throw new Error('accepted');
    expect(result.message).toContain('3 > 2');
    expect(create(new TestImage(), 'y', 1, 1).error).toBe('INVALID_REPLICATION_FACTOR');
  });
});

describe('compareBrokerIds', () => {
  it('orders digit runs by value and is a total order', () => {
    const ids = ['b10', 'b2', 'b1', 'a7', 'b02', 'b', 'b2x'];
    expect([...ids].sort(compareBrokerIds)).toEqual(['a7', 'b', 'b1', 'b02', 'b2', 'b2x', 'b10']);
  });
});

// ---- electLeader ------------------------------------------------------------------------------

describe('electLeader', () => {
  it('keeps a usable leader in the ISR, else takes the first usable ISR member in replica order', () => {
    const test = brokers('b1', 'b2', 'b3').topic();
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b3', 'b2'], leader: 'b3' });
    expect(electLeader(test.image, test.state(), ELR)).toEqual({ leader: 'b3', source: 'isr' });
    test.fence('b3');
    expect(electLeader(test.image, test.state(), ELR)).toEqual({ leader: 'b2', source: 'isr' });
  });

  it('takes the first usable ELR member when the ISR is empty, only with ELR on', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 2 }).fence('b1');
    test.partition({
      replicas: ['b1', 'b2', 'b3'],
      isr: [],
      elr: ['b3', 'b1', 'b2'],
      leader: null,
    });
    expect(electLeader(test.image, test.state(), ELR)).toEqual({ leader: 'b2', source: 'elr' });
    expect(electLeader(test.image, test.state(), NO_ELR)).toEqual({ leader: null, source: 'none' });
  });

  it('does not look at the ELR while the ISR has members', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 3 }).fence('b1');
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1'], elr: ['b2'], leader: null });
    expect(electLeader(test.image, test.state(), ELR)).toEqual({ leader: null, source: 'none' });
  });

  it('falls back to the last known leader if usable, with ELR on only', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 2 });
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: [], lastKnownElr: ['b2'], leader: null });
    expect(electLeader(test.image, test.state(), ELR)).toEqual({
      leader: 'b2',
      source: 'last-known-elr',
    });
    expect(electLeader(test.image, test.state(), NO_ELR)).toEqual({ leader: null, source: 'none' });
    test.fence('b2');
    expect(electLeader(test.image, test.state(), ELR)).toEqual({ leader: null, source: 'none' });
  });

  it('elects any usable replica only where the topic allows unclean election', () => {
    const clean = brokers('b1', 'b2', 'b3').topic().fence('b1');
    clean.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1'], leader: null });
    expect(electLeader(clean.image, clean.state(), NO_ELR)).toEqual({
      leader: null,
      source: 'none',
    });
    const unclean = brokers('b1', 'b2', 'b3').topic({ uncleanLeaderElection: true }).fence('b1');
    unclean.apply([
      { type: 'BrokerInControlledShutdown', brokerId: 'b2', brokerEpoch: unclean.epochOf('b2') },
    ]);
    unclean.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1'], leader: null });
    expect(electLeader(unclean.image, unclean.state(), NO_ELR)).toEqual({
      leader: 'b3',
      source: 'unclean',
    });
  });
});

// ---- recordsForBrokerUnavailable --------------------------------------------------------------

describe('recordsForBrokerUnavailable', () => {
  it('moves leadership to the next usable ISR member and bumps the leader epoch', () => {
    const test = brokers('b1', 'b2', 'b3').topic();
    test.partition({ replicas: ['b1', 'b2', 'b3'] });
    const records = recordsForBrokerUnavailable(test.image, 'b1', ELR);
    expect(records).toEqual([
      { type: 'PartitionChange', topicId: 't', partition: 0, isr: ['b2', 'b3'], leader: 'b2' },
    ]);
    test.fence('b1').apply(records);
    expect(test.state()).toMatchObject({
      leader: 'b2',
      leaderEpoch: 6,
      partitionEpoch: 6,
      elr: [],
    });
  });

  it('only shrinks the ISR when a follower goes, and leaves partitions it is not in alone', () => {
    const test = brokers('b1', 'b2', 'b3', 'b4').topic();
    test.partition({ replicas: ['b1', 'b2', 'b3'] });
    test.partition({ partition: 1, replicas: ['b1', 'b2', 'b4'], isr: ['b1', 'b2'] });
    const records = recordsForBrokerUnavailable(test.image, 'b3', ELR);
    expect(records).toEqual([
      { type: 'PartitionChange', topicId: 't', partition: 0, isr: ['b1', 'b2'] },
    ]);
    test.apply(records);
    expect(test.state()).toMatchObject({ leader: 'b1', leaderEpoch: 5, partitionEpoch: 6 });
    expect(recordsForBrokerUnavailable(test.image, 'b3', ELR)).toEqual([]);
  });

  it('with ELR, puts members leaving an ISR below min ISR into the ELR, then records the last leader', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 2 });
    test.partition({ replicas: ['b1', 'b2', 'b3'] });
    const steps: PartitionState[] = [];
    for (const brokerId of ['b3', 'b1', 'b2']) {
      test.apply(recordsForBrokerUnavailable(test.image, brokerId, ELR)).fence(brokerId);
      steps.push(test.state());
    }
    expect(steps.map((s) => [s.isr, s.elr, s.leader])).toEqual([
      [['b1', 'b2'], [], 'b1'],
      [['b2'], ['b1'], 'b2'],
      [[], ['b1', 'b2'], null],
    ]);
    expect(steps[2]?.lastKnownElr).toEqual(['b2']);
  });

  it('takes the effective min ISR: min ISR above the replication factor counts as the factor', () => {
    const test = brokers('b1', 'b2').topic({ minInsyncReplicas: 3 });
    test.partition({ replicas: ['b1', 'b2'] });
    test.apply(recordsForBrokerUnavailable(test.image, 'b2', ELR));
    expect(test.state()).toMatchObject({ isr: ['b1'], elr: ['b2'] });
  });

  it('without ELR, keeps the last ISR member in the ISR and leaves the partition leaderless', () => {
    const test = brokers('b1', 'b2').topic({ minInsyncReplicas: 2 });
    test.partition({ replicas: ['b1', 'b2'], isr: ['b1'] });
    const records = recordsForBrokerUnavailable(test.image, 'b1', NO_ELR);
    expect(records).toEqual([
      { type: 'PartitionChange', topicId: 't', partition: 0, leader: null },
    ]);
    test.apply(records);
    expect(test.state()).toMatchObject({ isr: ['b1'], elr: [], leader: null, leaderEpoch: 6 });
  });

  it('elects an unclean leader at once where the topic allows it', () => {
    const test = brokers('b1', 'b2').topic({ uncleanLeaderElection: true });
    test.partition({ replicas: ['b1', 'b2'], isr: ['b1'] });
    const records = recordsForBrokerUnavailable(test.image, 'b1', ELR);
    test.apply(records);
    expect(test.state()).toMatchObject({
      isr: ['b2'],
      elr: [],
      lastKnownElr: [],
      leader: 'b2',
      leaderRecoveryState: 'RECOVERING',
    });
  });

  it('treats a broker in controlled shutdown like a fenced one, and keeps it in the ELRs it is in', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 3 });
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1', 'b2'], elr: ['b3'] });
    test.apply([
      { type: 'BrokerInControlledShutdown', brokerId: 'b1', brokerEpoch: test.epochOf('b1') },
    ]);
    test.apply(recordsForBrokerUnavailable(test.image, 'b1', ELR));
    expect(test.state()).toMatchObject({ isr: ['b2'], elr: ['b1', 'b3'], leader: 'b2' });
    expect(recordsForBrokerUnavailable(test.image, 'b3', ELR)).toEqual([]);
  });
});

// ---- recordsForBrokerUsable -------------------------------------------------------------------

describe('recordsForBrokerUsable', () => {
  it('re-elects the last ISR member without ELR (last replica standing)', () => {
    const test = brokers('b1', 'b2').topic().fence('b1');
    test.partition({ replicas: ['b1', 'b2'], isr: ['b1'], leader: null });
    test.unfence('b1').apply(recordsForBrokerUsable(test.image, 'b1', NO_ELR));
    expect(test.state()).toMatchObject({ isr: ['b1'], leader: 'b1', leaderEpoch: 6 });
  });

  it('with ELR and an empty ISR, elects the ELR member and makes it the ISR', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 3 }).fence('b1').fence('b2');
    test.partition({
      replicas: ['b1', 'b2', 'b3'],
      isr: [],
      elr: ['b1', 'b2'],
      lastKnownElr: ['b1'],
      leader: null,
    });
    const records = recordsForBrokerUsable(test.image, 'b2', ELR);
    expect(records).toEqual([
      {
        type: 'PartitionChange',
        topicId: 't',
        partition: 0,
        isr: ['b2'],
        elr: ['b1'],
        lastKnownElr: [],
        leader: 'b2',
      },
    ]);
  });

  it('empties the ELR once the ISR it elects reaches the min ISR', () => {
    const test = brokers('b1', 'b2').topic().fence('b1');
    test.partition({ replicas: ['b1', 'b2'], isr: [], elr: ['b1', 'b2'], leader: null });
    test.apply(recordsForBrokerUsable(test.image, 'b1', ELR));
    expect(test.state()).toMatchObject({ isr: ['b1'], elr: [], leader: 'b1' });
  });

  it('counts the broker usable before its unfence record is in the image', () => {
    const test = brokers('b1', 'b2').topic().fence('b1');
    test.partition({ replicas: ['b1', 'b2'], isr: ['b1'], leader: null });
    expect(recordsForBrokerUsable(test.image, 'b1', NO_ELR)).toHaveLength(1);
    expect(recordsForBrokerUsable(test.image, 'b2', NO_ELR)).toEqual([]);
  });

  it('elects out of the ISR only where the topic allows unclean election', () => {
    const test = brokers('b1', 'b2').topic().fence('b1').fence('b2');
    test.topic({ uncleanLeaderElection: true }, 'u');
    test.partition({ replicas: ['b1', 'b2'], isr: ['b1'], leader: null });
    test.partition({ topicId: 'u', replicas: ['b1', 'b2'], isr: ['b1'], leader: null });
    test.unfence('b2');
    const records = recordsForBrokerUsable(test.image, 'b2', NO_ELR);
    expect(records).toEqual([
      {
        type: 'PartitionChange',
        topicId: 'u',
        partition: 0,
        isr: ['b2'],
        leader: 'b2',
        leaderRecoveryState: 'RECOVERING',
      },
    ]);
  });
});

// ---- recordsForUncleanRestart -----------------------------------------------------------------

describe('recordsForUncleanRestart', () => {
  it('removes the broker from every ELR but keeps it the last known leader, elected uncleanly once unfenced (KIP-966)', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 2 });
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1'] });
    test.apply(recordsForBrokerUnavailable(test.image, 'b1', ELR)).fence('b1');
    expect(test.state()).toMatchObject({
      isr: [],
      elr: ['b1'],
      lastKnownElr: ['b1'],
      leader: null,
    });
    // b1 loses power and registers again without a clean-shutdown marker.
    test.apply([
      { type: 'RegisterBroker', brokerId: 'b1', incarnationId: 'b1-again', brokerEpoch: 100 },
    ]);
    const records = recordsForUncleanRestart(test.image, 'b1');
    // Kafka's handleBrokerUncleanShutdown: out of the ELR; lastKnownElr stays while leaderless.
    expect(records).toEqual([{ type: 'PartitionChange', topicId: 't', partition: 0, elr: [] }]);
    test.apply(records);
    expect(test.state()).toMatchObject({ isr: [], elr: [], lastKnownElr: ['b1'], leader: null });
    // Unfenced, it is elected as the last known leader: an unclean election, its log RECOVERING
    // (Kafka's canElectLastKnownLeader, without unclean.leader.election.enable).
    test.apply([{ type: 'UnfenceBroker', brokerId: 'b1', brokerEpoch: 100 }]);
    expect(recordsForBrokerUsable(test.image, 'b1', ELR)).toEqual([
      {
        type: 'PartitionChange',
        topicId: 't',
        partition: 0,
        isr: ['b1'],
        lastKnownElr: [],
        leader: 'b1',
        leaderRecoveryState: 'RECOVERING',
      },
    ]);
  });

  it('does not elect the last known leader while another replica is in the ELR', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 2 });
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1', 'b2'] });
    test.apply(recordsForBrokerUnavailable(test.image, 'b2', ELR)).fence('b2');
    test.apply(recordsForBrokerUnavailable(test.image, 'b1', ELR)).fence('b1');
    expect(test.state()).toMatchObject({ isr: [], elr: ['b1', 'b2'], lastKnownElr: ['b1'] });
    test.apply([
      { type: 'RegisterBroker', brokerId: 'b1', incarnationId: 'b1-again', brokerEpoch: 100 },
    ]);
    test.apply(recordsForUncleanRestart(test.image, 'b1'));
    test.apply([{ type: 'UnfenceBroker', brokerId: 'b1', brokerEpoch: 100 }]);
    expect(recordsForBrokerUsable(test.image, 'b1', ELR)).toEqual([]);
    expect(test.state()).toMatchObject({ elr: ['b2'], lastKnownElr: ['b1'], leader: null });
  });

  it('changes nothing for a broker in no ELR, and keeps other ELR members', () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 3 }).fence('b2').fence('b3');
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1'], elr: ['b2', 'b3'] });
    expect(recordsForUncleanRestart(test.image, 'b1')).toEqual([]);
    test.apply(recordsForUncleanRestart(test.image, 'b3'));
    expect(test.state()).toMatchObject({
      isr: ['b1'],
      elr: ['b2'],
      leader: 'b1',
      partitionEpoch: 6,
    });
  });
});

// ---- recordsForBrokerUnregistered -------------------------------------------------------------

describe('recordsForBrokerUnregistered', () => {
  it("takes the broker out of every ISR, ELR and lastKnownElr (Kafka's handleBrokerUnregistered)", () => {
    const test = brokers('b1', 'b2', 'b3').topic({ minInsyncReplicas: 2 });
    test.partition({ replicas: ['b1', 'b2', 'b3'], isr: ['b1', 'b2'] });
    // b2 shuts down cleanly (it joins the ELR), then b1 is fenced: the ISR empties.
    test.apply(recordsForBrokerUnavailable(test.image, 'b2', ELR)).fence('b2');
    test.apply(recordsForBrokerUnavailable(test.image, 'b1', ELR)).fence('b1');
    expect(test.state()).toMatchObject({ isr: [], elr: ['b1', 'b2'], lastKnownElr: ['b1'] });
    test.apply(recordsForBrokerUnregistered(test.image, 'b2', ELR));
    expect(test.state()).toMatchObject({ isr: [], elr: ['b1'], lastKnownElr: ['b1'] });
    test.apply(recordsForBrokerUnregistered(test.image, 'b1', ELR));
    expect(test.state()).toMatchObject({ isr: [], elr: [], lastKnownElr: [], leader: null });
  });

  it('moves leadership away from a broker unregistered while leading, like a fence', () => {
    const test = brokers('b1', 'b2', 'b3').topic();
    test.partition({ replicas: ['b1', 'b2', 'b3'] });
    const records = recordsForBrokerUnregistered(test.image, 'b1', ELR);
    expect(records).toEqual(recordsForBrokerUnavailable(test.image, 'b1', ELR));
    test.apply(records);
    expect(test.state()).toMatchObject({ isr: ['b2', 'b3'], leader: 'b2' });
    expect(recordsForBrokerUnregistered(test.image, 'b1', ELR)).toEqual([]);
  });
});

// ---- alterPartition ---------------------------------------------------------------------------

describe('alterPartition', () => {
  const CHECKED: AlterPartitionOptions = {
    elr: true,
    checkPartitionEpoch: true,
    checkBrokerEpoch: true,
  };

  function setup(configs: Partial<TopicConfigs> = { minInsyncReplicas: 2 }) {
    const test = brokers('b1', 'b2', 'b3').topic(configs);
    test.partition({ replicas: ['b1', 'b2', 'b3'] });
    const request = (change: Partial<AlterPartitionData> = {}): AlterPartitionData => ({
      brokerId: 'b1',
      brokerEpoch: test.epochOf('b1'),
      topicId: 't',
      partition: 0,
      leaderEpoch: test.state().leaderEpoch,
      partitionEpoch: test.state().partitionEpoch,
      newIsr: ['b1', 'b2'],
      ...change,
    });
    return { test, request };
  }

  it('shrinks the ISR and returns the record with the state that replaying it gives', () => {
    const { test, request } = setup();
    const result = alterPartition(test.image, request(), CHECKED);
    if (result.error !== 'NONE') throw new Error(result.message);
    expect(result.record).toEqual({
      type: 'PartitionChange',
      topicId: 't',
      partition: 0,
      isr: ['b1', 'b2'],
    });
    test.apply([result.record]);
    expect(result.state).toEqual(test.state());
    expect(result.state).toMatchObject({ leaderEpoch: 5, partitionEpoch: 6 });
  });

  it('keeps ELR as KIP-966 says: leaving below min ISR joins, rejoining leaves, min ISR empties', () => {
    const { test, request } = setup({ minInsyncReplicas: 3 });
    const step = (newIsr: BrokerId[]) => {
      const result = alterPartition(test.image, request({ newIsr }), CHECKED);
      if (result.error !== 'NONE') throw new Error(result.message);
      test.apply([result.record]);
      return [test.state().isr, test.state().elr];
    };
    expect(step(['b1', 'b2'])).toEqual([['b1', 'b2'], ['b3']]);
    expect(step(['b1'])).toEqual([['b1'], ['b2', 'b3']]);
    expect(step(['b1', 'b3'])).toEqual([['b1', 'b3'], ['b2']]);
    expect(step(['b1', 'b3', 'b2'])).toEqual([['b1', 'b3', 'b2'], []]);
  });

  it('keeps no ELR without ELR', () => {
    const { test, request } = setup({ minInsyncReplicas: 3 });
    const result = alterPartition(test.image, request({ newIsr: ['b1'] }), {
      ...CHECKED,
      elr: false,
    });
    expect(result).toMatchObject({ error: 'NONE', state: { isr: ['b1'], elr: [] } });
  });

  it('marks a RECOVERING leader recovered', () => {
    const test = brokers('b1', 'b2').topic();
    test.partition({ replicas: ['b1', 'b2'], isr: ['b1'], leaderRecoveryState: 'RECOVERING' });
    const request: AlterPartitionData = {
      brokerId: 'b1',
      brokerEpoch: test.epochOf('b1'),
      topicId: 't',
      partition: 0,
      leaderEpoch: 5,
      partitionEpoch: 5,
      newIsr: ['b1', 'b2'],
    };
    expect(alterPartition(test.image, request, CHECKED)).toMatchObject({
      error: 'NONE',
      state: { isr: ['b1', 'b2'], leaderRecoveryState: 'RECOVERED' },
    });
  });

  it('emits a record even when the ISR stays the same, so the partition epoch moves on', () => {
    const { test, request } = setup();
    const result = alterPartition(test.image, request({ newIsr: ['b1', 'b2', 'b3'] }), CHECKED);
    expect(result).toMatchObject({
      error: 'NONE',
      record: { isr: ['b1', 'b2', 'b3'] },
      state: { isr: ['b1', 'b2', 'b3'], leaderEpoch: 5, partitionEpoch: 6 },
    });
  });

  it('checks the broker epoch first, unless told not to', () => {
    const { test, request } = setup();
    const stale = request({ brokerEpoch: -1, leaderEpoch: 0, newIsr: ['b9'] });
    expect(alterPartition(test.image, stale, CHECKED).error).toBe('STALE_BROKER_EPOCH');
    expect(alterPartition(test.image, request({ brokerId: 'b7' }), CHECKED).error).toBe(
      'STALE_BROKER_EPOCH',
    );
    const unchecked = { ...CHECKED, checkBrokerEpoch: false };
    expect(alterPartition(test.image, request({ brokerEpoch: -1 }), unchecked).error).toBe('NONE');
  });

  it('then the partition, the leadership, the leader epoch and the partition epoch', () => {
    const { test, request } = setup();
    const b2 = { brokerId: 'b2', brokerEpoch: test.epochOf('b2') };
    expect(
      alterPartition(test.image, request({ partition: 3, leaderEpoch: 0 }), CHECKED).error,
    ).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(alterPartition(test.image, request({ topicId: 'x' }), CHECKED).error).toBe(
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    expect(alterPartition(test.image, request({ ...b2, leaderEpoch: 0 }), CHECKED).error).toBe(
      'NOT_LEADER_OR_FOLLOWER',
    );
    expect(
      alterPartition(test.image, request({ leaderEpoch: 4, partitionEpoch: 0 }), CHECKED).error,
    ).toBe('FENCED_LEADER_EPOCH');
    expect(alterPartition(test.image, request({ leaderEpoch: 6 }), CHECKED).error).toBe(
      'FENCED_LEADER_EPOCH',
    );
    expect(
      alterPartition(test.image, request({ partitionEpoch: 4, newIsr: [] }), CHECKED).error,
    ).toBe('INVALID_UPDATE_VERSION');
  });

  it('lets a stale request from the current leader land without the epoch checks (no-partition-epoch-cas)', () => {
    const { test, request } = setup();
    const stale = request({ leaderEpoch: 1, partitionEpoch: 1 });
    const unchecked = { ...CHECKED, checkPartitionEpoch: false };
    expect(alterPartition(test.image, stale, unchecked).error).toBe('NONE');
    const b2 = { brokerId: 'b2', brokerEpoch: test.epochOf('b2') };
    expect(alterPartition(test.image, request(b2), unchecked).error).toBe('NOT_LEADER_OR_FOLLOWER');
  });

  it('refuses an ISR that is not a set of replicas or leaves out the leader', () => {
    const { test, request } = setup();
    for (const newIsr of [['b1', 'b4'], ['b1', 'b1'], ['b2', 'b3'], []]) {
      expect(alterPartition(test.image, request({ newIsr }), CHECKED).error, newIsr.join()).toBe(
        'INVALID_REQUEST',
      );
    }
  });

  it('refuses fenced, shutting-down or unregistered members', () => {
    const test = brokers('b1', 'b2', 'b3').topic();
    test.apply([{ type: 'UnregisterBroker', brokerId: 'b3', brokerEpoch: test.epochOf('b3') }]);
    test.broker('b4', 'shutting-down').broker('b5', 'fenced');
    test.partition({ replicas: ['b1', 'b2', 'b3', 'b4', 'b5'], isr: ['b1'] });
    const request = (newIsr: BrokerId[]): AlterPartitionData => ({
      brokerId: 'b1',
      brokerEpoch: test.epochOf('b1'),
      topicId: 't',
      partition: 0,
      leaderEpoch: 5,
      partitionEpoch: 5,
      newIsr,
    });
    for (const member of ['b3', 'b4', 'b5']) {
      const result = alterPartition(test.image, request(['b1', member]), CHECKED);
      expect(result.error, member).toBe('INELIGIBLE_REPLICA');
    }
    expect(alterPartition(test.image, request(['b1', 'b2']), CHECKED).error).toBe('NONE');
  });
});

// ---- recordsForUncleanElection ----------------------------------------------------------------

describe('recordsForUncleanElection', () => {
  it('elects a usable replica for leaderless partitions of unclean topics only', () => {
    const test = brokers('b1', 'b2', 'b3').fence('b1');
    test.topic({ uncleanLeaderElection: true }, 'u').topic({}, 'c');
    test.partition({ topicId: 'u', replicas: ['b1', 'b2', 'b3'], isr: ['b1'], leader: null });
    test.partition({ topicId: 'u', partition: 1, replicas: ['b3', 'b2'] });
    test.partition({ topicId: 'c', replicas: ['b1', 'b2'], isr: ['b1'], leader: null });
    const records = recordsForUncleanElection(test.image);
    expect(records).toEqual([
      {
        type: 'PartitionChange',
        topicId: 'u',
        partition: 0,
        isr: ['b2'],
        leader: 'b2',
        leaderRecoveryState: 'RECOVERING',
      },
    ]);
    test.apply(records);
    expect(recordsForUncleanElection(test.image)).toEqual([]);
  });

  it('prefers a clean leader and clears the ELR on an unclean one', () => {
    const test = brokers('b1', 'b2', 'b3').topic({
      uncleanLeaderElection: true,
      minInsyncReplicas: 3,
    });
    test.fence('b1').fence('b2');
    test.partition({
      replicas: ['b1', 'b2', 'b3'],
      isr: [],
      elr: ['b1', 'b2'],
      lastKnownElr: ['b1'],
      leader: null,
    });
    test.apply(recordsForUncleanElection(test.image));
    expect(test.state()).toMatchObject({
      isr: ['b3'],
      elr: [],
      lastKnownElr: [],
      leader: 'b3',
      leaderRecoveryState: 'RECOVERING',
    });
  });
});

// ---- the property: random histories keep the invariants ---------------------------------------

interface Setup {
  readonly brokerCount: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly numPartitions: number;
  readonly uncleanLeaderElection: boolean;
  readonly elr: boolean;
  readonly startIndex: number;
}

type Operation =
  | { readonly op: 'fence'; readonly broker: number; readonly recordsFirst: boolean }
  | { readonly op: 'shutdown'; readonly broker: number; readonly recordsFirst: boolean }
  | { readonly op: 'restart'; readonly broker: number; readonly clean: boolean }
  | { readonly op: 'unfence'; readonly broker: number; readonly recordsFirst: boolean }
  | {
      readonly op: 'alter';
      readonly partition: number;
      readonly keep: readonly boolean[];
      readonly keepLeader: boolean;
      /** Which epoch the request carries one behind the current. */
      readonly staleEpoch: 'none' | 'leader' | 'partition';
      readonly staleBroker: boolean;
      readonly checkPartitionEpoch: boolean;
      readonly checkBrokerEpoch: boolean;
    }
  | { readonly op: 'unclean-election' };

const setupArbitrary: fc.Arbitrary<Setup> = fc.integer({ min: 1, max: 5 }).chain((brokerCount) =>
  fc.integer({ min: 1, max: brokerCount }).chain((replicationFactor) =>
    fc.record({
      brokerCount: fc.constant(brokerCount),
      replicationFactor: fc.constant(replicationFactor),
      minInsyncReplicas: fc.integer({ min: 1, max: replicationFactor + 1 }),
      numPartitions: fc.integer({ min: 1, max: 3 }),
      uncleanLeaderElection: fc.boolean(),
      elr: fc.boolean(),
      startIndex: fc.integer({ min: 0, max: 20 }),
    }),
  ),
);

const brokerIndex = fc.integer({ min: 0, max: 4 });
const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('fence' as const),
      broker: brokerIndex,
      recordsFirst: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('shutdown' as const),
      broker: brokerIndex,
      recordsFirst: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('restart' as const),
      broker: brokerIndex,
      clean: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('unfence' as const),
      broker: brokerIndex,
      recordsFirst: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('alter' as const),
      partition: fc.integer({ min: 0, max: 2 }),
      keep: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      keepLeader: fc.oneof(
        { weight: 9, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      staleEpoch: fc.constantFrom('none' as const, 'leader' as const, 'partition' as const),
      staleBroker: fc.boolean(),
      checkPartitionEpoch: fc.boolean(),
      checkBrokerEpoch: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant<Operation>({ op: 'unclean-election' }) },
);

/** Histories of 10 to 60 operations (fast-check would otherwise draw mostly short ones). */
const historyArbitrary = fc.array(operationArbitrary, {
  minLength: 10,
  maxLength: 60,
  size: 'max',
});

/** Replays a random history through the functions under test, checking every record. */
class History {
  readonly test = new TestImage();
  readonly ids: BrokerId[];
  /** Per partition, brokers that restarted uncleanly and have not been in its ISR since. */
  readonly #lossy = new Map<string, Set<BrokerId>>();
  #pending: { before: PartitionState; after: PartitionState }[] = [];

  constructor(readonly setup: Setup) {
    this.ids = Array.from({ length: setup.brokerCount }, (_, index) => `b${index + 1}`);
    for (const id of this.ids) this.test.broker(id);
    const { replicationFactor, numPartitions, minInsyncReplicas, uncleanLeaderElection } = setup;
    const request = {
      name: 't',
      numPartitions,
      replicationFactor,
      configs: { minInsyncReplicas, uncleanLeaderElection },
    };
    const created = createTopicRecords(this.test.image, request, 't', setup.startIndex);
    if (created.error !== 'NONE') throw new Error(created.message);
    this.test.apply(created.records);
  }

  get image(): MetadataImage {
    return this.test.image;
  }

  run(operation: Operation): void {
    this.#pending = [];
    this.#dispatch(operation);
    for (const { before, after } of this.#pending) this.#checkChange(before, after);
    this.#checkImage();
  }

  #dispatch(operation: Operation): void {
    const elr = { elr: this.setup.elr };
    switch (operation.op) {
      case 'fence':
      case 'shutdown': {
        const broker = this.image.broker(this.#id(operation.broker));
        if (broker === undefined || broker.fenced) return;
        if (operation.op === 'shutdown' && broker.inControlledShutdown) return;
        const type = operation.op === 'fence' ? 'FenceBroker' : 'BrokerInControlledShutdown';
        const brokerRecord: MetadataRecord = {
          type,
          brokerId: broker.brokerId,
          brokerEpoch: broker.brokerEpoch,
        };
        this.#withBrokerRecord(brokerRecord, operation.recordsFirst, () =>
          recordsForBrokerUnavailable(this.image, broker.brokerId, elr),
        );
        return;
      }
      case 'unfence': {
        const broker = this.image.broker(this.#id(operation.broker));
        if (broker === undefined || !broker.fenced) return;
        const brokerRecord: MetadataRecord = {
          type: 'UnfenceBroker',
          brokerId: broker.brokerId,
          brokerEpoch: broker.brokerEpoch,
        };
        this.#withBrokerRecord(brokerRecord, operation.recordsFirst, () =>
          recordsForBrokerUsable(this.image, broker.brokerId, elr),
        );
        return;
      }
      case 'restart':
        this.#restart(this.#id(operation.broker), operation.clean);
        return;
      case 'alter':
        this.#alter(operation);
        return;
      case 'unclean-election':
        this.#applyChanges(recordsForUncleanElection(this.image));
        return;
    }
  }

  #id(index: number): BrokerId {
    return this.ids[index % this.ids.length] as BrokerId;
  }

  /** The broker record and the partition records, computed before or after it is applied. */
  #withBrokerRecord(
    brokerRecord: MetadataRecord,
    recordsFirst: boolean,
    records: () => PartitionChangeRecord[],
  ): void {
    if (recordsFirst) {
      this.#applyChanges(records());
      this.test.apply([brokerRecord]);
    } else {
      this.test.apply([brokerRecord]);
      this.#applyChanges(records());
    }
  }

  #restart(brokerId: BrokerId, clean: boolean): void {
    const broker = this.image.broker(brokerId);
    if (broker === undefined || !broker.fenced) return;
    const brokerEpoch = this.image.lastOffset + 1;
    this.test.apply([
      {
        type: 'RegisterBroker',
        brokerId,
        incarnationId: `${brokerId}@${brokerEpoch}`,
        brokerEpoch,
      },
    ]);
    this.#applyChanges(recordsForBrokerUnavailable(this.image, brokerId, { elr: this.setup.elr }));
    if (clean) return;
    this.#applyChanges(recordsForUncleanRestart(this.image, brokerId));
    for (const partition of this.image.allPartitions()) this.#lossyOf(partition).add(brokerId);
  }

  #alter(operation: Extract<Operation, { op: 'alter' }>): void {
    const current = this.image.partition('t', operation.partition % this.setup.numPartitions);
    if (current === undefined || current.leader === null) return;
    const leader = current.leader;
    const newIsr = current.replicas.filter((id, index) =>
      id === leader ? operation.keepLeader : operation.keep[index] === true,
    );
    const brokerEpoch = this.image.broker(leader)?.brokerEpoch ?? -1;
    const request: AlterPartitionData = {
      brokerId: leader,
      brokerEpoch: operation.staleBroker ? brokerEpoch - 1 : brokerEpoch,
      topicId: 't',
      partition: current.partition,
      leaderEpoch: current.leaderEpoch - (operation.staleEpoch === 'leader' ? 1 : 0),
      partitionEpoch: current.partitionEpoch - (operation.staleEpoch === 'partition' ? 1 : 0),
      newIsr,
    };
    const { checkPartitionEpoch, checkBrokerEpoch } = operation;
    const result = alterPartition(this.image, request, {
      elr: this.setup.elr,
      checkPartitionEpoch,
      checkBrokerEpoch,
    });
    const isValid =
      (!operation.staleBroker || !checkBrokerEpoch) &&
      (operation.staleEpoch === 'none' || !checkPartitionEpoch) &&
      newIsr.includes(leader) &&
      newIsr.every((id) => this.image.isUsable(id));
    expect(result.error === 'NONE', `${result.error} for ${JSON.stringify(request)}`).toBe(isValid);
    if (result.error !== 'NONE') return;
    expect(result.record.leader, 'AlterPartition changed the leader').toBeUndefined();
    expect(result.state).toEqual(partitionAfterChange(current, result.record));
    this.#applyChanges([result.record]);
  }

  #applyChanges(records: readonly PartitionChangeRecord[]): void {
    for (const record of records) {
      const before = this.image.partition(record.topicId, record.partition);
      if (before === undefined) throw new Error(`record for unknown partition ${record.partition}`);
      this.test.apply([record]);
      this.#pending.push({ before, after: this.test.state(record.partition) });
    }
  }

  #lossyOf(partition: PartitionState): Set<BrokerId> {
    const key = `${partition.topicId}-${partition.partition}`;
    const lossy = this.#lossy.get(key) ?? new Set<BrokerId>();
    this.#lossy.set(key, lossy);
    return lossy;
  }

  #minIsr(state: PartitionState): number {
    return Math.min(this.setup.minInsyncReplicas, state.replicas.length);
  }

  /** One record's change, checked after the whole operation (broker records applied). */
  #checkChange(before: PartitionState, after: PartitionState): void {
    const name = `${JSON.stringify(before)} → ${JSON.stringify(after)}`;
    expect(invariantErrors(after, this.#minIsr(after), this.setup.elr), name).toEqual([]);
    expect(after.partitionEpoch, name).toBe(before.partitionEpoch + 1);
    expect(after.leaderEpoch, name).toBe(
      before.leaderEpoch + (after.leader === before.leader ? 0 : 1),
    );
    for (const id of after.isr.filter((member) => !before.isr.includes(member))) {
      expect(this.image.isUsable(id), `${id} added to the ISR: ${name}`).toBe(true);
    }
    // KIP-966: the ELR only takes members of the ISR (caught up), never anyone else.
    for (const id of after.elr.filter((member) => !before.elr.includes(member))) {
      expect(before.isr, `${id} joined the ELR from outside the ISR: ${name}`).toContain(id);
    }
    // A leader from outside the ISR and ELR is an unclean election (or the last known leader).
    const leader = after.leader;
    if (
      leader !== null &&
      leader !== before.leader &&
      !before.isr.includes(leader) &&
      !before.elr.includes(leader)
    ) {
      const isLastKnown =
        this.setup.elr && before.lastKnownElr.length === 1 && before.lastKnownElr[0] === leader;
      expect(this.setup.uncleanLeaderElection || isLastKnown, `unclean election: ${name}`).toBe(
        true,
      );
      expect(after.isr, name).toEqual([leader]);
      expect(after.leaderRecoveryState, name).toBe('RECOVERING');
    }
  }

  #checkImage(): void {
    for (const state of this.image.allPartitions()) {
      const name = JSON.stringify(state);
      if (state.leader !== null)
        expect(this.image.isUsable(state.leader), `leader unusable: ${name}`).toBe(true);
      const isLeaderlessLastMember =
        !this.setup.elr && state.leader === null && state.isr.length === 1;
      if (!isLeaderlessLastMember) {
        for (const id of state.isr)
          expect(this.image.isUsable(id), `unusable ${id} in the ISR: ${name}`).toBe(true);
      }
      // The controller elects as soon as it can: no leaderless partition has an electable replica.
      if (state.leader === null) {
        expect(
          electLeader(this.image, state, { elr: this.setup.elr }).leader,
          `electable: ${name}`,
        ).toBeNull();
      }
      const lossy = this.#lossyOf(state);
      for (const id of state.isr) lossy.delete(id);
      if (this.setup.elr) {
        // Out of the ELR; it may stay the last known leader (Kafka keeps lastKnownElr).
        for (const id of lossy)
          expect(state.elr, `${id} restarted uncleanly: ${name}`).not.toContain(id);
      }
    }
  }
}

/** The invariants of `isr-valid` and `leader-in-isr`, written apart from the code under test. */
function invariantErrors(state: PartitionState, minIsr: number, elr: boolean): string[] {
  const errors: string[] = [];
  const isSet = (list: readonly BrokerId[]) => new Set(list).size === list.length;
  if (!isSet(state.isr) || !isSet(state.elr)) errors.push('duplicates');
  if (state.isr.some((id) => !state.replicas.includes(id))) errors.push('ISR ⊄ replicas');
  if (state.elr.some((id) => !state.replicas.includes(id))) errors.push('ELR ⊄ replicas');
  if (state.lastKnownElr.some((id) => !state.replicas.includes(id)))
    errors.push('lastKnownElr ⊄ replicas');
  if (state.isr.some((id) => state.elr.includes(id))) errors.push('ISR ∩ ELR ≠ ∅');
  if (state.isr.length >= minIsr && state.elr.length > 0) errors.push('ELR with |ISR| ≥ min ISR');
  if (state.leader !== null && !state.isr.includes(state.leader)) errors.push('leader not in ISR');
  if (state.leader !== null && state.lastKnownElr.length > 0)
    errors.push('lastKnownElr with a leader');
  if (!elr && state.isr.length === 0) errors.push('empty ISR without ELR');
  if (!elr && (state.elr.length > 0 || state.lastKnownElr.length > 0))
    errors.push('ELR without ELR');
  return errors;
}

describe('partition control over random histories', () => {
  test.prop([setupArbitrary, historyArbitrary], { numRuns: 300 })(
    'every emitted record keeps ISR/ELR valid, epochs growing and leaders usable',
    (setup, operations) => {
      const history = new History(setup);
      for (const operation of operations) history.run(operation);
    },
  );

  it('reaches the interesting states (ELR, empty ISR, lastKnownElr, unclean leaders)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(setupArbitrary, historyArbitrary, (setup, operations) => {
        const history = new History(setup);
        for (const operation of operations) {
          history.run(operation);
          for (const state of history.image.allPartitions()) {
            if (state.elr.length > 0) seen.add('elr');
            if (state.isr.length === 0) seen.add('empty-isr');
            if (state.lastKnownElr.length > 0) seen.add('last-known-elr');
            if (state.leaderRecoveryState === 'RECOVERING') seen.add('recovering');
            if (state.leader === null) seen.add(setup.elr ? 'leaderless-elr' : 'leaderless-no-elr');
          }
        }
      }),
      { numRuns: 200 },
    );
    const expected = ['elr', 'empty-isr', 'last-known-elr', 'recovering'];
    expect(seen).toEqual(new Set([...expected, 'leaderless-elr', 'leaderless-no-elr']));
  });
});
