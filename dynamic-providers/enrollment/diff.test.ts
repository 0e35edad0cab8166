import { diffEnrollment } from "./diff";
import { normalizeEnrollment } from "./normalize";
import { propertyPolicies } from "./properties";
import type { EnrollmentInputs, EnrollmentOutputs, EnrollmentSpec } from "./types";

const base: EnrollmentSpec = {
  registrationId: "dev",
  attestation: { symmetricKey: {} },
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
      deleteBeforeReplace: false,
    });
    expect(propertyPolicies[property as keyof EnrollmentOutputs]).toBe("update");
  });

  test("a new registration ID replaces, creating the new one first", () => {
    expect(diffEnrollment(outputs(base), inputs({ ...base, registrationId: "dev2" }))).toEqual({
      changes: true,
      replaces: ["registrationId"],
      changed: ["registrationId"],
      deleteBeforeReplace: false,
    });
  });

  test("a new attestation type replaces, deleting first (the registration ID stays the same)", () => {
    const tpm = inputs({ ...base, attestation: { tpm: { endorsementKey: "AAAA" } } });
    expect(diffEnrollment(outputs(base), tpm)).toEqual({
      changes: true,
      replaces: ["attestationType"],
      changed: ["attestationType", "endorsementKey"],
      deleteBeforeReplace: true,
    });
  });

  test("given keys are compared; changing one updates in place", () => {
    const k = (n: number): string => Buffer.alloc(32, n).toString("base64");
    const spec: EnrollmentSpec = { ...base, attestation: { symmetricKey: { primaryKey: k(1), secondaryKey: k(2) } } };
    expect(diffEnrollment(outputs(spec), inputs(spec)).changes).toBe(false);
    const rotated: EnrollmentSpec = {
      ...base,
      attestation: { symmetricKey: { primaryKey: k(3), secondaryKey: k(2) } },
    };
    expect(diffEnrollment(outputs(spec), inputs(rotated)).changed).toEqual(["primaryKey"]);
  });
});
