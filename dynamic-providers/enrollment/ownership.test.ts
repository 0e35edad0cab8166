import { normalizeEnrollment } from "./normalize";
import {
  contentHash,
  createRefusal,
  decideOwnership,
  markerKey,
  readMarker,
  withMarker,
  withoutMarker,
  type Ownership,
  type OwnershipQuestion,
} from "./ownership";
import type { EnrollmentInputs } from "./types";
import { enrollmentContent, fromDocument, markerOf, toDocument } from "./wire";

const stack = "organization/dps-enrollments/fleet";
const other = "organization/dps-enrollments/other";

describe("the marker", () => {
  test("sits beside the user's own keys, and comes off again leaving exactly them", () => {
    const marker = { stack, hash: "ab12" };
    const info = withMarker({ model: "gw-1000" }, marker);
    expect(info).toEqual({ model: "gw-1000", "dps-enrollments": { stack, hash: "ab12" } });
    expect(readMarker(info)).toEqual(marker);
    expect(withoutMarker(info)).toEqual({ model: "gw-1000" });
    expect(withMarker(undefined, marker)).toEqual({ [markerKey]: marker });
    expect(withoutMarker({ [markerKey]: marker })).toBeUndefined();
    expect(withoutMarker({ model: "x" })).toEqual({ model: "x" });
  });

  test("a malformed marker reads as none", () => {
    expect(readMarker(undefined)).toBeUndefined();
    expect(readMarker({ [markerKey]: "organization/p/s" })).toBeUndefined();
    expect(readMarker({ [markerKey]: { stack } })).toBeUndefined();
    expect(readMarker({ [markerKey]: null })).toBeUndefined();
  });
});

describe("contentHash", () => {
  test("is sha256 of canonical JSON: key order never changes it", () => {
    expect(contentHash({ b: 1, a: [1, 2] })).toBe("94a786c3662bc7beeb598efa7d8cb58d7bea25d6c275ea9785a0230ff1f8c2ba");
    expect(contentHash({ a: [1, 2], b: 1 })).toBe(contentHash({ b: 1, a: [1, 2] }));
    expect(contentHash({ a: [2, 1], b: 1 })).not.toBe(contentHash({ b: 1, a: [1, 2] }));
  });

  test("of an enrollment covers its DPS content, not keys, settings or where it lives", () => {
    const inputs = normalizeEnrollment(
      { registrationId: "dev-1", attestationType: "symmetricKey", optionalDeviceInformation: { model: "m1" } },
      { adopt: false },
    ).inputs as EnrollmentInputs;
    expect(enrollmentContent(inputs)).toEqual({
      registrationId: "dev-1",
      attestationType: "symmetricKey",
      iotEdge: false,
      iotHubs: [],
      reprovisionPolicy: "reprovisionAndMigrateData",
      enabled: true,
      optionalDeviceInformation: { model: "m1" },
    });
    const hash = "18e0a3bfb393bb4c73d80cc2096afc04c9eafac04954f6b8cf57afc1af8614aa";
    expect(contentHash(enrollmentContent(inputs))).toBe(hash);
    const elsewhere: EnrollmentInputs = {
      ...inputs,
      primaryKey: "a2V5",
      secondaryKey: "a2V5",
      adopt: true,
      ownerStack: stack,
      providerVersion: "9.9.9",
      serviceHostName: "other.azure-devices-provisioning.net",
      serviceAccessKey: "c2Fz",
    };
    expect(contentHash(enrollmentContent(elsewhere))).toBe(hash);
    expect(contentHash(enrollmentContent({ ...inputs, enabled: false }))).not.toBe(hash);
  });

  test("of the document DPS returns equals the hash of the inputs written, marker and server fields aside", () => {
    const inputs = normalizeEnrollment(
      {
        registrationId: "dev-1",
        attestationType: "symmetricKey",
        optionalDeviceInformation: { m: 1 },
      },
      { adopt: false },
    ).inputs as EnrollmentInputs;
    const marker = { stack, hash: contentHash(enrollmentContent(inputs)) };
    const written = toDocument(inputs, {}, marker);
    expect(written.optionalDeviceInformation).toEqual({ m: 1, "dps-enrollments": marker });
    const live = { ...written, etag: '"e1"', createdDateTimeUtc: "t", lastUpdatedDateTimeUtc: "t" };
    expect(markerOf(live)).toEqual(marker);
    const outs = fromDocument(live, inputs, {});
    // Refresh never sees the marker.
    expect(outs.optionalDeviceInformation).toEqual({ m: 1 });
    expect(contentHash(enrollmentContent(outs))).toBe(marker.hash);
  });
});

