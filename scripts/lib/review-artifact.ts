// Posting a review report that an untrusted run produced (a pull request from a fork previews with a read-only token
// and uploads its report as an artifact; a `workflow_run` job with a write token posts it). Everything from the
// artifact is data: the pull request comes from GitHub's own event and API, never from the artifact, and a report
// that is missing, too large or carries a marker other than the expected one is replaced by a notice, so a stale
// comment never survives a review that did not finish.
import type { GitHubRest } from "./github-rest";
import { GitHub } from "./review/github";
import { upsertReviewComment, workflowBot } from "./review/pull-request";

/** GitHub refuses comment bodies longer than this. */
export const gitHubCommentLimit = 65_536;

/** The hidden marker the review command puts in its report: `<!-- dps-enrollments-review: <project> <stacks> -->`. */
const markerPattern = /<!-- dps-enrollments-review: [^<>]*? -->/g;

/** The fields of the `workflow_run` event payload this uses (set by GitHub, not by the run's code). */
export interface WorkflowRun {
  id: number;
  event: string;
  conclusion: string | null;
  head_sha: string;
  head_branch: string | null;
  html_url: string;
  head_repository: { full_name: string; owner: { login: string } } | null;
}

export interface PullRequest {
  number: number;
  state: string;
  head: { sha: string; repo: { full_name: string } | null };
}

export function isReviewMarker(text: string): boolean {
  return new RegExp(`^${markerPattern.source}$`).test(text);
}

/** Why a report cannot be posted as it is, or undefined when it can. */
export function reportProblem(report: string | undefined, marker: string): string | undefined {
  if (report === undefined) return "The review run wrote no report";
  if (report.length > gitHubCommentLimit) {
    return `The report has ${report.length} characters, more than GitHub's limit of ${gitHubCommentLimit}`;
  }
  const markers: string[] = report.match(markerPattern) ?? [];
  if (!markers.includes(marker)) return "The report does not carry this review's marker";
  if (markers.some((m) => m !== marker)) return "The report carries the marker of another review";
  return undefined;
}

/** The comment posted instead of a report that cannot be: it keeps the marker, so it replaces the last report. */
export function noticeBody(marker: string, problem: string, run: WorkflowRun): string {
  const subject = marker.replace(/^<!-- dps-enrollments-review: /, "").replace(/ -->$/, "");
  return (
    `${marker}\n` +
    `**Review of ${subject}: no preview to show.** ${problem} (run conclusion: ${run.conclusion ?? "unknown"}). ` +
    `See [the workflow run](${run.html_url}).\n`
  );
}

/**
 * The open pull request whose head is the run's commit, from the run's repository. None when the pull request
 * has moved on to a newer commit (that commit's own run posts) or was closed.
 */
export function pullRequestOfRun(pulls: PullRequest[], run: WorkflowRun): number | undefined {
  const matching = pulls.filter(
    (p) =>
      p.state === "open" && p.head.sha === run.head_sha && p.head.repo?.full_name === run.head_repository?.full_name,
  );
  if (matching.length > 1) {
    throw new Error(
      `pull requests ${matching.map((p) => `#${p.number}`).join(", ")} all have head ${run.head_sha}: ` +
        "cannot tell which one the run reviewed",
    );
  }
  return matching[0]?.number;
}

export type PostOutcome =
  | { action: "created" | "updated" | "unchanged"; pullRequest: number; commentId: number; notice?: string }
  | { action: "skipped"; reason: string };

export interface PostRequest {
  api: GitHubRest;
  /** owner/name of the repository the workflow runs in. */
  repository: string;
  run: WorkflowRun;
  marker: string;
  /** The report from the artifact, undefined when there was none. */
  report: string | undefined;
  /** The login the workflow's token comments as. */
  bot?: string;
}

/** Creates, edits in place or leaves alone the review's comment on the pull request the run previewed. */
export async function postReviewComment(request: PostRequest): Promise<PostOutcome> {
  const { api, repository, run, marker, report, bot = workflowBot } = request;
  if (!isReviewMarker(marker)) throw new Error(`--marker ${JSON.stringify(marker)} is not a review marker`);
  if (run.event !== "pull_request") {
    return { action: "skipped", reason: `the run was triggered by ${run.event}, not by a pull request` };
  }
  if (!run.head_repository || !run.head_branch) {
    return { action: "skipped", reason: "the run has no head repository or branch (deleted fork?)" };
  }
  const head = encodeURIComponent(`${run.head_repository.owner.login}:${run.head_branch}`);
  const pulls = await api.list<PullRequest>(`/repos/${repository}/pulls?state=open&head=${head}&per_page=100`);
  const pullRequest = pullRequestOfRun(pulls, run);
  if (pullRequest === undefined) {
    return {
      action: "skipped",
      reason: `no open pull request has head ${run.head_sha} from ${run.head_repository.full_name} (superseded or closed)`,
    };
  }

  const problem = reportProblem(report, marker);
  const body = problem === undefined && report !== undefined ? report : noticeBody(marker, problem ?? "", run);
  // The same upsert as the review command's own comments: the bot's comment that starts with the marker.
  const { action, id } = await upsertReviewComment(new GitHub(api, repository), pullRequest, marker, body, bot);
  return { action, pullRequest, commentId: id, notice: problem };
}
