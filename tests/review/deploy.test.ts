// The deploy gate with real previews and a real `up`: the pinned CLI on a scratch project against an emulator, the
// review comment and the commit's pull request in a local stand-in of the GitHub API.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { deployCommand, reviewCommand } from "../../scripts/lib/review/commands";
import { reviewMarker } from "../../scripts/lib/review/markers";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in";
import { startReviewProject, type ReviewProject } from "../support/review-project";

const sha = "9f2c4e1d0b8a7c6e5f4d3c2b1a0f9e8d7c6b5a49";
const repository = "octo-org/dps-enrollments";

const manifest = (devicetype: string, withSensor: boolean): string => `individualEnrollments:
  - registrationId: gate-device-01
    attestation: { symmetricKey: {} }
    initialTwin: { tags: {}, properties: { desired: { devicetype: ${devicetype} } } }
${withSensor ? "  - registrationId: gate-sensor-01\n    attestation: { symmetricKey: {} }\n" : ""}`;

let fixture: ReviewProject;
let github: GitHubStandIn;
let outputFile: string;

function githubEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    GITHUB_TOKEN: github.token,
    GITHUB_REPOSITORY: repository,
    GITHUB_API_URL: github.url,
    GITHUB_OUTPUT: outputFile,
    ...extra,
  };
}

async function deploy(args: string[], extra: NodeJS.ProcessEnv = {}) {
  fs.writeFileSync(outputFile, "");
  const io = fixture.io(githubEnv(extra));
  const code = await deployCommand(args, io);
  const outputs = Object.fromEntries(
    fs
      .readFileSync(outputFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("=", 2) as [string, string]),
  );
  return { code, stdout: io.output.join(""), outputs };
}

beforeAll(async () => {
  fixture = await startReviewProject("deploy-gate");
  github = await startGitHubStandIn(repository);
  for (const pr of [5, 6]) github.pull(pr);
  outputFile = path.join(fixture.manifestDir, "github-output");
  const stack = await fixture.stack("prod", fixture.writeManifest("current", manifest("waterflow", true)));
  expect((await stack.up()).summary.resourceChanges).toEqual({ create: 4 });
  // The pull request: a twin change and a delete, reviewed with a comment.
  fixture.writeManifest("current", manifest("waterflow-v2", false));
  const io = fixture.io(githubEnv());
  expect(await reviewCommand(["--stack", "prod", "--comment", "--pr", "5"], io)).toBe(0);
  github.commitPulls.set(sha, [{ number: 5, merge_commit_sha: sha, merged_at: "2026-01-02T00:00:00Z" }]);
});

afterAll(async () => {
  await github?.close();
  await fixture?.dispose();
});

function reviewedFingerprint(): string {
  const comment = github.pull(5).comments.find((c) => c.body.startsWith(reviewMarker("dps-enrollments", ["prod"])));
  return /dps-enrollments-fingerprint: dps-enrollments prod (sha256:[0-9a-f]{64})/.exec(comment!.body)![1];
}

test("the reviewed change set passes the check, found through the pushed commit's pull request", async () => {
  // A marker in another user's newer comment is ignored.
  github.addComment(
    github.pull(5),
    `${reviewMarker("dps-enrollments", ["prod"])}\n<!-- dps-enrollments-fingerprint: dps-enrollments prod sha256:${"0".repeat(64)} -->\n`,
    "mallory",
  );
  const result = await deploy(["--stack", "prod", "--check-only"], { GITHUB_SHA: sha });
  expect(result).toEqual({
    code: 0,
    stdout: "stack 'prod': the change set is the one reviewed on pull request #5\n",
    outputs: { fingerprint: reviewedFingerprint(), destructive: "true", changes: "2" },
  });
});

test("another change set is refused, naming both fingerprints; nothing is applied", async () => {
  fixture.writeManifest("current", manifest("waterflow-v3", false));
  try {
    const result = await deploy(["--stack", "prod"], { GITHUB_SHA: sha });
    expect(result.code).toBe(1);
    expect(result.outputs.changes).toBe("2");
    expect(result.stdout).toBe(
      `deploy of stack 'prod' refused: the change set differs from the one reviewed on pull request #5 (reviewed ${reviewedFingerprint()}, now ${result.outputs.fingerprint}); review the change again\n`,
    );
    expect(result.outputs.fingerprint).not.toBe(reviewedFingerprint());
    const live = await fixture.emulator.client().getIndividualEnrollment("gate-device-01");
    expect(live.responseBody.initialTwin?.properties?.desired).toEqual({ devicetype: "waterflow" });
  } finally {
    fixture.writeManifest("current", manifest("waterflow-v2", false));
  }
});

test("a pull request without a review, or a commit without a pull request, is refused", async () => {
  expect((await deploy(["--stack", "prod", "--pr", "6"])).stdout).toBe(
    "deploy of stack 'prod' refused: pull request #6 has no review of stack 'prod' by github-actions[bot] (npm run review -- --stack prod --comment)\n",
  );
  const orphan = await deploy(["--stack", "prod"], { GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567" });
  expect(orphan).toMatchObject({
    code: 1,
    stdout:
      "deploy of stack 'prod' refused: commit 0123456789abcdef0123456789abcdef01234567 belongs to no pull request in octo-org/dps-enrollments, so no review of its changes exists\n",
  });
});

test("a review of a failed preview is refused", async () => {
  github.addComment(
    github.pull(8),
    `${reviewMarker("dps-enrollments", ["prod"])}\n<!-- dps-enrollments-fingerprint: dps-enrollments prod failed -->\n`,
  );
  expect(await deploy(["--stack", "prod", "--pr", "8"])).toMatchObject({
    code: 1,
    stdout: "deploy of stack 'prod' refused: the review of stack 'prod' on pull request #8 is of a failed preview\n",
  });
});

test("the reviewed change set is applied (up with the preview's plan); then there is nothing to deploy", async () => {
  const result = await deploy(["--stack", "prod"], { GITHUB_SHA: sha });
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("stack 'prod': the change set is the one reviewed on pull request #5\n");
  expect(result.stdout).toMatch(/Resources:\n\s+~ 1 updated\n\s+- 1 deleted\n/);
  expect(result.stdout.endsWith("stack 'prod' deployed\n")).toBe(true);
  const client = fixture.emulator.client();
  const live = await client.getIndividualEnrollment("gate-device-01");
  expect(live.responseBody.initialTwin?.properties?.desired).toEqual({ devicetype: "waterflow-v2" });
  await expect(client.getIndividualEnrollment("gate-sensor-01")).rejects.toMatchObject({
    response: { statusCode: 404 },
  });

  expect(await deploy(["--stack", "prod"], { GITHUB_SHA: sha })).toEqual({
    code: 0,
    stdout: "stack 'prod': no changes, nothing to deploy\n",
    outputs: {
      fingerprint: `sha256:${createHash("sha256").update('{"changes":[],"version":1}').digest("hex")}`,
      destructive: "false",
      changes: "0",
    },
  });
});
