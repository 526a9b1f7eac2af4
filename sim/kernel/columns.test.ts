import { describe, expect, it } from 'vitest';
import { grownColumn } from './columns.ts';

describe('grownColumn', () => {
  it('keeps a column with room, and otherwise copies it into one at least twice as long', () => {
    const column = Int32Array.of(1, 2, 3, 4);
    expect(grownColumn(column, 4)).toBe(column);
    const grown = grownColumn(column);
    expect(grown).toBeInstanceOf(Int32Array);
    expect([...grown]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(grownColumn(Float64Array.of(0.5), 5)).toEqual(Float64Array.of(0.5, 0, 0, 0, 0));
    expect([...grownColumn(Uint8Array.of(7, 8), 3, 255)]).toEqual([7, 8, 255, 255]);
  });
});
