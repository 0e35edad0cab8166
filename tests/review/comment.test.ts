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
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in";

const project = "dps-enrollments";
const repository = "octo-org/dps-enrollments";
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
  standIn = await startGitHubStandIn(repository, {
    perPage: 2,
    tokens: { "personal-token": { login: "release-manager", installation: false } },
  });
  github = GitHub.connect({ token: standIn.token, repository, apiUrl: standIn.url });
  standIn.pull(7);
});

/** The comments of pull request 7 as [id, login, body]. */
const comments = (): [number, string, string][] => standIn.pull(7).comments.map((c) => [c.id, c.user.login, c.body]);
const writes = (): string[] => standIn.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);

afterEach(() => standIn.close());

test("creates the comment, edits it in place, and writes nothing when the text is unchanged", async () => {
  const first = body(review("local", "no-changes"));
  expect(await upsertReviewComment(github, 7, marker("local"), first, workflowBot)).toEqual({
    action: "created",
    id: 1000,
    deleted: [],
  });
  expect(comments()).toEqual([[1000, workflowBot, first]]);

  const second = body(review("local", "failed", ["no stack named 'local' found"]));
  expect(await upsertReviewComment(github, 7, marker("local"), second, workflowBot)).toEqual({
    action: "updated",
    id: 1000,
    deleted: [],
  });
  expect(comments()).toEqual([[1000, workflowBot, second]]);

  standIn.requests.length = 0;
  expect(await upsertReviewComment(github, 7, marker("local"), second, workflowBot)).toEqual({
    action: "unchanged",
    id: 1000,
    deleted: [],
  });
  expect(standIn.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    `GET /repos/${repository}/issues/7/comments?per_page=100`,
  ]);
});

test("a failed preview replaces a stale 'no changes' comment", async () => {
  const noChanges = body(review("dev", "no-changes"), review("prod", "no-changes"));
  await upsertReviewComment(github, 7, marker("dev", "prod"), noChanges, workflowBot);
  const failed = body(review("dev", "no-changes"), review("prod", "failed", ["passphrase must be set"]));
  expect((await upsertReviewComment(github, 7, marker("dev", "prod"), failed, workflowBot)).action).toBe("updated");
  const [[, , text]] = comments();
  expect(text).toContain("<!-- dps-enrollments-fingerprint: dps-enrollments prod failed -->");
  expect(text).toContain("<code>prod</code>: ❌ preview failed");
  expect(text).not.toContain("<code>prod</code>: ✅ no changes");
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBe("failed");
});

test("finds its comment through every page of comments (Link header)", async () => {
  const pr = standIn.pull(7);
  for (let i = 0; i < 5; i++) standIn.addComment(pr, `looks good ${i}`, `reviewer-${i}`);
  const mine = standIn.addComment(pr, body(review("local", "no-changes")));
  standIn.addComment(pr, "one more", "reviewer-9");
  standIn.requests.length = 0;
  const updated = body(review("local", "failed", ["boom"]));
  expect(await upsertReviewComment(github, 7, marker("local"), updated, workflowBot)).toEqual({
    action: "updated",
    id: mine.id,
    deleted: [],
  });
  expect(standIn.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    `GET /repos/${repository}/issues/7/comments?per_page=100`,
    `GET /repos/${repository}/issues/7/comments?per_page=100&page=2`,
    `GET /repos/${repository}/issues/7/comments?per_page=100&page=3`,
    `GET /repos/${repository}/issues/7/comments?per_page=100&page=4`,
    `PATCH /repos/${repository}/issues/comments/${mine.id}`,
  ]);
  expect(comments()).toHaveLength(7);
});

test("two stack sets on one pull request keep two comments", async () => {
  const local = body(review("local", "no-changes"));
  const azure = body(review("dev", "no-changes"), review("prod", "no-changes"));
  await upsertReviewComment(github, 7, marker("local"), local, workflowBot);
  await upsertReviewComment(github, 7, marker("prod", "dev"), azure, workflowBot);
  const azureFailed = body(review("dev", "failed", ["x"]), review("prod", "no-changes"));
  await upsertReviewComment(github, 7, marker("dev", "prod"), azureFailed, workflowBot);
  expect(comments().map(([, , text]) => text)).toEqual([local, azureFailed]);
  expect(writes()).toEqual([
    `POST /repos/${repository}/issues/7/comments`,
    `POST /repos/${repository}/issues/7/comments`,
    `PATCH /repos/${repository}/issues/comments/1001`,
  ]);
});

