// The timeline a person reads of a run: the controller's leadership decisions (every leader epoch
// of a partition, once), high watermark stalls that really lasted, and fault lines that name
// every field. Runs pinned to seeds the newcomer's report named.

import { describe, expect, it } from 'vitest';
import type { BugName } from '../sim/kafka/bugs.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { generateScenario } from './generate.ts';
import { scenarioByName } from './registry.ts';
import { runScenario, type ScenarioReport } from './run.ts';
import { defineScenario, type Scenario } from './scenario.ts';
import { splitBrainScenario } from './split-brain-run.ts';
import { faultText, STALL_MS, type TimelineEntry } from './timeline.ts';

const TIMEOUT_MS = 60_000;

function runSeed(seed: number, bug: BugName, traceSink?: (event: TraceEvent) => void) {
  return runScenario(generateScenario(seed, 'small'), {
    seed,
    bugs: [bug],
    sets: {},
    ...(traceSink === undefined ? {} : { traceSink }),
  });
}

function runNamed(name: string): ScenarioReport {
  const scenario = scenarioByName(name);
  if (scenario === undefined) throw new Error(`no scenario ${name}`);
  return runScenario(scenario, { seed: 1, bugs: [], sets: {} });
}

function lines(report: ScenarioReport): string[] {
  return report.timeline.map((entry) => `${entry.node} ${entry.text}`);
}

/** The controller's leadership lines: `orders-0: elects b3 for leader epoch 1 (…)`. */
const DECISION = /^(\S+): (?:elects \S+|no leader) for leader epoch (\d+) /;

/** Per partition, the leader epochs the controller's lines name, in timeline order. */
function decidedEpochs(timeline: readonly TimelineEntry[]): Map<string, number[]> {
  const epochs = new Map<string, number[]>();
  for (const entry of timeline) {
    const match = DECISION.exec(entry.text);
    if (match === null || entry.category !== 'election') continue;
    expect(entry.node).toMatch(/^c\d+$/);
    const partition = match[1] as string;
    epochs.set(partition, [...(epochs.get(partition) ?? []), Number(match[2])]);
  }
  return epochs;
}

