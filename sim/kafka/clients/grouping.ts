// Requests grouped by destination, as Kafka's clients send them: one produce request or fetch
// per leader, in the order of its first partition.

/**
 * The items of `picked[first..count)` whose key is `keys[first]`, in order, as a new array sized
 * from the start (a request in flight keeps it); each item taken leaves its place null, so that
 * the caller's walk over `first` skips it. `picked` and `keys` are the caller's scratch lists,
 * kept between calls: grouping allocates only the groups.
 */
export function takeGroup<T, K>(
  picked: (T | null)[],
  keys: readonly K[],
  first: number,
  count: number,
): T[] {
  const key = keys[first] as K;
  let size = 0;
  for (let index = first; index < count; index++)
    if (picked[index] !== null && keys[index] === key) size++;
  const group = new Array<T>(size);
  let taken = 0;
  for (let index = first; index < count; index++) {
    const item = picked[index] as T | null;
    if (item === null || keys[index] !== key) continue;
    group[taken++] = item;
    picked[index] = null;
  }
  return group;
}
