// The review comment against a local stand-in of the GitHub REST API (real HTTP): created once, edited in place,
// left alone when unchanged, found past the first page, one per stack set, a failed preview replacing a "no changes"
// comment, and markers in other users' comments never trusted.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import { GitHub } from "../../scripts/lib/review/github";
import { reviewMarker } from "../../scripts/lib/review/markers";
import type { StackReview } from "../../scripts/lib/review/model";
import {
  commentAuthor,
  reviewedChangeSet,
  upsertReviewComment,
  workflowBot,
} from "../../scripts/lib/review/pull-request";
import { renderWithin } from "../../scripts/lib/review/render";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-api";

const project = "dps-enrollments";
let standIn: GitHubStandIn;
let github: GitHub;

const review = (stack: string, status: StackReview["status"], errors: string[] = []): StackReview => ({
  project,
  stack,
  status,
  counts: { create: 0, update: 0, replace: 0, delete: 0, unchanged: 3 },
  changes: [],
  policies: [],
  policyPacks: [],
  errors,
  warnings: [],
});

const body = (...reviews: StackReview[]): string => renderWithin(reviews, { project });
const marker = (...stacks: string[]): string => reviewMarker(project, stacks);

beforeEach(async () => {
  standIn = await startGitHubStandIn({
    perPage: 2,
    tokens: {
      "workflow-token": { login: workflowBot, installation: true },
      "personal-token": { login: "release-manager", installation: false },
    },
  });
  github = new GitHub({ token: "workflow-token", repository: standIn.repository, apiUrl: standIn.url });
});

afterEach(() => standIn.close());

test("creates the comment, edits it in place, and writes nothing when the text is unchanged", async () => {
  const first = body(review("local", "no-changes"));
  expect(await upsertReviewComment(github, 7, marker("local"), first, workflowBot)).toEqual({
    action: "created",
    id: 1000,
    deleted: [],
  });
  expect(standIn.comments).toEqual([expect.objectContaining({ id: 1000, issue: 7, login: workflowBot, body: first })]);

  const second = body(review("local", "failed", ["no stack named 'local' found"]));
  expect(await upsertReviewComment(github, 7, marker("local"), second, workflowBot)).toEqual({
    action: "updated",
    id: 1000,
    deleted: [],
  });
  expect(standIn.comments.map((c) => [c.id, c.body])).toEqual([[1000, second]]);

  standIn.requests.length = 0;
  expect(await upsertReviewComment(github, 7, marker("local"), second, workflowBot)).toEqual({
    action: "unchanged",
    id: 1000,
    deleted: [],
  });
  expect(standIn.requests).toEqual([
    { method: "GET", path: "/repos/octo-org/dps-enrollments/issues/7/comments?per_page=100", login: workflowBot },
  ]);
});

test("a failed preview replaces a stale 'no changes' comment", async () => {
  await upsertReviewComment(
    github,
    7,
    marker("dev", "prod"),
    body(review("dev", "no-changes"), review("prod", "no-changes")),
    workflowBot,
  );
  const failed = body(review("dev", "no-changes"), review("prod", "failed", ["passphrase must be set"]));
  expect((await upsertReviewComment(github, 7, marker("dev", "prod"), failed, workflowBot)).action).toBe("updated");
  const [comment] = standIn.comments;
  expect(comment.body).toContain("<!-- dps-enrollments-fingerprint: dps-enrollments prod failed -->");
  expect(comment.body).toContain("<code>prod</code>: ❌ preview failed");
  expect(comment.body).not.toContain("<code>prod</code>: ✅ no changes");
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBe("failed");
});

test("finds its comment through every page of comments (Link header)", async () => {
  for (let i = 0; i < 5; i++) standIn.addComment(7, `reviewer-${i}`, `looks good ${i}`);
  const mine = standIn.addComment(7, workflowBot, body(review("local", "no-changes")));
  standIn.addComment(7, "reviewer-9", "one more");
  standIn.requests.length = 0;
  const updated = body(review("local", "failed", ["boom"]));
  expect(await upsertReviewComment(github, 7, marker("local"), updated, workflowBot)).toEqual({
    action: "updated",
    id: mine.id,
    deleted: [],
  });
  expect(standIn.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    "GET /repos/octo-org/dps-enrollments/issues/7/comments?per_page=100",
    "GET /repos/octo-org/dps-enrollments/issues/7/comments?per_page=2&page=2",
    "GET /repos/octo-org/dps-enrollments/issues/7/comments?per_page=2&page=3",
    "GET /repos/octo-org/dps-enrollments/issues/7/comments?per_page=2&page=4",
    `PATCH /repos/octo-org/dps-enrollments/issues/comments/${mine.id}`,
  ]);
  expect(standIn.comments).toHaveLength(7);
});

