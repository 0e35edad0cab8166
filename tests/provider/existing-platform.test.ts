// `platform: existing` through the real Pulumi CLI: the DPS connection string is secret stack config, read by the
// provider at run time; its key never appears in the stack's config file, the state or the CLI output.
import * as fs from "node:fs";
import * as path from "node:path";

import { startFixtureStack, type FixtureStack } from "../support/fixture-stack";

let fixture: FixtureStack;

beforeAll(async () => {
  fixture = await startFixtureStack("existing", (emulator) => ({
    platform: { value: "existing" },
    connectionString: { value: emulator.connection.connectionString, secret: true },
    endpoint: { value: `https://localhost:${emulator.port}` },
    caCertificate: { value: emulator.connection.caCertificate },
    primaryKey: { value: Buffer.alloc(32, 0x11).toString("base64"), secret: true },
    secondaryKey: { value: Buffer.alloc(32, 0x22).toString("base64"), secret: true },
  }));
});

afterAll(() => fixture?.dispose());

test("up and destroy with a secret connection string; the key is nowhere in plaintext", async () => {
  const { emulator, project, stack, capture } = fixture;
  const key = /SharedAccessKey=([^;]+)/.exec(emulator.connection.connectionString)?.[1] ?? "";
  expect(Buffer.from(key, "base64").length).toBeGreaterThanOrEqual(32);

  const up = await stack.up({ onOutput: capture });
  expect(up.summary.resourceChanges).toEqual({ create: 3 });
  expect((await emulator.client().getIndividualEnrollment("sym-given")).responseBody.registrationId).toBe("sym-given");

  const stackConfig = fs.readFileSync(path.join(project.workDir, "Pulumi.existing.yaml"), "utf8");
  expect(stackConfig).toContain("dps-enrollments:connectionString:\n    secure: ");
  const stateFile = fixture.stateFile();
  for (const text of [stackConfig, stateFile, fixture.output.join("")]) {
    expect(text).not.toContain(key);
    expect(text).not.toContain(encodeURIComponent(key));
  }

  const destroy = await stack.destroy({ onOutput: capture });
  expect(destroy.summary.resourceChanges).toEqual({ delete: 3 });
  expect(fixture.output.join("")).not.toContain(key);
});
