import { describe, expect, it } from 'vitest';
import { objectArray } from './arrays.ts';

describe('objectArray', () => {
  it('is a new empty array each time', () => {
    const array = objectArray<{ id: number }>();
    expect(array).toEqual([]);
    array.push({ id: 1 });
    expect(array).toEqual([{ id: 1 }]);
    expect(objectArray()).not.toBe(objectArray());
  });
});
