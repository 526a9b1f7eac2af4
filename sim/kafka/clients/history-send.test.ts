import { describe, expect, it } from 'vitest';
import { History, type HistoryEntry } from './history.ts';

/** Every field of an entry, as a reader sees it (a send's entries leave out those it has not). */
function fields(entry: HistoryEntry): Record<string, unknown> {
  return {
    index: entry.index,
    atMs: entry.atMs,
    process: entry.process,
    type: entry.type,
    f: entry.f,
    acks: entry.acks,
    topic: entry.topic,
    partition: entry.partition,
    key: entry.key,
    value: entry.value,
    offset: entry.offset,
    error: entry.error,
    records: entry.records,
    replica: entry.replica,
  };
}

describe('History.invokeSend, okSend and pollRead', () => {
  it('record exactly what invoke and ok record for a send', () => {
    const generic = new History(() => 5);
    const fast = new History(() => 5);
    const first = generic.invoke('p', 'send', {
      acks: 'all',
      topic: 't',
      partition: -1,
      key: 'k',
      value: 'a',
    });
    const second = generic.invoke('p', 'send', {
      acks: '0',
      topic: 't',
      partition: 1,
      key: null,
      value: 'b',
    });
    generic.ok(second, { partition: 1 });
    generic.ok(first, { partition: 2, offset: 7 });
    const firstFast = fast.invokeSend('p', 'all', 't', -1, 'k', 'a');
    const secondFast = fast.invokeSend('p', '0', 't', 1, null, 'b');
    fast.okSend(secondFast, 1, undefined);
    fast.okSend(firstFast, 2, 7);
    expect([firstFast, secondFast]).toEqual([first, second]);
    expect(fast.toJsonLines()).toBe(generic.toJsonLines());
    expect(fast.entries.map(fields)).toStrictEqual(generic.entries.map(fields));
    expect(fast.openCount).toBe(0);
  });

  it('records the same sends whether or not their sources were added first (addSource)', () => {
    const plain = new History(() => 3);
    const added = new History(() => 3);
    added.addSource('p2', 'all', 't2');
    added.addSource('p1', '1', 't1');
    added.addSource('p2', 'all', 't2');
    for (const history of [plain, added]) {
      const a = history.invokeSend('p1', '1', 't1', 0, 'k', 'a');
      const b = history.invokeSend('p2', 'all', 't2', 1, null, 'b');
      const c = history.invokeSend('p1', '1', 't1', 2, null, 'c');
      history.okSend(b, 1, 7);
      history.okSend(a, 0, undefined);
      history.okSend(c, 2, 8);
    }
    expect(added.entries.map(fields)).toEqual(plain.entries.map(fields));
    expect(added.toJsonLines()).toBe(plain.toJsonLines());
  });

  it('pollRead records exactly what invoke and ok record for a poll, ids numbered alike', () => {
    const generic = new History(() => 9);
    const fast = new History(() => 9);
    const records = [
      [3, 'k', 'a'],
      [4, null, 'b'],
    ] as const;
    generic.ok(generic.invoke('c', 'poll', { topic: 't', partition: 2 }), { records });
    fast.pollRead('c', 't', 2, records);
    expect(fast.toJsonLines()).toBe(generic.toJsonLines());
    expect(fast.entries.map(fields)).toStrictEqual(generic.entries.map(fields));
    expect(fast.openCount).toBe(0);
    expect(fast.invokeSend('p', 'all', 't', 0, null, 'x')).toBe(
      generic.invokeSend('p', 'all', 't', 0, null, 'x'),
    );
  });

  it("reads a poll's records one by one as recordsAt and `entries` list them", () => {
    const history = new History(() => 4);
    history.ok(history.invoke('c', 'poll', { topic: 't', partition: 0 }), {
      records: [[0, 'k', 'a']],
    });
    history.pollRead('c', 't', 1, [
      [5, null, 'b'],
      [6, 'k', null],
    ]);
    history.addPollRecord(7, 'j', 'c');
    expect(history.pollReadAdded('c', 't', 1)).toBe(5);
    history.pollRead('c', 't', 2, []);
    const byAccessors = Array.from({ length: history.length }, (_, index) => {
      const count = history.recordCountAt(index);
      if (count === undefined) return undefined;
      return Array.from({ length: count }, (_, position) => [
        history.recordOffsetAt(index, position),
        history.recordKeyAt(index, position),
        history.recordValueAt(index, position),
      ]);
    });
    const recordsAt = Array.from({ length: history.length }, (_, index) =>
      history.recordsAt(index),
    );
    expect(byAccessors).toEqual([
      undefined,
      [[0, 'k', 'a']],
      undefined,
      [
        [5, null, 'b'],
        [6, 'k', null],
      ],
      undefined,
      [[7, 'j', 'c']],
      undefined,
      [],
    ]);
    expect(recordsAt).toEqual(byAccessors);
    expect(history.entries.map((entry) => entry.records)).toEqual(byAccessors);
    // Once the entries are built, recordsAt gives their own lists.
    expect(history.recordsAt(3)).toBe(history.entries[3]?.records);
  });

  it('keeps thousands of sends and polled records (past its chunks and columns) as given', () => {
    const generic = new History(() => 1);
    const fast = new History(() => 1);
    const count = 2_500;
    for (let index = 0; index < count; index++) {
      const key = index % 3 === 0 ? null : `k${index}`;
      const value = `v${index}`;
      const id = generic.invoke('p', 'send', { acks: 'all', topic: 't', partition: 0, key, value });
      expect(fast.invokeSend('p', 'all', 't', 0, key, value)).toBe(id);
      if (index % 2 === 0) {
        generic.ok(id, { partition: 0, offset: index });
        fast.okSend(id, 0, index);
      }
      const record = { offset: index, key, value } as const;
      generic.ok(generic.invoke('c', 'poll', { topic: 't', partition: 0 }), {
        records: [[record.offset, record.key, record.value]],
      });
      fast.addPolledRecord(record);
      fast.pollReadAdded('c', 't', 0);
    }
    expect(fast.openCount).toBe(count / 2);
    expect(fast.valueAt(fast.length - 3)).toBe(`v${count - 1}`);
    expect(fast.recordValueAt(fast.length - 1, 0)).toBe(`v${count - 1}`);
    expect(fast.toJsonLines()).toBe(generic.toJsonLines());
    expect(() => fast.okSend(count * 2, 0, 0)).toThrow(/not open/);
    expect(() => fast.okSend(-1, 0, 0)).toThrow(/not open/);
    expect(() => fast.okSend(0.5, 0, 0)).toThrow(/not open/);
  });

  it('counts entries by f and type as `entries` lists them', () => {
    const history = new History(() => 2);
    const sent = history.invokeSend('p', 'all', 't', 0, null, 'a');
    history.okSend(sent, 0, 3);
    history.fail(history.invokeSend('p', 'all', 't', 1, 'k', 'b'), 'TIMEOUT');
    history.ok(history.invoke('p', 'send', { acks: '1', topic: 't', partition: 2, value: 'c' }), {
      offset: 0,
    });
    history.invoke('p', 'send', { acks: '1', topic: 't', partition: 2, value: 'd' });
    history.pollRead('c', 't', 0, [[3, null, 'a']]);
    history.ok(history.invoke('c', 'poll', { topic: 't', partition: 1 }), { records: [] });
    history.finalRead('b1', 't', 0, [[3, null, 'a']]);
    for (const f of ['send', 'poll', 'final-read'] as const)
      for (const type of ['invoke', 'ok', 'fail', 'info'] as const)
        expect(history.countOf(f, type), `${f} ${type}`).toBe(
          history.entries.filter((entry) => entry.f === f && entry.type === type).length,
        );
  });

  it('refuses to complete a send twice', () => {
    const history = new History(() => 0);
    const id = history.invokeSend('p', 'all', 't', 0, null, 'a');
    history.okSend(id, 0, 0);
    expect(() => history.okSend(id, 0, 0)).toThrow(/not open/);
  });
});
