import * as fs from "node:fs";
import * as path from "node:path";

import { CertificateIndex } from "./certificates";
import type { EngineEvent, EventResourceState } from "./events";
import { buildStackReview, messageOf, propertyChanges, type PreviewOutcome } from "./model";

const type = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";
const parent = "urn:pulumi:prod::dps-enrollments::dps-enrollments:enrollments:DpsEnrollments::enrollments";
const urn = (name: string): string =>
  `urn:pulumi:prod::dps-enrollments::dps-enrollments:enrollments:DpsEnrollments$${type}::${name}`;
const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "[secret]" };

function state(
  name: string,
  inputs: Record<string, unknown>,
  outputs: Record<string, unknown> = {},
): EventResourceState {
  return { type, urn: urn(name), custom: true, inputs: { __provider: "exports.handler = …", ...inputs }, outputs };
}

function step(
  op: string,
  name: string,
  old?: EventResourceState,
  next?: EventResourceState,
  keys?: string[],
): EngineEvent {
  return { resourcePreEvent: { metadata: { op, urn: urn(name), type, old: old ?? null, new: next ?? null, keys } } };
}

const base = { registrationId: "sym-a", attestationType: "symmetricKey", enabled: true, iotHubs: [] };

function outcome(events: EngineEvent[], extra: Partial<PreviewOutcome> = {}): PreviewOutcome {
  const grouping: EngineEvent[] = [
    {
      resourcePreEvent: {
        metadata: {
          op: "same",
          urn: "urn:pulumi:prod::dps-enrollments::pulumi:pulumi:Stack::dps-enrollments-prod",
          type: "pulumi:pulumi:Stack",
          new: { type: "pulumi:pulumi:Stack", urn: "stack", custom: false },
        },
      },
    },
    {
      resourcePreEvent: {
        metadata: {
          op: "update",
          urn: "urn:pulumi:prod::dps-enrollments::pulumi:providers:pulumi-nodejs::default",
          type: "pulumi:providers:pulumi-nodejs",
          old: { type: "pulumi:providers:pulumi-nodejs", urn: "p", custom: true },
          new: { type: "pulumi:providers:pulumi-nodejs", urn: "p", custom: true },
        },
      },
    },
    {
      resourcePreEvent: {
        metadata: {
          op: "create",
          urn: parent,
          type: "dps-enrollments:enrollments:DpsEnrollments",
          new: { type: "dps-enrollments:enrollments:DpsEnrollments", urn: parent, custom: false },
        },
      },
    },
  ];
  return {
    project: "dps-enrollments",
    stack: "prod",
    exitCode: 0,
    events: [...grouping, ...events],
    stderr: "",
    ...extra,
  };
}