describe("the controller's leadership decisions", () => {
  it('seed 64 (no-elr): epoch 2, when no replica could lead, is a line, with why', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runSeed(64, 'no-elr'));
    expect(shown).toContain(
      'c1 orders-0: elects b2 for leader epoch 0 (a new partition: replicas [b2,b3], ISR [b2,b3])',
    );
    expect(shown).toContain(
      'c1 orders-0: elects b3 for leader epoch 1 (b2 fenced; from the ISR [b3])',
    );
    expect(shown).toContain(
      'c1 orders-0: no leader for leader epoch 2 (b3 fenced; ISR [b3], ELR []: none usable; unclean election off)',
    );
    expect(shown).toContain(
      'c1 orders-0: elects b3 for leader epoch 3 (b3 unfenced; from the ISR [b3])',
    );
    // The decision comes right after the fence that made it, at the same moment.
    const fence = shown.indexOf('c1 fences b3: no heartbeat within the session timeout');
    expect(shown[fence + 1]).toMatch(/^c1 orders-0: no leader for leader epoch 2 /);
  });

  it('seed 5 (truncate-to-hw): the epochs behind "leader none · leader epoch 2" are lines', {
    timeout: TIMEOUT_MS,
  }, () => {
    const report = runSeed(5, 'truncate-to-hw');
    const shown = lines(report);
    expect(shown).toContain(
      'c3 orders-0: elects b1 for leader epoch 1 (b3 fenced; from the ISR [b1])',
    );
    expect(shown).toContain(
      'c3 orders-0: no leader for leader epoch 2 (b1 fenced; ISR [], ELR [b3,b1], last known leader b1: none usable, b3 fenced; unclean election off)',
    );
    // Back after an unclean shutdown, b3 leaves the ELR...
    expect(shown).toContain(
      'c3 orders-0: still no leader in leader epoch 2 (b3 registers again after an unclean shutdown: it may have lost records, out of the ELR (KIP-966); ISR [], ELR [b1], last known leader b1: none usable, b1 fenced; unclean election off)',
    );
    // ...and so does b1, but it stays the last known leader...
    expect(shown).toContain(
      'c3 orders-0: still no leader in leader epoch 2 (b1 registers again after an unclean shutdown: it may have lost records, out of the ELR (KIP-966), still the last known leader: once unfenced it is elected, uncleanly; ISR [], ELR [], last known leader b1: none usable; unclean election off)',
    );
    // ...which Kafka elects once it is unfenced.
    expect(shown).toContain(
      'c3 orders-0: elects b1 for leader epoch 3 (b1 unfenced; the last known leader (KIP-966): it may lack committed records; ISR [b1])',
    );
    expect(report.partitions[0]).toMatchObject({ leader: 'b1', leaderEpoch: 3 });
  });

  it('an unclean election names itself', { timeout: TIMEOUT_MS }, () => {
    const shown = lines(runNamed('unclean-leader-election-loses-acknowledged-writes'));
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^c\d orders-0: elects b\d for leader epoch 2 \(b\d fenced; unclean: not in the ISR, it may lack committed records; ISR \[b\d\]\)$/,
      ),
    );
  });

  it('the controller taking a fenced follower out of the ISR is a line; a shrink the leader asked for is not', {
    timeout: TIMEOUT_MS,
  }, () => {
    const fenced = lines(runNamed('unclean-leader-election-loses-acknowledged-writes'));
    expect(fenced).toContainEqual(
      expect.stringMatching(
        /^c\d orders-0: ISR \[b\d,b\d,b\d\] → \[b\d,b\d\] under leader b\d in leader epoch 0 \(b\d fenced\)$/,
      ),
    );
    const slow = lines(runNamed('a-slow-follower-leaves-the-isr-and-rejoins'));
    expect(slow).toContainEqual(expect.stringMatching(/^b\d orders-0: ISR now \[/));
    expect(slow.filter((line) => / under leader /.test(line))).toEqual([]);
  });

  it('a broker fenced for its session is unfenced by a line before it rejoins the ISR', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runNamed('an-isolated-leader-loses-only-acks-1-writes'));
    const fenced = shown.findIndex((line) => /^c\d fences b2: /.test(line));
    const unfenced = shown.findIndex((line) => /^c\d unfences b2: /.test(line));
    const rejoined = shown.findIndex((line) => /^b\d orders-0: ISR now \[.*b2/.test(line));
    expect(fenced).toBeGreaterThanOrEqual(0);
    expect(unfenced).toBeGreaterThan(fenced);
    expect(rejoined).toBeGreaterThan(unfenced);
    // At start-up the broker's own line says it: no controller line beside it.
    expect(shown.filter((line) => / unfences /.test(line))).toHaveLength(1);
  });

  it('a controlled shutdown: the controller moves leadership first, then unregisters the broker', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runNamed('controlled-shutdown-moves-leadership-first'));
    const asks = shown.findIndex((line) => /^b\d asks for a controlled shutdown$/.test(line));
    const elects = shown.findIndex((line) =>
      /^c\d orders-0: elects b\d for leader epoch 1 \(b\d in controlled shutdown; from the ISR/.test(
        line,
      ),
    );
    const unregisters = shown.findIndex((line) =>
      /^c\d unregisters b\d: it leaves the cluster, and every ISR and ELR$/.test(line),
    );
    expect(asks).toBeGreaterThanOrEqual(0);
    expect(elects).toBeGreaterThan(asks);
    expect(unregisters).toBeGreaterThan(elects);
  });

  it('an election from the ELR names KIP-966', { timeout: TIMEOUT_MS }, () => {
    const shown = lines(runNamed('kip-966-last-replica-standing-loses-nothing-with-elr'));
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^c\d orders-0: elects b\d for leader epoch 1 \(b\d fenced; from the ELR \(KIP-966\); ISR \[b\d\]\)$/,
      ),
    );
  });

  const runs: readonly [string, () => ScenarioReport][] = [
    ['seed 64 (no-elr)', () => runSeed(64, 'no-elr')],
    ['seed 5 (truncate-to-hw)', () => runSeed(5, 'truncate-to-hw')],
    ['seed 52 (raft-no-check-quorum)', () => runSeed(52, 'raft-no-check-quorum')],
    ['unclean election', () => runNamed('unclean-leader-election-loses-acknowledged-writes')],
    ['controlled shutdown', () => runNamed('controlled-shutdown-moves-leadership-first')],
    ['KIP-279', () => runNamed('kip-279-fast-failovers-truncate-a-divergent-epoch')],
  ];
  for (const [name, run] of runs) {
    it(`${name}: every leader epoch of a partition is one line, from 0 to the last`, {
      timeout: TIMEOUT_MS,
    }, () => {
      const report = run();
      const epochs = decidedEpochs(report.timeline);
      for (const row of report.partitions) {
        const expected = Array.from({ length: row.leaderEpoch + 1 }, (_, epoch) => epoch);
        expect(epochs.get(`${row.topic}-${row.partition}`)).toEqual(expected);
      }
    });
  }
});

