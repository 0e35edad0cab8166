// `platform: existing` through the real Pulumi CLI: the DPS connection string is secret stack config, read by the
// provider at run time; its key never appears in the stack's config file, the state or the CLI output.
import * as fs from "node:fs";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";

import { projectRoot, scratchProject, scratchStack, type ScratchProject } from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";

const programDir = path.join(projectRoot, "tests", "fixtures", "enrollment-program");

let emulator: TestEmulator;
let project: ScratchProject;
let stack: Stack;
const cliOutput: string[] = [];
const capture = (line: string): void => void cliOutput.push(line);

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = scratchProject(programDir, "dps-existing-");
  stack = await scratchStack(project, "existing");
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "existing" },
    connectionString: { value: emulator.connection.connectionString, secret: true },
    endpoint: { value: `https://localhost:${emulator.port}` },
    caCertificate: { value: emulator.connection.caCertificate },
    primaryKey: { value: Buffer.alloc(32, 0x11).toString("base64"), secret: true },
    secondaryKey: { value: Buffer.alloc(32, 0x22).toString("base64"), secret: true },
  });
  process.env.DPS_ENROLLMENTS_ROOT = projectRoot;
});

afterAll(async () => {
  await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  project?.cleanup();
  await emulator?.dispose();
});

test("up and destroy with a secret connection string; the key is nowhere in plaintext", async () => {
  const key = /SharedAccessKey=([^;]+)/.exec(emulator.connection.connectionString)?.[1] ?? "";
  expect(Buffer.from(key, "base64").length).toBeGreaterThanOrEqual(32);

  const up = await stack.up({ onOutput: capture });
  expect(up.summary.resourceChanges).toEqual({ create: 3 });
  expect((await emulator.client().getIndividualEnrollment("sym-given")).responseBody.registrationId).toBe("sym-given");

  const stackConfig = fs.readFileSync(path.join(project.workDir, "Pulumi.existing.yaml"), "utf8");
  expect(stackConfig).toContain("dps-enrollments:connectionString:\n    secure: ");
  const stateFile = fs.readFileSync(
    path.join(project.backendUrl.replace("file://", ""), ".pulumi", "stacks", "dps-enrollments", "existing.json"),
    "utf8",
  );
  for (const text of [stackConfig, stateFile, cliOutput.join("")]) {
    expect(text).not.toContain(key);
    expect(text).not.toContain(encodeURIComponent(key));
  }

  const destroy = await stack.destroy({ onOutput: capture });
  expect(destroy.summary.resourceChanges).toEqual({ delete: 3 });
  expect(cliOutput.join("")).not.toContain(key);
});
