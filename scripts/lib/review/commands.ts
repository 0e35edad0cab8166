// `npm run review` and `npm run deploy` as functions of their arguments and environment, so tests run exactly what
// the command lines run, on scratch projects.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { checkpointEnv, stackPlatform } from "../checkpoints";
import { FlagError, parseFlags } from "../flags";
import { changeSetFingerprint } from "./fingerprint";
import { gateDecision } from "./gate";
import { GitHub } from "./github";
import { reviewMarker, stackSet } from "./markers";
import { destructiveChanges } from "./model";
import {
  commentAuthor,
  pullRequestNumber,
  pullRequestOfCommit,
  reviewedChangeSet,
  upsertReviewComment,
} from "./pull-request";
import { runPulumi, cliEnv } from "./pulumi-run";
import { renderFull, renderWithin, type RenderContext } from "./render";
import { previewStack, reviewStacks, type ReviewEnvironment } from "./review";
import { projectName } from "./project-files";

export interface CommandIO extends ReviewEnvironment {
  /** Standard output: the Markdown report (review) or the decision (deploy). */
  stdout: (text: string) => void;
}

export const reviewUsage = `Usage: npm run review -- --stack NAME [--stack NAME …] [--out FILE] [--comment-file FILE]
                          [--comment] [--pr N]

Previews the stacks and prints a pull-request review in Markdown (within 60,000 characters).

  --stack NAME         a stack to preview (repeat for several: one comment per stack set)
  --out FILE           also write the full report, with every detail
  --comment-file FILE  also write exactly the comment's text (for a job that posts it)
  --comment            create or update the review comment on the pull request
                       (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL)
  --pr N               the pull request (default: the pull_request event in GITHUB_EVENT_PATH)

Exit code 1 when a preview failed or violated a mandatory policy (after reporting it).`;

export const deployUsage = `Usage: npm run deploy -- --stack NAME [--check-only] [--pr N] [--no-plan]

Previews the stack and applies it only when its change set is the one reviewed on the pull request.

  --stack NAME    the stack to deploy
  --check-only    decide only; write fingerprint=, destructive=, changes= to GITHUB_OUTPUT
  --pr N          the pull request whose review counts (default: the pull request of GITHUB_SHA)
  --no-plan       run pulumi up without the preview's plan (the plan is an extra guard only)`;

const stackNamePattern = /^[A-Za-z0-9_.-]+$/;

function stacksOf(values: string[] | undefined, flag = "--stack"): string[] {
  if (!values || values.length === 0) throw new FlagError(`${flag} NAME is required`);
  for (const stack of values) {
    if (!stackNamePattern.test(stack)) throw new FlagError(`${flag} ${JSON.stringify(stack)} is not a stack name`);
  }
  return values;
}

function github(env: NodeJS.ProcessEnv, what: string): GitHub {
  const missing = ["GITHUB_TOKEN", "GITHUB_REPOSITORY"].filter((key) => !env[key]);
  if (missing.length > 0) throw new FlagError(`${what} needs ${missing.join(" and ")} in the environment`);
  return GitHub.connect({ token: env.GITHUB_TOKEN!, repository: env.GITHUB_REPOSITORY!, apiUrl: env.GITHUB_API_URL });
}

/** The workflow run's page, when the environment is a GitHub Actions run. */
function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  if (!server || !repo || !run) return undefined;
  const url = `${server}/${repo}/actions/runs/${run}`;
  return /^https:\/\/[\w.-]+(:\d+)?\/[\w.-]+\/[\w.-]+\/actions\/runs\/\d+$/.test(url) ? url : undefined;
}

/**
 * npm run review -- --stack S [--stack S2 …] [--out FILE] [--comment-file FILE] [--comment] [--pr N]
 * Exit code 0 when every preview succeeded, 1 when one failed or violated a mandatory policy (after reporting it).
 */
