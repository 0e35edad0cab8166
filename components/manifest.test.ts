import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";

import { defaultHubs } from "../emulator/config";
import { issueCertificate } from "../emulator/pki";
import { ManifestError, loadManifest } from "./manifest";

const hubs = ["emulator-hub-1.azure-devices.net", "emulator-hub-2.azure-devices.net"];
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-manifest-"));
  fs.mkdirSync(path.join(dir, "certs"));
  fs.writeFileSync(
    path.join(dir, "certs", "dev1.pem"),
    issueCertificate({ commonName: "dev1", clientAuth: true }).certPem,
  );
  fs.writeFileSync(path.join(dir, "certs", "notes.txt"), "not a certificate");
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(text: string): string {
  const file = path.join(dir, "enrollments.yaml");
  fs.writeFileSync(file, text);
  return file;
}

function problems(text: string): string[] {
  try {
    loadManifest(write(text), { linkedHubs: hubs, displayName: "stacks/test/enrollments.yaml" });
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error("expected the manifest to be refused");
}

test("the local stack's example manifest loads, with every field, naming the emulator's hubs by name", () => {
  const hubNames = Object.fromEntries(defaultHubs.map((hub) => [hub.name, hub.hostName]));
  const entries = loadManifest(path.join(__dirname, "..", "stacks", "local", "enrollments.yaml"), {
    linkedHubs: Object.values(hubNames),
    hubNames,
  });
  expect(entries.map((e) => e.registrationId)).toEqual([
    "mydevice",
    "edge-gateway-01",
    "sensor-0001",
    "tpm-device-01",
    "custom-allocated-01",
  ]);
  expect(entries[0].spec.initialTwin).toEqual({
    tags: {},
    properties: { desired: { devicetype: "waterflow", client: "" } },
  });
  expect(entries[1].keys).toEqual({
    primaryKey: { config: "edgeGatewayPrimaryKey" },
    secondaryKey: { config: "edgeGatewaySecondaryKey" },
  });
  expect(entries[1].spec.iotHubs).toEqual(["127.0.0.3"]);
  expect(entries[2].spec.enabled).toBe(false);
  expect(entries[3].spec.reprovisionPolicy).toBe("reprovisionAndMigrateData");
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
});

test("every problem names the file, the entry and the field", () => {
  expect(
    problems(`
individualEnrollments:
  - attestation: { x509: { primaryCertificate: certs/missing.pem } }
  - attestation: { x509: { primaryCertificate: certs/notes.txt } }
  - registrationId: other
    attestation: { x509: { primaryCertificate: certs/dev1.pem } }
  - registrationId: dup
    attestation: { symmetricKey: {} }
  - registrationId: DUP
    attestation: { symmetricKey: {} }
  - registrationId: literal
    attestation: { symmetricKey: { primaryKey: c2VjcmV0c2VjcmV0c2VjcmV0, secondaryKey: c2VjcmV0c2VjcmV0c2VjcmV0 } }
  - registrationId: stat
    attestation: { symmetricKey: {} }
    allocationPolicy: static
    iotHubs: [emulator-hub-1.azure-devices.net, emulator-hub-2.azure-devices.net]
  - registrationId: cust
    attestation: { symmetricKey: {} }
    allocationPolicy: custom
  - registrationId: far
    attestation: { symmetricKey: {} }
    iotHubs: [far-away.azure-devices.net]
  - registrationId: typo
    attestation: { symmetricKey: {} }
    iotEgde: true
`),
  ).toEqual([
    "stacks/test/enrollments.yaml: individualEnrollments[0]: attestation.x509.primaryCertificate: cannot read certs/missing.pem (ENOENT)",
    "stacks/test/enrollments.yaml: individualEnrollments[1]: attestation.x509.primaryCertificate: is not an X.509 certificate (PEM or DER expected)",
    "stacks/test/enrollments.yaml: individualEnrollments[2] (other): registrationId: 'other' must equal the primary certificate's CN 'dev1'",
    "stacks/test/enrollments.yaml: individualEnrollments[4] (DUP): registrationId 'dup' is also used by stacks/test/enrollments.yaml: individualEnrollments[3] (dup)",
    "stacks/test/enrollments.yaml: individualEnrollments[5] (literal): attestation.symmetricKey: keys must be references to secret stack config, e.g. primaryKey: {config: myDevicePrimaryKey}, never literal keys",
    "stacks/test/enrollments.yaml: individualEnrollments[6] (stat): iotHubs: allocationPolicy static takes one hub at most (got 2)",
    "stacks/test/enrollments.yaml: individualEnrollments[7] (cust): customAllocation: allocationPolicy custom needs customAllocation.webhookUrl and customAllocation.apiVersion",
    `stacks/test/enrollments.yaml: individualEnrollments[8] (far): iotHubs: 'far-away.azure-devices.net' is not a hub linked to this DPS (linked: ${hubs.join(", ")})`,
    "stacks/test/enrollments.yaml: individualEnrollments[9] (typo): unknown field 'iotEgde'",
  ]);
});

test("YAML syntax errors and a wrong shape name the file", () => {
  expect(problems("individualEnrollments: [")[0]).toMatch(/^stacks\/test\/enrollments\.yaml: /);
  expect(problems("- just a list")).toEqual([
    "stacks/test/enrollments.yaml: expected a mapping with individualEnrollments: (and optionally defaults:)",
  ]);
});

describe("the JSON Schema editors use (stacks/enrollments.schema.json)", () => {
  const schema = JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "stacks", "enrollments.schema.json"), "utf8"),
  ) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  test("accepts the local stack's manifest", () => {
    const doc: unknown = parse(
      fs.readFileSync(path.join(__dirname, "..", "stacks", "local", "enrollments.yaml"), "utf8"),
    );
    expect(validate(doc)).toBe(true);
  });

  test("refuses literal keys and unknown fields", () => {
    const doc = {
      individualEnrollments: [
        { registrationId: "a", attestation: { symmetricKey: { primaryKey: "literal" } }, iotEgde: true },
      ],
    };
    expect(validate(doc)).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([
      "/individualEnrollments/0 must NOT have additional properties",
      "/individualEnrollments/0/attestation/symmetricKey/primaryKey must be object",
    ]);
  });
});

