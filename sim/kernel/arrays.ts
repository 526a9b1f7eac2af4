// Arrays of objects (or strings) built afresh in every run, in fields of objects made once per run
// (a client, a broker's replica manager, a checker).

/** An empty array of V8's "any value" elements kind, copied by objectArray. */
const EMPTY_ANY: unknown[] = [undefined];
EMPTY_ANY.pop();

/**
 * An empty array already of V8's "any value" elements kind. An empty literal `[]` starts as an
 * array of small integers and changes kind at its first object; V8 learns to allocate the literal
 * in the final kind only where its function has feedback, which a constructor called a few times
 * a run never gets. The optimised code of a run's hot functions then knows only the final kind,
 * and the next run's fresh arrays deoptimised it twice per site (`wrong map`, then `not a Smi` at
 * the first push), each time recompiling the function. A copy, not a literal here: a literal's
 * allocation site learns from every array it made, and one array given a hole would make every
 * later one holey (another kind again).
 */
export function objectArray<T>(): T[] {
  return EMPTY_ANY.slice() as T[];
}

/**
 * Removes the element at `index` (within bounds), moving the later ones down by one: a splice
 * would also make an array of what it removes, on paths that run every few events.
 */
export function removeAt<T>(array: T[], index: number): void {
  for (let next = index + 1; next < array.length; next++) array[next - 1] = array[next] as T;
  array.length--;
}
