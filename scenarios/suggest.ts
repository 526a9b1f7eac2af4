// "Did you mean …?" for unknown names, shared by the scenario checks and the command line: the
// closest candidate by edit distance, if close enough.

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** Whether `short`'s letters appear in `long` in order, the first ones matching (--secs, --seconds). */
export function abbreviates(short: string, long: string): boolean {
  if (short[0] !== long[0]) return false;
  let at = 0;
  for (const letter of short) {
    at = long.indexOf(letter, at);
    if (at === -1) return false;
    at++;
  }
  return true;
}

/** The candidate closest to `name`, or undefined when none is within a third of its length (at least 2). */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  if (name === '') return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const typed = name.toLowerCase();
  for (const candidate of candidates) {
    const known = candidate.toLowerCase();
    // The same but for case, then one the name begins or ends early, then by edit distance.
    const distance =
      known === typed
        ? 0
        : known.startsWith(typed) || typed.startsWith(known)
          ? 1
          : editDistance(typed, known);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `unknown topic "x" (did you mean "y"?)`; without a close candidate, `otherwise` (if any) in parentheses. */
export function unknownName(
  what: string,
  name: string,
  candidates: readonly string[],
  otherwise?: string,
): string {
  const hint = closest(name, candidates);
  if (hint !== undefined) return `unknown ${what} "${name}" (did you mean "${hint}"?)`;
  return otherwise === undefined
    ? `unknown ${what} "${name}"`
    : `unknown ${what} "${name}" (${otherwise})`;
}
