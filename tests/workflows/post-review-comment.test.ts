// scripts/post-review-comment.ts as the review-comment workflow runs it: a process with a workflow_run event file
// and an artifact directory, against a local HTTP stand-in of the GitHub API (real HTTP).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { projectRoot } from "../../scripts/lib/pulumi-cli";
import type { WorkflowRun } from "../../scripts/lib/review-artifact";
import { startGitHubStandIn, type GitHubStandIn, type StandInPull } from "../support/github-stand-in";

const repository = "octo-org/dps-enrollments";
const marker = "<!-- dps-enrollments-review: dps-enrollments local -->";
const runUrl = "https://github.com/octo-org/dps-enrollments/actions/runs/42";
const headSha = "a".repeat(40);

let github: GitHubStandIn;
let scratch: string;

beforeEach(async () => {
  github = await startGitHubStandIn(repository);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "dps-post-review-"));
});

afterEach(async () => {
  await github.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function pull(number: number, owner = "octo-org", ref = "feature", sha = headSha): StandInPull {
  const p: StandInPull = {
    number,
    state: "open",
    head: { sha, ref, repo: { full_name: `${owner}/dps-enrollments`, owner: { login: owner } } },
    comments: [],
  };
  github.pulls.push(p);
  return p;
}

function workflowRun(overrides: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    id: 42,
    event: "pull_request",
    conclusion: "success",
    head_sha: headSha,
    head_branch: "feature",
    html_url: runUrl,
    head_repository: { full_name: "octo-org/dps-enrollments", owner: { login: "octo-org" } },
    ...overrides,
  };
}

function report(status: string): string {
  return `${marker}\n**local**: ${status}\n\n| stack | create |\n| --- | --- |\n| local | 1 |\n`;
}

/** Runs the script as the workflow does; resolves with its exit code and output. */
async function post(
  run: WorkflowRun,
  reportText: string | undefined,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const artifact = path.join(scratch, `artifact-${Date.now()}`);
  fs.mkdirSync(artifact);
  if (reportText !== undefined) fs.writeFileSync(path.join(artifact, "review.md"), reportText);
  const eventPath = path.join(scratch, "event.json");
  fs.writeFileSync(eventPath, JSON.stringify({ action: "completed", workflow_run: run }));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "scripts/post-review-comment.ts", "--artifact", artifact, "--marker", marker],
    {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        GITHUB_TOKEN: github.token,
        GITHUB_REPOSITORY: repository,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_API_URL: github.url,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stdout: stdout.trim(), stderr: stderr.trim() };
}

const writes = (): string[] =>
  github.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path.replace(/\?.*/, "")}`);

test("creates the comment, leaves it alone when the report is the same, edits it in place when it changes", async () => {
  const pr = pull(7);

  const first = await post(workflowRun(), report("1 change"));
  expect(first).toEqual({ code: 0, stdout: "created comment 1000 on pull request #7", stderr: "" });
  expect(pr.comments).toEqual([{ id: 1000, body: report("1 change"), user: { login: "github-actions[bot]" } }]);

  const again = await post(workflowRun(), report("1 change"));
  expect(again.stdout).toBe("unchanged comment 1000 on pull request #7");

  const changed = await post(workflowRun(), report("2 changes"));
  expect(changed.stdout).toBe("updated comment 1000 on pull request #7");
  expect(pr.comments.map((c) => c.body)).toEqual([report("2 changes")]);
  expect(writes()).toEqual([
    `POST /repos/${repository}/issues/7/comments`,
    `PATCH /repos/${repository}/issues/comments/1000`,
  ]);
  // The pull request is looked up by the run's head repository owner and branch, as GitHub reported them.
  expect(github.requests[0].path).toBe(`/repos/${repository}/pulls?state=open&head=octo-org%3Afeature&per_page=100`);
});

test("a fork's pull request is found by the fork owner's branch and head commit", async () => {
  pull(3, "octo-org", "feature", "b".repeat(40));
  const forkPr = pull(9, "someone", "feature");
  const run = workflowRun({ head_repository: { full_name: "someone/dps-enrollments", owner: { login: "someone" } } });

  const result = await post(run, report("1 change"));

  expect(result.stdout).toBe("created comment 1000 on pull request #9");
  expect(forkPr.comments.map((c) => c.body)).toEqual([report("1 change")]);
});

test("its own comment is found on the second page of 150 comments and edited, not duplicated", async () => {
  const pr = pull(7);
  for (let i = 0; i < 120; i++) github.addComment(pr, `comment ${i}`, "reviewer");
  const own = github.addComment(pr, report("old"));
  for (let i = 0; i < 29; i++) github.addComment(pr, `later ${i}`, "reviewer");

  const result = await post(workflowRun(), report("new"));

  expect(result.stdout).toBe(`updated comment ${own.id} on pull request #7`);
  expect(pr.comments).toHaveLength(150);
  expect(pr.comments.filter((c) => c.body.includes(marker)).map((c) => c.body)).toEqual([report("new")]);
  expect(github.requests.map((r) => r.path)).toContain(`/repos/${repository}/issues/7/comments?per_page=100&page=2`);
});

