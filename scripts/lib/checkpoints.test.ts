import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { checkpointEnv, stackPlatform } from "./checkpoints";
import { projectRoot } from "./pulumi-cli";

test("enrollment-only platforms skip checkpoints by default; azure never; an explicit setting wins", () => {
  expect(checkpointEnv("emulator", {})).toEqual({ PULUMI_SKIP_CHECKPOINTS: "true" });
  expect(checkpointEnv("existing", {})).toEqual({ PULUMI_SKIP_CHECKPOINTS: "true" });
  expect(checkpointEnv("azure", {})).toEqual({});
  expect(checkpointEnv("emulator", { PULUMI_SKIP_CHECKPOINTS: "false" })).toEqual({});
  expect(checkpointEnv("azure", { PULUMI_SKIP_CHECKPOINTS: "true" })).toEqual({});
});

test("a stack's platform comes from its stack file, emulator when it says none", () => {
  expect(stackPlatform(projectRoot, "local")).toBe("emulator");
  expect(stackPlatform(projectRoot, "dev")).toBe("azure");
  expect(stackPlatform(projectRoot, "prod")).toBe("azure");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-checkpoints-"));
  try {
    fs.mkdirSync(path.join(dir, "stacks"));
    expect(stackPlatform(dir, "none")).toBe("emulator");
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.ex.yaml"), "config:\n  dps-enrollments:platform: existing\n");
    expect(stackPlatform(dir, "ex")).toBe("existing");
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.empty.yaml"), "");
    expect(stackPlatform(dir, "empty")).toBe("emulator");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** What scripts/run.sh's `pulumi` command exports, from its own functions, for a command line and environment. */
function runShDefault(args: string[], env: Record<string, string> = {}): string {
  const functions = ["dps::target_stack", "dps::stack_platform", "dps::checkpoint_default"]
    .map((name) => `/^${name}()/,/^}/p`)
    .join(";");
  const script =
    `source <(sed -n '${functions}' scripts/run.sh); DPS_ROOT="$PWD"; ` +
    `dps::checkpoint_default "$@"; printf '%s' "\${PULUMI_SKIP_CHECKPOINTS-unset}"`;
  const { PULUMI_SKIP_CHECKPOINTS: _inherited, ...inherited } = process.env;
  return execFileSync("bash", ["-c", script, "run.sh", ...args], {
    cwd: projectRoot,
    env: { ...inherited, ...env },
    encoding: "utf8",
  });
}

test("scripts/run.sh applies the same rule to npm run pulumi", () => {
  expect(runShDefault(["up", "--stack", "local"])).toBe("true");
  expect(runShDefault(["destroy", "--stack=some-emulator-stack"])).toBe("true");
  expect(runShDefault(["up", "--stack", "dev"])).toBe("unset");
  expect(runShDefault(["refresh", "-s", "prod"])).toBe("unset");
  expect(runShDefault(["up", "--stack", "local"], { PULUMI_SKIP_CHECKPOINTS: "false" })).toBe("false");
});
