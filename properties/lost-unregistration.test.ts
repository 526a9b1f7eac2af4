// A removed broker whose unregistration a controller failover dropped. The admin asks the active
// controller to unregister b5; that controller, cut off from the other voters, appends the
// UnregisterBroker record but cannot commit it, and the admin's request times out. Asked again,
// the same controller answers BROKER_ID_NOT_REGISTERED at once: as Kafka's QuorumController, it
// reads the registration from its uncommitted state, and an operation that throws is answered
// without waiting for a commit. The admin is done; the controller loses its leadership and the
// record with it. b5 stays registered, fenced, and the last member of two partitions' ELR: Kafka
// elects no one else (unclean election off), so they stay offline for good. `kafkasim fuzz
// --profile standard` found it at seed 26944 and reported `leader-elected-after-heal`; this is the
// shrunk run, which the checker now allows as `offline-after-unclean-shutdowns`.

import { describe, expect, it } from 'vitest';
import { runScenario } from '../scenarios/run.ts';
import type { PartitionState } from '../sim/kafka/controller/metadata-image.ts';
import { isOfflineByDesign } from './kraft-harness.ts';
import { LOST_UNREGISTRATION_SEED, lostUnregistrationScenario } from './lost-unregistration-run.ts';

describe('a removed broker whose unregistration a failover dropped', () => {
  it('leaves the partitions it alone could lead offline, as Kafka does: allowed, not a violation', () => {
    const scenario = lostUnregistrationScenario();
    // The admin's unregister requests, and the controllers' answers.
    const asked: string[] = [];
    const report = runScenario(scenario, {
      seed: LOST_UNREGISTRATION_SEED,
      bugs: [],
      sets: {},
      traceSink: (event) => {
        const type = String(event.fields?.['type']);
        if (event.kind === 'net.deliver' && type.startsWith('admin.unregister-broker'))
          asked.push(`${event.atMs} ${event.node} ${type}`);
      },
    });
    // Asked twice of c2, the active controller: the second answered at once, the first (the one
    // that appended the record) only when c2 lost its leadership.
    expect(asked.filter((line) => line.endsWith('c2 admin.unregister-broker'))).toHaveLength(2);
    expect(asked.filter((line) => line.endsWith('admin admin.unregister-broker-response'))).toEqual(
      [
        '22413 admin admin.unregister-broker-response',
        '24755 admin admin.unregister-broker-response',
        '25624 admin admin.unregister-broker-response',
      ],
    );
    // The timeline says what the admin was told.
    expect(
      report.timeline
        .filter((entry) => entry.text.startsWith('remove-broker b5'))
        .map((entry) => `${entry.atMs} ${entry.text}`),
    ).toEqual([
      '21309 remove-broker b5',
      '24755 remove-broker b5: the controller says it is not registered (BROKER_ID_NOT_REGISTERED): done',
    ]);
    // The partitions b5 alone could lead: no leader, b5 the whole ELR.
    const offline = report.partitions.filter((row) => row.leader === null);
    expect(offline.map((row) => `${row.topic}-${row.partition}`)).toEqual([
      'orders-1',
      'events1-1',
    ]);
    for (const row of offline) {
      expect(row.isr).toEqual([]);
      expect(row.elr).toEqual(['b5']);
    }
    expect(report.violations).toEqual([]);
    expect(report.allowedCounts['offline-after-unclean-shutdowns']).toBe(2);
    const allowed = report.allowedLosses.filter(
      (loss) => loss.reason === 'offline-after-unclean-shutdowns',
    );
    expect(allowed.map((loss) => loss.message)).toEqual([
      'orders-1 stays offline: the only replicas that could lead (ISR [], ELR [b5]) were removed and do not come back',
      'events1-1 stays offline: the only replicas that could lead (ISR [], ELR [b5]) were removed and do not come back',
    ]);
    expect(report.ok).toBe(true);
  }, 30_000);
});

describe('a leaderless partition left offline by design', () => {
  const partition = (
    isr: string[],
    elr: string[],
    lastKnownElr: string[] = [],
  ): PartitionState => ({
    topicId: 'topic-1',
    partition: 0,
    replicas: ['b1', 'b2', 'b3'],
    isr,
    elr,
    lastKnownElr,
    leader: null,
    leaderEpoch: 3,
    partitionEpoch: 5,
    leaderRecoveryState: 'RECOVERED',
  });
  const none = new Set<string>();

  it('is one no replica could lead: ISR, ELR and last known leader all gone', () => {
    expect(isOfflineByDesign(partition([], []), none)).toBe(true);
  });

  it('is one whose electable replicas were all removed', () => {
    expect(isOfflineByDesign(partition([], ['b3']), new Set(['b3']))).toBe(true);
    expect(isOfflineByDesign(partition(['b2'], ['b3']), new Set(['b2', 'b3']))).toBe(true);
    expect(isOfflineByDesign(partition([], [], ['b1']), new Set(['b1']))).toBe(true);
  });

  it('is not one with a replica that could still come back and lead', () => {
    expect(isOfflineByDesign(partition([], ['b3']), none)).toBe(false);
    expect(isOfflineByDesign(partition(['b2'], ['b3']), new Set(['b3']))).toBe(false);
    expect(isOfflineByDesign(partition([], ['b3']), new Set(['b1', 'b2']))).toBe(false);
    // The last known leader counts only once the ISR and ELR are empty.
    expect(isOfflineByDesign(partition([], [], ['b1']), none)).toBe(false);
    expect(isOfflineByDesign(partition(['b2'], [], ['b1']), new Set(['b1']))).toBe(false);
  });
});