describe("decideOwnership", () => {
  const base: OwnershipQuestion = {
    stack,
    marker: undefined,
    liveHash: "live",
    desiredHash: "desired",
    adopt: false,
    markers: true,
    known: false,
  };
  const cases: [string, Partial<OwnershipQuestion>, Ownership][] = [
    [
      "marked by this stack, untouched since",
      { marker: { stack, hash: "live" } },
      { verdict: "ours", because: "marker" },
    ],
    [
      "marked by this stack, changed since but now exactly what is written",
      { marker: { stack, hash: "older" }, liveHash: "desired" },
      { verdict: "ours", because: "marker" },
    ],
    [
      "marked by this stack, changed in DPS since",
      { marker: { stack, hash: "older" } },
      { verdict: "refuse", because: "changed" },
    ],
    [
      "marked by this stack, changed in DPS since, adopt",
      { marker: { stack, hash: "older" }, adopt: true },
      { verdict: "adopt" },
    ],
    [
      "marked by another stack",
      { marker: { stack: other, hash: "live" } },
      { verdict: "refuse", because: "foreign", owner: other },
    ],
    [
      "marked by another stack, identical content",
      { marker: { stack: other, hash: "desired" }, liveHash: "desired", known: true },
      { verdict: "refuse", because: "foreign", owner: other },
    ],
    [
      "marked by another stack, adopt",
      { marker: { stack: other, hash: "live" }, adopt: true },
      { verdict: "adopt", previousOwner: other },
    ],
    ["unmarked", {}, { verdict: "refuse", because: "unmarked" }],
    ["unmarked, identical, create", { liveHash: "desired" }, { verdict: "refuse", because: "unmarked" }],
    [
      "unmarked, identical, in the state already (written before markers)",
      { liveHash: "desired", known: true },
      { verdict: "ours", because: "identical" },
    ],
    ["unmarked, different, in the state already", { known: true }, { verdict: "refuse", because: "unmarked" }],
    ["unmarked, adopt", { adopt: true }, { verdict: "adopt" }],
    [
      "a type without markers (groups), identical",
      { markers: false, liveHash: "desired" },
      { verdict: "ours", because: "identical" },
    ],
    ["a type without markers (groups), different", { markers: false }, { verdict: "refuse", because: "unmarked" }],
    [
      "no stack named by the program: its marker cannot be recognised",
      { stack: undefined, marker: { stack, hash: "live" } },
      { verdict: "refuse", because: "foreign", owner: stack },
    ],
  ];
  test.each(cases)("%s", (_name, question, verdict) => {
    expect(decideOwnership({ ...base, ...question })).toEqual(verdict);
  });
});

describe("createRefusal", () => {
  const subject = { what: "enrollment 'dev-1'", noun: "enrollment" };
  const adopt =
    "To take it over, set `adopt: true` on this enrollment (the manifest entry or the resource's args) and run " +
    "`pulumi up` again; Pulumi's `import` does not work with dynamic providers.";
  test.each([
    [
      { verdict: "refuse", because: "unmarked" } as const,
      `enrollment 'dev-1' already exists in DPS and this stack does not manage it. ${adopt}`,
    ],
    [
      { verdict: "refuse", because: "foreign", owner: other } as const,
      `enrollment 'dev-1' already exists in DPS and belongs to stack '${other}' (its ownership marker says so); this ` +
        `stack does not manage it. ${adopt}`,
    ],
    [
      { verdict: "refuse", because: "changed" } as const,
      "enrollment 'dev-1' already exists in DPS with this stack's ownership marker, but was changed in DPS since " +
        `this stack wrote it; nothing was overwritten. ${adopt}`,
    ],
  ])("%j", (refusal, message) => {
    expect(createRefusal(subject, refusal)).toBe(message);
  });
});

test("a manifest may not use the marker's key, and an empty optionalDeviceInformation is none", () => {
  expect(
    normalizeEnrollment({
      registrationId: "d",
      attestationType: "symmetricKey",
      optionalDeviceInformation: { [markerKey]: { stack, hash: "x" } },
    }).failures,
  ).toEqual([
    {
      property: "optionalDeviceInformation.dps-enrollments",
      reason: "is reserved for the provider's ownership marker",
    },
  ]);
  expect(
    normalizeEnrollment({ registrationId: "d", attestationType: "symmetricKey", optionalDeviceInformation: {} }).inputs
      ?.optionalDeviceInformation,
  ).toBeUndefined();
});
