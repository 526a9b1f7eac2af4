// Ids that the simulation compares on every message (node ids, topic ids), made cheap to compare.

/**
 * `value` as V8's internalized copy (the one property keys use): comparing two internalized
 * strings is a pointer comparison, where two strings built at run time (`b${i}`) that differ are
 * compared by a call that walks their characters. Node and topic ids are compared on every message.
 */
export function interned(value: string): string {
  return Object.keys({ [value]: 0 })[0] as string;
}
