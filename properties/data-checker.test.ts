import { describe, expect, it } from 'vitest';
import { parseScenarioJson } from '../scenarios/json.ts';
import { runScenario } from '../scenarios/run.ts';
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
      const id = ledger.findNamed(record.offset, record.value as string);
      expect(
        id >= 0 && ledger.brokersIn(ledger.holdersOf(id)).sort(),
        `offset ${record.offset}`,
      ).toEqual(['b1', 'b2', 'b3']);
    }
  });
});

describe('a fenced leader cut off from the controller, after an unclean election', () => {
  // Fuzz seed 8723 (small), shrunk. b3 leads epoch 0 and is cut off with its follower b1; b2 is
  // elected (epochs 1, 2), commits b3's records alone, loses its disk, and as KIP-966's last known
  // leader is elected uncleanly in epoch 4 with an empty log, where it commits new records. When
  // the faults heal, b1 (still following b3 in epoch 0) catches up and its HW covers the records
  // that election dropped, at the offsets of epoch 4's. That is the unclean election's loss,
  // exposed late, not a loss of epoch 4's acked writes (they are all in the final log): the
  // checker called it acked-write-durable ×97.
  const scenario = parseScenarioJson(
    JSON.stringify({
      name: 'fenced-leader-exposes-what-an-unclean-election-dropped',
      summary: 'a fenced leader and its follower expose records an unclean election dropped',
      description: 'Fuzz seed 8723 (small profile), shrunk.',
      seed: 8723,
      cluster: { controllers: 3, brokers: 3 },
      topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 1 }],
      producers: [
        { topic: 'orders', acks: 'all', idempotent: true, everyMs: 70 },
        { topic: 'orders', acks: '1', everyMs: 76 },
      ],
      consumers: [['orders']],
      timeline: [
        { atMs: 8011, kind: 'clog', source: '@replica-1', target: '@leader' },
        { atMs: 8014, kind: 'partition', groups: [['b3', 'b1'], ['c3']], mode: 'silent' },
        { atMs: 31007, kind: 'bounce', node: '@replica-2', crash: 'diskLoss', downMs: 3457 },
      ],
      faultPhaseMs: 41347,
      healPhaseMs: 40000,
      settings: {},
      demonstrates: [],
      expect: { violations: [], allowed: ['unclean-election'] },
    }),
    'the test',
  );

  it('reports the dropped records as unclean-election losses and no acked write as lost', () => {
    const report = runScenario(scenario, { seed: 8723, bugs: [], sets: {} });
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    // The records b3 wrote in epoch 0 and b2 committed alone (offsets 0-126), each counted once.
    expect(report.allowedCounts['unclean-election']).toBe(127);
    const exposed = report.allowedLosses.filter((loss) => loss.message.includes("b1's HW"));
    expect(exposed).toEqual([]);
  });
});
