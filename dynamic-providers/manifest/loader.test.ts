import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { defaultHubs } from "../../emulator/config";
import { issueCertificate } from "../../emulator/pki";
import schema from "../enrollments.schema.json";
import { normalizeEnrollment } from "../enrollment/normalize";
import type { EnrollmentSpec } from "../enrollment/types";
import { allocationPolicies, reprovisionPolicies } from "../enrollment/vocabulary";
import { groupManifestFields, manifestFields } from "./entries";
import { ManifestError, loadEnrollmentManifest, loadManifest, type LoadOptions } from "./loader";

const hubs = ["emulator-hub-1.azure-devices.net", "emulator-hub-2.azure-devices.net"];
const checkoutManifest = path.join(__dirname, "..", "..", "stacks", "local", "enrollments.yaml");
/** The local stack's manifest, copied beside certificates made here (the checkout's are made by npm start). */
let localManifest: string;
const name = "stacks/test/enrollments.yaml";
let dir: string;
let dev1Pem: string;
let caPem: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-manifest-"));
  fs.mkdirSync(path.join(dir, "certs"));
  dev1Pem = issueCertificate({ commonName: "dev1", clientAuth: true }).certPem;
  fs.writeFileSync(path.join(dir, "certs", "dev1.pem"), dev1Pem);
  fs.writeFileSync(path.join(dir, "certs", "notes.txt"), "not a certificate");
  caPem = issueCertificate({ commonName: "Group CA", isCA: true }).certPem;
  fs.writeFileSync(path.join(dir, "certs", "ca.pem"), caPem);
  const local = path.join(dir, "local");
  fs.mkdirSync(path.join(local, "certs"), { recursive: true });
  localManifest = path.join(local, "enrollments.yaml");
  fs.copyFileSync(checkoutManifest, localManifest);
  const mydevice = issueCertificate({ commonName: "mydevice", clientAuth: true });
  fs.writeFileSync(path.join(local, "certs", "mydevice.pem"), mydevice.certPem);
  const intermediate = issueCertificate({ commonName: "Dev Intermediate CA", isCA: true });
  fs.writeFileSync(path.join(local, "certs", "intermediate-ca.pem"), intermediate.certPem);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(text: string): string {
  const file = path.join(dir, "enrollments.yaml");
  fs.writeFileSync(file, text);
  return file;
}