describe('high watermark stalls', () => {
  it('a high watermark that goes back is not worded as moving again', {
    timeout: TIMEOUT_MS,
  }, () => {
    const scenario = scenarioByName('kip-966-last-replica-standing-loses-nothing-with-elr');
    if (scenario === undefined) throw new Error('no kip-966 scenario');
    const report = runScenario(scenario, { seed: 1, bugs: ['no-elr'], sets: {} });
    const shown = lines(report);
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^b\d orders-0: HW goes back, (\d+) → 0 \(records it had counted as committed are gone from its log\)$/,
      ),
    );
    for (const line of shown) {
      const moved = / HW moves again, (\d+) → (\d+)$/.exec(line);
      if (moved !== null) expect(Number(moved[2])).toBeGreaterThan(Number(moved[1]));
    }
  });

  it('allowed losses past the ten of each reason shown are counted, not dropped silently', {
    timeout: TIMEOUT_MS,
  }, () => {
    const report = runNamed('acks-1-loses-writes-on-leader-failover');
    const allowed = report.allowedCounts['acks-1'] ?? 0;
    expect(allowed).toBeGreaterThan(10);
    const shown = lines(report).filter((line) => line.startsWith('checker allowed loss (acks-1)'));
    expect(shown).toHaveLength(10);
    expect(lines(report)).toContain(
      `checker … and ${allowed - 10} more allowed losses (acks-1), from here on (the verdict counts them by reason)`,
    );
  });

  it("one reason's many losses do not hide another's", { timeout: TIMEOUT_MS }, () => {
    // 80 lossy-crashes come first, then 15 unclean-election losses (the last known leader).
    const report = runNamed('min-isr-1-loses-writes-to-a-power-failure');
    const shown = lines(report);
    for (const reason of ['lossy-crashes', 'unclean-election']) {
      const count = report.allowedCounts[reason] ?? 0;
      expect(count, reason).toBeGreaterThan(10);
      expect(
        shown.filter((line) => line.startsWith(`checker allowed loss (${reason})`)),
      ).toHaveLength(10);
      expect(report.allowedLosses.filter((loss) => loss.reason === reason)).toHaveLength(
        Math.min(count, 100),
      );
    }
  });

  it('a leader idle past the bound is not stalled by its first write', {
    timeout: TIMEOUT_MS,
  }, () => {
    // The leader is elected at about 5 s and waits for no record until 12 s.
    const idle: Scenario = defineScenario({
      name: 'an-idle-leader-is-not-stalled',
      summary: 'A producer that starts late',
      description: 'No fault: the high watermark follows every write.',
      topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
      producers: [{ topic: 'orders', acks: 'all', everyMs: 500, count: 10, startMs: 12_000 }],
      faultPhaseMs: 20_000,
      healPhaseMs: 5_000,
    });
    const report = runScenario(idle, { seed: 1, bugs: [], sets: {} });
    expect(lines(report).filter((line) => /HW (stalled|moves)/.test(line))).toEqual([]);
    expect(lines(report)).toContain('p1 acks=all writes to orders-0: 2 ok, offsets 0–1');
  });

  it('seed 19 (truncate-to-hw): no stall ends at the moment it is reported', {
    timeout: TIMEOUT_MS,
  }, () => {
    const { timeline } = runSeed(19, 'truncate-to-hw');
    for (const [index, entry] of timeline.entries()) {
      if (!entry.text.includes('HW stalled')) continue;
      const end = timeline.find(
        (later, laterIndex) =>
          laterIndex > index && later.node === entry.node && later.text.includes('HW moves again'),
      );
      if (end !== undefined) expect(end.atMs).toBeGreaterThan(entry.atMs);
    }
    expect(timeline.map((entry) => entry.text)).not.toContain(
      'orders-0: HW stalled at 0 (LEO 2, ISR [b3,b1,b2]): acks=all writes wait',
    );
    // The stall of the run's new leader b2 is counted from its first record past the HW.
    const stall = timeline.find((entry) => entry.text.startsWith('orders-0: HW stalled at 395'));
    const elected = timeline.find((entry) => entry.text.startsWith('orders-0: leader in epoch 2'));
    expect(stall?.atMs ?? 0).toBeGreaterThanOrEqual((elected?.atMs ?? Number.NaN) + STALL_MS);
  });
});

