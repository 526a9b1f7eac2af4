// KRaft mode's control plane: brokers register, heartbeat, are fenced and unfenced, shut down in a
// controlled way, are removed; topics are created through the active controller; every broker
// replays the same committed metadata; a controller failover loses no committed metadata.

import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../kernel/trace.ts';
import type { ControlError, CreateTopicResult } from '../controller/messages.ts';
import type { RaftNode } from '../raft/raft-node.ts';
import {
  activeController,
  adminOf,
  brokerOf,
  buildKraftCluster,
  controllerOf,
  type KraftCluster,
  type KraftClusterSpec,
} from './cluster.ts';

function cluster(spec: Partial<KraftClusterSpec> = {}, events?: TraceEvent[]): KraftCluster {
  return buildKraftCluster({
    seed: 1,
    controllers: 3,
    brokers: 3,
    ...spec,
    ...(events === undefined ? {} : { trace: { sink: (event: TraceEvent) => events.push(event) } }),
  });
}

function createTopic(
  kraft: KraftCluster,
  atMs: number,
  spec: { name: string; numPartitions: number; replicationFactor: number },
): { error: ControlError | null; results: readonly CreateTopicResult[] } {
  const outcome: { error: ControlError | null; results: readonly CreateTopicResult[] } = {
    error: null,
    results: [],
  };
  kraft.world.at(atMs, 'create-topic', () =>
    adminOf(kraft).createTopics([spec], (error, results) => {
      outcome.error = error;
      outcome.results = results;
    }),
  );
  return outcome;
}

/** The Raft node of a controller or a broker. */
function nodeRaft(kraft: KraftCluster, id: string): RaftNode | null {
  return (kraft.world.node(id).machine as { raft?: RaftNode } | null)?.raft ?? null;
}

function committedImage(kraft: KraftCluster): string {
  const active = activeController(kraft);
  expect(active).not.toBeNull();
  return (active as NonNullable<typeof active>).image.describe();
}

function leaderOf(kraft: KraftCluster, topic: string): string | null {
  const image = activeController(kraft)?.image;
  const topicState = image?.topicByName(topic);
  return topicState?.partitions.get(0)?.leader ?? null;
}

