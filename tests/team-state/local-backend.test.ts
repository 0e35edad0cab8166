// `npm start` (scripts/run.sh main) keeps the `local` stack in the checkout's file backend, also in a shell where
// PULUMI_BACKEND_URL points at the team's blob container for dev and prod.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { projectRoot } from "../../scripts/lib/pulumi-cli";

const toolchain = path.join(projectRoot, "scripts", "toolchain.sh");

function useLocalBackend(backendUrl: string | undefined): { stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PULUMI_BACKEND_URL;
  if (backendUrl !== undefined) env.PULUMI_BACKEND_URL = backendUrl;
  const result = spawnSync(
    "bash",
    ["-c", 'set -euo pipefail; source "$0"; dps::use_local_backend; printf %s "$PULUMI_BACKEND_URL"', toolchain],
    { encoding: "utf8", env },
  );
  expect(result.status).toBe(0);
  return { stdout: result.stdout, stderr: result.stderr };
}

test("with the team's backend in the environment, the local stack still uses .pulumi-state, and says so", () => {
  const result = useLocalBackend("azblob://pulumi-state?storage_account=contosodpsstate");

  expect(result).toEqual({
    stdout: `file://${projectRoot}/.pulumi-state`,
    stderr:
      "[toolchain] the local stack stays in .pulumi-state: PULUMI_BACKEND_URL is for the team's stacks and is not " +
      "used here\n",
  });
  expect(fs.statSync(path.join(projectRoot, ".pulumi-state")).isDirectory()).toBe(true);
});

test("without PULUMI_BACKEND_URL, or with the local one, nothing to say", () => {
  expect(useLocalBackend(undefined)).toEqual({ stdout: `file://${projectRoot}/.pulumi-state`, stderr: "" });
  expect(useLocalBackend(`file://${projectRoot}/.pulumi-state`).stderr).toBe("");
});

test("npm start goes through it", () => {
  const run = fs.readFileSync(path.join(projectRoot, "scripts", "run.sh"), "utf8");
  expect(/\n {2}main\)\n {4}dps::bootstrap\n {4}dps::use_local_backend\n/.test(run)).toBe(true);
});
