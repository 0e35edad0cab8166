// The stacks the provider benchmark drives: this project's program on an N-entry manifest against an emulator, and
// the no-op floor program (tests/fixtures/noop-program) with N resources, both scratch copies on temporary file
// backends driven by the pinned CLI; and the measuring of one CLI run (wall time, peak memory of its processes).
import * as fs from "node:fs";
import * as path from "node:path";

import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";

import { skipCheckpointsVariable } from "../checkpoints";
import { sampleProcesses } from "../process-sampler";
import { projectRoot, scratchProject, scratchStack, type ScratchProject } from "../pulumi-cli";
import type { Peaks } from "./figures";

/** The CLI's own default, a checkpoint around every step, whatever the environment of the benchmark says. */
export const withCheckpoints = { [skipCheckpointsVariable]: "false" };

/** Stack config pacing the provider to `perMinute` DPS operations a minute. */
export function pacedConfig(perMinute: number): ConfigMap {
  return { dpsOperationsPerMinute: { value: String(perMinute) } };
}

/** A manifest of `count` symmetric-key enrollments `<prefix><i>` (DPS generates the keys), as YAML text. */
export function benchManifest(count: number, prefix: string): string {
  const entry = (i: number): string =>
    `  - registrationId: ${prefix}${i}\n    attestation: { symmetricKey: {} }\n    initialTwin: { tags: { fleet: bench } }`;
  return `individualEnrollments:\n${Array.from({ length: count }, (_, i) => entry(i)).join("\n")}\n`;
}

export interface BenchProjects {
  /** A copy of this project (index.ts, the provider package through node_modules). */
  enrollments: ScratchProject;
  /** A copy of tests/fixtures/noop-program. */
  noop: ScratchProject;
  cleanup(): void;
}

/** A copy of the engine's floor, tests/fixtures/noop-program: `count` (stack config) resources that do nothing. */
export function noopFloorProject(): ScratchProject {
  return scratchProject(path.join(projectRoot, "tests", "fixtures", "noop-program"), "dps-bench-noop-");
}

export function benchProjects(): BenchProjects {
  const enrollments = scratchProject(projectRoot, "dps-bench-enrollments-");
  const noop = noopFloorProject();
  return {
    enrollments,
    noop,
    cleanup: () => {
      enrollments.cleanup();
      noop.cleanup();
    },
  };
}

/** A stack of this project holding `count` enrollments `<prefix><i>` on the emulator at `dataDir`. */
export async function enrollmentStack(
  project: ScratchProject,
  name: string,
  options: { count: number; prefix: string; dataDir: string; env?: Record<string, string>; config?: ConfigMap },
): Promise<Stack> {
  const file = path.join(project.workDir, "stacks", name, "enrollments.yaml");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, benchManifest(options.count, options.prefix));
  const stack = await scratchStack(project, name, options.env ?? {});
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: options.dataDir },
    ...options.config,
  });
  return stack;
}

/** A stack of the no-op program with `count` resources. */
export async function noopStack(
  project: ScratchProject,
  name: string,
  options: { count: number; env?: Record<string, string> },
): Promise<Stack> {
  const stack = await scratchStack(project, name, options.env ?? {});
  await stack.workspace.setAllConfig(stack.name, { count: { value: String(options.count) } });
  return stack;
}

export interface Measured<T> {
  result: T;
  seconds: number;
  peaks: Peaks;
}

/** Process patterns: the CLI (not its language host), the program run by the host, the dynamic-provider process. */
export const processPatterns = {
  cli: /\/pulumi (up|preview|refresh|destroy)\b/,
  program: /@pulumi\/pulumi\/cmd\/run\b/,
  provider: /cmd\/dynamic-provider\b/,
};

/** Times one CLI run of a stack in `project` and samples the peak memory of its processes. */
export async function measure<T>(project: ScratchProject, run: () => Promise<T>): Promise<Measured<T>> {
  const started = performance.now();
  const costs = await sampleProcesses(project.workDir, processPatterns, run);
  const seconds = (performance.now() - started) / 1000;
  const { cli, program, provider } = costs.peaks;
  return { result: costs.result, seconds, peaks: { cli, program, provider } };
}
