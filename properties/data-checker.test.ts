import { describe, expect, it } from 'vitest';
import type { Replica } from '../sim/kafka/broker/replica-manager.ts';
import { History } from '../sim/kafka/clients/history.ts';
import { Producer } from '../sim/kafka/clients/producer.ts';
import { adminOf, brokerOf, buildKraftCluster } from '../sim/kafka/kraft/cluster.ts';
import { DataChecker } from './data-checker.ts';
import { FAST_PRODUCER_CONFIG, FAST_REPLICA_CONFIG, TOPICS_AT_MS } from './kafka-harness.ts';
import { ViolationLog } from './violation.ts';

describe('the data checker follows each replica when a broker’s replica list changes', () => {
  // The checker finds a replica's shadow by its position in the broker's replica list, checked
  // by identity. Deleting a topic created first moves every other replica to a lower position:
  // the shadow found there is another partition's, and must not be taken.
  it('after a topic created before it is deleted, records of the other topic are held by every replica', () => {
    const cluster = buildKraftCluster({
      seed: 1,
      controllers: 1,
      brokers: 3,
      replica: FAST_REPLICA_CONFIG,
    });
    const { world } = cluster;
    const history = new History(() => world.nowMs);
    const log = new ViolationLog();
    const checker = new DataChecker({ cluster, history, log, mode: 'kraft' });
    world.scheduler.addStepCheck(() => checker.check());
    world.addNode(
      'p1',
      (context) =>
        new Producer(context, {
          ...FAST_PRODUCER_CONFIG,
          bootstrapBrokers: cluster.brokers,
          acks: 'all',
          history,
          process: 'p1',
        }),
    );
    world.node('p1').start();
    const topic = (name: string, partitions: number) => ({
      name,
      numPartitions: partitions,
      replicationFactor: 3,
      configs: { minInsyncReplicas: 2 },
    });
    let created = '';
    world.at(TOPICS_AT_MS, 'create-topics', () =>
      adminOf(cluster).createTopics([topic('gone', 2), topic('kept', 1)], (error) => {
        created = error;
      }),
    );
    world.at(TOPICS_AT_MS + 1_000, 'workload', () => {
      const producer = world.node('p1').machine as Producer;
      producer.startWorkload({ topic: 'kept', everyMs: 100, count: 150 });
    });
    const positionOfKept = () =>
      cluster.brokers.map((broker) =>
        (brokerOf(cluster, broker)?.replicaManager.replicaList ?? []).findIndex(
          (replica: Replica) => replica.topicName === 'kept',
        ),
      );
    world.runFor(10_000);
    expect(created).toBe('NONE');
    expect(positionOfKept()).toEqual([2, 2, 2]);
    adminOf(cluster).deleteTopics(['gone'], () => {});
    world.runFor(15_000);
    expect(positionOfKept()).toEqual([0, 0, 0]);

    expect(log.violations).toEqual([]);
    const kept = brokerOf(cluster, 'b1')?.replicaManager.replicaList[0] as Replica;
    const ledger = checker.ledger(kept.key);
    const values = kept.log.batches().flatMap((batch) => batch.records);
    expect(values.length).toBe(150);
    for (const record of values) {
      const info = ledger.find(record.offset, record.value as string);
      expect(info && ledger.brokersIn(info.holders).sort(), `offset ${record.offset}`).toEqual([
        'b1',
        'b2',
        'b3',
      ]);
    }
  });
});
