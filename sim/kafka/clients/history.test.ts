import { describe, expect, it } from 'vitest';
import { Clock } from '../../kernel/time.ts';
import { History } from './history.ts';

function clock() {
  let nowMs = 0;
  return {
    now: () => nowMs,
    at(ms: number) {
      nowMs = ms;
    },
  };
}

describe('History', () => {
  it("writes DESIGN.md's JSON Lines shape: invoke, then ok with the offset", () => {
    const time = clock();
    const history = new History(time.now);
    time.at(1200);
    const send = history.invoke('producer-1', 'send', {
      acks: 'all',
      topic: 't',
      partition: 0,
      key: 'k1',
      value: 'p1-0',
    });
    time.at(1231);
    history.ok(send, { offset: 0 });
    expect(history.toJsonLines()).toBe(
      '{"index":0,"atMs":1200,"process":"producer-1","type":"invoke","f":"send","acks":"all","topic":"t","partition":0,"key":"k1","value":"p1-0"}\n' +
        '{"index":1,"atMs":1231,"process":"producer-1","type":"ok","f":"send","acks":"all","topic":"t","partition":0,"key":"k1","value":"p1-0","offset":0}\n',
    );
  });

  it('reads the time from a clock object, as from a function', () => {
    const clockObject = new Clock();
    const fromClock = new History(clockObject);
    const time = clock();
    const fromFunction = new History(time.now);
    for (const atMs of [0, 15, 15, 40]) {
      clockObject.advanceTo(atMs);
      time.at(atMs);
      for (const history of [fromClock, fromFunction]) {
        const send = history.invokeSend('p', '1', 't', 0, null, `v${atMs}`);
        history.okSend(send, 0, atMs);
        history.pollRead('c', 't', 0, [[atMs, null, `v${atMs}`]]);
      }
    }
    expect(fromClock.toJsonLines()).toBe(fromFunction.toJsonLines());
    expect(fromClock.entries.map((entry) => entry.atMs)).toEqual([
      0, 0, 0, 0, 15, 15, 15, 15, 15, 15, 15, 15, 40, 40, 40, 40,
    ]);
  });

  it('records fail only when no attempt could have written', () => {
    const history = new History(() => 0);
    const clean = history.invoke('p', 'send', {
      acks: 'all',
      topic: 't',
      partition: 0,
      value: 'a',
    });
    history.fail(clean, 'NOT_ENOUGH_REPLICAS');
    const timedOut = history.invoke('p', 'send', {
      acks: 'all',
      topic: 't',
      partition: 0,
      value: 'b',
    });
    history.markIndeterminate(timedOut, 'REQUEST_TIMED_OUT');
    // A later retry failed cleanly, but the first attempt may still have written.
    history.fail(timedOut, 'NOT_ENOUGH_REPLICAS');
    const completions = history.entries.filter((entry) => entry.type !== 'invoke');
    expect(completions.map((entry) => [entry.value, entry.type, entry.error])).toEqual([
      ['a', 'fail', 'NOT_ENOUGH_REPLICAS'],
      ['b', 'info', 'REQUEST_TIMED_OUT'],
    ]);
  });

  it('completes each operation exactly once and closes with final reads', () => {
    const history = new History(() => 5);
    const poll = history.invoke('consumer-1', 'poll', { topic: 't', partition: 0 });
    expect(history.openCount).toBe(1);
    history.ok(poll, { records: [[0, 'k1', 'p1-0']] });
    expect(history.openCount).toBe(0);
    expect(() => history.ok(poll)).toThrow(/operation 0 is not open/);
    history.finalRead('b2', 't', 0, [[0, 'k1', 'p1-0']]);
    expect(history.entries.at(-1)).toEqual({
      index: 2,
      atMs: 5,
      process: 'final-reader',
      type: 'ok',
      f: 'final-read',
      topic: 't',
      partition: 0,
      records: [[0, 'k1', 'p1-0']],
      replica: 'b2',
    });
  });

  it('a final read given as a function reads and serializes as the list, built once', () => {
    const eager = new History(() => 7);
    const lazy = new History(() => 7);
    const records = [
      [0, 'k1', 'v0'],
      [1, null, 'v1'],
    ] as const;
    let built = 0;
    eager.finalRead('b1', 't', 0, records);
    lazy.finalRead('b1', 't', 0, () => {
      built++;
      return records;
    });
    expect(built).toBe(0);
    expect(lazy.toJsonLines()).toBe(eager.toJsonLines());
    expect(lazy.entries[0]?.records).toEqual(records);
    expect(built).toBe(1);
  });

  it('lists the operations still open, oldest first, with what they were invoked with', () => {
    const history = new History(() => 0);
    const first = history.invoke('p', 'send', {
      acks: 'all',
      topic: 't',
      partition: 0,
      value: 'a',
    });
    history.invoke('p', 'send', { acks: '1', topic: 't', partition: 1, value: 'b' });
    history.invoke('c', 'poll', { topic: 't', partition: 0 });
    history.ok(first, { offset: 0 });
    expect(history.openOperations()).toEqual([
      { process: 'p', f: 'send', fields: { acks: '1', topic: 't', partition: 1, value: 'b' } },
      { process: 'c', f: 'poll', fields: { topic: 't', partition: 0 } },
    ]);
  });

  it('names its bound when a run records too much', () => {
    const history = new History(() => 0, 2);
    history.invoke('p', 'poll', { topic: 't', partition: 0 });
    history.invoke('p', 'poll', { topic: 't', partition: 0 });
    expect(() => history.invoke('p', 'poll', { topic: 't', partition: 0 })).toThrow(
      /entriesMax = 2/,
    );
  });
});
