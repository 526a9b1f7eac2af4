// The story of a lost record: for a known failing seed, the explanation names the lost value, its
// offset, the ISR that acknowledged it, how each replica that held it lost it, and a fault.

import { describe, expect, it } from 'vitest';
import type { BugName } from '../sim/kafka/bugs.ts';
import { explainViolations, StoryEvents } from './explain.ts';
import { generateScenario } from './generate.ts';
import { runScenario } from './run.ts';

describe('explainViolations', () => {
  it('tells how truncate-to-hw lost an acked write at small seed 19', () => {
    const story = new StoryEvents();
    const report = runScenario(generateScenario(19, 'small'), {
      seed: 19,
      bugs: ['truncate-to-hw'],
      sets: {},
      traceSink: story.sink,
    });
    const violation = report.violations.find((each) => each.invariant === 'acked-write-durable');
    expect(violation?.value).toBeDefined();
    const lines = explainViolations({
      violations: report.violations,
      events: story.events,
      history: report.history.entries,
    });
    const text = lines.join('\n');
    expect(lines[0]).toContain(`${violation?.value} at orders-0 offset ${violation?.offset}`);
    expect(text).toMatch(/produced +at \d+ ms by p1 with acks=all/);
    expect(text).toMatch(/acked +at \d+ ms to p1 at offset \d+, ISR then \[b\d(, b\d)*\]/);
    expect(text).toMatch(/committed +at \d+ ms/);
    for (const holder of violation?.nodes ?? []) {
      expect(text).toMatch(new RegExp(`\\n  ${holder} +(truncated it|lost it in a)`));
    }
    expect(text).toContain('reason become-follower-hw');
    expect(text).toMatch(/enabled by \d+ ms (crash|partition|bounce|isolate|pause)/);
    expect(story.dropped).toBe(0);
  }, 30_000);

  it('names the crash and the election that lost it under no-elr at small seed 64', () => {
    const story = new StoryEvents();
    const report = runScenario(generateScenario(64, 'small'), {
      seed: 64,
      bugs: ['no-elr'],
      sets: {},
      traceSink: story.sink,
    });
    const text = explainViolations({
      violations: report.violations,
      events: story.events,
      history: report.history.entries,
      storiesMax: 1,
    }).join('\n');
    expect(text).toMatch(/lost it in a powerFailure crash/);
    expect(text).toMatch(/permanent +at \d+ ms b\d became leader of epoch \d+ without it/);
    expect(text).toMatch(/more lost record/);
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

describe('explainViolations for the metadata quorum', () => {
  function storyOf(seed: number, bug: BugName): string {
    const story = new StoryEvents();
    const report = runScenario(generateScenario(seed, 'small'), {
      seed,
      bugs: [bug],
      sets: {},
      traceSink: story.sink,
    });
    return explainViolations({
      violations: report.violations,
      events: story.events,
      history: report.history.entries,
      storiesMax: 1,
    }).join('\n');
  }

  // The seeds are the bug zoo's finds (cli/bug-zoo.test.ts).
  it('tells a lost committed entry under raft-vote-ignores-log: votes for a less up-to-date log', () => {
    const text = storyOf(13, 'raft-vote-ignores-log');
    expect(text).toMatch(/^\S+ at metadata offset \d+: raft-log-matching/);
    expect(text).toMatch(/appended +by c\d, leader of epoch \d+ since \d+ ms/);
    expect(text).toMatch(/committed +at \d+ ms: the quorum's high watermark passed offset \d+/);
    expect(text).toMatch(/c\d +truncated it at \d+ ms, following c\d in epoch \d+/);
    expect(text).toMatch(/permanent +at \d+ ms c\d became leader of epoch \d+ without it/);
    expect(text).toMatch(/votes for a log less up to date than the voter's own.*§5\.4\.1/);
    expect(text).toMatch(/enabled by \d+ ms/);
  }, 30_000);

  it('tells a lost committed entry under raft-commit-old-epoch: the commit of an older epoch', () => {
    const text = storyOf(10, 'raft-commit-old-epoch');
    expect(text).toMatch(/permanent +at \d+ ms c\d became leader of epoch \d+ without it/);
    expect(text).toMatch(/rightful votes.*counting replicas of an entry of epoch \d+.*§5\.4\.2/);
    expect(text).not.toContain('§5.4.1');
  }, 30_000);

  it('tells stale metadata under raft-no-check-quorum: a leader left behind that never resigned', () => {
    const text = storyOf(52, 'raft-no-check-quorum');
    expect(text).toMatch(/^b\d behind on the metadata: metadata-staleness-bounded/);
    expect(text).toMatch(
      /stale +c\d has led epoch \d+ since \d+ ms and never resigned, though c\d leads epoch \d+ since \d+ ms/,
    );
    expect(text).toContain('check-quorum, KAFKA-15489');
    expect(text).toMatch(/enabled by \d+ ms partition/);
  }, 30_000);

  it('tells two leaders in one epoch under raft-vote-not-persisted: a vote lost in a power failure', () => {
    const text = storyOf(42, 'raft-vote-not-persisted');
    expect(text).toMatch(/^two leaders in metadata epoch \d+: raft-election-safety/);
    expect(text.match(/c\d +became leader at \d+ ms, voted for by/g)).toHaveLength(2);
    expect(text).toMatch(
      /c\d +voted twice in epoch \d+: for c\d at \d+ ms, then, after a powerFailure crash at \d+ ms that lost what it had not flushed, for c\d at \d+ ms/,
    );
  }, 30_000);
});
