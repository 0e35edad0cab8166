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
