// The security rules of .github/ that actionlint does not know: pinned actions, least privilege, no secrets where a
// pull request's code runs, the fork-safe comment path, and the approvals in front of prod.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parse } from "yaml";

import { projectRoot } from "../../scripts/lib/pulumi-cli";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const github = path.join(projectRoot, ".github");
const files = [
  ...fs.readdirSync(path.join(github, "workflows")).map((f) => path.join(github, "workflows", f)),
  ...fs.readdirSync(path.join(github, "actions")).map((d) => path.join(github, "actions", d, "action.yml")),
];
const relative = (file: string): string => path.relative(projectRoot, file);
const workflow = (name: string): Workflow =>
  parse(fs.readFileSync(path.join(github, "workflows", name), "utf8")) as Workflow;
const workflows = fs.readdirSync(path.join(github, "workflows")).map((name) => [name, workflow(name)] as const);
const allSteps = (): [string, Step][] =>
  files.flatMap((file) => {
    const doc = parse(fs.readFileSync(file, "utf8")) as Workflow & { runs?: { steps?: Step[] } };
    const steps = doc.jobs ? Object.values(doc.jobs).flatMap((j) => j.steps ?? []) : (doc.runs?.steps ?? []);
    return steps.map((s): [string, Step] => [relative(file), s]);
  });

test("every action from another repository is pinned to a full commit SHA, with its version beside it", () => {
  const pins = new Map<string, Set<string>>();
  for (const file of files) {
    fs.readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, index) => {
        const uses = /^\s*(?:- )?uses: (\S+)(.*)$/.exec(line);
        if (!uses || uses[1].startsWith("./")) return;
        const where = `${relative(file)}:${index + 1}`;
        expect(`${where} ${line.trim()}`).toMatch(/ (?:- )?uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
        const [action, sha] = uses[1].split("@");
        pins.set(action, new Set([...(pins.get(action) ?? []), `${sha}${uses[2]}`]));
      });
  }
  // One version of each action everywhere.
  for (const [action, versions] of pins) expect([action, versions.size]).toEqual([action, 1]);
  expect([...pins.keys()].sort()).toEqual([
    "actions/cache/restore",
    "actions/cache/save",
    "actions/checkout",
    "actions/download-artifact",
    "actions/setup-go",
    "actions/setup-node",
    "actions/upload-artifact",
    "azure/login",
  ]);
});

test("no ${{ }} expression inside any run: script (values reach scripts through env:)", () => {
  const offenders = allSteps().filter(([, step]) => step.run?.includes("${{"));
  expect(offenders).toEqual([]);
});

test("every workflow grants nothing by default and every job asks for what it needs", () => {
  for (const [name, wf] of workflows) {
    expect([name, wf.permissions]).toEqual([name, {}]);
    for (const [id, job] of Object.entries(wf.jobs))
      expect([name, id, typeof job.permissions]).toEqual([name, id, "object"]);
  }
});

test("OIDC tokens only in jobs bound to a GitHub environment", () => {
  for (const [name, wf] of workflows) {
    for (const [id, job] of Object.entries(wf.jobs)) {
      if (job.permissions?.["id-token"] === "write")
        expect([name, id, typeof job.environment]).toEqual([name, id, "string"]);
    }
  }
});

test("checkouts never leave the token in the working copy", () => {
  const checkouts = allSteps().filter(([, step]) => step.uses?.startsWith("actions/checkout@"));
  expect(checkouts.length).toBeGreaterThan(0);
  for (const [file, step] of checkouts) expect([file, step.with?.["persist-credentials"]]).toEqual([file, false]);
});

test("review: the local preview runs a pull request's code with no secret, no variable and a read-only token", () => {
  const review = workflow("review.yml");
  expect(Object.keys(review.on)).toEqual(["pull_request"]);
  const local = review.jobs.local;
  expect(local.permissions).toEqual({ contents: "read" });
  expect(local.environment).toBeUndefined();
  expect(JSON.stringify(local)).not.toMatch(/secrets\.|vars\.|github\.token|id-token/);
  expect(local.steps?.map((s) => s.run ?? s.uses)).toContain(
    // The comment-sized text is what review-comment.yml posts; the full report is the job summary.
    'mkdir -p "$RUNNER_TEMP/review"\nnpm run review -- --stack local --comment-file "$RUNNER_TEMP/review/review.md" --out "$RUNNER_TEMP/review/full.md"\n',
  );
});

