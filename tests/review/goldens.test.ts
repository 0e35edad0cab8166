// Golden Markdown of the review command from real previews: the pinned CLI on a scratch project and backend, the
// project's DpsEnrollments component against an emulator, every kind of change. `npm run review:goldens` rewrites
// the goldens (tests/review/goldens/*.md and docs/review-example.md); read the diff by eye before committing.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { projectRoot } from "../../scripts/lib/pulumi-cli";
import { reviewCommand } from "../../scripts/lib/review/commands";
import { commentBudget } from "../../scripts/lib/review/render";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github-stand-in";
import { startReviewProject, type ReviewProject } from "../support/review-project";
import { edgeKeys, manifests } from "./scenarios";

const goldenDir = path.join(__dirname, "goldens");
const update = process.env.DPS_UPDATE_GOLDENS === "1";

let fixture: ReviewProject;

/** What differs between machines and runs: temporary paths. */
function normalize(text: string): string {
  return text
    .split(fixture.manifestDir)
    .join("<manifests>")
    .split(fixture.project.workDir)
    .join("<program>")
    .split(fixture.emulator.dataDir)
    .join("<emulator-data>");
}

function expectGolden(file: string, text: string): void {
  const actual = normalize(text);
  if (update) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}

async function review(args: string[]): Promise<{ code: number; stdout: string }> {
  const io = fixture.io();
  const code = await reviewCommand(args, io);
  return { code, stdout: io.output.join("") };
}

beforeAll(async () => {
  fixture = await startReviewProject("review-goldens");
  const baseline = fixture.writeManifest("baseline", manifests.baseline);
  for (const [name, yaml] of Object.entries(manifests)) fixture.writeManifest(name, yaml);
  const prod = await fixture.stack("prod", baseline, {
    edgePrimaryKey: { value: edgeKeys.primary, secret: true },
    edgeSecondaryKey: { value: edgeKeys.secondary, secret: true },
    renamedRegistrationId: { value: "legacy-device-01" },
  });
  const up = await prod.up();
  expect(up.summary.resourceChanges).toEqual({ create: 7 });
});

afterAll(() => fixture?.dispose());

/** Runs a review of prod with one config change, then puts the baseline config back. */
async function reviewProd(config: Record<string, { value: string; secret?: boolean }>, args: string[] = []) {
  const stack = await fixture.stack("prod", path.join(fixture.manifestDir, "baseline.yaml"));
  await stack.workspace.setAllConfig("prod", config);
  try {
    return await review(["--stack", "prod", ...args]);
  } finally {
    await stack.workspace.setAllConfig("prod", {
      manifest: { value: path.join(fixture.manifestDir, "baseline.yaml") },
      edgePrimaryKey: { value: edgeKeys.primary, secret: true },
      renamedRegistrationId: { value: "legacy-device-01" },
    });
  }
}

const manifest = (name: keyof typeof manifests) => ({
  manifest: { value: path.join(fixture.manifestDir, `${name}.yaml`) },
});

test("create: a new stack's enrollments, every property listed, keys as secrets", async () => {
  await fixture.stack("local", path.join(fixture.manifestDir, "baseline.yaml"), {
    edgePrimaryKey: { value: edgeKeys.primary, secret: true },
    edgeSecondaryKey: { value: edgeKeys.secondary, secret: true },
    renamedRegistrationId: { value: "legacy-device-01" },
  });
  const { code, stdout } = await review(["--stack", "local"]);
  expect(code).toBe(0);
  expectGolden(path.join(goldenDir, "create.md"), stdout);
  // As npm start keeps it: the local stack is in the checkout's file backend, whatever PULUMI_BACKEND_URL says.
  const localState = path.join(fixture.project.workDir, ".pulumi-state", ".pulumi", "stacks", "dps-enrollments");
  expect(fs.readdirSync(localState).filter((f) => f.endsWith(".json"))).toEqual(["local.json"]);
});

test("update: the twin by nested path, a certificate rotation by subject, thumbprint and expiry", async () => {
  const { code, stdout } = await reviewProd(manifest("update"));
  expect(code).toBe(0);
  expectGolden(path.join(goldenDir, "update.md"), stdout);
});

test("replace: attestation type (deleted first, absent in between) and registration ID (created first)", async () => {
  const { code, stdout } = await reviewProd({
    ...manifest("replace"),
    renamedRegistrationId: { value: "legacy-device-02" },
  });
  expect(code).toBe(0);
  expectGolden(path.join(goldenDir, "replace.md"), stdout);
});

test("delete: listed first, and marked for approval in prod", async () => {
  const { code, stdout } = await reviewProd(manifest("delete"));
  expect(code).toBe(0);
  expectGolden(path.join(goldenDir, "delete.md"), stdout);
});

test("failed preview: the program's error naming file, entry and field; no change set", async () => {
  await fixture.stack("dev", path.join(fixture.manifestDir, "failed.yaml"), {
    edgePrimaryKey: { value: edgeKeys.primary, secret: true },
    edgeSecondaryKey: { value: edgeKeys.secondary, secret: true },
  });
  const { code, stdout } = await review(["--stack", "dev"]);
  expect(code).toBe(1);
  expectGolden(path.join(goldenDir, "failed.md"), stdout);
});

