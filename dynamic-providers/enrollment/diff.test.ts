import { createHash } from "node:crypto";

import { diffEnrollment, diffGroup } from "./diff";
import { normalizeEnrollment, normalizeGroup } from "./normalize";
import { propertyPolicies } from "./properties";
import type {
  EnrollmentInputs,
  EnrollmentOutputs,
  EnrollmentSpec,
  GroupInputs,
  GroupOutputs,
  GroupSpec,
} from "./types";

const base: EnrollmentSpec = {
  registrationId: "dev",
  attestationType: "symmetricKey",
  initialTwin: { tags: { a: 1, b: 2 }, properties: { desired: {} } },
};

function inputs(spec: EnrollmentSpec): EnrollmentInputs {
  const result = normalizeEnrollment(spec);
  if (!result.inputs) throw new Error(JSON.stringify(result.failures));
  return result.inputs;
}

function outputs(spec: EnrollmentSpec, extra: Partial<EnrollmentOutputs> = {}): EnrollmentOutputs {
  return { ...inputs(spec), etag: '"e1"', createdDateTimeUtc: "t0", lastUpdatedDateTimeUtc: "t1", ...extra };
}

const certA = "MIIBAAECAwQ="; // any base64 DER: diff only hashes it
const certB = "MIIBAAUGBwg=";
const thumbprint = (der: string): string =>
  createHash("sha1").update(Buffer.from(der, "base64")).digest("hex").toUpperCase();

describe("diff of certificates (outputs hold sha1:<thumbprint>, states from 0.1.0 the text)", () => {
  const x509 = (primary: string): EnrollmentInputs => ({
    ...inputs({ ...base, attestationType: "symmetricKey" }),
    attestationType: "x509",
    primaryCertificate: primary,
  });
  test.each([
    ["a thumbprint reference vs the same certificate", `sha1:${thumbprint(certA)}`, certA, []],
    ["the text (older state) vs the same certificate", certA, certA, []],
    ["a thumbprint reference vs another certificate", `sha1:${thumbprint(certA)}`, certB, ["primaryCertificate"]],
    ["the text (older state) vs another certificate", certA, certB, ["primaryCertificate"]],
  ])("%s", (_, old, next, changed) => {
    const olds: EnrollmentOutputs = { ...x509(old), etag: '"e"', createdDateTimeUtc: "t", lastUpdatedDateTimeUtc: "t" };
    expect(diffEnrollment(olds, x509(next)).changed).toEqual(changed);
  });

  test("certificateValidity, which check derives for policies, is never a change (outputs never hold it)", () => {
    const ref = `sha1:${thumbprint(certA)}`;
    const olds: EnrollmentOutputs = { ...x509(ref), etag: '"e"', createdDateTimeUtc: "t", lastUpdatedDateTimeUtc: "t" };
    const news: EnrollmentInputs = { ...x509(ref), certificateValidity: [[1795887870, 1827423870]] };
    expect(diffEnrollment(olds, news)).toEqual({
      changes: false,
      replaces: [],
      changed: [],
      changesInDps: false,
      deleteBeforeReplace: false,
    });
    const otherValidity: EnrollmentOutputs = { ...olds, certificateValidity: [[1, 2]] };
    expect(diffEnrollment(otherValidity, news).changed).toEqual([]);
  });
});

describe("diff", () => {
  test("no changes when only server-managed fields, key order or DPS-generated keys differ", () => {
    const olds = outputs(base, {
      primaryKey: "generated",
      secondaryKey: "generated2",
      registrationState: { status: "assigned" },
    });
    const news = inputs({ ...base, initialTwin: { tags: { b: 2, a: 1 }, properties: { desired: {} } } });
    expect(diffEnrollment(olds, news)).toEqual({
      changes: false,
      replaces: [],
      changed: [],
      changesInDps: false,
      deleteBeforeReplace: false,
    });
  });

  test.each([
    ["deviceId", { deviceId: "other" }],
    ["iotEdge", { iotEdge: true }],
    ["enabled", { enabled: false }],
    ["reprovisionPolicy", { reprovisionPolicy: "never" }],
    ["initialTwin", { initialTwin: { tags: { a: 2 } } }],
    ["allocationPolicy", { allocationPolicy: "hashed" }],
    ["optionalDeviceInformation", { optionalDeviceInformation: { m: 1 } }],
  ] as [string, Partial<EnrollmentSpec>][])("a change of %s updates in place", (property, change) => {
    expect(diffEnrollment(outputs(base), inputs({ ...base, ...change }))).toEqual({
      changes: true,
      replaces: [],
      changed: [property],
      changesInDps: true,
      deleteBeforeReplace: false,
    });
    expect(propertyPolicies[property as keyof EnrollmentOutputs]).toBe("update");
  });

  test("a new registration ID replaces, creating the new one first", () => {
    expect(diffEnrollment(outputs(base), inputs({ ...base, registrationId: "dev2" }))).toEqual({
      changes: true,
      replaces: ["registrationId"],
      changed: ["registrationId"],
      changesInDps: true,
      deleteBeforeReplace: false,
    });
  });

  test("a new attestation type replaces, deleting first (the registration ID stays the same)", () => {
    const tpm = inputs({ ...base, attestationType: "tpm", endorsementKey: "AAAA" });
    expect(diffEnrollment(outputs(base), tpm)).toEqual({
      changes: true,
      replaces: ["attestationType"],
      changed: ["attestationType", "endorsementKey"],
      changesInDps: true,
      deleteBeforeReplace: true,
    });
  });

  test("given keys are compared; changing one updates in place", () => {
    const k = (n: number): string => Buffer.alloc(32, n).toString("base64");
    const spec: EnrollmentSpec = { ...base, attestationType: "symmetricKey", primaryKey: k(1), secondaryKey: k(2) };
    expect(diffEnrollment(outputs(spec), inputs(spec)).changes).toBe(false);
    const rotated: EnrollmentSpec = {
      ...base,
      attestationType: "symmetricKey",
      primaryKey: k(3),
      secondaryKey: k(2),
    };
    expect(diffEnrollment(outputs(spec), inputs(rotated)).changed).toEqual(["primaryKey"]);
  });
});

