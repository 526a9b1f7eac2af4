// The story of a lost record: for a known failing seed, the explanation names the lost value, its
// offset, the ISR that acknowledged it, how each replica that held it lost it, and a fault. The
// stories name records and metadata entries by their ids (checked against what each node's disk
// held), relate themselves to the verdict's counts, and name the bug switch whose mechanism they
// show.

import { describe, expect, it } from 'vitest';
import { runKafka } from '../properties/kafka-harness.ts';
import { entryId } from '../properties/raft-checker.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import { RAFT_LOG_FILE, type RaftEntry } from '../sim/kafka/raft/log.ts';
import { explainViolations, StoryEvents } from './explain.ts';
import type { StoryEvent } from './explain-common.ts';
import { generateScenario } from './generate.ts';
import { scenarioByName } from './registry.ts';
import { runScenario, type ScenarioReport, scenarioSpec, type ViolationReport } from './run.ts';
import type { Scenario } from './scenario.ts';
import { splitBrainScenario } from './split-brain-run.ts';

interface SeedRun {
  readonly report: ScenarioReport;
  readonly story: StoryEvents;
}

const runs = new Map<string, SeedRun>();

/** A small-profile fuzz seed's run with a story collector, once per test file. */
function runSeed(seed: number, bugs: readonly BugName[]): SeedRun {
  const key = `${seed}|${bugs.join(',')}`;
  const known = runs.get(key);
  if (known !== undefined) return known;
  const story = new StoryEvents();
  const report = runScenario(generateScenario(seed, 'small'), {
    seed,
    bugs,
    sets: {},
    traceSink: story.sink,
  });
  runs.set(key, { report, story });
  return { report, story };
}

/** The explanation as `repro` tells it when it passes the report's counts and bugs. */
function explained(seed: number, bug: BugName, storiesMax?: number): string[] {
  const { report, story } = runSeed(seed, [bug]);
  return explainViolations({
    violations: report.violations,
    events: story.events,
    history: report.history.entries,
    counts: report.counts,
    bugs: report.bugs,
    ...(storiesMax === undefined ? {} : { storiesMax }),
  });
}

/** A scenario's run with a story collector, and its explanation as `run` tells it. */
function explainRun(
  scenario: Scenario,
  seed: number,
  bugs: readonly BugName[],
): { report: ScenarioReport; text: string } {
  const story = new StoryEvents();
  const report = runScenario(scenario, { seed, bugs, sets: {}, traceSink: story.sink });
  const text = explainViolations({
    violations: report.violations,
    events: story.events,
    history: report.history.entries,
    counts: report.counts,
    bugs: report.bugs,
  }).join('\n');
  return { report, text };
}

describe('explainViolations', () => {
  it('tells how truncate-to-hw lost an acked write at small seed 19', () => {
    const { report, story } = runSeed(19, ['truncate-to-hw']);
    const violation = report.violations.find((each) => each.invariant === 'acked-write-durable');
    expect(violation?.value).toBeDefined();
    const lines = explainViolations({
      violations: report.violations,
      events: story.events,
      history: report.history.entries,
    });
    const text = lines.join('\n');
    const first = lines.findIndex((line) => line.startsWith(`${violation?.value} at orders-0`));
    expect(lines[first]).toContain(`${violation?.value} at orders-0 offset ${violation?.offset}`);
    expect(text).toMatch(/produced +at \d+ ms by p\d with acks=(all|1)/);
    expect(text).toMatch(/acked +at \d+ ms to p\d at offset \d+, ISR then \[b\d(, b\d)*\]/);
    expect(text).toMatch(/committed +at \d+ ms/);
    for (const holder of violation?.nodes ?? []) {
      expect(text).toMatch(new RegExp(`\\n  ${holder} +(truncated it|lost it in a)`));
    }
    expect(text).toContain('(become-follower-hw)');
    expect(text).toMatch(/enabled by \d+ ms (crash|partition|bounce|isolate|pause)/);
    // Without the run's bugs, no line names one.
    expect(text).not.toMatch(/\n {2}bug /);
    expect(story.dropped).toBe(0);
  }, 30_000);

  it('names the crash and the election that lost it under no-elr at small seed 64', () => {
    const text = explained(64, 'no-elr', 1).join('\n');
    expect(text).toMatch(/lost it in a powerFailure crash/);
    expect(text).toMatch(/permanent +at \d+ ms b\d became leader in leader epoch \d+ without it/);
    // A partition's epoch is always a "leader epoch" ("epoch" alone is the metadata quorum's).
    const story = text.slice(text.indexOf('\np1-0 at orders-0'));
    expect(story.replaceAll('leader epoch', '').replaceAll('(diverging-epoch)', '')).not.toMatch(
      /\bepoch\b/,
    );
  }, 30_000);

  it('says nothing when no record was lost, and bounds what it keeps', () => {
    expect(explainViolations({ violations: [], events: [], history: [] })).toEqual([]);
    const story = new StoryEvents(2);
    for (let index = 0; index < 5; index++)
      story.sink({ index, atMs: index, node: 'world', kind: 'fault.crash', fields: {} });
    story.sink({ index: 9, atMs: 9, node: 'b1', kind: 'net.deliver', fields: {} });
    expect(story.events.length).toBe(2);
    expect(story.dropped).toBe(3);
  });
});