test("over-size change set: under the budget, with status, counts, destructive changes and policies kept", async () => {
  const out = path.join(fixture.manifestDir, "oversize-full.md");
  const { code, stdout } = await reviewProd(manifest("oversize"), ["--out", out]);
  expect(code).toBe(0);
  expectGolden(path.join(goldenDir, "oversize.md"), stdout);
  expect(stdout.length).toBeLessThanOrEqual(commentBudget);
  const full = fs.readFileSync(out, "utf8");
  expect(full.length).toBeGreaterThan(commentBudget);
  // The full report lists every enrollment with every property.
  for (let i = 1; i <= 150; i++) expect(full).toContain(`<code>line-${String(i).padStart(3, "0")}</code>`);
  expect(full.match(/<code>initialTwin\.properties\.desired\.speed<\/code>/g)).toHaveLength(150);
});

/**
 * Runs `fn` with the project's policy pack in the scratch project, configured for prod by this test (the project's
 * prod.json would also refuse every registration ID outside prod-…).
 */
async function withPolicyPack<T>(fn: () => Promise<T>): Promise<T> {
  const pack = path.join(fixture.project.workDir, "policy");
  const providers = path.join(fixture.project.workDir, "dynamic-providers");
  fs.cpSync(path.join(projectRoot, "policy"), pack, { recursive: true });
  // The pack reads enrollments with the provider's own code (../dynamic-providers).
  fs.symlinkSync(path.join(projectRoot, "dynamic-providers"), providers, "dir");
  fs.rmSync(path.join(pack, "config"), { recursive: true });
  fs.mkdirSync(path.join(pack, "config"));
  fs.writeFileSync(
    path.join(pack, "config", "prod.json"),
    JSON.stringify({
      "enrollment-certificate-validity": { enforcementLevel: "mandatory", expiryDays: 30 },
      "enrollment-registration-id-pattern": { enforcementLevel: "advisory", pattern: "^[a-z]+-[0-9]+$" },
      "enrollment-initial-twin-size": { enforcementLevel: "advisory" },
      "enrollment-hubs-linked": { enforcementLevel: "mandatory" },
      "enrollment-created-enabled": { enforcementLevel: "mandatory" },
    }),
  );
  try {
    return await fn();
  } finally {
    fs.rmSync(pack, { recursive: true, force: true });
    fs.rmSync(providers, { force: true });
  }
}

test("README example: several kinds of change in prod at once, with advisory policy results", async () => {
  const { code, stdout } = await withPolicyPack(() =>
    reviewProd({ ...manifest("mixed"), renamedRegistrationId: { value: "legacy-device-02" } }),
  );
  expect(code).toBe(0);
  expectGolden(path.join(projectRoot, "docs", "review-example.md"), stdout);
});

test("policy violation: a mandatory finding fails the preview; advisory ones are listed beside it", async () => {
  const { code, stdout } = await withPolicyPack(() => reviewProd(manifest("policy")));
  expect(code).toBe(1);
  expectGolden(path.join(goldenDir, "policy.md"), stdout);
});

describe("a secret-only change", () => {
  let github: GitHubStandIn;
  beforeAll(async () => {
    github = await startGitHubStandIn("octo-org/dps-enrollments");
    github.pull(12);
  });
  afterAll(() => github?.close());

  test("reads 'changed (secret)', and no secret or hash of one reaches stdout, --out or the comment", async () => {
    const out = path.join(fixture.manifestDir, "secret-full.md");
    const commentFile = path.join(fixture.manifestDir, "secret-comment.md");
    const stack = await fixture.stack("prod", path.join(fixture.manifestDir, "baseline.yaml"));
    await stack.setConfig("edgePrimaryKey", { value: edgeKeys.rotatedPrimary, secret: true });
    const io = fixture.io({
      GITHUB_TOKEN: github.token,
      GITHUB_REPOSITORY: "octo-org/dps-enrollments",
      GITHUB_API_URL: github.url,
    });
    let code: number;
    try {
      code = await reviewCommand(
        ["--stack", "prod", "--out", out, "--comment-file", commentFile, "--comment", "--pr", "12"],
        io,
      );
    } finally {
      await stack.setConfig("edgePrimaryKey", { value: edgeKeys.primary, secret: true });
    }
    expect(code).toBe(0);
    const stdout = io.output.join("");
    expectGolden(path.join(goldenDir, "secret.md"), stdout);
    expect(stdout).toContain("  - <code>primaryKey</code>: changed (secret)");
    expect(stdout).not.toContain("secondaryKey");
    const comment = github
      .pull(12)
      .comments.map((c) => c.body)
      .join("\n");
    expect(comment).toBe(stdout);
    expect(fs.readFileSync(commentFile, "utf8")).toBe(stdout);
    const texts = { stdout, out: fs.readFileSync(out, "utf8"), comment, logs: io.logs.join("\n") };
    for (const key of [edgeKeys.primary, edgeKeys.rotatedPrimary, edgeKeys.secondary]) {
      const bytes = Buffer.from(key, "base64");
      const forms = [key, bytes.toString("hex"), bytes.toString("base64url")];
      for (const algorithm of ["md5", "sha1", "sha256", "sha512"]) {
        for (const input of [bytes, Buffer.from(key)]) {
          const digest = createHash(algorithm).update(input).digest();
          forms.push(digest.toString("hex"), digest.toString("base64"), digest.toString("hex").toUpperCase());
        }
      }
      for (const [where, text] of Object.entries(texts)) {
        for (const form of forms) {
          if (text.includes(form)) throw new Error(`${where} holds a form of a secret key: ${form.slice(0, 6)}…`);
        }
      }
    }
  });
});