test("with hubNames, iotHubs may name hubs by name; host names still work; an unknown name is refused", () => {
  const hubNames = { "hub-a": "hub-a.azure-devices.net", "hub-b": "hub-b.azure-devices.net" };
  const options = { linkedHubs: Object.values(hubNames), hubNames, displayName: "stacks/test/enrollments.yaml" };
  const file = write(
    "individualEnrollments:\n" +
      "  - { registrationId: d1, attestation: { symmetricKey: {} }, iotHubs: [hub-b, hub-a.azure-devices.net] }\n",
  );
  expect(loadManifest(file, options).map((e) => e.spec.iotHubs)).toEqual([
    ["hub-b.azure-devices.net", "hub-a.azure-devices.net"],
  ]);
  write(
    "individualEnrollments:\n" +
      "  - { registrationId: d2, attestation: { symmetricKey: {} }, iotHubs: [hub-c, hub-a] }\n" +
      "  - { registrationId: d3, attestation: { symmetricKey: {} }, iotHubs: [hub-c.azure-devices.net] }\n",
  );
  let problems: string[] = [];
  try {
    loadManifest(file, options);
  } catch (err) {
    problems = (err as ManifestError).problems;
  }
  expect(problems).toEqual([
    "stacks/test/enrollments.yaml: individualEnrollments[0] (d2): iotHubs: unknown hub 'hub-c' (this stack's hubs: hub-a, hub-b)",
    "stacks/test/enrollments.yaml: individualEnrollments[1] (d3): iotHubs: 'hub-c.azure-devices.net' is not a hub linked to this DPS (linked: hub-a.azure-devices.net, hub-b.azure-devices.net)",
  ]);
});
