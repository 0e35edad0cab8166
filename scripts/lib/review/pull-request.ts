// The review's comment on a pull request: one per project and stack set, found by its marker among the comments of
// the bot that writes it (markers in other users' comments are never trusted), edited in place, and read back by
// the deploy for the reviewed fingerprint.
import * as fs from "node:fs";

import { integerFlag } from "../flags";
import { GitHub, type IssueComment } from "./github";
import { isReviewOf, readFingerprints, reviewedStacks, type ReviewedChangeSet } from "./markers";

/** Who a workflow's GITHUB_TOKEN comments as. */
export const workflowBot = "github-actions[bot]";

/**
 * The login whose comments are the review's: DPS_REVIEW_COMMENT_AUTHOR when set, else the token's user (a personal
 * token), else the workflow bot (GITHUB_TOKEN has no user).
 */
export async function commentAuthor(github: GitHub, env: NodeJS.ProcessEnv): Promise<string> {
  return env.DPS_REVIEW_COMMENT_AUTHOR || (await github.authenticatedLogin()) || workflowBot;
}

/** The pull request number: `--pr`, else the workflow event's (GITHUB_EVENT_PATH). */
export function pullRequestNumber(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  if (flag !== undefined) return integerFlag("--pr", flag, 1, Number.MAX_SAFE_INTEGER);
  const number = eventPullRequest(env.GITHUB_EVENT_PATH);
  return number === undefined ? undefined : Number(number);
}

function eventPullRequest(file: string | undefined): string | undefined {
  if (!file || !fs.existsSync(file)) return undefined;
  const event = JSON.parse(fs.readFileSync(file, "utf8")) as {
    pull_request?: { number?: number };
    issue?: { number?: number; pull_request?: unknown };
    number?: number;
  };
  const number = event.pull_request?.number ?? (event.issue?.pull_request ? event.issue.number : undefined);
  return number === undefined ? undefined : String(number);
}

function ours(comments: readonly IssueComment[], author: string): IssueComment[] {
  return comments.filter((c) => c.user?.login === author);
}

export type UpsertAction = "created" | "updated" | "unchanged";

/**
 * Creates or edits the comment that starts with `marker`; writes nothing when its text is already `body`. Duplicates
 * (two runs that raced) are deleted, so exactly one remains.
 */
export async function upsertReviewComment(
  github: GitHub,
  pr: number,
  marker: string,
  body: string,
  author: string,
): Promise<{ action: UpsertAction; id: number; deleted: number[] }> {
  const mine = ours(await github.listIssueComments(pr), author).filter((c) => isReviewOf(c.body ?? "", marker));
  if (mine.length === 0) {
    const created = await github.createIssueComment(pr, body);
    return { action: "created", id: created.id, deleted: [] };
  }
  const [kept, ...duplicates] = mine;
  for (const duplicate of duplicates) await github.deleteIssueComment(duplicate.id);
  const deleted = duplicates.map((d) => d.id);
  if ((kept.body ?? "").replace(/\r\n/g, "\n") === body) return { action: "unchanged", id: kept.id, deleted };
  await github.updateIssueComment(kept.id, body);
  return { action: "updated", id: kept.id, deleted };
}

/** The pull request a pushed commit came from: the one merged as that commit, else the first listed. */
export async function pullRequestOfCommit(github: GitHub, sha: string): Promise<number | undefined> {
  const pulls = await github.pullRequestsOfCommit(sha);
  return (pulls.find((p) => p.merge_commit_sha === sha) ?? pulls.find((p) => p.merged_at) ?? pulls[0])?.number;
}

/**
 * The reviewed change set of a stack in the author's newest review comment that has one. A comment vouches only for
 * the stacks its own marker names: the bot also posts reports that a fork's run wrote (the `local` review), and a
 * fingerprint for `prod` forged into such a report must never count.
 */
export async function reviewedChangeSet(
  github: GitHub,
  pr: number,
  author: string,
  project: string,
  stack: string,
): Promise<ReviewedChangeSet | undefined> {
  const candidates = ours(await github.listIssueComments(pr), author).flatMap((comment) => {
    const body = comment.body ?? "";
    if (!reviewedStacks(body, project).includes(stack)) return [];
    const reviewed = readFingerprints(body, project).get(stack);
    return reviewed === undefined ? [] : [{ comment, reviewed }];
  });
  candidates.sort((a, b) =>
    (b.comment.updated_at ?? b.comment.created_at ?? "").localeCompare(
      a.comment.updated_at ?? a.comment.created_at ?? "",
    ),
  );
  return candidates[0]?.reviewed;
}