describe('fault lines', () => {
  it('name every field, as the trace does', () => {
    expect(faultText('fault.clog', { source: 'b2', target: 'c1' })).toBe(
      'clog source=b2 target=c1',
    );
    expect(faultText('fault.crash', { target: 'b3', crash: 'powerFailure' })).toBe(
      'crash target=b3 crash=powerFailure',
    );
    expect(faultText('fault.isolate', { target: 'b2', mode: 'silent' })).toBe(
      'isolate target=b2 mode=silent',
    );
    expect(faultText('fault.partition', { groups: 'b2 | b3', mode: 'silent' })).toBe(
      'partition groups=b2 | b3 mode=silent',
    );
    expect(faultText('fault.heal', undefined)).toBe(
      'heal: every network partition and isolation ends',
    );
  });

  it('leave out a bandwidth cap of 0 (none), keep a real one', () => {
    expect(
      faultText('fault.slow', { target: 'b3', extraLatencyMs: 30, bandwidthBytesPerSec: 0 }),
    ).toBe('slow target=b3 extraLatencyMs=30');
    expect(
      faultText('fault.slow', { target: 'b3', extraLatencyMs: 0, bandwidthBytesPerSec: 200 }),
    ).toBe('slow target=b3 extraLatencyMs=0 bandwidthBytesPerSec=200');
  });

  it('show a one-way cut by the links it cuts: no node is cut from itself', () => {
    const fields = (sources: string, targets: string) => ({ sources, targets, mode: 'silent' });
    expect(faultText('fault.partition-one-way', fields('c1,c3,c2', 'c3'))).toBe(
      'partition-one-way sources=c1,c2 targets=c3 mode=silent',
    );
    // c3 on both sides still cuts c3 → b1: it stays.
    expect(faultText('fault.partition-one-way', fields('c1,c3', 'c3,b1'))).toBe(
      'partition-one-way sources=c1,c3 targets=c3,b1 mode=silent',
    );
    expect(faultText('fault.partition-one-way', fields('c3', 'c3'))).toBe(
      'partition-one-way sources=c3 targets=c3 mode=silent cuts=nothing (a node has no link to itself)',
    );
  });

  it('seed 64 (no-elr): a clog and a crash read with every field named', {
    timeout: TIMEOUT_MS,
  }, () => {
    const faults: TraceEvent[] = [];
    const report = runSeed(64, 'no-elr', (event) => {
      if (event.kind.startsWith('fault.')) faults.push(event);
    });
    const shown = lines(report);
    // A step that named its node by role says which role named it.
    expect(shown).toContain('world clog source=b2 target=c1 (@leader is b2)');
    expect(shown).toContain('world crash target=b3 crash=powerFailure (@replica-1 is b3)');
    // Every fault of the trace that names a node shows it named.
    for (const fault of faults) {
      const target = fault.fields?.['target'];
      if (target === undefined) continue;
      expect(shown).toContainEqual(
        expect.stringMatching(new RegExp(`^world ${fault.kind.slice(6)} .*target=${target}\\b`)),
      );
    }
  });
});

