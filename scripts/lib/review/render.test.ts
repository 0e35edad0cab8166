import { createHash } from "node:crypto";

import type { PolicyFinding, ResourceChange, StackReview } from "./model";
import { commentBudget, renderFull, renderLevels, renderWithin, statusText } from "./render";

const context = { project: "dps-enrollments" };
const urn = (name: string): string => `urn:pulumi:prod::dps-enrollments::t::${name}`;

function enrollment(op: ResourceChange["op"], name: string, extra: Partial<ResourceChange> = {}): ResourceChange {
  return {
    op,
    urn: urn(name),
    type: "pulumi-nodejs:dynamic/dps:IndividualEnrollment",
    name,
    enrollment: { registrationId: name, attestation: "tpm" },
    properties: [],
    replaceReasons: [],
    deleteBeforeReplace: false,
    ...extra,
  };
}

const longValue = (i: number) => ({ kind: "value" as const, json: JSON.stringify(`${i}-${"k".repeat(300)}`) });

function stack(name: string, changes: ResourceChange[], extra: Partial<StackReview> = {}): StackReview {
  const count = (op: ResourceChange["op"]) => changes.filter((c) => c.op === op).length;
  return {
    project: "dps-enrollments",
    stack: name,
    status: changes.length > 0 ? "changes" : "no-changes",
    counts: {
      create: count("create"),
      update: count("update"),
      replace: count("replace"),
      delete: count("delete"),
      unchanged: 7,
    },
    changes,
    policies: [],
    policyPacks: [],
    errors: [],
    warnings: [],
    ...extra,
  };
}

const policies: PolicyFinding[] = [
  {
    urn: urn("line-001"),
    resource: "line-001",
    policy: "twin-size",
    pack: "dps",
    level: "advisory",
    message: "twin is 9 KB",
    exceptions: [],
  },
];

/** Creates with long values, updates, a replace that deletes first, deletes in prod, many warnings. */
function bigReview(): StackReview {
  const creates = Array.from({ length: 40 }, (_, i) =>
    enrollment("create", `line-${String(i + 1).padStart(3, "0")}`, {
      properties: Array.from({ length: 8 }, (_, p) => ({
        path: `initialTwin.properties.desired.p${p}`,
        before: { kind: "absent" as const },
        after: longValue(p),
        secret: false,
        forcesReplacement: false,
      })),
    }),
  );
  const updates = Array.from({ length: 40 }, (_, i) =>
    enrollment("update", `upd-${String(i + 1).padStart(3, "0")}`, {
      properties: [
        { path: "endorsementKey", before: longValue(1), after: longValue(2), secret: false, forcesReplacement: false },
        {
          path: "primaryKey",
          before: { kind: "secret" },
          after: { kind: "secret" },
          secret: true,
          forcesReplacement: false,
        },
      ],
    }),
  );
  const destructive = [
    enrollment("delete", "gone-1"),
    enrollment("delete", "gone-2"),
    enrollment("replace", "moved", { replaceReasons: ["attestationType"], deleteBeforeReplace: true }),
  ];
  return stack("prod", [...creates, ...updates, ...destructive], {
    policies,
    policyPacks: [{ pack: "dps", version: "0.1.0", resources: 83, policies: ["twin-size"] }],
    warnings: Array.from({ length: 30 }, (_, i) => `warning ${i + 1}: ${"w".repeat(200)}`),
  });
}

