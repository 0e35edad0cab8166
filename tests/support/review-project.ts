// A scratch copy of tests/fixtures/review-program on a temporary file backend, with an emulator, a directory for
// manifests and the committed public test certificates, and the review command's environment: what the review
// command's and the deploy gate's CLI tests share.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";

import {
  projectRoot,
  scratchEnv,
  scratchProject,
  scratchStack,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import type { CommandIO } from "../../scripts/lib/review/commands";
import { startTestEmulator, type TestEmulator } from "./emulator";

export const reviewCertificates = path.join(projectRoot, "tests", "fixtures", "review-certs");

export interface ReviewProject {
  emulator: TestEmulator;
  project: ScratchProject;
  /** Holds the manifests (`<name>.yaml`) and `certs/` with the test certificates. */
  manifestDir: string;
  /** The CLI environment: scratch backend and passphrase, the project root for the fixture; no GitHub variables. */
  env: NodeJS.ProcessEnv;
  /** Writes `<manifestDir>/<name>.yaml`; returns its path. */
  writeManifest(name: string, yaml: string): string;
  /** A stack of the program on this emulator, with `manifest` set. */
  stack(name: string, manifest: string, config?: Record<string, { value: string; secret?: boolean }>): Promise<Stack>;
  /** Command IO whose stdout and progress are collected. */
  io(extraEnv?: NodeJS.ProcessEnv): CommandIO & { output: string[]; logs: string[] };
  dispose(): Promise<void>;
}

export async function startReviewProject(prefix: string): Promise<ReviewProject> {
  const emulator = await startTestEmulator();
  const project = scratchProject(path.join(projectRoot, "tests", "fixtures", "review-program"), `dps-${prefix}-`);
  const manifestDir = fs.mkdtempSync(path.join(os.tmpdir(), `dps-${prefix}-manifests-`));
  fs.cpSync(reviewCertificates, path.join(manifestDir, "certs"), { recursive: true });
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("GITHUB_") && !key.startsWith("DPS_REVIEW_")),
  );
  Object.assign(env, scratchEnv(project.backendUrl));
  const stacks: Stack[] = [];
  return {
    emulator,
    project,
    manifestDir,
    env,
    writeManifest: (name, yaml) => {
      const file = path.join(manifestDir, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return file;
    },
    stack: async (name, manifest, config = {}) => {
      const stack = await scratchStack(project, name);
      await stack.workspace.setAllConfig(name, {
        platform: { value: "emulator" },
        emulatorDataDir: { value: emulator.dataDir },
        manifest: { value: manifest },
        ...config,
      });
      stacks.push(stack);
      return stack;
    },
    io: (extraEnv = {}) => {
      const output: string[] = [];
      const logs: string[] = [];
      return {
        workDir: project.workDir,
        env: { ...env, ...extraEnv },
        stdout: (text) => void output.push(text),
        log: (line) => void logs.push(line),
        output,
        logs,
      };
    },
    dispose: async () => {
      for (const stack of stacks) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
      project.cleanup();
      fs.rmSync(manifestDir, { recursive: true, force: true });
      await emulator.dispose();
    },
  };
}
