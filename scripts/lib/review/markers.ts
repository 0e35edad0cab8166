// The hidden markers of a review comment: one that names the project and the stack set (the comment's identity, so
// each stack set keeps its own comment), and one per stack with the reviewed change set's fingerprint, or `failed`.
const reviewPrefix = "dps-enrollments-review:";
const fingerprintPrefix = "dps-enrollments-fingerprint:";

/** The stack set as the marker spells it: sorted, without repeats, so flag order never makes a second comment. */
export function stackSet(stacks: readonly string[]): string[] {
  return [...new Set(stacks)].sort();
}

export function reviewMarker(project: string, stacks: readonly string[]): string {
  return `<!-- ${reviewPrefix} ${project} ${stackSet(stacks).join(" ")} -->`;
}

/** `failed` when the preview failed or a mandatory policy was violated: nothing of that stack may be deployed. */
export type ReviewedChangeSet = { fingerprint: string } | "failed";

export function fingerprintMarker(project: string, stack: string, reviewed: ReviewedChangeSet): string {
  return `<!-- ${fingerprintPrefix} ${project} ${stack} ${reviewed === "failed" ? "failed" : reviewed.fingerprint} -->`;
}

/** Whether a comment is the review of this project and stack set: its first line is the marker. */
export function isReviewOf(body: string, marker: string): boolean {
  return body.split("\n", 1)[0] === marker;
}

/** The stacks a comment reviews, from its first line's marker; none when it has no marker of this project. */
export function reviewedStacks(body: string, project: string): string[] {
  const match = /^<!-- dps-enrollments-review: (\S+) ([^<>]+?) -->$/.exec(body.split("\n", 1)[0]);
  return match && match[1] === project ? match[2].split(" ") : [];
}

/** The fingerprint markers of a comment for one project, by stack. */
export function readFingerprints(body: string, project: string): Map<string, ReviewedChangeSet> {
  const found = new Map<string, ReviewedChangeSet>();
  const pattern = /^<!-- dps-enrollments-fingerprint: (\S+) (\S+) (failed|sha256:[0-9a-f]{64}) -->$/gm;
  for (const match of body.matchAll(pattern)) {
    if (match[1] !== project) continue;
    found.set(match[2], match[3] === "failed" ? "failed" : { fingerprint: match[3] });
  }
  return found;
}