describe('explainViolations relates its stories to the verdict’s counts', () => {
  it('says so when no violation has a story, rather than saying nothing', () => {
    const lines = explainViolations({
      violations: [{ invariant: 'leader-in-isr', atMs: 5, message: 'b1 leads outside its ISR' }],
      events: [],
      history: [],
      counts: { 'leader-in-isr': 1 },
    });
    expect(lines).toEqual([
      '1 violation, as the verdict counts them; what the stories below tell of them:',
      '  leader-in-isr ×1   no story is told for this invariant',
    ]);
    expect(explainViolations({ violations: [], events: [], history: [] })).toEqual([]);
  });

  /** A kept record-loss violation with no events: its story is told from the report alone. */
  function lost(value: string, offset: number): ViolationReport {
    return {
      invariant: 'acked-write-durable',
      atMs: 1_000,
      topic: 'orders',
      partition: 0,
      offset,
      value,
      nodes: ['b1'],
      committedAtMs: 500,
      holders: { b1: 'truncation' },
      message: `orders-0: committed record ${value} (offset ${offset}) is lost (b1: truncation)`,
    };
  }

  it('says how many were kept and only counted, which are told, which happened the same way', () => {
    const lines = explainViolations({
      violations: [lost('p1-0', 0), lost('p1-1', 1), lost('p1-2', 2)],
      events: [],
      history: [],
      counts: { 'acked-write-durable': 40, 'raft-hw-monotonic': 2 },
    });
    expect(lines.slice(0, 5)).toEqual([
      '42 violations, as the verdict counts them; what the stories below tell of them:',
      '  acked-write-durable ×40   3 kept as examples, the other 37 only counted',
      '                            told below: p1-0',
      '                            p1-1, p1-2: lost the same way as p1-0: the same replicas, crashes, truncations and election',
      '  raft-hw-monotonic ×2      no story is told for this invariant',
    ]);
    expect(lines.filter((line) => line.startsWith('p1-'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('more lost record');
  });

  it('under no-elr at small seed 64: the verdict’s 163, the 5 kept, one story told for all five', () => {
    const { report } = runSeed(64, ['no-elr']);
    expect(report.counts['acked-write-durable']).toBe(163);
    const lines = explained(64, 'no-elr');
    expect(lines[0]).toBe(
      '163 violations, as the verdict counts them; what the stories below tell of them:',
    );
    expect(lines[1]).toMatch(
      /^ {2}acked-write-durable ×163 +5 kept as examples, the other 158 only counted$/,
    );
    expect(lines[2]).toMatch(/^ +told below: p1-0$/);
    expect(lines[3]).toMatch(/^ +p2-0, p1-1, p1-2, p1-3: lost the same way as p1-0/);
    expect(lines.filter((line) => / at orders-0 offset \d+: /.test(line))).toHaveLength(1);
  }, 30_000);

  it('under raft-no-check-quorum at small seed 52: the 9 violations, 5 kept, one story', () => {
    const lines = explained(52, 'raft-no-check-quorum');
    expect(lines[0]).toMatch(/^9 violations, as the verdict counts them/);
    expect(lines[1]).toMatch(/^ {2}metadata-staleness-bounded ×9 +5 kept as examples, the other 4/);
    expect(lines[2]).toMatch(
      /told below: .* behind while c\d of epoch \d+ had not resigned \(5 violations\)$/,
    );
  }, 30_000);
});

describe('explainViolations for the metadata quorum', () => {
  function storyOf(seed: number, bug: BugName): string {
    return explained(seed, bug, 1).join('\n');
  }

  // The seeds are the bug zoo's finds (cli/bug-zoo.test.ts).
  it('tells a lost committed entry under raft-vote-ignores-log: votes for a less up-to-date log', () => {
    const text = storyOf(13, 'raft-vote-ignores-log');
    expect(text).toMatch(/\n\S+ at metadata offset \d+: raft-log-matching/);
    expect(text).toMatch(/appended +by c\d, leader of epoch \d+ since \d+ ms/);
    expect(text).toMatch(/committed +at \d+ ms: the quorum's high watermark passed offset \d+/);
    expect(text).toMatch(/c\d +truncated it at \d+ ms, following c\d in epoch \d+/);
    expect(text).toMatch(/permanent +at \d+ ms c\d became leader of epoch \d+ without it/);
    expect(text).toMatch(/votes for a log less up to date than the voter's own.*§5\.4\.1/);
    expect(text).toContain(
      'bug        a vote for a less up-to-date log is what --bug raft-vote-ignores-log switches back on',
    );
    expect(text).toMatch(/enabled by \d+ ms/);
    // The id is defined where it is first used.
    expect(text).toMatch(
      /\((c\d)-(\d+)-\d+: the \d+(st|nd|rd|th) record \1 appended since its process started, in epoch \2\)/,
    );
  }, 30_000);

  it('relates the high watermarks reported past the commit to the entry whose loss put them there', () => {
    const text = storyOf(13, 'raft-vote-ignores-log');
    const lost = /\n(\S+) at metadata offset (\d+): raft-log-matching/.exec(text);
    expect(lost).not.toBeNull();
    const [, id, offset] = lost as RegExpExecArray;
    // Past the entry, or gone back to it (an observer truncating a moment before the voters
    // whose truncation the checker counts as the loss).
    expect(text).toContain(
      `are high watermarks past offset ${offset} or gone back to it, where the committed ${id} was lost (told below)`,
    );
    expect(text).not.toMatch(/raft-hw-monotonic ×\d+ +no story is told/);
    // The reports say which offsets each side holds committed, in the summary's terms.
    const { report } = runSeed(13, ['raft-vote-ignores-log']);
    const past = report.violations.find(
      (each) => each.invariant === 'raft-hw-monotonic' && !each.message.includes(' went back '),
    );
    expect(past?.message).toMatch(
      /^\S+'s metadata high watermark (\d+) says offsets 0–\d+ are committed; the checker holds offsets 0–\d+ committed \(what a leader's high watermark committed and a majority of voters still holds\)$/,
    );
  }, 30_000);

  it('tells a lost committed entry under raft-commit-old-epoch: the commit of an older epoch', () => {
    const text = storyOf(10, 'raft-commit-old-epoch');
    expect(text).toMatch(/permanent +at \d+ ms c\d became leader of epoch \d+ without it/);
    expect(text).toMatch(
      /the votes were rightful \(§5\.4\.1\): c\d.s log \(last epoch \d+, end \d+\) was no more up to date than c\d.s \(last epoch \d+, end \d+\); the fault is the commit, by the leader of epoch \d+ counting replicas of an entry of epoch \d+.*§5\.4\.2/,
    );
    // §5.4.1 held (the votes); it is not blamed.
    expect(text).not.toContain('which Raft refuses (§5.4.1)');
    expect(text).toContain('is what --bug raft-commit-old-epoch switches back on');
    // The new leader had an entry there, its own: named, not "never had it" alone.
    expect(text).toMatch(
      /(c\d) +never had it: it appended its own leader-change:\1 at this offset on becoming leader of epoch \d+ at \d+ ms/,
    );
    // The high watermark that went back as a voter truncated the entry is tied to the story.
    expect(text).toMatch(
      /raft-hw-monotonic ×1 +it is a high watermark going back to offset \d+ or below as a node truncated the committed c\d-\d+-\d+ \(told below\)/,
    );
  }, 30_000);

  it('tells stale metadata under raft-no-check-quorum: a leader left behind that never resigned', () => {
    const text = storyOf(52, 'raft-no-check-quorum');
    expect(text).toMatch(/\nb\d(, b\d)* behind on the metadata: metadata-staleness-bounded/);
    expect(text).toMatch(
      /stale +c\d has led epoch \d+ since \d+ ms and never resigned, though c\d has led epoch \d+ since \d+ ms/,
    );
    expect(text).toContain('check-quorum, KAFKA-15489');
    expect(text).toContain('is what --bug raft-no-check-quorum switches back on');
    expect(text).toMatch(/\n {2}(enabled by| {10}) \d+ ms partition-one-way /);
  }, 30_000);

  it('tells stale metadata under raft-no-check-quorum, seed 52 shrunk: the leader never resigned', () => {
    // What `kafkasim shrink 52 --bug raft-no-check-quorum` keeps: the controller cut off, one way,
    // from the other voters, one broker, no topic. The broker fetches from the stale leader all
    // along and is noticed behind while it still leads.
    const generated = generateScenario(52, 'small');
    const scenario: Scenario = {
      ...generated,
      cluster: { ...generated.cluster, brokers: 1 },
      topics: [],
      producers: [],
      consumers: [],
      timeline: [
        {
          atMs: 10_327,
          kind: 'partition-one-way',
          sources: ['c1', 'c3', 'c2'],
          targets: ['@controller'],
          mode: 'silent',
        },
      ],
      faultPhaseMs: 23_366,
    };
    const { report, text } = explainRun(scenario, 52, ['raft-no-check-quorum']);
    expect(report.counts['metadata-staleness-bounded']).toBe(1);
    expect(text).toContain(
      'b1 behind on the metadata: metadata-staleness-bounded (noticed at 23366 ms)\n  stale      c3 has led epoch 1 since 1166 ms and never resigned, though c1 has led epoch 3 since 14299 ms',
    );
    expect(text).toContain('is what --bug raft-no-check-quorum switches back on');
  }, 30_000);

  it('tells stale metadata whose stale leader stepped down before the checker noticed', () => {
    // Hand-made: c3 led epoch 1, c1 took epoch 3 at 14299 ms, c3 learned of it at 22300 ms;
    // b1, behind since then, is noticed at 24000 ms.
    const at = (atMs: number, node: string, kind: string, fields: StoryEvent['fields']) =>
      ({ atMs, node, kind, fields }) as StoryEvent;
    const events = [
      at(1166, 'c3', 'raft.role', { role: 'leader', epoch: 1, epochStartOffset: 0 }),
      at(14299, 'c1', 'raft.role', { role: 'leader', epoch: 3, epochStartOffset: 22 }),
      at(22300, 'c3', 'raft.role', { role: 'follower', epoch: 3, leader: 'c1' }),
    ];
    const text = explainViolations({
      violations: [
        {
          invariant: 'metadata-staleness-bounded',
          atMs: 24_000,
          sinceMs: 14_775,
          nodes: ['b1', 'c1'],
          message: 'b1 has applied metadata up to offset 20 only',
        },
      ],
      events,
      history: [],
      bugs: ['raft-no-check-quorum'],
    }).join('\n');
    expect(text).toContain(
      'stale      c3 led epoch 1 from 1166 ms until 22300 ms, 8001 ms after c1 came to lead epoch 3 (14299 ms)',
    );
  });

  it('tells two leaders in one epoch under raft-vote-not-persisted: a vote lost in a power failure', () => {
    const text = storyOf(42, 'raft-vote-not-persisted');
    expect(text).toMatch(/\ntwo leaders in metadata epoch \d+: raft-election-safety/);
    expect(text.match(/c\d +became leader at \d+ ms, voted for by/g)).toHaveLength(2);
    expect(text).toMatch(
      /c\d +voted twice in epoch \d+: for c\d at \d+ ms, then, after a powerFailure crash at \d+ ms that lost what it had not flushed, for c\d at \d+ ms/,
    );
    expect(text).toContain('is what --bug raft-vote-not-persisted switches back on');
    // Why there were two candidates: both lost leader c2 (killed) at once and stood; each refused
    // the other, having voted for itself.
    expect(text).toContain(
      'c1         became leader at 9683 ms, voted for by c2 (9680 ms); a candidate since 9679 ms, after it lost leader c2 of epoch 1 at 9676 ms (no fetch answered within the fetch timeout); refused by c3 (this voter voted for c3 in the epoch)',
    );
    expect(text).toContain(
      'c3         became leader at 9685 ms, voted for by c2 (9682 ms); a candidate since 9680 ms, after it lost leader c2 of epoch 1 at 9676 ms',
    );
  }, 30_000);
});

describe('explainViolations tells one story of each invariant before a second of another', () => {
  it('seed 42 shrunk (raft-vote-not-persisted): the leaderless partition is told, a second entry is not', () => {
    const shrunk = splitBrainScenario();
    const { text } = explainRun(shrunk, 42, ['raft-vote-not-persisted']);
    expect(text).toMatch(/\n {2}leader-elected-after-heal ×1 +told below: b2\n/);
    expect(text).toMatch(
      /c1-2-3 at offset 26 \(3 violations\): not told \(at most 3 different stories are\)/,
    );
    expect(text).toMatch(/raft-election-safety ×1 +told below: two leaders in metadata epoch 2/);
  }, 30_000);
});

describe('explainViolations names metadata entries by their ids, not by offset and epoch', () => {
  const SEED = 42;
  const BUG: BugName = 'raft-vote-not-persisted';

  /** Per node and offset, the entry id its disk held from each moment on (`-`: none). */
  function diskHistory(offsets: readonly number[]): Map<string, { atMs: number; id: string }[]> {
    const { spec } = scenarioSpec(generateScenario(SEED, 'small'), {
      seed: SEED,
      bugs: [BUG],
      sets: {},
    });
    const changes = new Map<string, { atMs: number; id: string }[]>();
    runKafka({
      ...spec,
      sample: (cluster) => {
        for (const node of [...cluster.controllers, ...cluster.brokers]) {
          const host = cluster.world.node(node);
          const log = host.disk.has(RAFT_LOG_FILE) ? host.disk.log<RaftEntry>(RAFT_LOG_FILE) : null;
          for (const offset of offsets) {
            const id = log !== null && offset < log.length ? entryId(log.at(offset)) : '-';
            const key = `${node}@${offset}`;
            const seen = changes.get(key) ?? [];
            if (seen[seen.length - 1]?.id !== id) seen.push({ atMs: cluster.world.nowMs, id });
            changes.set(key, seen);
          }
        }
      },
    });
    return changes;
  }

  function heldAt(
    changes: ReadonlyMap<string, readonly { atMs: number; id: string }[]>,
    node: string,
    offset: number,
    atMs: number,
  ): string {
    return (
      (changes.get(`${node}@${offset}`) ?? []).findLast((change) => change.atMs <= atMs)?.id ?? '-'
    );
  }

  it('with two leaders in epoch 2 at seed 42, every holder line is what that node’s disk held', () => {
    const { report } = runSeed(SEED, [BUG]);
    const lines = explained(SEED, BUG, 10);
    const headers = lines.flatMap((line, index) => {
      const match =
        /^(\S+) at metadata offset (\d+): raft-log-matching \(noticed at (\d+) ms\)$/.exec(line);
      return match === null
        ? []
        : [{ index, id: match[1] as string, offset: Number(match[2]), atMs: Number(match[3]) }];
    });
    expect(headers.map((header) => header.id)).toEqual(['leader-change:c3', 'c1-2-3']);
    const changes = diskHistory(headers.map((header) => header.offset));
    let checked = 0;
    for (const header of headers) {
      const end = lines.indexOf('', header.index);
      const story = lines.slice(header.index, end === -1 ? lines.length : end);
      // Each line that says what a node holds agrees with its disk when the checker noticed.
      for (const line of story) {
        const holds = /^ {2}(\S+) +holds (it|\S+ there instead)/.exec(line);
        if (holds === null) continue;
        const node = holds[1] as string;
        const reportedAtMs = Number(/reported at (\d+) ms/.exec(line)?.[1] ?? header.atMs);
        const expected = holds[2] === 'it' ? header.id : (holds[2] as string).split(' ')[0];
        expect(heldAt(changes, node, header.offset, reportedAtMs), line).toBe(expected);
        checked++;
      }
      // No node is said to lack it on a guess, and the other leader of epoch 2 is named.
      expect(story.join('\n')).not.toMatch(/never had it/);
      expect(story.join('\n')).toMatch(/rival +c\d also led epoch 2/);
    }
    expect(checked).toBe(7);
    // And it agrees with the violation messages in the same output.
    for (const violation of report.violations.filter(
      (each) => each.invariant === 'raft-log-matching',
    )) {
      const [, node, held] = /^(\S+) holds (\S+) /.exec(violation.message) ?? [];
      expect(lines.join('\n')).toMatch(
        new RegExp(`\\n {2}${node} +holds ${held?.replace(/[-:]/g, '\\$&')} there instead`),
      );
    }
    expect(lines.join('\n')).toMatch(/committed +at \d+ ms: .*\(the leader then: c3 in epoch 2\)/);
    expect(lines.join('\n')).toContain(
      '(leader-change:c3: the entry a new leader appends first, naming itself)',
    );
  }, 60_000);
});

describe('explainViolations names the bug a story shows and its terms in words', () => {
  it('under truncate-to-hw at small seed 5: the truncation to the high watermark, and the switch', () => {
    const text = explained(5, 'truncate-to-hw').join('\n');
    expect(text).toContain(
      'cut back to its own high watermark on becoming a follower, without asking the leader (become-follower-hw)',
    );
    expect(text).toMatch(
      /\n {2}bug +this truncation \(b\d's, at \d+ ms\) is what --bug truncate-to-hw switches back on: a follower truncates to its own \(possibly stale\) high watermark .* \(KIP-101, KAFKA-1211\)/,
    );
    expect(text).not.toContain('reason become-follower-hw');
  }, 30_000);

  it('under no-elr at small seed 64: the election of the last ISR member after its crash', () => {
    const text = explained(64, 'no-elr').join('\n');
    expect(text).toMatch(
      /\n {2}bug +this election \(of b\d, the last ISR member, after its powerFailure crash at \d+ ms lost unflushed records\) is what --bug no-elr switches back on/,
    );
    expect(text).toContain("cut back to where its log diverges from the leader's");
  }, 30_000);

  it('a switch whose mechanism the story does not show is still named, once per story', () => {
    const { report, story } = runSeed(19, ['truncate-to-hw']);
    const text = explainViolations({
      violations: report.violations,
      events: story.events,
      history: report.history.entries,
      bugs: ['no-broker-epoch'],
    }).join('\n');
    expect(text.match(/\n {2}bug /g)).toHaveLength(
      text.match(/\n\S+ at orders-0 offset /g)?.length ?? -1,
    );
    expect(text).toMatch(
      /\n {2}bug +--bug no-broker-epoch was on \(.*\); this story does not show where it acted/,
    );
  }, 30_000);

  it('under isr-join-stale-hw at small seed 289: the ISR join of a replica short of the leader epoch start', () => {
    const text = explained(289, 'isr-join-stale-hw').join('\n');
    expect(text).toContain(
      'ISR join   at 24287 ms b1, leader in leader epoch 1 (since 23107 ms; the leader epoch starts at offset 323, its high watermark was 322 then), took b3 into its ISR (ISR [b1, b3] at 24319 ms) though b3',
    );
    expect(text).toMatch(/short of the leader epoch's start 323, and without offset 322\n/);
    expect(text).toContain(
      "bug        this ISR join (of b3, into b1's ISR at 24287 ms, before it reached the leader epoch's start 323) is what --bug isr-join-stale-hw switches back on",
    );
    expect(text).not.toContain('this story does not show where it acted');
  }, 30_000);

  it('under no-broker-epoch at small seed 370: the ISR join on a fetch of an earlier incarnation', () => {
    const text = explained(370, 'no-broker-epoch').join('\n');
    // b2 lost its log in a power failure; b3 took it back into its ISR on the fetch b2 made
    // before the crash, in its old broker epoch; b2 was elected with an empty log.
    expect(text).toContain(
      "ISR join   at 17619 ms b3, leader in leader epoch 0, took b2 into its ISR (ISR [b3, b2] at 17628 ms) on b2's last fetch, at 7965 ms in broker epoch 2 (log end 25): a fetch of its previous incarnation, before its powerFailure crash at 8006 ms, restarted at 8512 ms, registered again as broker epoch 41 at 15544 ms;",
    );
    expect(text).toContain(
      "bug        this ISR join (of b2, into b3's ISR at 17619 ms, on a fetch from before its powerFailure crash at 8006 ms) is what --bug no-broker-epoch switches back on",
    );
    // The faults shown are those before the election that made the loss permanent (26387 ms):
    // the step that killed the leader among them, with the moment it waited for.
    const story = text.slice(text.indexOf('p1-0 at orders-0'));
    const enabling = story.slice(story.indexOf('enabled by'), story.indexOf('shrink it'));
    expect(enabling).toContain(
      '17628 ms crash target=b3 crash=kill (the step waiting for @leader-of-behind-isr from 8000 ms)',
    );
    expect(enabling).toContain('8216 ms clog source=b2 target=b3');
    const shownMs = [...enabling.matchAll(/(\d+) ms /g)].map((match) => Number(match[1]));
    expect(Math.max(...shownMs)).toBeLessThanOrEqual(26387);
  }, 30_000);

  it('under hw-ignores-min-isr at small seed 13: the ISR of the commit, below min.insync.replicas', () => {
    const text = explained(13, 'hw-ignores-min-isr').join('\n');
    expect(text).toMatch(
      /committed +at 17027 ms: the first high watermark past offset 113, leader b2 with ISR \[b2\] \(1 of 3 replicas\): below min\.insync\.replicas \(the leader refused p1's acks=all write with NOT_ENOUGH_REPLICAS at \d+ ms, under that ISR\), yet the high watermark moved/,
    );
    // An acks=1 write waits for no ISR: its acknowledgement says so.
    expect(text).toMatch(
      /acked +at \d+ ms to p2 at offset 113, ISR then \[b2, b3, b1\] \(.*\), though acks=1 waited for none of it: the leader's append alone acknowledged it\n/,
    );
    expect(text).toContain(
      'bug        this commit (at 17027 ms, by b2 with the ISR [b2], below min.insync.replicas) is what --bug hw-ignores-min-isr switches back on',
    );
  }, 30_000);

  it('under epoch-lookup-kip101 at small seed 8: the truncation that kept a record the leader lacks, and why it stopped there', () => {
    const lines = explained(8, 'epoch-lookup-kip101');
    const storyOf = (value: string) => {
      const start = lines.findIndex((line) => line.startsWith(`${value} at orders-0 offset 96`));
      const end = lines.indexOf('', start);
      return lines.slice(start, end === -1 ? lines.length : end).join('\n');
    };
    const kept =
      'at 40208 ms, following leader b3 in leader epoch 2, it cut its log back only 171 → 101 (diverging-epoch), keeping offset 96, where b3 holds p1-72';
    const p172 = storyOf('p1-72');
    expect(p172).toContain('b2         holds p2-27 there instead');
    expect(p172).toContain(kept);
    const p227 = storyOf('p2-27');
    expect(p227).toContain(`b2         holds it: ${kept}\n`);
    expect(p227).toContain(
      "why 101: b2's records from offset 96 are of leader epoch 1, which b3 never had; asked where leader epoch 1 ends, b3 answered with the start of the next leader epoch it knows, its own leader epoch 2: offset 104",
    );
    expect(p227).toContain("a cut to 104 removes b2's whole batch 101–106, hence 101");
    // The leader holds another record there, as p1-72's report says.
    expect(p227).toMatch(
      /\n {2}b3 +holds p1-72 there instead \(the checker's report on p1-72, at \d+ ms\)/,
    );
    for (const story of [p172, p227]) {
      expect(story).toContain(
        "bug        this truncation that kept a record its leader does not have (b2's, at 40208 ms, following b3) is what --bug epoch-lookup-kip101",
      );
      // The faults that touched the story's replicas, first: the partitions that cut b2 off, b1's
      // crash (b2 elected in leader epoch 1 without b1's last records), b2's crash and restart
      // (b3 elected in leader epoch 2, the leader b2 truncated to).
      expect(story).toMatch(
        /enabled by 10506 ms partition groups=b2 \| b1 mode=silent\n +11008 ms crash target=b1 crash=kill\n +16056 ms partition groups=b2 \| b3 mode=silent\n +22028 ms crash target=b2 crash=kill\n +30038 ms restart target=b2\n/,
      );
    }
    // A record no producer was told of, in plain words.
    expect(p172).toContain(
      'acked      never: p1 got no OK for it (its send ended at 30528 ms: TIMEOUT, outcome unknown); still, it was committed, and a committed record must survive whatever its acks',
    );
  }, 30_000);
});

describe('explainViolations relates reports without a story of their own to the stories told', () => {
  it('the end of the run finding a told record’s offset still disagreeing (seed 8 shrunk, epoch-lookup-kip101)', () => {
    // `kafkasim shrink 8 --bug epoch-lookup-kip101`'s scenario: four steps, a 21 s fault phase.
    const scenario = {
      ...generateScenario(8, 'small'),
      timeline: [
        { atMs: 8000, kind: 'partition', groups: [['@replica-1'], ['@replica-0']], mode: 'silent' },
        { atMs: 8502, kind: 'crash', node: '@replica-0', crash: 'kill' },
        {
          atMs: 13550,
          kind: 'partition',
          groups: [['@replica-1'], ['@replica-2']],
          mode: 'silent',
        },
        { atMs: 19522, kind: 'bounce', node: '@replica-1', crash: 'kill', downMs: 8010 },
      ] as Scenario['timeline'],
      faultPhaseMs: 21_021,
    };
    const { report, text } = explainRun(scenario, 8, ['epoch-lookup-kip101']);
    // b2 kept p1-21 of leader epoch 1 at offset 28, where the committed p1-21 is of leader epoch
    // 0: its HW covering it is told; the end of the run's check finds it there again.
    const prefix = report.violations.filter((each) => each.invariant === 'committed-prefix-agrees');
    expect(prefix).toHaveLength(2);
    expect(prefix[1]?.message).toBe(
      'orders-0: below the HW b2 holds p1-21 (leader epoch 1) at offset 28, the leader b3 p1-21 (leader epoch 0)',
    );
    expect(text).toMatch(
      /committed-prefix-agrees ×2 +told below: p1-21\n +1 at the offset of p1-21 \(told below\): the end of the run found the replicas still disagreeing there/,
    );
    expect(text).toContain(
      'holds p1-21 of leader epoch 1, another copy (the committed one is of leader epoch 0) there instead',
    );
    expect(text).not.toContain('no story is told');
    // Cut further (one controller, one producer: what `shrink` keeps now), no truncation keeps
    // the record: the bug line names the two copies apart, by leader epoch and replica.
    const further = explainRun(
      {
        ...scenario,
        cluster: { controllers: 1, brokers: 3 },
        producers: [{ topic: 'orders', acks: 'all', idempotent: true, everyMs: 49 }],
        consumers: [],
      },
      8,
      ['epoch-lookup-kip101'],
    );
    expect(further.text).toContain(
      'bug        two records committed at one offset (p1-21 of leader epoch 0, committed first, and p1-21 of leader epoch 1 on b2) is what --bug epoch-lookup-kip101 switches back on',
    );
  }, 30_000);
});

describe('explainViolations blames the truncation that mattered', () => {
  it('under truncate-to-hw, the truncation of the replica whose election made the loss permanent', () => {
    const { text } = explainRun(
      scenarioByName('kip-101-epoch-truncation-keeps-acked-writes') as Scenario,
      1,
      ['truncate-to-hw'],
    );
    const permanent =
      /permanent +at \d+ ms (b\d) became leader in leader epoch \d+ without it/.exec(text);
    expect(permanent).not.toBeNull();
    const elected = (permanent as RegExpExecArray)[1] as string;
    // Other replicas truncated it later, at the heal: not the truncation that lost it.
    expect(text).toMatch(new RegExp(`\\n {2}${elected} +truncated it at (\\d+) ms`));
    expect(text).toMatch(
      new RegExp(
        `bug +this truncation \\(${elected}'s, at \\d+ ms\\) is what --bug truncate-to-hw`,
      ),
    );
  }, 30_000);
});

describe('explainViolations tells a record in time order', () => {
  it('an acks=1 write acknowledged before it was committed: acked, then committed', () => {
    const text = explained(32, 'truncate-to-hw').join('\n');
    const story =
      /produced +at \d+ ms by p\d with acks=1\n(?: +appended .*\n)?( +\S+ +at (\d+) ms.*)\n( +\S+ +at (\d+) ms.*)/.exec(
        text,
      );
    expect(story).not.toBeNull();
    const [, first, firstMs, second, secondMs] = story as RegExpExecArray;
    expect(first).toMatch(/^ +acked /);
    expect(second).toMatch(/^ +committed /);
    expect(Number(firstMs)).toBeLessThan(Number(secondMs));
  }, 30_000);
});

describe('explainViolations names the faults behind a story', () => {
  it('lists a small schedule whole: the controller bounce that mattered is not left out by name', () => {
    // What `kafkasim shrink 5 --bug truncate-to-hw` keeps: five steps, the controller's bounce
    // among them (without it the record survives), though no story names the controller.
    const scenario: Scenario = {
      ...generateScenario(5, 'small'),
      timeline: [
        { atMs: 9503, kind: 'bounce', node: '@replica-1', crash: 'kill', downMs: 6777 },
        { atMs: 10171, kind: 'bounce', node: '@replica-2', crash: 'powerFailure', downMs: 2756 },
        { atMs: 12330, kind: 'bounce', node: '@controller', crash: 'kill', downMs: 4969 },
        { atMs: 25054, kind: 'isolate', node: '@replica-0', mode: 'silent', healAfterMs: 9875 },
        { atMs: 25698, kind: 'bounce', node: '@replica-0', crash: 'powerFailure', downMs: 5521 },
      ],
      faultPhaseMs: 27_028,
    };
    const { report, text } = explainRun(scenario, 5, ['truncate-to-hw']);
    expect(report.counts['acked-write-durable']).toBeGreaterThan(0);
    const story = text.slice(text.indexOf('enabled by'));
    expect(story).toMatch(/^enabled by 9503 ms crash target=b\d crash=kill\n/);
    expect(story).toMatch(/\n +12330 ms crash target=c\d crash=kill\n/);
    expect(story).toMatch(/\n +17299 ms restart target=c\d\n/);
    expect(story).not.toContain('not shown');
  }, 30_000);

  it('says how many faults a long schedule has that the story does not show', () => {
    const text = explained(5, 'truncate-to-hw').join('\n');
    expect(text).toMatch(
      /\(\d+ other faults before it not shown: the timeline lists every one, and kafkasim shrink keeps only those the failure needs\)/,
    );
  }, 30_000);
});

describe('explainViolations tells apart two copies of one write (retried under another leader)', () => {
  it('kip-279 under epoch-lookup-kip101: the same value under another leader is another record, named by its epoch', () => {
    const story = new StoryEvents();
    const report = runScenario(
      scenarioByName('kip-279-fast-failovers-truncate-a-divergent-epoch') as Scenario,
      { seed: 1, bugs: ['epoch-lookup-kip101'], sets: {}, traceSink: story.sink },
    );
    // b3 kept p1-60 of leader epoch 1 (the bug's divergent epoch) at offset 121, where the
    // committed p1-60 is of leader epoch 0: another copy of the write, not the committed record.
    const copy = report.violations.find((each) => each.value === 'p1-60');
    expect(copy?.offset).toBe(121);
    expect(copy?.message).toContain(
      "b3's HW 430 covers p1-60 (leader epoch 1) at offset 121, where p1-60 (leader epoch 0) was committed",
    );
    expect(copy?.heldInstead).toEqual({
      node: 'b3',
      value: 'p1-60',
      highWatermark: 430,
      epoch: 1,
      committedEpoch: 0,
    });
    const text = explainViolations({
      violations: [copy as ViolationReport],
      events: story.events,
      history: report.history.entries,
      bugs: report.bugs,
    }).join('\n');
    expect(text).toContain(
      '  b3         holds p1-60 of leader epoch 1, another copy (the committed one is of leader epoch 0) there instead, below its high watermark 430',
    );
    // Its story's appender held it at that offset (the committed copy, of leader epoch 0).
    const appended = /\n {2}appended +at \d+ ms by leader (b\d) \(leader epoch 0\)/.exec(text);
    expect(Object.keys(copy?.holders ?? {})).toContain((appended as RegExpExecArray)[1]);
  }, 30_000);
});