describe('metadata elections', () => {
  it('seed 42 (raft-vote-not-persisted): who lost the leader, who stood, who voted for whom and who refused', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runSeed(42, 'raft-vote-not-persisted'));
    for (const line of [
      'c1 lost metadata leader c2 of epoch 1: no fetch answered within the fetch timeout',
      'c1 stands for metadata leader in epoch 2 (its pre-vote won a majority)',
      "c2 votes for c1 in metadata epoch 2 (c1's log: last epoch 1, end 22; its own: last epoch 1, end 22)",
      'c3 refuses c1 its vote in metadata epoch 2: this voter voted for c3 in the epoch',
      // The bug: c2 lost its vote for c1 in a power failure and voted again.
      "c2 votes for c3 in metadata epoch 2 (c3's log: last epoch 1, end 22; its own: last epoch 1, end 22)",
      'c1 becomes the active controller (metadata epoch 2)',
      'c3 becomes the active controller (metadata epoch 2)',
    ])
      expect(shown).toContain(line);
  });
});

describe('the metadata quorum at the end', () => {
  it('seed 42 shrunk (raft-vote-not-persisted): two voters still lead epoch 2, and the partitions say whose view they are', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shrunk = splitBrainScenario();
    const report = runScenario(shrunk, { seed: 42, bugs: ['raft-vote-not-persisted'], sets: {} });
    expect(report.quorum.map((row) => [row.controller, row.role, row.epoch, row.votedFor])).toEqual(
      [
        ['c1', 'leader', 2, 'c1'],
        ['c2', 'follower', 2, 'c3'],
        ['c3', 'leader', 2, 'c3'],
      ],
    );
    expect(report.partitions[0]?.view).toMatch(
      /^the active controller c\d's metadata, one of 2 controllers that think they lead: c1, c3$/,
    );
    // A run without a split: one leader, every voter in its epoch, no 'think they lead'.
    const clean = runScenario(shrunk, { seed: 42, bugs: [], sets: {} });
    expect(clean.quorum.filter((row) => row.role === 'leader')).toHaveLength(1);
    expect(clean.partitions[0]?.view).not.toContain('think they lead');
  });
});

describe('metadata truncations, and steps skipped again and again', () => {
  it('seed 10 (raft-commit-old-epoch): a voter cutting committed entries says so; one skip line counts its repeats', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runSeed(10, 'raft-commit-old-epoch'));
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^c\d truncates its metadata log \d+ → \d+ \(its leader's answer: their logs agree up to the end of epoch \d+\)$/,
      ),
    );
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^c\d that truncation removed metadata entries below its high watermark \d+, committed: the high watermark falls to \d+$/,
      ),
    );
    // The step waiting for @new-controller is skipped 78 times over the run: one line.
    const skips = shown.filter((line) => line.includes('skip bounce @new-controller'));
    expect(skips).toEqual([
      'world skip bounce @new-controller: no node was @new-controller then (×78, the last at 49.999s)',
    ]);
  });
});

