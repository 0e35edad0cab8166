import * as os from "node:os";

import { createIndividualEnrollmentProvider, type RawInputs } from "./individual-enrollment-provider";
import { normalizeEnrollment } from "./normalize";
import { createRuntime } from "./runtime";
import type { EnrollmentOutputs } from "./types";
import { allowOlderProviderVariable, compareVersions, providerVersion } from "./version";

// check and diff are pure: a runtime that never connects is enough.
const provider = createIndividualEnrollmentProvider(createRuntime(os.tmpdir()));

describe("check", () => {
  test("is normalize's result with the provider's version, the package's own", async () => {
    const raw: RawInputs = { registrationId: "Dev-1", attestationType: "symmetricKey" };
    expect(providerVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await provider.check(raw, raw)).toEqual({ inputs: { ...normalizeEnrollment(raw).inputs, providerVersion } });
  });

  test("an input the resource does not have is named, with the one meant", async () => {
    const raw = { registrationId: "d", attestationType: "symmetricKey", iotEgde: true, colour: "blue" } as RawInputs;
    expect(await provider.check(raw, raw)).toEqual({
      failures: [
        { property: "iotEgde", reason: "is not an input of IndividualEnrollment; did you mean 'iotEdge'?" },
        { property: "colour", reason: "is not an input of IndividualEnrollment" },
      ],
    });
  });
});

describe("state a newer provider wrote", () => {
  const olds = {
    ...normalizeEnrollment({ registrationId: "d", attestationType: "symmetricKey" }).inputs,
    etag: '"e"',
    createdDateTimeUtc: "t",
    lastUpdatedDateTimeUtc: "t",
    providerVersion: "99.0.0",
  } as EnrollmentOutputs;
  const refusal =
    "enrollment 'd' in this stack's state was last written by @dps-enrollments/enrollment-provider 99.0.0, and " +
    `this is ${providerVersion}, which may not understand it. Install @dps-enrollments/enrollment-provider ` +
    `99.0.0 or newer in this program, or set DPS_ENROLLMENTS_ALLOW_OLDER_PROVIDER=true to run ${providerVersion} anyway.`;

  afterEach(() => {
    delete process.env[allowOlderProviderVariable];
  });

  test("is refused by diff, read, update and delete before anything reaches DPS", async () => {
    const news = { ...olds, providerVersion };
    await expect(provider.diff("d", olds, news)).rejects.toThrow(refusal);
    await expect(provider.read("d", olds)).rejects.toThrow(refusal);
    await expect(provider.update("d", olds, news)).rejects.toThrow(refusal);
    await expect(provider.delete("d", olds)).rejects.toThrow(refusal);
  });

  test("is handled with DPS_ENROLLMENTS_ALLOW_OLDER_PROVIDER=true; older and unversioned state always is", async () => {
    const news = { ...olds, providerVersion };
    process.env[allowOlderProviderVariable] = "true";
    expect(await provider.diff("d", olds, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    delete process.env[allowOlderProviderVariable];
    for (const written of ["0.1.0", undefined, providerVersion]) {
      expect((await provider.diff("d", { ...olds, providerVersion: written }, news)).replaces).toEqual([]);
    }
  });
});

test.each([
  ["0.2.0", "0.2.0", 0],
  ["0.10.0", "0.9.9", 1],
  ["1.0.0", "0.99.99", 1],
  ["0.2.0", "0.2.1", -1],
  ["0.3.0-beta.1", "0.3.0", 0],
])("compareVersions(%s, %s) has the sign of %d", (a, b, sign) => {
  expect(Math.sign(compareVersions(a, b))).toBe(sign);
});