function problems(text: string, options: LoadOptions = {}): string[] {
  try {
    loadManifest(write(text), { linkedHubs: hubs, displayName: name, ...options });
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error("expected the manifest to be refused");
}

test("the local stack's example manifest loads, with every field, naming the emulator's hubs by name", () => {
  const hubNames = Object.fromEntries(defaultHubs.map((hub) => [hub.name, hub.hostName]));
  const entries = loadManifest(localManifest, { linkedHubs: Object.values(hubNames), hubNames });
  expect(entries.map((e) => [e.label, e.registrationId, e.spec.attestationType])).toEqual([
    ["individualEnrollments[0] (mydevice)", "mydevice", "x509"],
    ["individualEnrollments[1] (edge-gateway-01)", "edge-gateway-01", "symmetricKey"],
    ["individualEnrollments[2] (sensor-0001)", "sensor-0001", "symmetricKey"],
    ["individualEnrollments[3] (tpm-device-01)", "tpm-device-01", "tpm"],
    ["individualEnrollments[4] (custom-allocated-01)", "custom-allocated-01", "symmetricKey"],
  ]);
  expect(entries[0].spec.initialTwin).toEqual({
    tags: {},
    properties: { desired: { devicetype: "waterflow", client: "" } },
  });
  // Keys stay references to secret config: the model's fields, named as in the state.
  expect([entries[1].spec.primaryKey, entries[1].spec.secondaryKey]).toEqual([
    { config: "edgeGatewayPrimaryKey" },
    { config: "edgeGatewaySecondaryKey" },
  ]);
  expect(entries[1].spec.iotHubs).toEqual(["127.0.0.3"]);
  expect(entries[2].spec.enabled).toBe(false);
  expect(entries[3].spec.reprovisionPolicy).toBe("reprovisionAndMigrateData");
  const { enrollmentGroups } = loadEnrollmentManifest(localManifest, { linkedHubs: Object.values(hubNames), hubNames });
  const waterflow = { tags: {}, properties: { desired: { devicetype: "waterflow" } } };
  expect(enrollmentGroups.map((g) => [g.label, g.spec.attestationType, g.spec.initialTwin, g.spec.enabled])).toEqual([
    ["enrollmentGroups[0] (x509-devices)", "x509", waterflow, true],
    ["enrollmentGroups[1] (symmetric-devices)", "symmetricKey", waterflow, true],
  ]);
});

test("defaults merge into every entry and certificate paths are relative to the manifest", () => {
  const entries = loadManifest(
    write(`
defaults:
  iotEdge: true
  allocationPolicy: static
  iotHubs: [emulator-hub-1.azure-devices.net]
individualEnrollments:
  - attestation: { x509: { primaryCertificate: certs/dev1.pem } }
  - registrationId: sym1
    attestation: { symmetricKey: {} }
    iotEdge: false
`),
    { linkedHubs: hubs },
  );
  expect(entries.map((e) => [e.registrationId, e.spec.iotEdge, e.spec.allocationPolicy, e.spec.iotHubs])).toEqual([
    ["dev1", true, "static", ["emulator-hub-1.azure-devices.net"]],
    ["sym1", false, "static", ["emulator-hub-1.azure-devices.net"]],
  ]);
  expect(entries[0].spec.primaryCertificate).toBe(dev1Pem);
});

// Each bad manifest, and every problem it has at once: file:line:column, the entry, the field, the reason.
const hubNames = { "hub-a": "hub-a.azure-devices.net", "hub-b": "hub-b.azure-devices.net" };
const badManifests: [string, string, string[], LoadOptions?][] = [
  [
    "the problems a new user met first: wrong types, a misspelt twin key",
    `individualEnrollments:
  - registrationId: 123
    attestation: { symmetricKey: {} }
  - registrationId: dev-2
    attestation: { symmetricKey: {} }
    deviceId: 42
    initialTwin: [1]
  - registrationId: dev-3
    attestation: { symmetricKey: {} }
    initialTwin:
      tagz: { site: lab }
`,
    [
      `${name}:2:21: individualEnrollments[0]: registrationId: must be a string (got number 123)`,
      `${name}:6:15: individualEnrollments[1] (dev-2): deviceId: must be a string (got number 42)`,
      `${name}:7:18: individualEnrollments[1] (dev-2): initialTwin: must be a mapping (got a list)`,
      `${name}:11:7: individualEnrollments[2] (dev-3): initialTwin.tagz: unknown field; did you mean 'tags'?`,
    ],
  ],
  [
    "misspelt keys and enum values in the wrong case, with what was meant",
    `individualEnrollment: []
defaults:
  reprovisionPolicy: ReprovisionAndResetData
individualEnrollments:
  - registrationId: dev-1
    attestation: { symetricKey: {} }
  - registrationId: dev-2
    attestation: { symmetricKey: {} }
    allocationPolicy: Hashed
    iotEgde: true
  - registrationId: dev-3
    attestation: { symmetricKey: {} }
    allocationPolicy: roundRobin
    colour: blue
`,
    [
      `${name}:1:1: individualEnrollment: unknown field; did you mean 'individualEnrollments'?`,
      `${name}:3:22: defaults: reprovisionPolicy: 'ReprovisionAndResetData' is not one of reprovisionAndMigrateData, reprovisionAndResetData, never; did you mean 'reprovisionAndResetData'?`,
      `${name}:6:20: individualEnrollments[0] (dev-1): attestation.symetricKey: unknown field; did you mean 'symmetricKey'?`,
      `${name}:9:23: individualEnrollments[1] (dev-2): allocationPolicy: 'Hashed' is not one of hashed, geoLatency, static, custom; did you mean 'hashed'?`,
      `${name}:10:5: individualEnrollments[1] (dev-2): iotEgde: unknown field; did you mean 'iotEdge'?`,
      `${name}:13:23: individualEnrollments[2] (dev-3): allocationPolicy: 'roundRobin' is not one of hashed, geoLatency, static, custom`,
      `${name}:14:5: individualEnrollments[2] (dev-3): colour: unknown field (expected one of registrationId, attestation, deviceId, iotEdge, allocationPolicy, iotHubs, customAllocation, reprovisionPolicy, initialTwin, enabled, optionalDeviceInformation, adopt)`,
    ],
  ],
  [
    "attestations: none, two, a missing key, a literal key (never repeated), one key of two",
    `individualEnrollments:
  - registrationId: none
    attestation: {}
  - registrationId: two
    attestation: { symmetricKey: {}, tpm: { endorsementKey: AAAA } }
  - registrationId: no-ek
    attestation:
      tpm: {}
  - registrationId: literal
    attestation:
      symmetricKey: { primaryKey: c2VjcmV0c2VjcmV0c2VjcmV0, secondaryKey: { config: b } }
  - registrationId: one-key
    attestation: { symmetricKey: { primaryKey: { config: a } } }
  - registrationId: missing
    deviceId: missing-device
`,
    [
      `${name}:3:18: individualEnrollments[0] (none): attestation: give exactly one of x509, tpm, symmetricKey`,
      `${name}:5:18: individualEnrollments[1] (two): attestation: give exactly one of x509, tpm, symmetricKey`,
      `${name}:8:12: individualEnrollments[2] (no-ek): attestation.tpm.endorsementKey: is required`,
      `${name}:11:35: individualEnrollments[3] (literal): attestation.symmetricKey.primaryKey: must be a reference to secret stack config, e.g. primaryKey: { config: myDevicePrimaryKey }, never a literal key`,
      `${name}:13:34: individualEnrollments[4] (one-key): attestation.symmetricKey.secondaryKey: give both primaryKey and secondaryKey, or neither (DPS then generates both)`,
      `${name}:14:5: individualEnrollments[5] (missing): attestation: is required (x509, tpm or symmetricKey)`,
    ],
  ],
  [
    "the rules of DPS in code, each at the line it is about, all at once",
    `individualEnrollments:
  - attestation: { x509: { primaryCertificate: certs/missing.pem } }
  - attestation: { x509: { primaryCertificate: certs/notes.txt } }
  - registrationId: other
    attestation: { x509: { primaryCertificate: certs/dev1.pem } }
    iotHubs: [emulator-hub-1.azure-devices.net]
  - registrationId: two-hubs
    attestation: { symmetricKey: {} }
    allocationPolicy: static
    iotHubs: [emulator-hub-1.azure-devices.net, emulator-hub-2.azure-devices.net]
  - registrationId: far
    attestation: { symmetricKey: {} }
    iotHubs: [emulator-hub-1.azure-devices.net, far-away.azure-devices.net]
    allocationPolicy: hashed
  - registrationId: cust
    attestation: { symmetricKey: {} }
    allocationPolicy: custom
  - registrationId: hook
    attestation: { symmetricKey: {} }
    allocationPolicy: custom
    customAllocation: { webhookUrl: "ftp://alloc.example", apiVersion: "2021-10-01" }
  - registrationId: Bad/Id
    attestation: { tpm: { endorsementKey: "not base64!" } }
`,
    [
      `${name}:2:48: individualEnrollments[0]: attestation.x509.primaryCertificate: cannot read certs/missing.pem (ENOENT)`,
      `${name}:3:48: individualEnrollments[1]: attestation.x509.primaryCertificate: is not an X.509 certificate (PEM or DER expected)`,
      `${name}:4:21: individualEnrollments[2] (other): registrationId: 'other' must equal the primary certificate's CN 'dev1'`,
      `${name}:10:14: individualEnrollments[3] (two-hubs): iotHubs: allocationPolicy static takes one hub at most (got 2)`,
      `${name}:13:49: individualEnrollments[4] (far): iotHubs[1]: 'far-away.azure-devices.net' is not a hub linked to this DPS (linked: ${hubs.join(", ")})`,
      `${name}:15:5: individualEnrollments[5] (cust): customAllocation: allocationPolicy custom needs customAllocation.webhookUrl and customAllocation.apiVersion`,
      `${name}:21:37: individualEnrollments[6] (hook): customAllocation.webhookUrl: 'ftp://alloc.example' must be an http(s) URL`,
      `${name}:22:21: individualEnrollments[7] (Bad/Id): registrationId: 'Bad/Id' may only hold letters, digits and - . _ : and must end with a letter, digit or -`,
      `${name}:23:43: individualEnrollments[7] (Bad/Id): attestation.tpm.endorsementKey: must be the base64 TPM endorsement key`,
    ],
  ],
  [
    "a default's problem, at the default, for each entry it reaches",
    `defaults:
  iotHubs: [far-away.azure-devices.net]
individualEnrollments:
  - registrationId: a
    attestation: { symmetricKey: {} }
  - registrationId: b
    attestation: { symmetricKey: {} }
    iotHubs: [emulator-hub-1.azure-devices.net]
  - registrationId: c
    attestation: { symmetricKey: {} }
`,
    [
      `${name}:2:13: individualEnrollments[0] (a): iotHubs[0]: 'far-away.azure-devices.net' is not a hub linked to this DPS (linked: ${hubs.join(", ")})`,
      `${name}:2:13: individualEnrollments[2] (c): iotHubs[0]: 'far-away.azure-devices.net' is not a hub linked to this DPS (linked: ${hubs.join(", ")})`,
    ],
  ],
  [
    "one enrollment per registration ID, compared as DPS does (case-insensitive), certificates' CNs included",
    `individualEnrollments:
  - registrationId: dup
    attestation: { symmetricKey: {} }
  - registrationId: DUP
    attestation: { symmetricKey: {} }
    iotEgde: true
  - attestation: { x509: { primaryCertificate: certs/dev1.pem } }
  - registrationId: dev1
    attestation: { symmetricKey: {} }
`,
    [
      `${name}:4:21: individualEnrollments[1] (DUP): registrationId: 'dup' is also used by individualEnrollments[0] (dup) (line 2)`,
      `${name}:6:5: individualEnrollments[1] (DUP): iotEgde: unknown field; did you mean 'iotEdge'?`,
      `${name}:8:21: individualEnrollments[3] (dev1): registrationId: 'dev1' is also used by individualEnrollments[2] (dev1) (line 7)`,
    ],
  ],
  [
    "YAML that does not parse: where the parser stopped",
    "individualEnrollments:\n  - registrationId: a\n    attestation: { symmetricKey: {}\n  - registrationId: b\n",
    [`${name}:4:3: Flow map in block collection must be sufficiently indented and end with a }`],
  ],
  [
    "a key given twice",
    "individualEnrollments:\n  - registrationId: a\n    registrationId: b\n    attestation: { symmetricKey: {} }\n",
    [`${name}:3:5: Map keys must be unique`],
  ],
  [
    "not a mapping",
    "- just a list\n",
    [`${name}:1:1: expected a mapping with individualEnrollments: (and optionally defaults:)`],
  ],
  [
    "the list and defaults of the wrong shape",
    "defaults: [1]\nindividualEnrollments: { registrationId: a }\n",
    [
      `${name}:1:11: defaults: must be a mapping (got a list)`,
      `${name}:2:24: individualEnrollments: must be a list (got a mapping)`,
    ],
  ],
  [
    "hub names the stack does not have (platform azure)",
    `individualEnrollments:
  - { registrationId: d2, attestation: { symmetricKey: {} }, iotHubs: [hub-c, hub-a] }
  - { registrationId: d3, attestation: { symmetricKey: {} }, iotHubs: [hub-c.azure-devices.net] }
`,
    [
      `${name}:2:72: individualEnrollments[0] (d2): iotHubs[0]: unknown hub 'hub-c' (this stack's hubs: hub-a, hub-b)`,
      `${name}:3:72: individualEnrollments[1] (d3): iotHubs[0]: 'hub-c.azure-devices.net' is not a hub linked to this DPS (linked: hub-a.azure-devices.net, hub-b.azure-devices.net)`,
    ],
    { hubNames, linkedHubs: Object.values(hubNames) },
  ],
  [
    "enrollment groups: TPM, a missing or leaf signing certificate, an unknown CA reference, misspelt and foreign fields",
    `enrollmentGroups:
  - enrollmentGroupId: tpm-group
    attestation: { tpm: { endorsementKey: AAAA } }
  - enrollmentGroupId: no-file
    attestation: { x509: { primaryCertificate: certs/missing.pem } }
  - enrollmentGroupId: leaf
    attestation: { x509: { primaryCertificate: certs/dev1.pem } }
  - enrollmentGroupId: unknown-ca
    attestation: { x509: { primaryCaReference: other-ca } }
  - enrollmentGroupId: both
    attestation: { x509: { primaryCertificate: certs/ca.pem, primaryCaReference: dev-root-ca } }
  - enrollmentGroupId: typo
    attestation: { symmetricKey: {} }
    intialTwin: { tags: {} }
    deviceId: one-device
  - attestation: { symmetricKey: {} }
`,
    [
      `${name}:3:25: enrollmentGroups[0] (tpm-group): attestation.tpm: tpm is not an attestation of enrollment groups: DPS has no TPM groups (each TPM's endorsement key is its own); give each TPM device an individual enrollment`,
      `${name}:5:48: enrollmentGroups[1] (no-file): attestation.x509.primaryCertificate: cannot read certs/missing.pem (ENOENT)`,
      `${name}:7:48: enrollmentGroups[2] (leaf): attestation.x509.primaryCertificate: is not a CA certificate ('dev1' has no basic constraint CA:TRUE): a group's signing certificate is the root or intermediate CA that signed its devices' certificates`,
      `${name}:9:48: enrollmentGroups[3] (unknown-ca): attestation.x509.primaryCaReference: 'other-ca' is not a CA certificate of this stack's DPS (its certificates: dev-root-ca)`,
      `${name}:11:82: enrollmentGroups[4] (both): attestation.x509.primaryCaReference: give signing certificates or CA references, not both`,
      `${name}:14:5: enrollmentGroups[5] (typo): intialTwin: unknown field; did you mean 'initialTwin'?`,
      `${name}:15:5: enrollmentGroups[5] (typo): deviceId: unknown field (expected one of enrollmentGroupId, attestation, iotEdge, allocationPolicy, iotHubs, customAllocation, reprovisionPolicy, initialTwin, enabled, adopt)`,
      `${name}:16:5: enrollmentGroups[6]: enrollmentGroupId: is required`,
    ],
    { caCertificateNames: ["dev-root-ca"] },
  ],
  [
    "one group per group ID (case-insensitive); a group may share its ID with an individual enrollment",
    `individualEnrollments:
  - registrationId: shared
    attestation: { symmetricKey: {} }
enrollmentGroups:
  - enrollmentGroupId: shared
    attestation: { symmetricKey: {} }
  - enrollmentGroupId: SHARED
    attestation: { symmetricKey: {} }
`,
    [
      `${name}:7:24: enrollmentGroups[1] (SHARED): enrollmentGroupId: 'shared' is also used by enrollmentGroups[0] (shared) (line 5)`,
    ],
  ],
];

// A rest parameter: jest would take a fourth declared parameter, absent from most rows, for a `done` callback.
test.each(badManifests)("%s", (...[, text, expected, options]) => {
  expect(problems(text, options)).toEqual(expected);
});

test("the error's message holds every problem, and a key given literally is never repeated", () => {
  const key = "c2VjcmV0c2VjcmV0c2VjcmV0";
  const file = write(
    `individualEnrollments:\n  - registrationId: k\n    attestation: { symmetricKey: { primaryKey: ${key}, secondaryKey: ${key} } }\n`,
  );
  let error: unknown;
  try {
    loadManifest(file, { displayName: name });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ManifestError);
  expect((error as Error).message).toBe(
    "the enrollment manifest has 2 problem(s):\n" +
      `  ${name}:3:48: individualEnrollments[0] (k): attestation.symmetricKey.primaryKey: must be a reference to secret stack config, e.g. primaryKey: { config: myDevicePrimaryKey }, never a literal key\n` +
      `  ${name}:3:88: individualEnrollments[0] (k): attestation.symmetricKey.secondaryKey: must be a reference to secret stack config, e.g. secondaryKey: { config: myDeviceSecondaryKey }, never a literal key`,
  );
  expect((error as Error).message).not.toContain(key);
});

test("with hubNames, iotHubs may name hubs by name; host names still work", () => {
  const file = write(
    "individualEnrollments:\n" +
      "  - { registrationId: d1, attestation: { symmetricKey: {} }, iotHubs: [hub-b, hub-a.azure-devices.net] }\n",
  );
  expect(loadManifest(file, { linkedHubs: Object.values(hubNames), hubNames }).map((e) => e.spec.iotHubs)).toEqual([
    ["hub-b.azure-devices.net", "hub-a.azure-devices.net"],
  ]);
});

describe("the schema and the loader cannot drift apart", () => {
  test("the loader maps exactly the schema's fields (the tables are also typed by the schema's names)", () => {
    expect([...manifestFields].sort()).toEqual(Object.keys(schema.definitions.fields.properties).sort());
    expect([...groupManifestFields].sort()).toEqual(Object.keys(schema.definitions.groupFields.properties).sort());
  });

  test("every field of a group, in each attestation kind, reaches the group model; defaults only where groups have them", () => {
    fs.writeFileSync(path.join(dir, "certs", "ca-2.pem"), caPem);
    const { enrollmentGroups } = loadEnrollmentManifest(
      write(`defaults:
  deviceId: only-for-individuals
  reprovisionPolicy: reprovisionAndResetData
enrollmentGroups:
  - enrollmentGroupId: Every-Field
    attestation: { symmetricKey: { primaryKey: { config: p }, secondaryKey: { config: s } } }
    iotEdge: true
    allocationPolicy: custom
    iotHubs: [${hubs[0]}]
    customAllocation: { webhookUrl: "https://alloc.example/api", apiVersion: "2021-10-01" }
    initialTwin: { tags: { a: 1 }, properties: { desired: { b: 2 } } }
    enabled: false
    adopt: true
  - enrollmentGroupId: signed
    attestation: { x509: { primaryCertificate: certs/ca.pem, secondaryCertificate: certs/ca-2.pem } }
  - enrollmentGroupId: referenced
    attestation: { x509: { primaryCaReference: root-1, secondaryCaReference: root-2 } }
`),
      { linkedHubs: hubs, caCertificateNames: ["root-1", "root-2"] },
    );
    const reprovisionPolicy = "reprovisionAndResetData";
    expect(enrollmentGroups.map((e) => [e.label, e.enrollmentGroupId, e.spec, e.adopt])).toEqual([
      [
        "enrollmentGroups[0] (Every-Field)",
        "every-field",
        {
          enrollmentGroupId: "Every-Field",
          attestationType: "symmetricKey",
          primaryKey: { config: "p" },
          secondaryKey: { config: "s" },
          iotEdge: true,
          allocationPolicy: "custom",
          iotHubs: [hubs[0]],
          customAllocation: { webhookUrl: "https://alloc.example/api", apiVersion: "2021-10-01" },
          reprovisionPolicy,
          initialTwin: { tags: { a: 1 }, properties: { desired: { b: 2 } } },
          enabled: false,
        },
        true,
      ],
      [
        "enrollmentGroups[1] (signed)",
        "signed",
        {
          enrollmentGroupId: "signed",
          attestationType: "x509",
          primaryCertificate: caPem,
          secondaryCertificate: caPem,
          reprovisionPolicy,
        },
        false,
      ],
      [
        "enrollmentGroups[2] (referenced)",
        "referenced",
        {
          enrollmentGroupId: "referenced",
          attestationType: "x509",
          primaryCaReference: "root-1",
          secondaryCaReference: "root-2",
          reprovisionPolicy,
        },
        false,
      ],
    ]);
  });

  test("every field of the schema, in each attestation kind, reaches the model", () => {
    const tpmKey = Buffer.alloc(64, 1).toString("base64");
    const entries = loadManifest(
      write(`individualEnrollments:
  - registrationId: every-field
    attestation: { symmetricKey: { primaryKey: { config: p }, secondaryKey: { config: s } } }
    deviceId: every-field-device
    iotEdge: true
    allocationPolicy: custom
    iotHubs: [${hubs[0]}]
    customAllocation: { webhookUrl: "https://alloc.example/api", apiVersion: "2021-10-01" }
    reprovisionPolicy: never
    initialTwin: { tags: { a: 1 }, properties: { desired: { b: 2 } } }
    enabled: false
    optionalDeviceInformation: { model: m }
    adopt: true
  - attestation: { x509: { primaryCertificate: certs/dev1.pem, secondaryCertificate: certs/dev1.pem } }
  - registrationId: tpm-1
    attestation: { tpm: { endorsementKey: ${tpmKey}, storageRootKey: ${tpmKey} } }
`),
      { linkedHubs: hubs },
    );
    expect(entries.map((e) => ({ spec: e.spec, adopt: e.adopt }))).toEqual([
      {
        spec: {
          registrationId: "every-field",
          attestationType: "symmetricKey",
          primaryKey: { config: "p" },
          secondaryKey: { config: "s" },
          deviceId: "every-field-device",
          iotEdge: true,
          allocationPolicy: "custom",
          iotHubs: [hubs[0]],
          customAllocation: { webhookUrl: "https://alloc.example/api", apiVersion: "2021-10-01" },
          reprovisionPolicy: "never",
          initialTwin: { tags: { a: 1 }, properties: { desired: { b: 2 } } },
          enabled: false,
          optionalDeviceInformation: { model: "m" },
        },
        adopt: true,
      },
      {
        spec: { attestationType: "x509", primaryCertificate: dev1Pem, secondaryCertificate: dev1Pem },
        adopt: false,
      },
      {
        spec: { registrationId: "tpm-1", attestationType: "tpm", endorsementKey: tpmKey, storageRootKey: tpmKey },
        adopt: false,
      },
    ]);
  });

  test("check accepts exactly the schema's enum values (it reads them from the schema)", () => {
    const spec = (extra: Partial<EnrollmentSpec>): EnrollmentSpec => ({
      registrationId: "e",
      attestationType: "symmetricKey",
      ...extra,
    });
    expect(allocationPolicies).toEqual(schema.definitions.allocationPolicy.enum);
    expect(reprovisionPolicies).toEqual(schema.definitions.reprovisionPolicy.enum);
    for (const allocationPolicy of allocationPolicies) {
      const extra = allocationPolicy === "static" ? { iotHubs: [hubs[0]] } : {};
      const custom =
        allocationPolicy === "custom" ? { customAllocation: { webhookUrl: "https://a.example", apiVersion: "1" } } : {};
      expect(normalizeEnrollment(spec({ allocationPolicy, ...extra, ...custom })).failures).toEqual([]);
    }
    expect(normalizeEnrollment(spec({ allocationPolicy: "Hashed" as never })).failures).toEqual([
      {
        property: "allocationPolicy",
        reason: 'must be one of hashed, geoLatency, static, custom (got string "Hashed")',
      },
    ]);
  });

  test("every stack's manifest points editors at the schema", () => {
    const stacks = path.join(__dirname, "..", "..", "stacks");
    for (const stack of fs.readdirSync(stacks).filter((s) => fs.existsSync(path.join(stacks, s, "enrollments.yaml")))) {
      const first = fs.readFileSync(path.join(stacks, stack, "enrollments.yaml"), "utf8").split("\n")[0];
      const target = /^# yaml-language-server: \$schema=(.+)$/.exec(first)?.[1] ?? "";
      expect([stack, path.resolve(stacks, stack, target)]).toEqual([
        stack,
        path.join(__dirname, "..", "enrollments.schema.json"),
      ]);
    }
  });
});
