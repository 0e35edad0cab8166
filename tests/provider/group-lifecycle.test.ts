// Enrollment groups through the whole program (index.ts, the manifest, the component, the provider) and the real
// Pulumi CLI against the emulator: create → signing-certificate rotation (update, no replace) → attestation change
// (replace) → drift restored by refresh and up → adopt of an existing group → disable and delete (with their
// warnings) → destroy; "no changes" after every apply, and no group key in plaintext in the state or the output.
import * as fs from "node:fs";
import * as path from "node:path";

import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import type { EnrollmentGroup } from "azure-iot-provisioning-service/dist/interfaces";

import { issueCertificate, type IssuedCertificate } from "../../emulator/pki";
import {
  projectRoot,
  scratchProject,
  scratchStack,
  stackStateFile,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";

const groupType = "pulumi-nodejs:dynamic/dps:EnrollmentGroup";

let emulator: TestEmulator;
let project: ScratchProject;
let stack: Stack;
let manifestFile: string;
let root: IssuedCertificate;
let output = "";
const capture = (line: string): void => void (output += line);

interface Edits {
  rotated?: boolean;
  switched?: boolean;
  adopted?: "absent" | "plain" | "adopt";
  disabled?: boolean;
  removed?: boolean;
}

/** The manifest: an X.509 group, a symmetric-key group, one whose attestation changes, and the adopted one. */
function manifest(edits: Edits = {}): string {
  const x509 = edits.rotated
    ? "{ primaryCertificate: certs/intermediate-2.pem, secondaryCertificate: certs/intermediate-1.pem }"
    : "{ primaryCertificate: certs/intermediate-1.pem }";
  const groups = [
    `- enrollmentGroupId: x509-devices\n  attestation: { x509: ${x509} }\n  initialTwin: { tags: {}, properties: { desired: { devicetype: waterflow } } }`,
    `- enrollmentGroupId: symmetric-devices\n  attestation: { symmetricKey: {} }\n  allocationPolicy: static\n  iotHubs: [emulator-hub-2]\n  enabled: ${!edits.disabled}`,
    edits.switched
      ? `- enrollmentGroupId: switching\n  attestation: { x509: { primaryCertificate: certs/intermediate-1.pem } }`
      : `- enrollmentGroupId: switching\n  attestation: { symmetricKey: {} }`,
  ];
  if (edits.adopted && edits.adopted !== "absent") {
    groups.push(
      `- enrollmentGroupId: existing\n  attestation: { symmetricKey: {} }\n  initialTwin: { tags: { owner: stack } }${edits.adopted === "adopt" ? "\n  adopt: true" : ""}`,
    );
  }
  const kept = edits.removed ? groups.filter((g) => !g.includes("symmetric-devices")) : groups;
  return `enrollmentGroups:\n${kept.map((g) => g.replace(/^/gm, "  ")).join("\n")}\n`;
}

function opsByName(events: EngineEvent[]): Record<string, string[]> {
  const ops: Record<string, string[]> = {};
  for (const event of events) {
    const meta = event.resourcePreEvent?.metadata;
    if (!meta || meta.type !== groupType || meta.op === "same") continue;
    (ops[meta.urn.split("::").pop() ?? ""] ??= []).push(meta.op);
  }
  return ops;
}

async function previewOps(): Promise<Record<string, string[]>> {
  const events: EngineEvent[] = [];
  await stack.preview({ onEvent: (e) => events.push(e), onOutput: capture });
  return opsByName(events);
}

async function live(id: string): Promise<EnrollmentGroup> {
  return (await emulator.client().getEnrollmentGroup(id)).responseBody;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = scratchProject(projectRoot, "dps-group-lifecycle-");
  const certs = path.join(project.workDir, "stacks", "groups", "certs");
  fs.mkdirSync(certs, { recursive: true });
  root = issueCertificate({ commonName: "Test Root CA", isCA: true });
  for (const n of [1, 2]) {
    const intermediate = issueCertificate({ commonName: `Test Intermediate CA ${n}`, isCA: true, issuer: root });
    fs.writeFileSync(path.join(certs, `intermediate-${n}.pem`), intermediate.certPem);
  }
  manifestFile = path.join(project.workDir, "stacks", "groups", "enrollments.yaml");
  fs.writeFileSync(manifestFile, manifest());
  stack = await scratchStack(project, "groups");
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
  });
});

afterAll(async () => {
  await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  project?.cleanup();
  await emulator?.dispose();
});

// One group's life in steps, each its own test (the CLI is slow on a busy machine); each step needs the ones before.
let groupKey = "";

test("create: signing certificate, DPS-generated keys, outputs by group ID", async () => {
  const created = await stack.up({ onOutput: capture });
  expect(created.summary.resourceChanges).toEqual({ create: 5 });
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 5 });
  const x509 = await live("x509-devices");
  expect(x509.attestation).toMatchObject({
    type: "x509",
    x509: { signingCertificates: { primary: { info: { subjectName: "CN=Test Intermediate CA 1" } } } },
  });
  expect(x509.initialTwin).toEqual({ tags: {}, properties: { desired: { devicetype: "waterflow" } } });
  expect((await live("symmetric-devices")).iotHubs).toEqual([emulator.hub("emulator-hub-2").hostName]);
  // The stack's outputs: each group's attestation type, and (secret) the symmetric-key groups' primary keys.
  groupKey = String(
    (
      (await emulator.client().getEnrollmentGroupAttestationMechanism("symmetric-devices")).responseBody as {
        symmetricKey: { primaryKey: string };
      }
    ).symmetricKey.primaryKey,
  );
  const outputs = await stack.outputs();
  expect(outputs.enrollmentGroups).toEqual({
    value: { "x509-devices": "x509", "symmetric-devices": "symmetricKey", switching: "symmetricKey" },
    secret: false,
  });
  expect(outputs.enrollmentGroupKeys.secret).toBe(true);
  expect(Object.keys(outputs.enrollmentGroupKeys.value as object).sort()).toEqual(["switching", "symmetric-devices"]);
  expect((outputs.enrollmentGroupKeys.value as Record<string, string>)["symmetric-devices"]).toBe(groupKey);
});