test("someone else's comment quoting the marker is never taken for its own", async () => {
  const pr = pull(7);
  github.addComment(pr, `quoting ${marker}`, "reviewer");

  const result = await post(workflowRun(), report("1 change"));

  expect(result.stdout).toBe("created comment 1001 on pull request #7");
  expect(pr.comments.map((c) => [c.user.login, c.body])).toEqual([
    ["reviewer", `quoting ${marker}`],
    ["github-actions[bot]", report("1 change")],
  ]);
});

test("a run without a report replaces the last report with a notice: a stale 'no changes' never survives", async () => {
  const pr = pull(7);
  github.addComment(pr, report("no changes"));

  const result = await post(workflowRun({ conclusion: "failure" }), undefined);

  expect(result.stdout).toBe(
    "updated comment 1000 on pull request #7 (a notice instead of the report: The review run wrote no report)",
  );
  expect(pr.comments.map((c) => c.body)).toEqual([
    `${marker}\n**Review of dps-enrollments local: no preview to show.** The review run wrote no report ` +
      `(run conclusion: failure). See [the workflow run](${runUrl}).\n`,
  ]);
});

test("a report with another review's marker, without its own, or too long is replaced by a notice", async () => {
  const pr = pull(7);
  const foreign = "<!-- dps-enrollments-review: dps-enrollments dev prod -->";
  const cases: [string, string][] = [
    [`${report("1 change")}${foreign}\n`, "The report carries the marker of another review"],
    ["**local**: no changes\n", "The report does not carry this review's marker"],
    [`${marker}\n${"x".repeat(65_600)}`, "The report has 65655 characters, more than GitHub's limit of 65536"],
  ];
  for (const [text, problem] of cases) {
    const result = await post(workflowRun(), text);
    expect(result.stdout).toMatch(new RegExp(`comment 1000 on pull request #7 \\(a notice instead of the report: `));
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0].body).toBe(
      `${marker}\n**Review of dps-enrollments local: no preview to show.** ${problem} ` +
        `(run conclusion: success). See [the workflow run](${runUrl}).\n`,
    );
    expect(pr.comments[0].body).not.toContain(foreign);
  }
});

test("nothing is posted for a run whose commit is no longer the pull request's head, nor for a push run", async () => {
  pull(7, "octo-org", "feature", "c".repeat(40));

  const superseded = await post(workflowRun(), report("1 change"));
  const push = await post(workflowRun({ event: "push" }), report("1 change"));

  expect(superseded).toEqual({
    code: 0,
    stdout: `nothing posted: no open pull request has head ${headSha} from octo-org/dps-enrollments (superseded or closed)`,
    stderr: "",
  });
  expect(push.stdout).toBe("nothing posted: the run was triggered by push, not by a pull request");
  expect(writes()).toEqual([]);
});

test("an API refusal fails the job with the call and GitHub's message", async () => {
  pull(7);
  const token = github.token;
  github.token = "expired";
  const result = await post(workflowRun(), report("1 change"));
  github.token = token;

  expect(result.code).toBe(1);
  expect(result.stderr).toBe(
    `post-review-comment: GitHub API GET /repos/${repository}/pulls?state=open&head=octo-org%3Afeature&per_page=100 ` +
      "answered 401: Bad credentials",
  );
});
