// The IndividualEnrollment resource through the real Pulumi CLI against the emulator: up, a no-change preview, an
// in-place update, refresh after an edit behind Pulumi's back, destroy; and no key in plaintext anywhere.
import * as path from "node:path";

import { issueCertificate } from "../../emulator/pki";
import { projectRoot } from "../../scripts/lib/pulumi-cli";
import { startFixtureStack, type FixtureStack } from "../support/fixture-stack";
import { serializedProvider } from "../support/serialized-provider";

const primaryKey = Buffer.alloc(32, 0x5a).toString("base64");
const secondaryKey = Buffer.alloc(32, 0x6b).toString("base64");

let fixture: FixtureStack;

beforeAll(async () => {
  fixture = await startFixtureStack("lifecycle", (emulator) => ({
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
    primaryKey: { value: primaryKey, secret: true },
    secondaryKey: { value: secondaryKey, secret: true },
    x509Primary: { value: issueCertificate({ commonName: "x509-both", clientAuth: true }).certPem },
    x509Secondary: { value: issueCertificate({ commonName: "x509-both", clientAuth: true }).certPem },
  }));
});

afterAll(() => fixture?.dispose());

test("up, no-change preview, update in place, refresh shows drift, destroy; keys never in plaintext", async () => {
  const { emulator, stack, capture, output: cliOutput } = fixture;
  const up = await stack.up({ onOutput: capture });
  expect(up.summary.resourceChanges).toEqual({ create: 4 });
  const client = emulator.client();
  expect((await client.getIndividualEnrollment("sym-given")).responseBody.iotHubs).toEqual(["127.0.0.2"]);
  const generatedKey = String(up.outputs.generatedPrimaryKey.value);
  expect(up.outputs.generatedPrimaryKey.secret).toBe(true);
  expect(Buffer.from(generatedKey, "base64")).toHaveLength(64);

  const preview = await stack.preview({ onOutput: capture });
  expect(preview.changeSummary).toEqual({ same: 4 });

  await stack.setConfig("hub", { value: "127.0.0.3" });
  const update = await stack.up({ onOutput: capture });
  expect(update.summary.resourceChanges).toEqual({ same: 3, update: 1 });
  expect((await client.getIndividualEnrollment("sym-given")).responseBody.iotHubs).toEqual(["127.0.0.3"]);

  const live = (await client.getIndividualEnrollment("sym-given")).responseBody;
  await client.createOrUpdateIndividualEnrollment({ ...live, provisioningStatus: "disabled" });
  const refresh = await stack.refresh({ onOutput: capture });
  expect(refresh.summary.resourceChanges).toEqual({ same: 3, update: 1 });
  const restore = await stack.up({ onOutput: capture });
  expect(restore.summary.resourceChanges).toEqual({ same: 3, update: 1 });
  expect((await client.getIndividualEnrollment("sym-given")).responseBody.provisioningStatus).toBe("enabled");

  const stateFile = fixture.stateFile();
  for (const secret of [primaryKey, secondaryKey, generatedKey]) {
    expect(stateFile).not.toContain(secret);
    expect(cliOutput.join("")).not.toContain(secret);
  }
  const enrollments = ((await stack.exportStack()).deployment as { resources: { type: string }[] }).resources.filter(
    (r) => r.type === "pulumi-nodejs:dynamic/dps:IndividualEnrollment",
  );
  expect(enrollments).toHaveLength(3);
  // State per enrollment stays small: the serialized provider is a require() of the provider package.
  const fileResources = (
    JSON.parse(stateFile) as {
      checkpoint: { latest: { resources: { type: string; inputs: Record<string, unknown> }[] } };
    }
  ).checkpoint.latest.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/dps:IndividualEnrollment");
  expect(fileResources.map((r) => (r as unknown as { id: string }).id).sort()).toEqual([
    "sym-generated",
    "sym-given",
    "x509-both",
  ]);
  // Source positions in the state are relative to the program; the copy's reach the checkout's node_modules.
  const checkout = `${path.relative(fixture.project.workDir, projectRoot)}/`;
  for (const r of fileResources) {
    // The file backend writes compact JSON: this is the record's size in the file, stack traces included, as it
    // would be for a program beside its node_modules (wherever the repository is checked out).
    expect(JSON.stringify(r).split(checkout).join("").length).toBeLessThan(4096);
    // The serialized provider is a require() of the installed package, not code.
    expect(r.inputs.__provider).toBe(serializedProvider);
  }
  // Each record's stack trace is the frames of its construction on the program's side, source-mapped (see
  // dynamic-providers/shallow-stacks.ts), not the module loader's and the SDK's frames beneath them.
  const traces = Object.fromEntries(
    fileResources.map((r) => {
      const { id, stackTrace } = r as unknown as { id: string; stackTrace: { sourcePosition?: string }[] };
      return [id, stackTrace.map((frame) => frame.sourcePosition?.split(checkout).join("") ?? "(none)")];
    }),
  );
  const base = expect.stringMatching(
    /^project:\/\/\/node_modules\/@dps-enrollments\/enrollment-provider\/dist\/resource-props\.js#\d+,\d+$/,
  );
  const ours = expect.stringMatching(
    /^project:\/\/\/node_modules\/@dps-enrollments\/enrollment-provider\/dist\/individual-enrollment\.js#\d+,\d+$/,
  );
  // The shared base class's super call (DpsRecordResource), the resource's constructor, the fixture's
  // `new IndividualEnrollment(...)` lines; the module loader's frame above them has no position.
  expect(traces).toEqual({
    "sym-generated": [base, ours, "project:///index.ts#12,19", "(none)"],
    "sym-given": [base, ours, "project:///index.ts#20,15", "(none)"],
    "x509-both": [base, ours, "project:///index.ts#36,3", "(none)"],
  });

  const destroy = await stack.destroy({ onOutput: capture });
  expect(destroy.summary.resourceChanges).toEqual({ delete: 4 });
  const query = client.createIndividualEnrollmentQuery({ query: "*" }, 100);
  const page = (await query.next(query.continuationToken)) as unknown as { responseBody: unknown[] };
  expect(page.responseBody).toEqual([]);
});