test("rotation of the signing certificate updates in place; another attestation type replaces", async () => {
  fs.writeFileSync(manifestFile, manifest({ rotated: true, switched: true }));
  expect(await previewOps()).toEqual({
    "x509-devices": ["update"],
    switching: ["delete-replaced", "replace", "create-replacement"],
  });
  const rotated = await stack.up({ onOutput: capture });
  expect(rotated.summary.resourceChanges).toEqual({ same: 3, update: 1, replace: 1 });
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 5 });
  const certificates = (await live("x509-devices")).attestation.x509?.signingCertificates;
  expect([certificates?.primary?.info?.subjectName, certificates?.secondary?.info?.subjectName]).toEqual([
    "CN=Test Intermediate CA 2",
    "CN=Test Intermediate CA 1",
  ]);
  expect((await live("switching")).attestation.type).toBe("x509");
});

test("drift: a twin changed behind Pulumi's back shows in refresh and the next up restores the manifest's", async () => {
  const drifted = await live("x509-devices");
  await emulator.client().createOrUpdateEnrollmentGroup({
    ...drifted,
    initialTwin: { tags: {}, properties: { desired: { devicetype: "behind-your-back" } } },
  } as unknown as EnrollmentGroup);
  expect((await stack.refresh({ onOutput: capture })).summary.resourceChanges).toEqual({ same: 4, update: 1 });
  expect(await previewOps()).toEqual({ "x509-devices": ["update"] });
  expect((await stack.up({ onOutput: capture })).summary.resourceChanges).toEqual({ same: 4, update: 1 });
  expect((await live("x509-devices")).initialTwin).toEqual({
    tags: {},
    properties: { desired: { devicetype: "waterflow" } },
  });
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 5 });
});

test("adopt: a group that already exists is refused without `adopt`, taken over and made to match with it", async () => {
  await emulator.client().createOrUpdateEnrollmentGroup({
    enrollmentGroupId: "existing",
    attestation: { type: "symmetricKey" },
    initialTwin: { tags: { owner: "someone-else" } },
  } as unknown as EnrollmentGroup);
  fs.writeFileSync(manifestFile, manifest({ rotated: true, switched: true, adopted: "plain" }));
  let refused = "";
  await expect(stack.up({ onOutput: (line) => void (refused += line) })).rejects.toThrow();
  expect(refused).toContain(
    "enrollment group 'existing' already exists in DPS and this stack does not manage it. To take it over, set " +
      "`adopt: true` on this enrollment group (the manifest entry or the resource's args) and run `pulumi up` " +
      "again; Pulumi's `import` does not work with dynamic providers.",
  );
  expect((await live("existing")).initialTwin).toEqual({ tags: { owner: "someone-else" } });
  fs.writeFileSync(manifestFile, manifest({ rotated: true, switched: true, adopted: "adopt" }));
  expect((await stack.up({ onOutput: capture })).summary.resourceChanges).toEqual({ same: 5, create: 1 });
  expect((await live("existing")).initialTwin).toEqual({ tags: { owner: "stack" }, properties: { desired: {} } });
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 6 });
});

test("disabling a group warns in the preview, deleting one in up; no key in plaintext; destroy empties DPS", async () => {
  fs.writeFileSync(manifestFile, manifest({ rotated: true, switched: true, adopted: "adopt", disabled: true }));
  let disabling = "";
  await stack.preview({ onOutput: (line) => void (disabling += line) });
  expect(disabling).toContain(
    "enrollment group 'symmetric-devices' is being disabled: devices that registered through it keep their IoT " +
      "hub identities and their registration records, and go on connecting to their hubs, but none of them can " +
      "register (provision or reprovision) again, and no new device of the group can, until the group is enabled " +
      "again",
  );
  await stack.up({ onOutput: capture });
  expect((await live("symmetric-devices")).provisioningStatus).toBe("disabled");
  fs.writeFileSync(manifestFile, manifest({ rotated: true, switched: true, adopted: "adopt", removed: true }));
  let deleting = "";
  expect((await stack.up({ onOutput: (line) => void (deleting += line) })).summary.resourceChanges).toEqual({
    same: 5,
    delete: 1,
  });
  expect(deleting).toContain(
    "enrollment group 'symmetric-devices' is being deleted: devices that registered through it keep their IoT " +
      "hub identities and go on connecting to their hubs; their registration records stay in DPS",
  );
  output += disabling + deleting;

  const secrets = [groupKey];
  for (const secret of secrets) {
    expect(fs.readFileSync(stackStateFile(project, "groups"), "utf8")).not.toContain(secret);
    expect(output).not.toContain(secret);
  }

  expect((await stack.destroy({ onOutput: capture })).summary.resourceChanges).toEqual({ delete: 5 });
  const query = emulator.client().createEnrollmentGroupQuery({ query: "*" }, 100);
  expect(((await query.next(query.continuationToken)) as unknown as { responseBody: unknown[] }).responseBody).toEqual(
    [],
  );
});
