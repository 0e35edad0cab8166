import { issueCertificate } from "../../emulator/pki";
import { normalizeEnrollment, normalizeGroup, normalizeServiceTarget, tpmGroupReason } from "./normalize";
import type { EnrollmentSpec, GroupSpec } from "./types";

const hub1 = "hub-1.azure-devices.net";
const hub2 = "hub-2.azure-devices.net";
const key = (fill: number, bytes = 32): string => Buffer.alloc(bytes, fill).toString("base64");
const device = issueCertificate({ commonName: "mydevice", clientAuth: true });
const derOf = (pem: string): string => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

describe("check: normalization", () => {
  test("fills every default", () => {
    const result = normalizeEnrollment({ registrationId: "Sym-1", attestationType: "symmetricKey" });
    expect(result).toEqual({
      failures: [],
      inputs: {
        registrationId: "sym-1",
        attestationType: "symmetricKey",
        iotEdge: false,
        iotHubs: [],
        reprovisionPolicy: "reprovisionAndMigrateData",
        enabled: true,
        adopt: false,
      },
    });
  });

  test("static allocation may name no hub: the DPS's linked hubs then apply, as the service accepts it", () => {
    const spec: EnrollmentSpec = { registrationId: "s", attestationType: "symmetricKey", allocationPolicy: "static" };
    expect(normalizeEnrollment(spec, { linkedHubs: [hub1, hub2] })).toEqual({
      failures: [],
      inputs: {
        registrationId: "s",
        attestationType: "symmetricKey",
        iotEdge: false,
        allocationPolicy: "static",
        iotHubs: [],
        reprovisionPolicy: "reprovisionAndMigrateData",
        enabled: true,
        adopt: false,
      },
    });
  });

  test("an X.509 registration ID comes from the certificate's CN; PEM and DER normalize alike", () => {
    const fromPem = normalizeEnrollment({ attestationType: "x509", primaryCertificate: device.certPem });
    const fromDer = normalizeEnrollment({ attestationType: "x509", primaryCertificate: derOf(device.certPem) });
    expect(fromPem.inputs?.registrationId).toBe("mydevice");
    expect(fromPem.inputs?.primaryCertificate).toBe(derOf(device.certPem));
    expect(fromDer.inputs).toEqual(fromPem.inputs);
  });

  test("keeps everything the portal form has", () => {
    const spec: EnrollmentSpec = {
      registrationId: "full",
      attestationType: "symmetricKey",
      primaryKey: key(1),
      secondaryKey: key(2, 64),
      deviceId: "full-device",
      iotEdge: true,
      allocationPolicy: "custom",
      iotHubs: ["HUB-1.azure-devices.net", hub2],
      customAllocation: { webhookUrl: "https://alloc.example/api", apiVersion: "2021-10-01" },
      reprovisionPolicy: "never",
      initialTwin: { tags: { a: 1 }, properties: { desired: { devicetype: "waterflow" } } },
      enabled: false,
      optionalDeviceInformation: { model: "x" },
    };
    expect(normalizeEnrollment(spec, { linkedHubs: [hub1, hub2], adopt: true }).inputs).toEqual({
      registrationId: "full",
      attestationType: "symmetricKey",
      primaryKey: key(1),
      secondaryKey: key(2, 64),
      deviceId: "full-device",
      iotEdge: true,
      allocationPolicy: "custom",
      iotHubs: [hub1, hub2],
      customAllocation: { webhookUrl: "https://alloc.example/api", apiVersion: "2021-10-01" },
      reprovisionPolicy: "never",
      initialTwin: { tags: { a: 1 }, properties: { desired: { devicetype: "waterflow" } } },
      enabled: false,
      optionalDeviceInformation: { model: "x" },
      adopt: true,
    });
  });
});