describe('the ISR and the ELR, as the controller and the leader tell them', () => {
  it('seed 370 (no-broker-epoch): the ELR a shrink fills, and the fetch an expansion rests on', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runSeed(370, 'no-broker-epoch'));
    expect(shown).toContain(
      'c3 orders-0: ISR [b3,b1,b2] → [b3], ELR [] → [b1,b2] under leader b3 in leader epoch 0 (the ISR fell below min.insync.replicas: b1 and b2 leave it but stay eligible to lead, in the ELR (KIP-966))',
    );
    expect(shown).toContain(
      'b3 orders-0: b2 (its last fetch at 7.965s: log end 25, broker epoch 2) caught up, ISR expand proposed',
    );
  });
});

describe('a restarted broker refused while its old session lasts', () => {
  it('seed 8 (epoch-lookup-kip101): one line with its count; a heal says what it ends', {
    timeout: TIMEOUT_MS,
  }, () => {
    const shown = lines(runSeed(8, 'epoch-lookup-kip101'));
    expect(shown.filter((line) => line.includes('registration refused'))).toEqual([
      'b2 registration refused (DUPLICATE_BROKER_REGISTRATION: the controller still holds its previous incarnation, whose session has not expired); it asks again (×9, the last at 39.082s)',
    ]);
    expect(shown).toContain('world heal: every network partition and isolation ends');
  });
});

describe('a metadata leader cut off', () => {
  it('seed 52 resigns (check-quorum); under raft-no-check-quorum it does not', {
    timeout: TIMEOUT_MS,
  }, () => {
    const resigned =
      'c3 resigns as metadata leader of epoch 1: heard from 1 voter (itself included) within the check-quorum interval, fewer than a majority';
    const generated = generateScenario(52, 'small');
    const clean = runScenario(generated, { seed: 52, bugs: [], sets: {} });
    expect(lines(clean)).toContain(resigned);
    const staleRun = runSeed(52, 'raft-no-check-quorum');
    const stale = lines(staleRun);
    expect(stale).not.toContain(resigned);
    // The staleness report gives its bound and the bound's parts.
    expect(staleRun.violations[0]?.message).toMatch(
      /^b\d has applied metadata up to offset \d+ only, though the quorum had committed up to offset \d+ by \d+ ms, (\d+) ms ago \(its bound: 7000 ms of timeouts, 1\.5 × the fetch timeout and 2 × the longest election timeout; \d+ ms of round trips; \d+ ms of request timeouts\), and it could reach the leader c\d and a majority of voters both ways since \d+ ms$/,
    );
    // It acts on as the leader of a replaced epoch, said so, and steps down when it learns.
    expect(stale).toContain(
      "c3 fences b2: no heartbeat within the session timeout (as the leader of metadata epoch 1, which c1's epoch 3 has replaced: this will not commit)",
    );
    expect(stale).toContain(
      'c3 steps down as metadata leader of epoch 1: it learned of epoch 3 (now following c1 in epoch 3)',
    );
  });
});

describe('a step that did nothing', () => {
  it('is a line saying which role named no node, at once or when its wait ran out', () => {
    const flagship = scenarioByName('acks-all-survives-a-leader-crash');
    if (flagship === undefined) throw new Error('not registered');
    // At 1 s no topic exists yet: nobody is @leader; @out-of-isr names nobody for the whole wait.
    const scenario: Scenario = {
      ...flagship,
      timeline: [
        { atMs: 1_000, kind: 'crash', node: '@leader', crash: 'kill' },
        { atMs: 1_000, kind: 'stop', node: '@out-of-isr', awaitMs: 2_000 },
        ...flagship.timeline,
      ],
    };
    const report = runScenario(scenario, { seed: 1, bugs: [], sets: {} });
    const shown = lines(report);
    expect(shown).toContain('world skip crash @leader: no node was @leader then');
    expect(shown).toContain(
      'world skip stop @out-of-isr: no node was @out-of-isr within awaitMs 2000 ms',
    );
    // The flagship's own crash still happens, and its story holds.
    expect(report.ok).toBe(true);
  });
});