describe('KRaft control plane', () => {
  it('registers every broker, unfences it once caught up, and every node replays the same metadata', () => {
    const kraft = cluster();
    kraft.world.runFor(10_000);
    const active = activeController(kraft);
    expect(active).not.toBeNull();
    for (const id of kraft.brokers) {
      const broker = brokerOf(kraft, id);
      expect(broker?.state).toBe('running');
      const registration = active?.image.broker(id);
      expect(registration?.fenced).toBe(false);
      // The broker epoch is the offset of the registration record in the metadata log.
      const entry = active?.raft.log.entry(registration?.brokerEpoch ?? -1);
      expect(entry?.payload).toMatchObject({
        type: 'record',
        record: { type: 'RegisterBroker', brokerId: id },
      });
      expect(broker?.image.describe()).toBe(active?.image.describe());
    }
    for (const id of kraft.controllers)
      expect(controllerOf(kraft, id)?.image.describe()).toBe(active?.image.describe());
  });

  it('writes a NoOp record every metadata.max.idle.interval.ms while active (KIP-835), none with 0', () => {
    const noOps = (spec: Partial<KraftClusterSpec>) => {
      const kraft = cluster(spec);
      kraft.world.runFor(20_000);
      const active = activeController(kraft);
      const offsets: number[] = [];
      const log = active?.raft.log;
      for (let offset = 0; offset < (log?.endOffset ?? 0); offset++) {
        const payload = log?.entry(offset).payload;
        if (payload?.type === 'record' && (payload.record as { type: string }).type === 'NoOp')
          offsets.push(offset);
      }
      // Every broker replays them (they change nothing) and stays in step.
      for (const id of kraft.brokers)
        expect(brokerOf(kraft, id)?.image.describe()).toBe(active?.image.describe());
      return offsets.length;
    };
    // Active from about 1 s: one every 500 ms for the remaining ~19 s.
    expect(noOps({})).toBeGreaterThanOrEqual(36);
    expect(noOps({})).toBeLessThanOrEqual(39);
    expect(noOps({ metadataMaxIdleIntervalMs: 2_000 })).toBeGreaterThanOrEqual(9);
    expect(noOps({ metadataMaxIdleIntervalMs: 0 })).toBe(0);
  });

  it('gives the controllers their own metadata fetch cap; the brokers keep the default', () => {
    const kraft = cluster({ controllerFetchMaxBytes: 100 });
    kraft.world.runFor(10_000);
    for (const id of kraft.controllers)
      expect(controllerOf(kraft, id)?.raft.config.fetchMaxBytes).toBe(100);
    for (const id of kraft.brokers)
      expect(brokerOf(kraft, id)?.raft.config.fetchMaxBytes).toBe(64 * 1024);
    // The quorum still works: every controller holds the whole log.
    const end = activeController(kraft)?.raft.log.endOffset;
    for (const id of kraft.controllers)
      expect(controllerOf(kraft, id)?.raft.log.endOffset).toBe(end);
  });

  it("creates the seed's test-topic (1 partition, RF 3) and refuses impossible ones", () => {
    const kraft = cluster();
    const created = createTopic(kraft, 6_000, {
      name: 'test-topic',
      numPartitions: 1,
      replicationFactor: 3,
    });
    const again = createTopic(kraft, 8_000, {
      name: 'test-topic',
      numPartitions: 1,
      replicationFactor: 3,
    });
    const tooMany = createTopic(kraft, 8_000, {
      name: 'wide',
      numPartitions: 1,
      replicationFactor: 4,
    });
    kraft.world.runFor(12_000);
    expect(created.error).toBe('NONE');
    expect(created.results[0]?.error).toBe('NONE');
    expect(again.results[0]?.error).toBe('TOPIC_ALREADY_EXISTS');
    expect(tooMany.results[0]?.error).toBe('INVALID_REPLICATION_FACTOR');
    expect(tooMany.results[0]?.message).toMatch(/4.*3|3.*4/);
    for (const id of kraft.brokers) {
      const partition = brokerOf(kraft, id)?.image.topicByName('test-topic')?.partitions.get(0);
      expect(partition?.replicas).toHaveLength(3);
      expect(partition?.isr).toEqual(partition?.replicas);
      expect(partition?.leader).toBe(partition?.replicas[0]);
    }
  });

  it('fences a broker whose session expires and moves its leadership away', () => {
    const events: TraceEvent[] = [];
    const kraft = cluster({}, events);
    createTopic(kraft, 6_000, { name: 't', numPartitions: 3, replicationFactor: 3 });
    kraft.world.runFor(10_000);
    const victim = leaderOf(kraft, 't') as string;
    kraft.world.isolate(victim);
    kraft.world.runFor(12_000);
    const image = activeController(kraft)?.image;
    expect(image?.broker(victim)?.fenced).toBe(true);
    const expired = events.find(
      (event) => event.kind === 'controller.session-expired' && event.fields?.['broker'] === victim,
    );
    // broker.session.timeout.ms 9 s after its last heartbeat (heartbeats every 2 s).
    expect(expired?.atMs).toBeGreaterThan(10_000 + 7_000);
    expect(expired?.atMs).toBeLessThan(10_000 + 10_000);
    for (const partition of image?.allPartitions() ?? []) {
      expect(partition.leader).not.toBe(victim);
      expect(partition.isr).not.toContain(victim);
    }
  });

  it('appends each decision as one batch, which every node fetches, commits and replays whole', () => {
    // A fetch cap of one byte: every metadata fetch carries exactly one batch (at least one is
    // always sent whole), so a batch split across fetches would show as a high watermark inside it.
    const kraft = cluster({ raft: { fetchMaxBytes: 1 } });
    const ends: string[] = [];
    const partial: string[] = [];
    kraft.world.scheduler.addStepCheck(() => {
      // What a broker replayed is whole decisions: a topic with all its partitions, and no fenced
      // broker still leading (the fence and the leaderships it moved come together).
      for (const id of kraft.brokers) {
        const image = brokerOf(kraft, id)?.image;
        const topic = image?.topicByName('t');
        if (topic !== undefined && topic.partitions.size !== 6)
          partial.push(`${id}: topic t with ${topic.partitions.size} partitions`);
        for (const partition of image?.allPartitions() ?? [])
          if (partition.leader !== null && image?.broker(partition.leader)?.fenced === true)
            partial.push(`${id} at ${kraft.world.nowMs} ms: fenced ${partition.leader} leads`);
      }
      for (const id of [...kraft.controllers, ...kraft.brokers]) {
        const raft = nodeRaft(kraft, id);
        if (raft === null || raft.highWatermark === 0) continue;
        if (
          raft.log.endOffset >= raft.highWatermark &&
          raft.log.entry(raft.highWatermark - 1).moreInBatch
        )
          ends.push(
            `${id} at ${kraft.world.nowMs} ms: high watermark ${raft.highWatermark} inside a batch`,
          );
      }
    });
    createTopic(kraft, 6_000, { name: 't', numPartitions: 6, replicationFactor: 3 });
    kraft.world.runFor(10_000);
    // A leader fenced: the fence and every leadership it moves are one decision.
    const victim = leaderOf(kraft, 't') as string;
    kraft.world.isolate(victim);
    kraft.world.runFor(15_000);
    kraft.world.heal();
    kraft.world.runFor(10_000);
    expect(ends).toEqual([]);
    expect(partial).toEqual([]);
    const log = (activeController(kraft) as NonNullable<ReturnType<typeof activeController>>).raft
      .log;
    const batches: string[][] = [];
    let batch: string[] = [];
    for (let offset = 0; offset < log.endOffset; offset++) {
      const entry = log.entry(offset);
      batch.push(
        entry.payload.type === 'record'
          ? (entry.payload.record as { type: string }).type
          : 'leader-change',
      );
      if (entry.moreInBatch !== true) {
        batches.push(batch);
        batch = [];
      }
    }
    // The topic: its record and its six partitions in one batch.
    expect(batches).toContainEqual(['Topic', ...Array(6).fill('Partition')]);
    // The fence and the leaderships it moved, in one batch.
    const fence = batches.find((each) => each[0] === 'FenceBroker');
    expect(fence?.length).toBeGreaterThan(1);
    expect(fence?.slice(1).every((type) => type === 'PartitionChange')).toBe(true);
    for (const id of kraft.brokers)
      expect(brokerOf(kraft, id)?.image.describe()).toBe(activeController(kraft)?.image.describe());
  });

  it('refuses a restarted broker (DUPLICATE_BROKER_REGISTRATION) until its old session expired', () => {
    const events: TraceEvent[] = [];
    const kraft = cluster({}, events);
    kraft.world.runFor(10_000);
    const oldEpoch = activeController(kraft)?.image.broker('b1')?.brokerEpoch ?? -1;
    kraft.world.crash('b1', 'kill');
    kraft.world.runFor(1_000);
    kraft.world.restart('b1');
    kraft.world.runFor(15_000);
    // (It may first ask a controller that is not the active one: NOT_CONTROLLER names the active one.)
    const refused = events.filter(
      (event) =>
        event.node === 'b1' &&
        event.kind === 'broker.register-failed' &&
        event.fields?.['error'] === 'DUPLICATE_BROKER_REGISTRATION',
    );
    expect(refused.length).toBeGreaterThan(0);
    const registered = events.filter(
      (event) => event.node === 'b1' && event.kind === 'broker.registered',
    );
    const reRegistered = registered[registered.length - 1];
    // Not before the old session (last heartbeat ≤ 10 s, timeout 9 s) expired.
    expect(reRegistered?.atMs).toBeGreaterThan(10_000 + 7_000);
    const registration = activeController(kraft)?.image.broker('b1');
    expect(registration?.brokerEpoch).toBeGreaterThan(oldEpoch);
    expect(registration?.fenced).toBe(false);
    expect(brokerOf(kraft, 'b1')?.state).toBe('running');
  });

  it('moves leadership away before a controlled shutdown completes, and fences the broker', () => {
    const events: TraceEvent[] = [];
    const kraft = cluster({}, events);
    createTopic(kraft, 6_000, { name: 't', numPartitions: 3, replicationFactor: 3 });
    kraft.world.runFor(10_000);
    const victim = leaderOf(kraft, 't') as string;
    kraft.world.stop(victim);
    kraft.world.runFor(10_000);
    expect(kraft.world.node(victim).status).toBe('down');
    expect(kraft.world.node(victim).downReason).toBe('stop');
    const stoppedAt =
      events.find((event) => event.node === victim && event.kind === 'node.stopped')?.atMs ?? 0;
    // It went in seconds, not after the host's 30 s stop timeout.
    expect(stoppedAt - 10_000).toBeLessThan(3_000);
    const image = activeController(kraft)?.image;
    expect(image?.broker(victim)?.fenced).toBe(true);
    for (const partition of image?.allPartitions() ?? []) expect(partition.leader).not.toBe(victim);
  });

  it('removes a decommissioned broker from the metadata', () => {
    const kraft = cluster();
    kraft.world.runFor(8_000);
    kraft.world.stop('b3');
    kraft.world.runFor(2_000);
    let result: ControlError | null = null;
    adminOf(kraft).unregisterBroker('b3', (error) => {
      result = error;
    });
    kraft.world.runFor(3_000);
    expect(result).toBe('NONE');
    expect(activeController(kraft)?.image.broker('b3')).toBeUndefined();
    expect(brokerOf(kraft, 'b1')?.image.broker('b3')).toBeUndefined();
  });

  for (const crash of ['kill', 'powerFailure'] as const) {
    it(`loses no committed metadata when the active controller fails (${crash})`, () => {
      const kraft = cluster();
      const first = createTopic(kraft, 6_000, {
        name: 'before',
        numPartitions: 2,
        replicationFactor: 2,
      });
      kraft.world.runFor(10_000);
      expect(first.error).toBe('NONE');
      const before = committedImage(kraft);
      const old = activeController(kraft);
      const oldId = kraft.controllers.find((id) => controllerOf(kraft, id) === old) as string;
      kraft.world.crash(oldId, crash);
      const second = createTopic(kraft, 11_000, {
        name: 'after',
        numPartitions: 1,
        replicationFactor: 3,
      });
      kraft.world.runFor(10_000);
      const now = activeController(kraft);
      expect(now).not.toBeNull();
      expect(now).not.toBe(old);
      expect(second.error).toBe('NONE');
      expect(now?.image.topicByName('before')).toBeDefined();
      expect(now?.image.describe()).toContain(
        before.split('\n').find((line) => line.startsWith('before')) ?? 'before',
      );
      kraft.world.restart(oldId);
      kraft.world.runFor(5_000);
      const final = committedImage(kraft);
      for (const id of [...kraft.controllers])
        expect(controllerOf(kraft, id)?.image.describe()).toBe(final);
      for (const id of kraft.brokers) expect(brokerOf(kraft, id)?.image.describe()).toBe(final);
    });
  }
});
