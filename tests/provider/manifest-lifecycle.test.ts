// The whole program (index.ts, the manifest, the component, the provider) through the real Pulumi CLI against the
// emulator: up → no-change preview → one edit per field, each previewed as the property table says → up →
// a change behind Pulumi's back found by refresh and undone by up → an entry removed → destroy leaves DPS empty.
import * as fs from "node:fs";
import * as path from "node:path";

import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { issueCertificate } from "../../emulator/pki";
import { projectRoot, scratchProject, scratchStack, type ScratchProject } from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";

const key = (fill: number): string => Buffer.alloc(32, fill).toString("base64");
const ek = (fill: number): string => Buffer.alloc(64, fill).toString("base64");

let emulator: TestEmulator;
let project: ScratchProject;
let stack: Stack;
let manifestFile: string;

/** The manifest, with one entry per property to edit; `edits` names the entries to edit this time. */
function manifest(edits: Set<string>, remove: string[] = []): string {
  const on = (name: string): boolean => edits.has(name);
  const entries = [
    `- registrationId: e-deviceid\n  attestation: { symmetricKey: {} }\n  deviceId: ${on("deviceId") ? "renamed-device" : "first-device"}`,
    `- registrationId: e-edge\n  attestation: { symmetricKey: {} }\n  iotEdge: ${on("iotEdge")}`,
    `- registrationId: e-hubs\n  attestation: { symmetricKey: {} }\n  allocationPolicy: static\n  iotHubs: [emulator-hub-${on("iotHubs") ? 2 : 1}]`,
    `- registrationId: e-custom\n  attestation: { symmetricKey: {} }\n  allocationPolicy: custom\n  customAllocation: { webhookUrl: "https://alloc.example/${on("customAllocation") ? "v2" : "v1"}", apiVersion: "2021-10-01" }`,
    `- registrationId: e-reprov\n  attestation: { symmetricKey: {} }\n  reprovisionPolicy: ${on("reprovisionPolicy") ? "never" : "reprovisionAndResetData"}`,
    `- registrationId: e-twin\n  attestation: { symmetricKey: {} }\n  initialTwin: { tags: { version: "${on("initialTwin") ? 2 : 1}" } }`,
    `- registrationId: e-enabled\n  attestation: { symmetricKey: {} }\n  enabled: ${!on("enabled")}`,
    `- registrationId: e-info\n  attestation: { symmetricKey: {} }\n  optionalDeviceInformation: { model: "${on("optionalDeviceInformation") ? "m2" : "m1"}" }`,
    `- registrationId: e-key\n  attestation: { symmetricKey: { primaryKey: { config: ${on("primaryKey") ? "keyB" : "keyA"} }, secondaryKey: { config: keyA } } }`,
    `- registrationId: e-tpm\n  attestation: { tpm: { endorsementKey: "${on("endorsementKey") ? ek(2) : ek(1)}" } }`,
    on("attestationType")
      ? `- registrationId: e-type\n  attestation: { tpm: { endorsementKey: "${ek(3)}" } }`
      : `- registrationId: e-type\n  attestation: { symmetricKey: {} }`,
    `- attestation: { x509: { primaryCertificate: certs/x509dev.pem${on("secondaryCertificate") ? ", secondaryCertificate: certs/x509dev-2.pem" : ""} } }`,
    `- registrationId: ${on("registrationId") ? "e-renamed-2" : "e-renamed-1"}\n  attestation: { symmetricKey: {} }`,
  ].filter((e) => !remove.some((r) => e.includes(`registrationId: ${r}\n`)));
  return `individualEnrollments:\n${entries.map((e) => e.replace(/^/gm, "  ")).join("\n")}\n`;
}

