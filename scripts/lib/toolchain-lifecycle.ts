// The toolchain proof: a one-resource program goes through up → preview (no changes) → destroy with the pinned
// Pulumi CLI, its Node.js language host and the dynamic-provider launcher, on a temporary file backend.
import * as path from "node:path";

import { projectRoot, scratchProject, scratchStack } from "./pulumi-cli";

export const toolchainProgramDir = path.join(projectRoot, "tests", "fixtures", "toolchain-program");

/** Resource operation counts as the engine reports them, e.g. `{ create: 2 }`. */
export type OperationCounts = Record<string, number>;

export interface ToolchainLifecycleResult {
  cliVersion: string;
  up: { result: string; changes: OperationCounts; message: string };
  programPid: number;
  providerPid: number;
  preview: { changes: OperationCounts };
  destroy: { result: string; changes: OperationCounts };
  remainingResources: number;
}

export async function runToolchainLifecycle(
  log: (line: string) => void = () => undefined,
): Promise<ToolchainLifecycleResult> {
  const project = scratchProject(toolchainProgramDir, "dps-toolchain-");
  try {
    const stack = await scratchStack(project, "toolchain");
    const cliVersion = stack.workspace.pulumiVersion;
    log(`pulumi ${cliVersion}, scratch backend ${project.backendUrl}`);

    const up = await stack.up();
    const outputs = up.outputs;
    log(`up: ${up.summary.result} ${JSON.stringify(up.summary.resourceChanges)}`);

    const preview = await stack.preview();
    log(`preview: ${JSON.stringify(preview.changeSummary)}`);

    const destroy = await stack.destroy();
    log(`destroy: ${destroy.summary.result} ${JSON.stringify(destroy.summary.resourceChanges)}`);

    const remaining = (await stack.exportStack()).deployment as { resources?: unknown[] };
    await stack.workspace.removeStack("toolchain");
    return {
      cliVersion,
      up: {
        result: up.summary.result,
        changes: up.summary.resourceChanges ?? {},
        message: outputs.message?.value as string,
      },
      programPid: outputs.programPid?.value as number,
      providerPid: outputs.providerPid?.value as number,
      preview: { changes: preview.changeSummary },
      destroy: { result: destroy.summary.result, changes: destroy.summary.resourceChanges ?? {} },
      remainingResources: remaining.resources?.length ?? 0,
    };
  } finally {
    project.cleanup();
  }
}