describe("the size budget", () => {
  const levels = renderLevels([bigReview()], context);

  test("each level is shorter than the one before", () => {
    for (let i = 1; i < levels.length; i++) expect(levels[i].length).toBeLessThan(levels[i - 1].length);
  });

  test("every level keeps the status line, the counts, every destructive change and every policy result", () => {
    for (const text of levels) {
      expect(text.split("\n")[2]).toBe(
        "**Pulumi preview of <code>dps-enrollments</code>** · <code>prod</code>: 📝 83 changes (3 destructive)",
      );
      expect(text).toContain("| 40 | 40 | 1 | 2 | 7 |");
      expect(text).toContain("#### ⚠️ Destructive changes");
      const destructive = /#### ⚠️ Destructive changes\n\n([^#]*)\n#/.exec(text)![1];
      expect(destructive.match(/<code>[^<]+<\/code> \(tpm\)/g)).toEqual([
        "<code>gone-1</code> (tpm)",
        "<code>gone-2</code> (tpm)",
        "<code>moved</code> (tpm)",
      ]);
      expect(text).toContain("<code>twin is 9 KB</code>");
      expect(text).toContain("Pack <code>dps</code> 0.1.0: 83 resources checked by 1 policy.");
    }
  });

  test("detail goes in a fixed order, and the comment says what went", () => {
    const notes = levels.map((text) => /^_Shortened to fit a comment: (.*)\._$/m.exec(text)?.[1]);
    expect(notes).toEqual([
      undefined,
      "long values are cut",
      "long values are cut; created resources' properties are left out",
      "long values are cut; created resources' properties are left out; changed properties are named without their values",
      "created resources' properties are left out; changed properties are left out",
      "the list of changes is left out",
      "the list of changes is left out; only the first 20 errors and warnings are shown",
      "the list of changes is left out; only the first 20 errors and warnings are shown; destructive changes and policy results are listed briefly",
    ]);
    expect(levels[0]).toContain(`<code>&quot;`.slice(0, 6));
    expect(levels[0]).toContain("k".repeat(300));
    expect(levels[1]).not.toContain("k".repeat(300));
    expect(levels[1]).toContain(
      `<code>&quot;`.slice(0, 6) + `"0-${"k".repeat(96)}… (305 characters)</code>`.slice(0, 0),
    );
    expect(levels[2]).not.toContain("initialTwin.properties.desired.p0");
    expect(levels[2]).toContain("  - <code>primaryKey</code>: changed (secret)");
    expect(levels[3]).toContain(
      "- ✏️ **update** <code>upd-001</code> (tpm): <code>endorsementKey</code>, <code>primaryKey</code>",
    );
    expect(levels[4]).toContain("- ✏️ **update** <code>upd-001</code> (tpm)\n");
    expect(levels[5]).toContain("83 changed resources, not listed here to fit a comment.");
    expect(levels[5]).toContain("warning 30:");
    expect(levels[6]).toContain("warning 20:");
    expect(levels[6]).not.toContain("warning 21:");
    expect(levels[6]).toContain("… and 10 more messages (see the full report).");
    expect(levels[7]).toContain("- ♻️ **replace** <code>moved</code> (tpm): absent in between\n");
  });

  test("renderWithin takes the first level that fits, renderFull the first", () => {
    expect(renderWithin([bigReview()], context, levels[3].length)).toBe(levels[3]);
    expect(renderWithin([bigReview()], context, levels[3].length - 1)).toBe(levels[4]);
    expect(renderWithin([bigReview()], context, Infinity)).toBe(levels[0]);
    expect(renderFull([bigReview()], context)).toBe(levels[0]);
  });

  test("only thousands of deletes shorten the destructive list, and the comment says how many are left out", () => {
    const deletes = Array.from({ length: 2000 }, (_, i) => enrollment("delete", `d-${i}`));
    const text = renderWithin([stack("prod", deletes)], context);
    expect(text.length).toBeLessThanOrEqual(commentBudget);
    const listed = text.match(/^- 🗑️ \*\*delete\*\*/gm)!.length;
    expect(listed).toBeGreaterThan(300);
    expect(text).toContain(`- … and ${2000 - listed} destructive changes more (see the full report)`);
    expect(text).toContain("| 0 | 0 | 0 | 2000 | 7 |");
  });
});

