import { describe, expect, it } from 'vitest';
import { objectArray, removeAt } from './arrays.ts';

describe('objectArray', () => {
  it('is a new empty array each time', () => {
    const array = objectArray<{ id: number }>();
    expect(array).toEqual([]);
    array.push({ id: 1 });
    expect(array).toEqual([{ id: 1 }]);
    expect(objectArray()).not.toBe(objectArray());
  });
});

describe('removeAt', () => {
  it('removes the element at an index and keeps the others in order', () => {
    const array = ['a', 'b', 'c', 'd'];
    removeAt(array, 1);
    expect(array).toEqual(['a', 'c', 'd']);
    removeAt(array, 2);
    expect(array).toEqual(['a', 'c']);
    removeAt(array, 0);
    expect(array).toEqual(['c']);
    removeAt(array, 0);
    expect(array).toEqual([]);
  });
});
