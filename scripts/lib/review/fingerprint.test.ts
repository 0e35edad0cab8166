import { createHash } from "node:crypto";

import { changeSetFingerprint } from "./fingerprint";
import type { ResourceChange, StackReview } from "./model";

const change = (name: string, extra: Partial<ResourceChange> = {}): ResourceChange => ({
  op: "update",
  urn: `urn:pulumi:prod::p::t::${name}`,
  type: "t",
  name,
  properties: [
    {
      path: "enabled",
      before: { kind: "value", json: "false" },
      after: { kind: "value", json: "true" },
      secret: false,
      forcesReplacement: false,
    },
  ],
  replaceReasons: [],
  deleteBeforeReplace: false,
  ...extra,
});

const review = (changes: ResourceChange[]): StackReview => ({
  project: "p",
  stack: "prod",
  status: changes.length > 0 ? "changes" : "no-changes",
  counts: { create: 0, update: changes.length, replace: 0, delete: 0, unchanged: 0 },
  changes,
  policies: [],
  policyPacks: [],
  errors: [],
  warnings: [],
});

test("the empty change set has one fingerprint", () => {
  expect(changeSetFingerprint(review([]))).toBe(
    "sha256:" + createHash("sha256").update('{"changes":[],"version":1}').digest("hex"),
  );
});

test("the same changes in another order, with other display details, fingerprint the same", () => {
  const a = change("a");
  const b = change("b", {
    properties: [
      {
        path: "primaryCertificate",
        before: { kind: "certificate", thumbprint: "AA" },
        after: {
          kind: "certificate",
          thumbprint: "BB",
          info: { subject: "CN=b", sha1Thumbprint: "BB", notAfter: "x" },
        },
        secret: false,
        forcesReplacement: false,
      },
    ],
  });
  const bWithoutInfo = change("b", {
    properties: [{ ...b.properties[0], after: { kind: "certificate", thumbprint: "BB" } }],
  });
  expect(changeSetFingerprint(review([a, b]))).toBe(changeSetFingerprint(review([bWithoutInfo, a])));
});

test.each<[string, Partial<ResourceChange>]>([
  ["another operation", { op: "replace" }],
  ["another resource", { urn: "urn:pulumi:prod::p::t::other" }],
  ["another new value", { properties: [{ ...change("a").properties[0], after: { kind: "value", json: "null" } }] }],
  ["another old value", { properties: [{ ...change("a").properties[0], before: { kind: "value", json: "null" } }] }],
  ["another property", { properties: [{ ...change("a").properties[0], path: "iotEdge" }] }],
  ["delete before replace", { deleteBeforeReplace: true }],
])("%s changes the fingerprint", (_, difference) => {
  expect(changeSetFingerprint(review([change("a", difference)]))).not.toBe(changeSetFingerprint(review([change("a")])));
});

test("a secret contributes its path and nothing else", () => {
  const secretChange = change("a", {
    properties: [
      {
        path: "primaryKey",
        before: { kind: "secret" },
        after: { kind: "secret" },
        secret: true,
        forcesReplacement: false,
      },
    ],
  });
  const hashed =
    '{"changes":[{"deleteBeforeReplace":false,"op":"update","properties":[{"path":"primaryKey","secret":true}],' +
    '"urn":"urn:pulumi:prod::p::t::a"}],"version":1}';
  expect(changeSetFingerprint(review([secretChange]))).toBe(
    `sha256:${createHash("sha256").update(hashed).digest("hex")}`,
  );
});