test("review: dev and prod are previewed only for this repository's branches, in the preview environment", () => {
  const azure = workflow("review.yml").jobs.azure;
  expect(azure.if).toBe(
    "github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]'",
  );
  expect(azure.environment).toBe("preview");
  expect(azure.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  expect(azure.steps?.at(-2)?.run).toContain(
    'npm run review -- --stack dev --stack prod --comment --out "$RUNNER_TEMP/review/review.md"',
  );
});

test("review comment: a workflow_run job that checks out only the default branch and runs no Pulumi program", () => {
  const comment = workflow("review-comment.yml");
  expect(comment.on).toEqual({ workflow_run: { workflows: ["Review"], types: ["completed"] } });
  const job = comment.jobs.comment;
  expect(job.permissions).toEqual({ actions: "read", contents: "read", "pull-requests": "write" });
  const checkout = job.steps?.find((s) => s.uses?.startsWith("actions/checkout@"));
  expect(checkout?.with).toEqual({ "persist-credentials": false });
  const runs = (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : []));
  expect(runs.join("\n")).not.toMatch(/npm (run|start|test)|scripts\/run\.sh|pulumi/);
  expect(runs.at(-1)).toContain("npx --no-install tsx scripts/post-review-comment.ts");
});

test("deploy: dev, then prod behind its approval, and deletes or replacements behind one more", () => {
  const deploy = workflow("deploy.yml");
  expect(deploy.on).toEqual({ push: { branches: ["main"] } });
  const { dev, "prod-check": check, "prod-destructive": destructive, prod } = deploy.jobs;
  const command = (job: Job): string | undefined => job.steps?.at(-1)?.run?.trim();
  expect([dev.environment, command(dev)]).toEqual(["dev", "npm run deploy -- --stack dev"]);
  expect([check.needs, check.environment, command(check)]).toEqual([
    "dev",
    "preview",
    "npm run deploy -- --stack prod --check-only",
  ]);
  expect([destructive.needs, destructive.if, destructive.environment, destructive.permissions]).toEqual([
    "prod-check",
    "needs.prod-check.outputs.destructive == 'true'",
    "prod-destructive",
    {},
  ]);
  expect(destructive.steps?.every((s) => s.uses === undefined)).toBe(true);
  expect([prod.needs, prod.environment, command(prod)]).toEqual([
    ["prod-check", "prod-destructive"],
    "prod",
    "npm run deploy -- --stack prod",
  ]);
});

/** GitHub's way of evaluating prod's `if:` for the cases that matter, with the expression as written. */
test("deploy: prod runs only with something to apply and, when destructive, the extra approval", () => {
  const condition = (workflow("deploy.yml").jobs.prod.if ?? "").replace(/\s+/g, " ").trim();
  const evaluate = (destructive: string, changes: string, approval: string, checkResult = "success"): boolean => {
    const js = condition
      .replace("!cancelled()", "true")
      .replace(/needs\.prod-check\.result/g, JSON.stringify(checkResult))
      .replace(/needs\.prod-check\.outputs\.destructive/g, JSON.stringify(destructive))
      .replace(/needs\.prod-check\.outputs\.changes/g, JSON.stringify(changes))
      .replace(/needs\.prod-destructive\.result/g, JSON.stringify(approval))
      .replace(/'/g, '"');
    expect(js).toMatch(/^[\s"\w()=!&|-]+$/);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the workflow's own condition, literals only
    const compiled = new Function(`return (${js});`) as () => unknown;
    return Boolean(compiled());
  };
  expect(evaluate("false", "3", "skipped")).toBe(true);
  expect(evaluate("true", "3", "success")).toBe(true);
  expect(evaluate("true", "3", "skipped")).toBe(false);
  expect(evaluate("true", "3", "failure")).toBe(false);
  expect(evaluate("false", "0", "skipped")).toBe(false);
  expect(evaluate("false", "3", "skipped", "failure")).toBe(false);
  expect(evaluate("", "", "skipped", "failure")).toBe(false);
});

const hasShellcheck = spawnSync("bash", ["-c", "command -v shellcheck"]).status === 0;

(hasShellcheck ? test : test.skip)("the composite actions' scripts pass shellcheck", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-composite-"));
  try {
    const scripts = allSteps()
      .filter(([file, step]) => file.startsWith(".github/actions/") && step.run)
      .map(([file, step], i) => {
        const script = path.join(dir, `${i}-${path.basename(path.dirname(file))}.sh`);
        fs.writeFileSync(script, `#!/usr/bin/env bash\n${step.run}`);
        return script;
      });
    expect(scripts.length).toBeGreaterThan(0);
    const result = spawnSync("shellcheck", scripts, { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