function opsByName(events: EngineEvent[]): Record<string, string[]> {
  const ops: Record<string, string[]> = {};
  for (const event of events) {
    const meta = event.resourcePreEvent?.metadata;
    if (!meta || meta.type !== "pulumi-nodejs:dynamic/dps:IndividualEnrollment") continue;
    const name = meta.urn.split("::").pop() ?? "";
    (ops[name] ??= []).push(meta.op);
  }
  return ops;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = scratchProject(projectRoot, "dps-manifest-lifecycle-");
  const certs = path.join(project.workDir, "stacks", "lifecycle", "certs");
  fs.mkdirSync(certs, { recursive: true });
  fs.writeFileSync(
    path.join(certs, "x509dev.pem"),
    issueCertificate({ commonName: "x509dev", clientAuth: true }).certPem,
  );
  fs.writeFileSync(
    path.join(certs, "x509dev-2.pem"),
    issueCertificate({ commonName: "x509dev", clientAuth: true }).certPem,
  );
  manifestFile = path.join(project.workDir, "stacks", "lifecycle", "enrollments.yaml");
  fs.writeFileSync(manifestFile, manifest(new Set()));
  stack = await scratchStack(project, "lifecycle");
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
    keyA: { value: key(1), secret: true },
    keyB: { value: key(2), secret: true },
  });
});

afterAll(async () => {
  await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  project?.cleanup();
  await emulator?.dispose();
});

test("every field previews as the property table says, drift is refreshed and undone, destroy empties DPS", async () => {
  const up = await stack.up();
  expect(up.summary.resourceChanges).toEqual({ create: 15 });
  expect((await stack.preview()).changeSummary).toEqual({ same: 15 });

  const fields = [
    "deviceId",
    "iotEdge",
    "iotHubs",
    "customAllocation",
    "reprovisionPolicy",
    "initialTwin",
    "enabled",
    "optionalDeviceInformation",
    "primaryKey",
    "endorsementKey",
    "attestationType",
    "secondaryCertificate",
    "registrationId",
  ];
  fs.writeFileSync(manifestFile, manifest(new Set(fields)));
  const events: EngineEvent[] = [];
  await stack.preview({ onEvent: (e) => events.push(e) });
  expect(opsByName(events)).toEqual({
    "e-deviceid": ["update"],
    "e-edge": ["update"],
    "e-hubs": ["update"],
    "e-custom": ["update"],
    "e-reprov": ["update"],
    "e-twin": ["update"],
    "e-enabled": ["update"],
    "e-info": ["update"],
    "e-key": ["update"],
    "e-tpm": ["update"],
    "e-type": ["delete-replaced", "replace", "create-replacement"],
    x509dev: ["update"],
    "e-renamed-2": ["create"],
    "e-renamed-1": ["delete"],
  });

  const applied = await stack.up();
  expect(applied.summary.resourceChanges).toEqual({ same: 2, update: 11, replace: 1, create: 1, delete: 1 });
  expect((await stack.preview()).changeSummary).toEqual({ same: 15 });
  const client = emulator.client();
  expect((await client.getIndividualEnrollment("e-type")).responseBody.attestation.type).toBe("tpm");
  // The manifest names the emulator's hubs (connection.json says which host each name is).
  expect((await client.getIndividualEnrollment("e-hubs")).responseBody.iotHubs).toEqual([
    emulator.hub("emulator-hub-2").hostName,
  ]);

  const live = (await client.getIndividualEnrollment("e-twin")).responseBody;
  await client.createOrUpdateIndividualEnrollment({
    ...live,
    initialTwin: { tags: { version: "behind-your-back" }, properties: { desired: {} } },
  } as unknown as IndividualEnrollment);
  const refresh = await stack.refresh();
  expect(refresh.summary.resourceChanges).toEqual({ same: 14, update: 1 });
  expect((await stack.preview()).changeSummary).toEqual({ same: 14, update: 1 });
  await stack.up();
  expect((await client.getIndividualEnrollment("e-twin")).responseBody.initialTwin).toEqual({
    tags: { version: "2" },
    properties: { desired: {} },
  });

  fs.writeFileSync(manifestFile, manifest(new Set(fields), ["e-info"]));
  const removed = await stack.up();
  expect(removed.summary.resourceChanges).toEqual({ same: 14, delete: 1 });
  expect(
    await client
      .getIndividualEnrollment("e-info")
      .catch((e: { response?: { statusCode?: number } }) => e.response?.statusCode),
  ).toBe(404);

  const destroy = await stack.destroy();
  expect(destroy.summary.resourceChanges).toEqual({ delete: 14 });
  const query = client.createIndividualEnrollmentQuery({ query: "*" }, 100);
  expect(((await query.next(query.continuationToken)) as unknown as { responseBody: unknown[] }).responseBody).toEqual(
    [],
  );
});
