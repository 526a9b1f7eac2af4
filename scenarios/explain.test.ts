// The story of a lost record: for a known failing seed, the explanation names the lost value, its
// offset, the ISR that acknowledged it, how each replica that held it lost it, and a fault.

import { describe, expect, it } from 'vitest';
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

  it('names the crash and the election that lost it under no-elr at small seed 5', () => {
    const story = new StoryEvents();
    const report = runScenario(generateScenario(5, 'small'), {
      seed: 5,
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
