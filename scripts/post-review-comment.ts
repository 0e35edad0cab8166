// Posts the review report of a pull request's run (from its artifact) as the pull request's comment. Run by the
// `workflow_run` job of .github/workflows/review-comment.yml, with the default branch's code and a write token;
// it reads the artifact as text and never runs anything from it.
//
//   tsx scripts/post-review-comment.ts --artifact DIR --marker '<!-- dps-enrollments-review: dps-enrollments local -->'
//
// Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH (a workflow_run event), GITHUB_API_URL.
import * as fs from "node:fs";
import * as path from "node:path";

import { gitHubRest } from "./lib/github-rest";
import { postReviewComment, type WorkflowRun } from "./lib/review-artifact";

/** The file the review job writes with `npm run review -- --comment-file` (the comment-sized text). */
const reportFileName = "review.md";

function flags(argv: string[]): { artifact: string; marker: string } {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if ((flag !== "--artifact" && flag !== "--marker") || value === undefined) {
      throw new Error(`unknown flag or missing value: ${flag} (use --artifact DIR --marker MARKER)`);
    }
    values[flag.slice(2)] = value;
  }
  if (!values.artifact || !values.marker) throw new Error("give --artifact DIR and --marker MARKER");
  return { artifact: values.artifact, marker: values.marker };
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const { artifact, marker } = flags(process.argv.slice(2));
  const event = JSON.parse(fs.readFileSync(env("GITHUB_EVENT_PATH"), "utf8")) as { workflow_run?: WorkflowRun };
  if (!event.workflow_run) throw new Error("GITHUB_EVENT_PATH holds no workflow_run event");
  const reportPath = path.join(artifact, reportFileName);
  // A run that failed before the review leaves no artifact: the comment then says so instead.
  const report = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, "utf8") : undefined;
  const outcome = await postReviewComment({
    api: gitHubRest(env("GITHUB_TOKEN"), process.env.GITHUB_API_URL),
    repository: env("GITHUB_REPOSITORY"),
    run: event.workflow_run,
    marker,
    report,
  });
  if (outcome.action === "skipped") {
    console.log(`nothing posted: ${outcome.reason}`);
    return;
  }
  const notice = outcome.notice ? ` (a notice instead of the report: ${outcome.notice})` : "";
  console.log(`${outcome.action} comment ${outcome.commentId} on pull request #${outcome.pullRequest}${notice}`);
}

main().catch((err: unknown) => {
  console.error(`post-review-comment: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
