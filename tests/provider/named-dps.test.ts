// Enrollments that name their DPS (`serviceHostName` + `serviceAccessKey`, as `platform: azure` passes them) through
// the real Pulumi CLI: the stack's own DPS config has no credentials at all, every call goes to the named DPS, and
// the access key is nowhere in plaintext — not in the state, not in the CLI's output.
import { loadIdentity } from "../../emulator/identity";
import { startFixtureStack, type FixtureStack } from "../support/fixture-stack";

let fixture: FixtureStack;
let ownerKey: string;

beforeAll(async () => {
  fixture = await startFixtureStack("named-dps", (emulator) => {
    ownerKey = loadIdentity(emulator.dataDir).policies[0].primaryKey;
    return {
      platform: { value: "azure" },
      endpoint: { value: `https://localhost:${emulator.port}` },
      caCertificate: { value: emulator.connection.caCertificate },
      serviceHostName: { value: "localhost" },
      serviceAccessKey: { value: ownerKey, secret: true },
      primaryKey: { value: Buffer.alloc(32, 0x33).toString("base64"), secret: true },
      secondaryKey: { value: Buffer.alloc(32, 0x44).toString("base64"), secret: true },
    };
  });
});

afterAll(() => fixture?.dispose());

test("up, no-change preview and destroy against the named DPS; its key is secret in the state", async () => {
  const { emulator, stack, capture } = fixture;
  const up = await stack.up({ onOutput: capture });
  expect(up.summary.resourceChanges).toEqual({ create: 3 });
  expect((await emulator.client().getIndividualEnrollment("sym-given")).responseBody.registrationId).toBe("sym-given");
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 3 });

  const state = fixture.stateFile();
  expect(state).not.toContain(ownerKey);
  expect(fixture.output.join("")).not.toContain(ownerKey);
  const enrollments = (
    JSON.parse(state) as {
      checkpoint: { latest: { resources: { type: string; outputs?: Record<string, unknown> }[] } };
    }
  ).checkpoint.latest.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/dps:IndividualEnrollment");
  expect(enrollments.map((r) => r.outputs?.serviceHostName)).toEqual(["localhost", "localhost"]);
  for (const r of enrollments) {
    // Pulumi's secret envelope: a signature key and the ciphertext, never the value.
    expect(Object.keys(r.outputs?.serviceAccessKey as object).sort()).toEqual([
      "4dabf18193072939515e22adb298388d",
      "ciphertext",
    ]);
  }

  const destroy = await stack.destroy({ onOutput: capture });
  expect(destroy.summary.resourceChanges).toEqual({ delete: 3 });
  expect(fixture.output.join("")).not.toContain(ownerKey);
});
