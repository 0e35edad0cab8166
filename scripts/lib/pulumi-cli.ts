// Access to the pinned Pulumi CLI that scripts/toolchain.sh provides, and scratch projects on temporary file
// backends for lifecycle tests and demos.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

export const projectRoot = path.resolve(__dirname, "..", "..");

/** The directory holding the pinned `pulumi` binary; scripts/run.sh exports it. */
export function pinnedPulumiBin(): string {
  const bin = process.env.DPS_PULUMI_BIN;
  if (!bin) {
    throw new Error(
      "DPS_PULUMI_BIN is not set: run this through `npm test` / `npm start` (scripts/run.sh), which provide the pinned Pulumi CLI",
    );
  }
  return bin;
}

/** The pinned `pulumi` executable. */
export function pinnedPulumiExecutable(): string {
  return path.join(pinnedPulumiBin(), "pulumi");
}

/** The `local` stack's documented passphrase (scripts/run.sh sets the same for `npm run pulumi`). */
export const localStackPassphrase = "local-emulator-only";

/** The environment for a CLI command on `stack`: the `local` stack gets its passphrase unless one is chosen. */
export function stackEnv(stack: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (stack !== "local" || env.PULUMI_CONFIG_PASSPHRASE || env.PULUMI_CONFIG_PASSPHRASE_FILE) return env;
  return { ...env, PULUMI_CONFIG_PASSPHRASE: localStackPassphrase };
}

/** The pinned CLI as the Automation API's PulumiCommand (it expects `<root>/bin/pulumi`). */
export async function pinnedPulumiCommand(): Promise<PulumiCommand> {
  return PulumiCommand.get({ root: path.dirname(pinnedPulumiBin()) });
}

/** The @pulumi/pulumi version recorded in package-lock.json. */
export function lockedPulumiVersion(): string {
  const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages["node_modules/@pulumi/pulumi"]?.version;
  if (!version) {
    throw new Error("package-lock.json has no node_modules/@pulumi/pulumi entry");
  }
  return version;
}

export interface ScratchProject {
  /** Copy of the program, with the project's node_modules linked in. */
  readonly workDir: string;
  /** `file://` URL of a temporary state backend. */
  readonly backendUrl: string;
  /** Removes the copy and the backend. */
  cleanup(): void;
}

/**
 * Copies a program directory into a temporary folder (so stack files written by the CLI never land in the source
 * tree), links its node_modules (or the project's) beside it and creates an empty file backend.
 */
export function scratchProject(programDir: string, prefix = "dps-scratch-"): ScratchProject {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const workDir = path.join(root, "program");
  const backendDir = path.join(root, "state");
  // Copies sources only: never dependencies, git data, local state or emulator data.
  const skipped = new Set(["node_modules", ".git", ".pulumi-state", ".emulator-data", "build", "coverage", "certs"]);
  fs.cpSync(programDir, workDir, {
    recursive: true,
    filter: (source) => source === programDir || !skipped.has(path.basename(source)),
  });
  // A checkout links its own node_modules; a program without one (a test fixture) this project's.
  const ownModules = path.join(programDir, "node_modules");
  const modules = fs.existsSync(ownModules) ? ownModules : path.join(projectRoot, "node_modules");
  fs.symlinkSync(modules, path.join(workDir, "node_modules"), "dir");
  fs.mkdirSync(backendDir);
  return {
    workDir,
    backendUrl: `file://${backendDir}`,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Where the file backend keeps a stack's state (this project's name). */
export function stackStateFile(project: ScratchProject, stackName: string): string {
  return path.join(
    project.backendUrl.replace("file://", ""),
    ".pulumi",
    "stacks",
    "dps-enrollments",
    `${stackName}.json`,
  );
}

/** Environment for a CLI run against a scratch backend: no network, a throwaway passphrase. */
export function scratchEnv(backendUrl: string): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: backendUrl,
    PULUMI_CONFIG_PASSPHRASE: "scratch-stack-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}

/** Creates (or selects) a stack of a local program on a scratch backend, driven by the pinned CLI. */
export async function scratchStack(
  project: ScratchProject,
  stackName: string,
  extraEnv: Record<string, string> = {},
): Promise<Stack> {
  const pulumiCommand = await pinnedPulumiCommand();
  return LocalWorkspace.createOrSelectStack(
    { stackName, workDir: project.workDir },
    { pulumiCommand, envVars: { ...scratchEnv(project.backendUrl), ...extraEnv } },
  );
}