describe("check: every failure names the property and the reason", () => {
  const cases: [string, EnrollmentSpec, { property: string; reason: string; index?: number }[]][] = [
    [
      "values of the wrong type (a JavaScript program), each named",
      {
        registrationId: 123,
        attestationType: "symmetricKey",
        deviceId: 42,
        initialTwin: [1],
        iotEdge: "yes",
      } as unknown as EnrollmentSpec,
      [
        { property: "iotEdge", reason: 'must be true or false (got string "yes")' },
        { property: "registrationId", reason: "must be a string (got number 123)" },
        { property: "deviceId", reason: "must be a string (got number 42)" },
        { property: "initialTwin", reason: "must be a mapping (got a list)" },
      ],
    ],
    [
      "a misspelt twin field (a JavaScript program)",
      {
        registrationId: "t",
        attestationType: "symmetricKey",
        initialTwin: { tagz: {}, properties: { desird: {} } },
      } as unknown as EnrollmentSpec,
      [
        { property: "initialTwin.tagz", reason: "unknown field; did you mean 'tags'?" },
        { property: "initialTwin.properties.desird", reason: "unknown field; did you mean 'desired'?" },
      ],
    ],
    [
      "a field of another attestation type",
      { attestationType: "x509", primaryCertificate: device.certPem, endorsementKey: "AAAA" },
      [{ property: "endorsementKey", reason: "is only used with attestationType tpm" }],
    ],
    [
      "no attestation",
      { registrationId: "a" } as EnrollmentSpec,
      [{ property: "attestationType", reason: "must be one of x509, tpm, symmetricKey (got nothing)" }],
    ],
    [
      "not a certificate",
      { attestationType: "x509", primaryCertificate: "hello" },
      [
        {
          property: "primaryCertificate",
          reason: "is not an X.509 certificate (PEM or DER expected)",
        },
      ],
    ],
    [
      "CN mismatch",
      { registrationId: "other", attestationType: "x509", primaryCertificate: device.certPem },
      [{ property: "registrationId", reason: "'other' must equal the primary certificate's CN 'mydevice'" }],
    ],
    [
      "bad characters",
      { registrationId: "bad/id", attestationType: "symmetricKey" },
      [
        {
          property: "registrationId",
          reason: "'bad/id' may only hold letters, digits and - . _ : and must end with a letter, digit or -",
        },
      ],
    ],
    [
      "too long",
      { registrationId: "a".repeat(129), attestationType: "symmetricKey" },
      [{ property: "registrationId", reason: `'${"a".repeat(129)}' is longer than 128 characters` }],
    ],
    [
      "static with two hubs",
      { registrationId: "s", attestationType: "symmetricKey", allocationPolicy: "static", iotHubs: [hub1, hub2] },
      [{ property: "iotHubs", reason: "allocationPolicy static takes one hub at most (got 2)" }],
    ],
    [
      "custom without webhook",
      { registrationId: "c", attestationType: "symmetricKey", allocationPolicy: "custom" },
      [
        {
          property: "customAllocation",
          reason: "allocationPolicy custom needs customAllocation.webhookUrl and customAllocation.apiVersion",
        },
      ],
    ],
    [
      "unlinked hub",
      { registrationId: "u", attestationType: "symmetricKey", iotHubs: ["elsewhere.azure-devices.net"] },
      [
        {
          property: "iotHubs",
          reason: `'elsewhere.azure-devices.net' is not a hub linked to this DPS (linked: ${hub1}, ${hub2})`,
          index: 0,
        },
      ],
    ],
    [
      "malformed key",
      { registrationId: "k", attestationType: "symmetricKey", primaryKey: "short", secondaryKey: key(1) },
      [{ property: "primaryKey", reason: "must be base64 of 16 to 64 bytes" }],
    ],
    [
      "one key only",
      { registrationId: "k1", attestationType: "symmetricKey", primaryKey: key(1) },
      [
        {
          property: "secondaryKey",
          reason: "give both primaryKey and secondaryKey, or neither (DPS then generates both)",
        },
      ],
    ],
    [
      "malformed endorsement key",
      { registrationId: "t", attestationType: "tpm", endorsementKey: "not base64!" },
      [{ property: "endorsementKey", reason: "must be the base64 TPM endorsement key" }],
    ],
    [
      "unknown reprovision policy",
      { registrationId: "r", attestationType: "symmetricKey", reprovisionPolicy: "sometimes" as never },
      [
        {
          property: "reprovisionPolicy",
          reason: 'must be one of reprovisionAndMigrateData, reprovisionAndResetData, never (got string "sometimes")',
        },
      ],
    ],
  ];
  test.each(cases)("%s", (_name, spec, failures) => {
    expect(normalizeEnrollment(spec, { linkedHubs: [hub1, hub2] })).toEqual({ failures });
  });
});

describe("check: the DPS an enrollment names (serviceHostName)", () => {
  const key = Buffer.alloc(32, 7).toString("base64");
  test.each([
    ["none", {}, { target: {}, failures: [] }],
    [
      "a host, lower-cased, Entra ID",
      { serviceHostName: "My-DPS.azure-devices-provisioning.net" },
      { target: { serviceHostName: "my-dps.azure-devices-provisioning.net" }, failures: [] },
    ],
    [
      "a key without a name uses provisioningserviceowner",
      { serviceHostName: "my-dps.azure-devices-provisioning.net", serviceAccessKey: key },
      {
        target: {
          serviceHostName: "my-dps.azure-devices-provisioning.net",
          serviceAccessKeyName: "provisioningserviceowner",
          serviceAccessKey: key,
        },
        failures: [],
      },
    ],
    [
      "a key name without a key",
      { serviceHostName: "my-dps.azure-devices-provisioning.net", serviceAccessKeyName: "enrollmentwrite" },
      {
        target: { serviceHostName: "my-dps.azure-devices-provisioning.net" },
        failures: [{ property: "serviceAccessKey", reason: "is required with serviceAccessKeyName 'enrollmentwrite'" }],
      },
    ],
    [
      "a key without a host",
      { serviceAccessKey: key },
      { target: {}, failures: [{ property: "serviceAccessKey", reason: "is only used with serviceHostName" }] },
    ],
  ])("%s", (_, given, expected) => {
    expect(normalizeServiceTarget(given)).toEqual(expected);
  });
});