describe("sections", () => {
  test("a failed stack next to a stack without changes, with the commit and the run", () => {
    const failed = stack("dev", [], { status: "failed", errors: ["no stack named 'dev' found"] });
    const text = renderFull([failed, stack("local", [])], {
      ...context,
      commit: "0123456789ab",
      runUrl: "https://github.com/o/r/actions/runs/1",
    });
    expect(text).toBe(
      [
        "<!-- dps-enrollments-review: dps-enrollments dev local -->",
        "<!-- dps-enrollments-fingerprint: dps-enrollments dev failed -->",
        `<!-- dps-enrollments-fingerprint: dps-enrollments local sha256:${createHash("sha256").update('{"changes":[],"version":1}').digest("hex")} -->`,
        "**Pulumi preview of <code>dps-enrollments</code>** · <code>dev</code>: ❌ preview failed · <code>local</code>: ✅ no changes",
        "",
        "### <code>dev</code>: ❌ preview failed",
        "",
        "The preview failed, so the change set is not known.",
        "",
        "#### Policies",
        "",
        "No policy pack ran.",
        "",
        "#### Errors",
        "",
        "<pre>",
        "no stack named 'dev' found",
        "</pre>",
        "",
        "### <code>local</code>: ✅ no changes",
        "",
        "| create | update | replace | delete | unchanged |",
        "| -----: | -----: | ------: | -----: | --------: |",
        "| 0 | 0 | 0 | 0 | 7 |",
        "",
        "#### Policies",
        "",
        "No policy pack ran.",
        "",
        "<sub>commit <code>0123456789ab</code> · [workflow run](https://github.com/o/r/actions/runs/1) · <code>npm run review -- --stack dev --stack local</code></sub>",
        "",
      ].join("\n"),
    );
  });

  test("names and values cannot inject HTML or Markdown", () => {
    const evil = enrollment("update", "x", {
      enrollment: { registrationId: "<img src=x onerror=alert(1)>", attestation: "x509" },
      properties: [
        {
          path: "initialTwin.tags.note",
          before: { kind: "value", json: '"</code><script>"' },
          after: { kind: "value", json: '"[link](http://evil) @admin | `x`"' },
          secret: false,
          forcesReplacement: false,
        },
      ],
    });
    const text = renderFull([stack("prod", [evil], { warnings: ["</pre><b>bold</b>"] })], context);
    expect(text).toContain(
      "- ✏️ **update** <code>&lt;img src=x onerror=alert(1)&gt;</code> (x509)\n" +
        '  - <code>initialTwin.tags.note</code>: <code>"&lt;/code&gt;&lt;script&gt;"</code> → <code>"&#91;link&#93;(http://evil) &#64;admin &#124; &#96;x&#96;"</code>',
    );
    expect(text).toContain("<pre>\n&lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;\n</pre>");
    expect(text).not.toMatch(/<(img|script|b)\b/);
  });

  test("values: absent, unknown, secret, certificates with and without their details", () => {
    const change = enrollment("update", "cam-01", {
      enrollment: { registrationId: "cam-01", attestation: "x509" },
      properties: [
        {
          path: "primaryCertificate",
          before: {
            kind: "certificate",
            thumbprint: "AA",
            info: { subject: "CN=cam-01", sha1Thumbprint: "AA", notAfter: "2030-05-06T07:08:09Z" },
          },
          after: { kind: "certificate", thumbprint: "BB" },
          secret: false,
          forcesReplacement: false,
        },
        {
          path: "deviceId",
          before: { kind: "absent" },
          after: { kind: "unknown" },
          secret: false,
          forcesReplacement: false,
        },
        {
          path: "primaryKey",
          before: { kind: "absent" },
          after: { kind: "secret" },
          secret: true,
          forcesReplacement: false,
        },
        {
          path: "secondaryKey",
          before: { kind: "secret" },
          after: { kind: "absent" },
          secret: true,
          forcesReplacement: false,
        },
      ],
    });
    expect(renderFull([stack("dev", [change])], context)).toContain(
      [
        "- ✏️ **update** <code>cam-01</code> (x509)",
        "  - <code>primaryCertificate</code>: <code>CN=cam-01</code>, SHA-1 <code>AA</code>, not after 2030-05-06 → SHA-1 <code>BB</code> (subject unknown: no such certificate file in the project)",
        "  - <code>deviceId</code>: (none) → (known after the deploy)",
        "  - <code>primaryKey</code>: set (secret)",
        "  - <code>secondaryKey</code>: removed (secret)",
      ].join("\n"),
    );
  });

  test("deletes need an approval in the approval stacks only", () => {
    const text = (name: string) =>
      renderFull([stack(name, [enrollment("delete", "gone")])], { ...context, approvalStacks: ["prod", "staging"] });
    expect(text("staging")).toContain(
      "- 🗑️ **delete** <code>gone</code> (tpm): removed from DPS: its devices can no longer register. **Delete in <code>staging</code>: policies cannot see deletes, so the deploy waits for an approval.**",
    );
    expect(text("dev")).toContain(
      "- 🗑️ **delete** <code>gone</code> (tpm): removed from DPS: its devices can no longer register.\n",
    );
  });

  test.each<[StackReview["status"], number, string]>([
    ["no-changes", 0, "✅ no changes"],
    ["changes", 1, "📝 1 change"],
    ["failed", 0, "❌ preview failed"],
    ["policy-violation", 2, "⛔ policy violation (2 changes)"],
  ])("status %s", (status, n, text) => {
    const changes = Array.from({ length: n }, (_, i) => enrollment("update", `u${i}`));
    expect(statusText(stack("s", changes, { status }))).toBe(text);
  });
});
