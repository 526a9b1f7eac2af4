import { describe, expect, it } from 'vitest';
import { takeGroup } from './grouping.ts';

describe('takeGroup', () => {
  it('groups by key in the order of each key first appearing, items in order, each taken once', () => {
    const picked: (string | null)[] = ['a1', 'b1', 'a2', 'c1', 'b2', 'a3', 'stale'];
    const keys = ['a', 'b', 'a', 'c', 'b', 'a', 'a'];
    const count = 6; // 'stale' lies past the pass's count: never taken
    const groups: string[][] = [];
    for (let first = 0; first < count; first++) {
      if (picked[first] === null) continue;
      groups.push(takeGroup(picked, keys, first, count));
    }
    expect(groups).toEqual([['a1', 'a2', 'a3'], ['b1', 'b2'], ['c1']]);
    expect(picked).toEqual([null, null, null, null, null, null, 'stale']);
  });
});