test("two stack sets on one pull request keep two comments", async () => {
  const local = body(review("local", "no-changes"));
  const azure = body(review("dev", "no-changes"), review("prod", "no-changes"));
  await upsertReviewComment(github, 7, marker("local"), local, workflowBot);
  await upsertReviewComment(github, 7, marker("prod", "dev"), azure, workflowBot);
  const azureFailed = body(review("dev", "failed", ["x"]), review("prod", "no-changes"));
  await upsertReviewComment(github, 7, marker("dev", "prod"), azureFailed, workflowBot);
  expect(standIn.comments.map((c) => c.body)).toEqual([local, azureFailed]);
  expect(standIn.writes().map((w) => w.method)).toEqual(["POST", "POST", "PATCH"]);
});

test("another user's comment with the marker is neither edited nor trusted", async () => {
  const forged = `${marker("prod")}\n<!-- dps-enrollments-fingerprint: dps-enrollments prod sha256:${"0".repeat(64)} -->\n`;
  standIn.addComment(7, "mallory", forged);
  const mine = body(review("prod", "failed", ["x"]));
  expect((await upsertReviewComment(github, 7, marker("prod"), mine, workflowBot)).action).toBe("created");
  expect(standIn.comments.map((c) => [c.login, c.body])).toEqual([
    ["mallory", forged],
    [workflowBot, mine],
  ]);
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBe("failed");
  standIn.comments.pop();
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBeUndefined();
});

test("duplicates of its own comment (two runs that raced) are deleted", async () => {
  const old = standIn.addComment(7, workflowBot, body(review("local", "no-changes")));
  const duplicate = standIn.addComment(7, workflowBot, body(review("local", "no-changes")));
  const next = body(review("local", "failed", ["x"]));
  expect(await upsertReviewComment(github, 7, marker("local"), next, workflowBot)).toEqual({
    action: "updated",
    id: old.id,
    deleted: [duplicate.id],
  });
  expect(standIn.comments.map((c) => [c.id, c.body])).toEqual([[old.id, next]]);
});

test("the author: the override, else the token's user, else the workflow bot", async () => {
  expect(await commentAuthor(github, {})).toBe(workflowBot);
  const personal = new GitHub({ token: "personal-token", repository: standIn.repository, apiUrl: standIn.url });
  expect(await commentAuthor(personal, {})).toBe("release-manager");
  expect(await commentAuthor(personal, { DPS_REVIEW_COMMENT_AUTHOR: "ci-bot[bot]" })).toBe("ci-bot[bot]");
});

test("API errors name the call and GitHub's message", async () => {
  const bad = new GitHub({ token: "wrong", repository: standIn.repository, apiUrl: standIn.url });
  await expect(bad.listIssueComments(7)).rejects.toThrow(
    "GitHub API GET /repos/octo-org/dps-enrollments/issues/7/comments?per_page=100: 401 Bad credentials",
  );
  const mallory = standIn.addComment(7, "mallory", "hi");
  await expect(github.updateIssueComment(mallory.id, "x")).rejects.toThrow(
    `GitHub API PATCH /repos/octo-org/dps-enrollments/issues/comments/${mallory.id}: 403 Must have admin rights to Repository.`,
  );
});

test("the token never follows a Link header to another origin", async () => {
  const server = http.createServer((_, res) => {
    res.writeHead(200, { "content-type": "application/json", link: '<http://127.0.0.2:9/steal?page=2>; rel="next"' });
    res.end("[]");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const client = new GitHub({ token: "t", repository: "o/r", apiUrl: `http://127.0.0.1:${port}` });
    await expect(client.listIssueComments(1)).rejects.toThrow(
      "refusing to send the GitHub token to http://127.0.0.2:9",
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