describe("diff of the provider version (the state's own record)", () => {
  test.each([
    ["a state written before versions were recorded", undefined],
    ["a state of an older version", "0.1.9"],
  ])("%s: an update that changes nothing in DPS", (_, written) => {
    const olds = outputs(base, { providerVersion: written });
    expect(diffEnrollment(olds, { ...inputs(base), providerVersion: "0.2.0" })).toEqual({
      changes: true,
      replaces: [],
      changed: ["providerVersion"],
      changesInDps: false,
      deleteBeforeReplace: false,
    });
    expect(propertyPolicies.providerVersion).toBe("state");
  });

  test("with another change, the update changes DPS", () => {
    const olds = outputs(base, { providerVersion: "0.1.9" });
    const news = { ...inputs({ ...base, enabled: false }), providerVersion: "0.2.0" };
    expect(diffEnrollment(olds, news)).toMatchObject({ changed: ["enabled", "providerVersion"], changesInDps: true });
  });
});

describe("diff of enrollment groups (groupPropertyPolicies)", () => {
  const group = (extra: Partial<GroupSpec> = {}): GroupInputs => {
    const result = normalizeGroup({ enrollmentGroupId: "g", attestationType: "symmetricKey", ...extra });
    if (!result.inputs) throw new Error(JSON.stringify(result.failures));
    return result.inputs;
  };
  const stored = (inputs: GroupInputs): GroupOutputs => ({
    ...inputs,
    etag: '"e1"',
    createdDateTimeUtc: "t0",
    lastUpdatedDateTimeUtc: "t1",
  });
  const signed = (der: string): GroupInputs => ({ ...group(), attestationType: "x509", primaryCertificate: der });

  test("no change when only DPS's fields and generated keys differ", () => {
    expect(diffGroup({ ...stored(group()), primaryKey: "generated" }, group())).toEqual({
      changes: false,
      replaces: [],
      changed: [],
      changesInDps: false,
      deleteBeforeReplace: false,
    });
  });

  test("a new signing certificate (by thumbprint) or CA reference updates in place", () => {
    const old = { ...stored(signed(certA)), primaryCertificate: `sha1:${thumbprint(certA)}` };
    expect(diffGroup(old, signed(certB))).toMatchObject({ changed: ["primaryCertificate"], replaces: [] });
    expect(diffGroup(old, signed(certA)).changes).toBe(false);
    const referenced = { ...group(), attestationType: "x509" as const, primaryCaReference: "root-1" };
    expect(diffGroup(stored(referenced), { ...referenced, primaryCaReference: "root-2" })).toMatchObject({
      changed: ["primaryCaReference"],
      replaces: [],
    });
  });

  test("another attestation type replaces, deleting first; another group ID replaces, creating first", () => {
    expect(diffGroup(stored(group()), signed(certA))).toEqual({
      changes: true,
      replaces: ["attestationType"],
      changed: ["attestationType", "primaryCertificate"],
      changesInDps: true,
      deleteBeforeReplace: true,
    });
    expect(diffGroup(stored(group()), { ...group(), enrollmentGroupId: "g2" })).toMatchObject({
      replaces: ["enrollmentGroupId"],
      deleteBeforeReplace: false,
    });
  });

  test("disabling, the twin, hubs and policies update in place", () => {
    const next = group({
      enabled: false,
      initialTwin: { properties: { desired: { devicetype: "waterflow" } } },
      reprovisionPolicy: "never",
    });
    expect(diffGroup(stored(group()), next)).toMatchObject({
      changed: ["reprovisionPolicy", "initialTwin", "enabled"],
      replaces: [],
    });
  });
});
