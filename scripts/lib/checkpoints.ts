// Whether a `pulumi up`, `refresh` or `destroy` saves a checkpoint around every step. The file and blob backends
// rewrite the whole state each time, so the cost grows with the square of the change set;
// PULUMI_SKIP_CHECKPOINTS=true saves once, at the end, and a run killed mid-way saves nothing. That is safe exactly
// where DPS itself can tell what the lost run did: stacks that hold only enrollments (`emulator` and `existing`
// platforms), whose every individual enrollment write carries the stack's ownership marker and whose groups are
// taken back by identical content (dynamic-providers/enrollment/ownership.ts).
// Never for `platform: azure`: a hub or DPS created but not recorded needs manual repair. An explicit setting of
// the variable always wins. scripts/run.sh applies the same rule to `npm run pulumi`.
import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

export const skipCheckpointsVariable = "PULUMI_SKIP_CHECKPOINTS";

/** Pulumi.yaml's default platform. */
const defaultPlatform = "emulator";

/** Whether stacks of this platform skip checkpoints by default. */
export function skipsCheckpoints(platform: string): boolean {
  return platform !== "azure";
}

/**
 * The environment a CLI run of a stack on `platform` adds by default: `PULUMI_SKIP_CHECKPOINTS=true` for
 * enrollment-only stacks, nothing for azure or when `env` already sets the variable (either way).
 */
export function checkpointEnv(platform: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env[skipCheckpointsVariable] !== undefined || !skipsCheckpoints(platform)) return {};
  return { [skipCheckpointsVariable]: "true" };
}

/** A stack's `dps-enrollments:platform` from its stack file (stacks/Pulumi.<stack>.yaml), else the default. */
export function stackPlatform(projectDir: string, stack: string): string {
  const file = path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return defaultPlatform;
  const config = (parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const value = config["dps-enrollments:platform"] ?? config.platform;
  return typeof value === "string" && value !== "" ? value : defaultPlatform;
}
