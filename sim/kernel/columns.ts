// Columns of numbers kept for a whole run (a log file's per-record sizes, the history's entries,
// the data checker's ledger) live in typed arrays: their backing stores sit off the JS heap, so
// the young-generation collector never copies them, where an object per row it copies twice.

export type Column = Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

/**
 * `column` with room for at least `length` entries: the same column if it has room, else a copy
 * at least twice as long, its new entries `fill`.
 */
export function grownColumn<C extends Column>(column: C, length = column.length + 1, fill = 0): C {
  if (length <= column.length) return column;
  const grown = new (column.constructor as new (length: number) => C)(
    Math.max(length, column.length * 2),
  );
  grown.set(column);
  if (fill !== 0) grown.fill(fill, column.length);
  return grown;
}