describe("buildStackReview", () => {
  test("every kind of change; the stack, providers and components are neither counted nor listed", () => {
    const same = state("same-one", { ...base, registrationId: "same-one" });
    const tpmOld = state("tpm", { ...base, registrationId: "tpm" });
    const tpmNew = state("tpm", { ...base, registrationId: "tpm", attestationType: "tpm", endorsementKey: "AT" });
    const renamedOld = state("renamed", { ...base, registrationId: "old-id" });
    const renamedNew = state("renamed", { ...base, registrationId: "new-id" });
    const review = buildStackReview(
      outcome([
        step("same", "same-one", same, same),
        step("create", "new-one", undefined, state("new-one", { ...base, registrationId: "new-one" })),
        step("update", "sym-a", state("sym-a", base), state("sym-a", { ...base, enabled: false })),
        step("delete", "gone", state("gone", { ...base, registrationId: "gone" })),
        // delete-before-replace: the old one is deleted first
        step("delete-replaced", "tpm", tpmOld),
        step("replace", "tpm", tpmOld, tpmNew, ["attestationType"]),
        step("create-replacement", "tpm", tpmOld, tpmNew, ["attestationType"]),
        // create-before-delete
        step("create-replacement", "renamed", renamedOld, renamedNew, ["registrationId"]),
        step("replace", "renamed", renamedOld, renamedNew, ["registrationId"]),
        step("delete-replaced", "renamed", renamedOld),
        {
          policyEvent: {
            resourceUrn: urn("renamed"),
            message: "advice",
            policyName: "pattern",
            policyPackName: "dps",
            policyPackVersion: "0.1.0",
            enforcementLevel: "warning",
          },
        },
      ]),
    );
    // Findings name a replaced enrollment by its new registration ID.
    expect(review.policies.map((p) => p.resource)).toEqual(["new-id"]);
    expect(review.status).toBe("changes");
    expect(review.counts).toEqual({ create: 1, update: 1, replace: 2, delete: 1, unchanged: 1 });
    expect(review.changes.map((c) => [c.op, c.name, c.enrollment, c.replaceReasons, c.deleteBeforeReplace])).toEqual([
      ["delete", "gone", { registrationId: "gone", attestation: "symmetricKey" }, [], false],
      [
        "replace",
        "renamed",
        { registrationId: "new-id", previousRegistrationId: "old-id", attestation: "symmetricKey" },
        ["registrationId"],
        false,
      ],
      ["create", "new-one", { registrationId: "new-one", attestation: "symmetricKey" }, [], false],
      ["update", "sym-a", { registrationId: "sym-a", attestation: "symmetricKey" }, [], false],
      [
        "replace",
        "tpm",
        { registrationId: "tpm", attestation: "tpm", previousAttestation: "symmetricKey" },
        ["attestationType"],
        true,
      ],
    ]);
    const tpm = review.changes.find((c) => c.name === "tpm")!;
    expect(tpm.properties).toEqual([
      {
        path: "attestationType",
        before: { kind: "value", json: '"symmetricKey"' },
        after: { kind: "value", json: '"tpm"' },
        secret: false,
        forcesReplacement: true,
      },
      {
        path: "endorsementKey",
        before: { kind: "absent" },
        after: { kind: "value", json: '"AT"' },
        secret: false,
        forcesReplacement: false,
      },
    ]);
    expect(review.changes.find((c) => c.op === "delete")!.properties).toEqual([]);
  });

  test("secrets: changed exactly when the plan says so, never compared by their masked values", () => {
    const old = state("sym-a", { ...base, primaryKey: secret, secondaryKey: secret });
    const events = [
      step("update", "sym-a", old, state("sym-a", { ...base, primaryKey: secret, secondaryKey: secret })),
    ];
    const review = buildStackReview(
      outcome(events, { planChanges: new Map([[urn("sym-a"), new Set(["primaryKey"])]]) }),
    );
    expect(review.changes[0].properties).toEqual([
      {
        path: "primaryKey",
        before: { kind: "secret" },
        after: { kind: "secret" },
        secret: true,
        forcesReplacement: false,
      },
    ]);
    // Without a plan nothing says the secrets are equal: both count as changed.
    const unplanned = buildStackReview(outcome(events));
    expect(unplanned.changes[0].properties.map((p) => p.path)).toEqual(["primaryKey", "secondaryKey"]);
  });

  test("certificates: the old side from the outputs, the new side from the index, unknown ones by thumbprint", () => {
    const oldInfo = { subject: "CN=cam-01", sha1Thumbprint: "AA".repeat(20), notAfter: "2030-01-01T00:00:00Z" };
    const newInfo = { subject: "CN=cam-01", sha1Thumbprint: "BB".repeat(20), notAfter: "2031-01-01T00:00:00Z" };
    const review = buildStackReview(
      outcome([
        step(
          "update",
          "cam-01",
          state(
            "cam-01",
            { ...base, primaryCertificate: `sha1:${"AA".repeat(20)}` },
            { primaryCertificateInfo: oldInfo },
          ),
          state("cam-01", {
            ...base,
            primaryCertificate: `sha1:${"BB".repeat(20)}`,
            secondaryCertificate: `sha1:${"CC".repeat(20)}`,
          }),
        ),
      ]),
      { certificates: new CertificateIndex([newInfo]) },
    );
    expect(review.changes[0].properties.map((p) => [p.path, p.before, p.after])).toEqual([
      [
        "primaryCertificate",
        { kind: "certificate", thumbprint: "AA".repeat(20), info: oldInfo },
        { kind: "certificate", thumbprint: "BB".repeat(20), info: newInfo },
      ],
      ["secondaryCertificate", { kind: "absent" }, { kind: "certificate", thumbprint: "CC".repeat(20) }],
    ]);
  });

  test("certificate text (raw inputs before the provider's check) shows as its details, never as text", () => {
    const pem = fs.readFileSync(
      path.join(__dirname, "..", "..", "..", "tests", "fixtures", "review-certs", "cam-01.pem"),
      "utf8",
    );
    const der = pem.replace(/-----[^-]+-----|\s/g, "");
    const review = buildStackReview(
      outcome([
        step(
          "create",
          "cam-01",
          undefined,
          state("cam-01", { attestation: { x509: { primaryCertificate: pem, secondaryCertificate: der } } }),
        ),
      ]),
    );
    const info = {
      subject: "CN=cam-01",
      sha1Thumbprint: "1EB2C956FC4AE4BBC5D72523D655696D74BC1D26",
      notAfter: "2036-11-27T02:19:20.000Z",
    };
    expect(review.changes[0].properties.map((p) => [p.path, p.after])).toEqual([
      ["attestation.x509.primaryCertificate", { kind: "certificate", thumbprint: info.sha1Thumbprint, info }],
      ["attestation.x509.secondaryCertificate", { kind: "certificate", thumbprint: info.sha1Thumbprint, info }],
    ]);
    expect(review.changes[0].enrollment).toEqual({ registrationId: "cam-01", attestation: "x509" });
  });

  test("inputs a provider derives from others are left out", () => {
    const review = buildStackReview(
      outcome([
        step(
          "update",
          "cam-01",
          state("cam-01", { ...base, certificateValidity: [[1, 2]], enabled: false }),
          state("cam-01", { ...base, certificateValidity: [[1, 3]] }),
        ),
      ]),
      { derivedInputs: new Map([[type, new Set(["certificateValidity"])]]) },
    );
    expect(review.changes[0].properties.map((p) => p.path)).toEqual(["enabled"]);
  });

  test("what plugins and programs wrote to stderr counts only when the preview failed", () => {
    const events: EngineEvent[] = [
      { diagnosticEvent: { severity: "info#err", message: "TSError: ⨯ Unable to compile TypeScript:\n" } },
      { diagnosticEvent: { severity: "info#err", message: "enrollments.ts(10,37): error TS2307\n" } },
    ];
    expect(buildStackReview(outcome(events)).errors).toEqual([]);
    const failed = buildStackReview(
      outcome(events, { exitCode: 255, stderr: "error: policy pack not started: could not read policy pack port\n" }),
    );
    expect(failed.errors).toEqual([
      "TSError: ⨯ Unable to compile TypeScript:\nenrollments.ts(10,37): error TS2307",
      "policy pack not started: could not read policy pack port",
    ]);
  });

  test("values the preview cannot know", () => {
    const review = buildStackReview(
      outcome([
        step(
          "create",
          "x",
          undefined,
          state("x", { ...base, serviceHostName: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }),
        ),
      ]),
    );
    expect(review.changes[0].properties.find((p) => p.path === "serviceHostName")?.after).toEqual({ kind: "unknown" });
  });

  test("errors and warnings: by resource name, without debug, info or ephemeral messages, once each", () => {
    const review = buildStackReview(
      outcome(
        [
          step("create", "sym-a", undefined, state("sym-a", base)),
          { diagnosticEvent: { severity: "debug", message: "Registering resource\n" } },
          { diagnosticEvent: { severity: "info", message: "console.log output\n" } },
          { diagnosticEvent: { severity: "warning", message: "spinner", ephemeral: true } },
          { diagnosticEvent: { urn: urn("sym-a"), severity: "warning", message: "\u001b[33mslow\u001b[0m\n" } },
          { diagnosticEvent: { urn: urn("sym-a"), severity: "warning", message: "slow\n" } },
          {
            diagnosticEvent: {
              urn: "urn:pulumi:prod::dps-enrollments::pulumi:pulumi:Stack::dps-enrollments-prod",
              severity: "error",
              message: "Error: boom\n    at f (/x.ts:1:1)\n    at g (/y.ts:2:2) {\n  code: 1\n}\nafter\n",
            },
          },
        ],
        { exitCode: 255, stderr: "error: preview failed\n" },
      ),
    );
    expect(review.status).toBe("failed");
    expect(review.warnings).toEqual(["sym-a: slow"]);
    expect(review.errors).toEqual(["Error: boom\nafter", "preview failed"]);
  });

  test("a CLI that fails before the engine runs: its own error, else its exit code", () => {
    const missing = buildStackReview({
      project: "p",
      stack: "dev",
      exitCode: 255,
      events: [],
      stderr: "error: no stack named 'dev' found\n",
    });
    expect(missing).toEqual({
      project: "p",
      stack: "dev",
      status: "failed",
      counts: { create: 0, update: 0, replace: 0, delete: 0, unchanged: 0 },
      changes: [],
      policies: [],
      policyPacks: [],
      errors: ["no stack named 'dev' found"],
      warnings: [],
    });
    expect(buildStackReview({ project: "p", stack: "dev", exitCode: 3, events: [], stderr: "" }).errors).toEqual([
      "pulumi preview exited with code 3",
    ]);
  });

  test("policy findings per resource; a mandatory one makes the failed preview a policy violation", () => {
    const events: EngineEvent[] = [
      step("create", "cam-01", undefined, state("cam-01", { ...base, registrationId: "cam-01" })),
      {
        policyEvent: {
          resourceUrn: urn("cam-01"),
          message: "certificate expired",
          policyName: "x509-expiry",
          policyPackName: "dps",
          policyPackVersion: "0.1.0",
          enforcementLevel: "mandatory",
        },
      },
      {
        policyEvent: {
          message: "stack-wide advice",
          policyName: "advice",
          policyPackName: "dps",
          policyPackVersion: "0.1.0",
          enforcementLevel: "warning",
        },
      },
      {
        policyEvent: {
          resourceUrn: urn("cam-01"),
          message: "waived",
          policyName: "disabled-in-prod",
          policyPackName: "dps",
          policyPackVersion: "0.1.0",
          enforcementLevel: "mandatory",
          exceptions: [{ id: "EXC-1", reason: "pilot" }],
        },
      },
      {
        policyAnalyzeSummaryEvent: {
          resourceUrn: urn("cam-01"),
          policyPackName: "dps",
          policyPackVersion: "0.1.0",
          passed: ["hubs"],
          failed: ["x509-expiry"],
        },
      },
    ];
    const review = buildStackReview(outcome(events, { exitCode: 255 }));
    expect(review.status).toBe("policy-violation");
    expect(review.policies).toEqual([
      { policy: "advice", pack: "dps", level: "advisory", message: "stack-wide advice", exceptions: [] },
      {
        urn: urn("cam-01"),
        resource: "cam-01",
        policy: "disabled-in-prod",
        pack: "dps",
        level: "mandatory",
        message: "waived",
        exceptions: ["EXC-1"],
      },
      {
        urn: urn("cam-01"),
        resource: "cam-01",
        policy: "x509-expiry",
        pack: "dps",
        level: "mandatory",
        message: "certificate expired",
        exceptions: [],
      },
    ]);
    expect(review.policyPacks).toEqual([
      { pack: "dps", version: "0.1.0", resources: 1, policies: ["hubs", "x509-expiry"] },
    ]);
    // Only an exception-free mandatory finding is a violation.
    const waivedOnly = events.filter((e) => e.policyEvent?.policyName !== "x509-expiry");
    expect(buildStackReview(outcome(waivedOnly, { exitCode: 255 })).status).toBe("failed");
  });
});

test("propertyChanges: nothing changed, nothing listed", () => {
  expect(propertyChanges({ a: { b: [1, 2] } }, { a: { b: [1, 2] } })).toEqual([]);
});

test("messageOf keeps the message and drops stack frames and the inspected error after them", () => {
  expect(
    messageOf("ManifestError: bad\n  detail\n    at a (f:1)\n    at b (g:2) {\n  problems: [\n    'x'\n  ]\n}\n"),
  ).toBe("ManifestError: bad\n  detail");
});
