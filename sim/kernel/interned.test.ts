import { describe, expect, it } from 'vitest';
import { interned } from './interned.ts';

describe('interned', () => {
  it('gives back the same characters, whatever the string looks like as a property key', () => {
    for (const value of [
      'b1',
      `b${1 + 1}`,
      '',
      '0',
      '42',
      '-1',
      '1e3',
      '__proto__',
      'constructor',
      't0-17',
    ]) {
      expect(interned(value)).toBe(value);
    }
  });
});
