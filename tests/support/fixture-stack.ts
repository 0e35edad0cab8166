// A stack of tests/fixtures/enrollment-program (or another fixture program) on a scratch file backend, against a test
// emulator, with the CLI's output captured: the setup the provider's and the policy pack's CLI tests share.
import * as fs from "node:fs";
import * as path from "node:path";

import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";

import {
  projectRoot,
  scratchProject,
  scratchStack,
  stackStateFile,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "./emulator";

export interface FixtureStack {
  emulator: TestEmulator;
  project: ScratchProject;
  stack: Stack;
  /** Everything the CLI printed through `capture`. */
  output: string[];
  capture: (line: string) => void;
  /** The stack's state file as the file backend wrote it. */
  stateFile(): string;
  dispose(): Promise<void>;
}

export async function startFixtureStack(
  name: string,
  config: (emulator: TestEmulator) => ConfigMap,
  program = "enrollment-program",
): Promise<FixtureStack> {
  const emulator = await startTestEmulator();
  const project = scratchProject(path.join(projectRoot, "tests", "fixtures", program), `dps-${name}-`);
  const stack = await scratchStack(project, name);
  await stack.workspace.setAllConfig(stack.name, config(emulator));
  const output: string[] = [];
  return {
    emulator,
    project,
    stack,
    output,
    capture: (line) => void output.push(line),
    stateFile: () => fs.readFileSync(stackStateFile(project, name), "utf8"),
    dispose: async () => {
      await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
      project.cleanup();
      await emulator.dispose();
    },
  };
}