describe('a step by role, and a fault that does not fit its node', () => {
  it('says which node each role named and how long it waited; a misfit says why; repeats count', () => {
    const flagship = scenarioByName('acks-all-survives-a-leader-crash');
    if (flagship === undefined) throw new Error('not registered');
    const scenario: Scenario = {
      ...flagship,
      timeline: [
        // Nobody leads before the topic exists (~5 s): the pause waits for its @leader.
        { atMs: 1_000, kind: 'pause', node: '@leader', durationMs: 100, awaitMs: 10_000 },
        // The same step twice, skipped twice word for word: one line with its count.
        { atMs: 1_000, kind: 'stop', node: '@out-of-isr', awaitMs: 2_000 },
        { atMs: 1_000, kind: 'stop', node: '@out-of-isr', awaitMs: 2_000 },
        // A restart of a node that is up does nothing, and says so.
        { atMs: 2_000, kind: 'restart', node: 'b1' },
        // A step waiting for a protocol trigger names its role's node as well.
        { atMs: 3_000, when: 'isr-full', kind: 'pause', node: '@follower', durationMs: 50 },
        ...flagship.timeline,
      ],
    };
    const report = runScenario(scenario, { seed: 1, bugs: [], sets: {} });
    const shown = lines(report);
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^world pause target=(b\d) durationMs=100 \(@leader is \1, waited for from 1\.000s\)$/,
      ),
    );
    expect(shown).toContain(
      'world skip stop @out-of-isr: no node was @out-of-isr within awaitMs 2000 ms (×2)',
    );
    expect(shown).toContain('world skip restart b1: b1 is up');
    expect(shown).toContainEqual(
      expect.stringMatching(
        /^world pause target=(b\d) durationMs=50 \(@follower is \1, waited for from 3\.000s\)$/,
      ),
    );
    expect(report.ok).toBe(true);
  });
});

describe('a run without its timeline (as the fuzzer runs a seed)', () => {
  it('is the same run: the same trace hash, verdict and counts, with or without --trace', {
    timeout: TIMEOUT_MS,
  }, () => {
    // Seed 5 under truncate-to-hw breaks an invariant: the counts are not empty.
    const scenario = generateScenario(5, 'small');
    const options = { seed: 5, bugs: ['truncate-to-hw'] as BugName[], sets: {} };
    const withTimeline = runScenario(scenario, options);
    const without = runScenario(scenario, { ...options, timeline: false });
    const traced: TraceEvent[] = [];
    const tracedWithout = runScenario(scenario, {
      ...options,
      timeline: false,
      traceSink: (event) => traced.push(event),
    });
    expect(Object.keys(withTimeline.counts).length).toBeGreaterThan(0);
    expect(withTimeline.timeline.length).toBeGreaterThan(0);
    for (const report of [without, tracedWithout]) {
      expect(report.traceHash).toBe(withTimeline.traceHash);
      expect(report.ok).toBe(withTimeline.ok);
      expect(report.counts).toEqual(withTimeline.counts);
      expect(report.verdict).toEqual(withTimeline.verdict);
      expect(report.timeline).toEqual([]);
    }
    // --trace still gets every event, as with the timeline.
    const tracedWith: TraceEvent[] = [];
    runScenario(scenario, { ...options, traceSink: (event) => tracedWith.push(event) });
    expect(traced.length).toBeGreaterThan(0);
    expect(traced.map((event) => event.kind)).toEqual(tracedWith.map((event) => event.kind));
  });
});