describe("check: enrollment groups", () => {
  const ca = issueCertificate({ commonName: "Group CA", isCA: true });
  const groupDefaults = {
    iotEdge: false,
    iotHubs: [],
    reprovisionPolicy: "reprovisionAndMigrateData",
    enabled: true,
    adopt: false,
  };

  test("an X.509 group by signing certificate: the CA's DER, the group ID lower-cased, every default", () => {
    const spec: GroupSpec = {
      enrollmentGroupId: "X509-Devices",
      attestationType: "x509",
      primaryCertificate: ca.certPem,
    };
    expect(normalizeGroup(spec)).toEqual({
      failures: [],
      inputs: {
        enrollmentGroupId: "x509-devices",
        attestationType: "x509",
        primaryCertificate: derOf(ca.certPem),
        ...groupDefaults,
      },
    });
  });

  test("an X.509 group by CA reference, checked against the DPS's certificates when they are known", () => {
    const spec: GroupSpec = { enrollmentGroupId: "g", attestationType: "x509", primaryCaReference: "root-ca" };
    expect(normalizeGroup(spec, { caReferences: ["root-ca"] }).inputs).toEqual({
      enrollmentGroupId: "g",
      attestationType: "x509",
      primaryCaReference: "root-ca",
      ...groupDefaults,
    });
    expect(normalizeGroup(spec).failures).toEqual([]);
    expect(normalizeGroup(spec, { caReferences: [] }).failures).toEqual([
      {
        property: "primaryCaReference",
        reason:
          "'root-ca' is not a CA certificate of this stack's DPS (it holds none: add one to config caCertificates)",
      },
    ]);
  });

  test("a symmetric-key group: both keys or neither, as for individual enrollments", () => {
    expect(normalizeGroup({ enrollmentGroupId: "s", attestationType: "symmetricKey" }).inputs).toEqual({
      enrollmentGroupId: "s",
      attestationType: "symmetricKey",
      ...groupDefaults,
    });
    expect(
      normalizeGroup({ enrollmentGroupId: "s", attestationType: "symmetricKey", primaryKey: key(1) }).failures,
    ).toEqual([
      {
        property: "secondaryKey",
        reason: "give both primaryKey and secondaryKey, or neither (DPS then generates both)",
      },
    ]);
  });

  test("refused: TPM, a leaf as signing certificate, both attestations of X.509, fields of individual enrollments", () => {
    expect(normalizeGroup({ enrollmentGroupId: "t", attestationType: "tpm" as never }).failures).toEqual([
      { property: "attestationType", reason: tpmGroupReason },
    ]);
    expect(
      normalizeGroup({ enrollmentGroupId: "l", attestationType: "x509", primaryCertificate: device.certPem }).failures,
    ).toEqual([
      {
        property: "primaryCertificate",
        reason:
          "is not a CA certificate ('mydevice' has no basic constraint CA:TRUE): a group's signing certificate is " +
          "the root or intermediate CA that signed its devices' certificates",
      },
    ]);
    const both = { primaryCertificate: ca.certPem, primaryCaReference: "root-ca" };
    expect(normalizeGroup({ enrollmentGroupId: "b", attestationType: "x509", ...both }).failures).toEqual([
      { property: "primaryCaReference", reason: "give signing certificates or CA references, not both" },
    ]);
    const foreign = { registrationId: "r", deviceId: "d", optionalDeviceInformation: {} };
    expect(normalizeGroup({ enrollmentGroupId: "f", attestationType: "symmetricKey", ...foreign }).failures).toEqual(
      ["registrationId", "deviceId", "optionalDeviceInformation"].map((property) => ({
        property,
        reason: "is a field of individual enrollments, not of enrollment groups",
      })),
    );
    expect(normalizeGroup({ attestationType: "x509" } as GroupSpec).failures).toEqual([
      { property: "enrollmentGroupId", reason: "is required" },
      {
        property: "primaryCertificate",
        reason: "is required with attestationType x509 (or primaryCaReference, a CA certificate the DPS holds)",
      },
    ]);
  });
});