test("another user's comment with the marker is neither edited nor trusted", async () => {
  const forged = `${marker("prod")}\n<!-- dps-enrollments-fingerprint: dps-enrollments prod sha256:${"0".repeat(64)} -->\n`;
  const theirs = standIn.addComment(standIn.pull(7), forged, "mallory");
  const mine = body(review("prod", "failed", ["x"]));
  expect((await upsertReviewComment(github, 7, marker("prod"), mine, workflowBot)).action).toBe("created");
  expect(comments()).toEqual([
    [theirs.id, "mallory", forged],
    [theirs.id + 1, workflowBot, mine],
  ]);
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBe("failed");
  standIn.pull(7).comments.pop();
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBeUndefined();
});

test("a comment vouches only for the stacks its marker names (a fork's local report cannot vouch for prod)", async () => {
  const fingerprint = `sha256:${"1".repeat(64)}`;
  // What a fork's run could write into the `local` report that the bot then posts.
  const report = `${marker("local")}\n<!-- dps-enrollments-fingerprint: dps-enrollments prod ${fingerprint} -->\n`;
  standIn.addComment(standIn.pull(7), report);
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toBeUndefined();
  standIn.addComment(
    standIn.pull(7),
    `${marker("dev", "prod")}\n<!-- dps-enrollments-fingerprint: dps-enrollments prod ${fingerprint} -->\n`,
  );
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toEqual({ fingerprint });
});

test("the newest of its comments that review a stack is the one that counts", async () => {
  const older = `sha256:${"1".repeat(64)}`;
  const newer = `sha256:${"2".repeat(64)}`;
  const fingerprintLine = (f: string) => `<!-- dps-enrollments-fingerprint: dps-enrollments prod ${f} -->`;
  const first = standIn.addComment(standIn.pull(7), `${marker("prod")}\n${fingerprintLine(older)}\n`);
  standIn.addComment(standIn.pull(7), `${marker("dev", "prod")}\n${fingerprintLine(newer)}\n`);
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toEqual({ fingerprint: newer });
  await github.updateIssueComment(first.id, `${marker("prod")}\n${fingerprintLine(older)}\n\nedited`);
  expect(await reviewedChangeSet(github, 7, workflowBot, project, "prod")).toEqual({ fingerprint: older });
});

test("duplicates of its own comment (two runs that raced) are deleted", async () => {
  const old = standIn.addComment(standIn.pull(7), body(review("local", "no-changes")));
  const duplicate = standIn.addComment(standIn.pull(7), body(review("local", "no-changes")));
  const next = body(review("local", "failed", ["x"]));
  expect(await upsertReviewComment(github, 7, marker("local"), next, workflowBot)).toEqual({
    action: "updated",
    id: old.id,
    deleted: [duplicate.id],
  });
  expect(comments()).toEqual([[old.id, workflowBot, next]]);
});

test("the author: the override, else the token's user, else the workflow bot", async () => {
  expect(await commentAuthor(github, {})).toBe(workflowBot);
  const personal = GitHub.connect({ token: "personal-token", repository, apiUrl: standIn.url });
  expect(await commentAuthor(personal, {})).toBe("release-manager");
  expect(await commentAuthor(personal, { DPS_REVIEW_COMMENT_AUTHOR: "ci-bot[bot]" })).toBe("ci-bot[bot]");
});

test("API errors name the call and GitHub's message", async () => {
  const bad = GitHub.connect({ token: "wrong", repository, apiUrl: standIn.url });
  await expect(bad.listIssueComments(7)).rejects.toThrow(
    `GitHub API GET /repos/${repository}/issues/7/comments?per_page=100 answered 401: Bad credentials`,
  );
  const theirs = standIn.addComment(standIn.pull(7), "hi", "mallory");
  await expect(github.deleteIssueComment(theirs.id)).rejects.toThrow(
    `GitHub API DELETE /repos/${repository}/issues/comments/${theirs.id} answered 403: Resource not accessible by integration`,
  );
  expect(() => GitHub.connect({ token: "t", repository: "no-slash" })).toThrow(
    "GITHUB_REPOSITORY 'no-slash' is not owner/name",
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
    const client = GitHub.connect({ token: "t", repository: "o/r", apiUrl: `http://127.0.0.1:${port}` });
    await expect(client.listIssueComments(1)).rejects.toThrow(
      `GitHub API /repos/o/r/issues/1/comments?per_page=100: refusing a next page outside http://127.0.0.1:${port}: http://127.0.0.2:9/steal?page=2`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
