// Runs the pinned Pulumi CLI for the review and the deploy: a preview whose engine events (secrets masked) and plan
// (secrets encrypted) go to a private temporary directory that is removed afterwards, and `up`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { pinnedPulumiExecutable, stackEnv } from "../pulumi-cli";
import { parseEventLog, parsePlanInputChanges } from "./events";
import type { PreviewOutcome } from "./model";
import type { StackSettings } from "./project-files";

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  workDir: string;
  env: NodeJS.ProcessEnv;
  /** Receives the CLI's output as it comes (the deploy's `up`, for the job log). */
  onOutput?: (text: string) => void;
}

/** Runs `pulumi ARGS` and collects its output; never throws for a non-zero exit. */
export function runPulumi(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(pinnedPulumiExecutable(), args, {
      cwd: options.workDir,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onOutput?.(chunk.toString());
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onOutput?.(chunk.toString());
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** The environment of every CLI run: the caller's, the event log flag unlocked, the `local` passphrase. */
export function cliEnv(stack: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // --event-log is only accepted with PULUMI_DEBUG_COMMANDS.
  return stackEnv(stack, { ...env, PULUMI_DEBUG_COMMANDS: "true" });
}

/** Creates the stack when the backend does not have it (used for emulator stacks, whose state is disposable). */
export async function ensureStack(settings: StackSettings, workDir: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const options = { workDir, env: cliEnv(settings.stack, env) };
  const list = await runPulumi(["stack", "ls", "--json"], options);
  if (list.exitCode === 0) {
    const stacks = JSON.parse(list.stdout) as { name: string }[];
    if (stacks.some((s) => s.name === settings.stack || s.name.endsWith(`/${settings.stack}`))) return false;
  }
  const init = await runPulumi(["stack", "init", settings.stack], options);
  if (init.exitCode !== 0) throw new Error(`pulumi stack init ${settings.stack} failed: ${init.stderr.trim()}`);
  return true;
}

export interface PreviewRun extends PreviewOutcome {
  /** The saved plan, kept only when the caller asked for it (`planFile`). */
  planFile?: string;
}

/**
 * `pulumi preview` of one stack with its policy pack. The engine's event log carries every step with old and new
 * inputs, the replacement steps in order and the policy findings (none of which `--json` has); the plan names which
 * inputs changed, secrets included, as the engine compared them in memory.
 */
export async function runPreview(
  settings: StackSettings,
  options: { workDir: string; env: NodeJS.ProcessEnv; planFile?: string },
): Promise<PreviewRun> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "dps-preview-events-"));
  try {
    const eventLog = path.join(scratch, "events.jsonl");
    const planFile = options.planFile ?? path.join(scratch, "plan.json");
    fs.rmSync(planFile, { force: true });
    const result = await runPulumi(
      [
        "preview",
        "--stack",
        settings.stack,
        "--json",
        "--non-interactive",
        "--color",
        "never",
        "--event-log",
        eventLog,
        "--save-plan",
        planFile,
        ...settings.policyFlags,
      ],
      { workDir: options.workDir, env: cliEnv(settings.stack, options.env) },
    );
    const events = fs.existsSync(eventLog) ? parseEventLog(fs.readFileSync(eventLog, "utf8")) : [];
    const hasPlan = result.exitCode === 0 && fs.existsSync(planFile);
    return {
      project: settings.project,
      stack: settings.stack,
      exitCode: result.exitCode,
      events,
      ...(hasPlan ? { planChanges: parsePlanInputChanges(fs.readFileSync(planFile, "utf8")) } : {}),
      stderr: result.stderr,
      ...(hasPlan && options.planFile ? { planFile } : {}),
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
