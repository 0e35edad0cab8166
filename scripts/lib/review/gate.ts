// The deploy's decision: apply a stack's change set only when a review of exactly that change set exists.
import type { ReviewedChangeSet } from "./markers";

export type GateDecision = { allowed: true; reason: string } | { allowed: false; reason: string };

export function gateDecision(input: {
  stack: string;
  pr: number;
  author: string;
  current: string;
  reviewed: ReviewedChangeSet | undefined;
}): GateDecision {
  const { stack, pr, author, current, reviewed } = input;
  const refused = (why: string): GateDecision => ({
    allowed: false,
    reason: `deploy of stack '${stack}' refused: ${why}`,
  });
  if (reviewed === undefined) {
    return refused(
      `pull request #${pr} has no review of stack '${stack}' by ${author} (npm run review -- --stack ${stack} --comment)`,
    );
  }
  if (reviewed === "failed") {
    return refused(`the review of stack '${stack}' on pull request #${pr} is of a failed preview`);
  }
  if (reviewed.fingerprint !== current) {
    return refused(
      `the change set differs from the one reviewed on pull request #${pr} (reviewed ${reviewed.fingerprint}, now ${current}); review the change again`,
    );
  }
  return { allowed: true, reason: `stack '${stack}': the change set is the one reviewed on pull request #${pr}` };
}
