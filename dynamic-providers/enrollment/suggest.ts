// "Did you mean": the closest of the names a place allows, for misspelt keys and enum values in the wrong case.

/** Levenshtein distance, case-insensitive: `Hashed` is one step from nothing but `hashed`. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length];
}

/**
 * The candidate `value` most likely meant: the same word in another case, or one within a third of its length in
 * edits (at least 1, at most 3). Undefined when nothing is that close.
 */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(value.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(value, candidate);
    if (d <= limit && (!best || d < best.distance)) best = { candidate, distance: d };
  }
  return best?.candidate;
}

/** `; did you mean 'x'?` for messages, or nothing. */
export function didYouMean(value: string, candidates: readonly string[]): string {
  const match = closest(value, candidates);
  return match === undefined ? "" : `; did you mean '${match}'?`;
}