export async function reviewCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const values = parseFlags(argv, {
    stack: { type: "string", multiple: true },
    out: { type: "string" },
    "comment-file": { type: "string" },
    comment: { type: "boolean" },
    pr: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${reviewUsage}\n`);
    return 0;
  }
  const stacks = stackSet(stacksOf(values.stack));
  const project = projectName(io.workDir);
  // Settle the comment's target before the (long) previews, so a missing token fails fast.
  const target = values.comment
    ? (() => {
        const pr = pullRequestNumber(values.pr, io.env);
        if (pr === undefined) throw new FlagError("--comment needs --pr N or a pull_request event (GITHUB_EVENT_PATH)");
        return { pr, client: github(io.env, "--comment") };
      })()
    : undefined;
  const reviews = await reviewStacks(stacks, io);
  const context: RenderContext = {
    project,
    ...(io.env.GITHUB_SHA ? { commit: io.env.GITHUB_SHA.slice(0, 12) } : {}),
    ...(runUrl(io.env) ? { runUrl: runUrl(io.env) } : {}),
  };
  const comment = renderWithin(reviews, context);
  io.stdout(comment);
  const write = (file: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
  };
  if (values.out) write(values.out, renderFull(reviews, context));
  // Exactly the comment's text, for a job that posts it elsewhere (a fork's pull request cannot comment itself).
  if (values["comment-file"]) write(values["comment-file"], comment);
  if (target) {
    const author = await commentAuthor(target.client, io.env);
    const result = await upsertReviewComment(target.client, target.pr, reviewMarker(project, stacks), comment, author);
    io.log?.(`pull request #${target.pr}: review comment ${result.id} ${result.action}`);
  }
  return reviews.some((r) => r.status === "failed" || r.status === "policy-violation") ? 1 : 0;
}

function writeOutputs(file: string | undefined, outputs: Record<string, string>): void {
  if (!file) return;
  fs.appendFileSync(
    file,
    Object.entries(outputs)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
}

/**
 * npm run deploy -- --stack S [--check-only] [--pr N] [--no-plan]
 * Previews S, and applies it only when the change set's fingerprint is the one reviewed on the pull request.
 */
export async function deployCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const values = parseFlags(argv, {
    stack: { type: "string", multiple: true },
    "check-only": { type: "boolean" },
    pr: { type: "string" },
    "no-plan": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${deployUsage}\n`);
    return 0;
  }
  const stacks = stacksOf(values.stack);
  if (stacks.length !== 1) throw new FlagError("--stack is given twice: deploy takes exactly one stack");
  const stack = stacks[0];
  const prFlag = pullRequestNumber(values.pr, {});
  const log = io.log ?? (() => undefined);
  const planDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-deploy-plan-"));
  try {
    const { settings, env, review, planFile } = await previewStack(stack, io, path.join(planDir, "plan.json"));
    if (review.status === "failed" || review.status === "policy-violation") {
      io.stdout(`deploy of stack '${stack}' refused: its preview failed:\n  ${review.errors.join("\n  ")}\n`);
      return 1;
    }
    const fingerprint = changeSetFingerprint(review);
    const destructive = destructiveChanges(review).length > 0;
    writeOutputs(io.env.GITHUB_OUTPUT, {
      fingerprint,
      destructive: String(destructive),
      changes: String(review.changes.length),
    });
    log(`stack ${stack}: ${review.changes.length} change(s), destructive ${destructive}, ${fingerprint}`);
    if (review.changes.length === 0) {
      io.stdout(`stack '${stack}': no changes, nothing to deploy\n`);
      return 0;
    }
    const client = github(io.env, "deploy");
    const pr =
      prFlag ??
      pullRequestNumber(undefined, io.env) ??
      (io.env.GITHUB_SHA ? await pullRequestOfCommit(client, io.env.GITHUB_SHA) : undefined);
    if (pr === undefined) {
      io.stdout(
        `deploy of stack '${stack}' refused: ${io.env.GITHUB_SHA ? `commit ${io.env.GITHUB_SHA} belongs to no pull request in ${client.repository}` : "no pull request (give --pr N or GITHUB_SHA)"}, so no review of its changes exists\n`,
      );
      return 1;
    }
    const author = await commentAuthor(client, io.env);
    const reviewed = await reviewedChangeSet(client, pr, author, settings.project, stack);
    const decision = gateDecision({ stack, pr, author, current: fingerprint, reviewed });
    io.stdout(`${decision.reason}\n`);
    if (!decision.allowed) return 1;
    if (values["check-only"]) return 0;
    // The plan of the preview just compared is an extra guard: `up` refuses steps that differ from it.
    const usePlan = !values["no-plan"] && planFile !== undefined;
    const up = await runPulumi(
      [
        "up",
        "--stack",
        stack,
        "--yes",
        "--skip-preview",
        "--non-interactive",
        ...(usePlan ? ["--plan", planFile] : []),
        ...settings.policyFlags,
      ],
      {
        workDir: io.workDir,
        // Linear for enrollment-only stacks, checkpoints kept for azure (scripts/lib/checkpoints.ts).
        env: { ...cliEnv(stack, env), ...checkpointEnv(stackPlatform(io.workDir, stack), env) },
        onOutput: io.stdout,
      },
    );
    if (up.exitCode !== 0) {
      io.stdout(`pulumi up --stack ${stack} failed (exit code ${up.exitCode})\n`);
      return up.exitCode;
    }
    io.stdout(`stack '${stack}' deployed\n`);
    return 0;
  } finally {
    fs.rmSync(planDir, { recursive: true, force: true });
  }
}
