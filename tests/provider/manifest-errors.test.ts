// Regression: a bad manifest was reported as "Running program … failed with an unhandled exception", then its
// message, then the same message again as a quoted string. Through the real CLI, the program (index.ts) now ends
// with one error whose lines are the problems, each file:line:column, the entry, the field and the reason.
import * as fs from "node:fs";
import * as path from "node:path";

import { projectRoot, scratchProject, scratchStack, type ScratchProject } from "../../scripts/lib/pulumi-cli";

let project: ScratchProject;

afterAll(() => project?.cleanup());

test("a bad manifest ends the preview with one clean error listing every problem", async () => {
  project = scratchProject(projectRoot, "dps-manifest-errors-");
  const manifest = path.join(project.workDir, "stacks", "typos", "enrollments.yaml");
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  fs.writeFileSync(
    manifest,
    "individualEnrollments:\n" +
      "  - registrationId: 123\n" +
      "    attestation: { symmetricKey: {} }\n" +
      "  - registrationId: b\n" +
      "    attestation: { symmetricKey: {} }\n" +
      "    iotEgde: true\n" +
      "    allocationPolicy: Hashed\n",
  );
  const stack = await scratchStack(project, "typos");
  // No DPS is needed: the manifest is checked before anything is registered with the provider.
  await stack.workspace.setAllConfig(stack.name, { platform: { value: "existing" } });
  let printed = "";
  await expect(stack.preview({ onOutput: (o) => void (printed += o) })).rejects.toThrow("exit code 1");

  const diagnostics = printed.slice(printed.indexOf("Diagnostics:"), printed.indexOf("Resources:")).trimEnd();
  expect(diagnostics.split("\n")).toEqual([
    "Diagnostics:",
    "  pulumi:pulumi:Stack (dps-enrollments-typos):",
    "    error: the enrollment manifest has 3 problem(s):",
    "      stacks/typos/enrollments.yaml:2:21: individualEnrollments[0]: registrationId: must be a string (got number 123)",
    "      stacks/typos/enrollments.yaml:6:5: individualEnrollments[1] (b): iotEgde: unknown field; did you mean 'iotEdge'?",
    "      stacks/typos/enrollments.yaml:7:23: individualEnrollments[1] (b): allocationPolicy: 'Hashed' is not one of hashed, geoLatency, static, custom; did you mean 'hashed'?",
  ]);
  expect(printed).not.toContain("unhandled exception");
  expect(printed.split("iotEgde: unknown field").length - 1).toBe(1);
  await stack.workspace.removeStack(stack.name);
});
