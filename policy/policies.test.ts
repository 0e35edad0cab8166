// The policies' validate functions with exact messages, on props shaped as the engine passes them: the provider's
// checked inputs, raw inputs (an input unknown at preview), and DPS's outputs in stack policies.
import * as fs from "node:fs";
import * as path from "node:path";

import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import Ajv from "ajv";

import { issueCertificate } from "../emulator/pki";
import { enrollmentReader, individualEnrollmentType } from "./enrollments";
import {
  certificateValidityPolicy,
  createdEnabledPolicy,
  enrollmentPolicies,
  initialTwinSizePolicy,
  jsonBytes,
  linkedHubsPolicy,
  registrationIdPatternPolicy,
} from "./policies";

const day = 24 * 3600;
const now = Date.UTC(2027, 0, 1); // a fixed clock for checked inputs
const nowSeconds = now / 1000;
const clock = (): number => now;

const urnOf = (type: string, name: string): string => `urn:pulumi:prod::dps-enrollments::${type}::${name}`;

const options = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** What resource and stack policies both get of a resource. */
function resourceBase(name: string, props: Record<string, unknown>, type: string) {
  return { type, props, urn: urnOf(type, name), name, opts: options, isType: () => false, asType: () => undefined };
}

const notApplicable = (reason?: string): never => {
  throw new Error(`not applicable: ${reason}`);
};

function resourceArgs(
  name: string,
  props: Record<string, unknown>,
  config: object = {},
  type = individualEnrollmentType,
): ResourceValidationArgs {
  const stackTags = new Map<string, string>();
  return {
    ...resourceBase(name, props, type),
    stackTags,
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
}

function policyResource(name: string, props: Record<string, unknown>, type = individualEnrollmentType): PolicyResource {
  return { ...resourceBase(name, props, type), dependencies: [], propertyDependencies: {} };
}

/** Messages a resource policy reports for one resource. */
function validate(policy: ResourceValidationPolicy, args: ResourceValidationArgs): string[] {
  const messages: string[] = [];
  const validations = [policy.validateResource ?? []].flat();
  for (const validation of validations) {
    void validation(args, (message) => void messages.push(message));
  }
  return messages;
}

/** Violations a stack policy reports: [urn, message]. */
function validateStack(
  policy: StackValidationPolicy,
  resources: PolicyResource[],
  config: object = {},
): [string | undefined, string][] {
  const violations: [string | undefined, string][] = [];
  void policy.validateStack(
    {
      resources,
      stackTags: new Map<string, string>(),
      getConfig: <T extends object>() => config as T,
      notApplicable,
    },
    (message, urn) => void violations.push([urn, message]),
  );
  return violations;
}

/** Every string and number in a value, as text (the values a message must not repeat). */
function leafStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value === "number") return [String(value)];
  if (Array.isArray(value)) return value.flatMap(leafStrings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(leafStrings);
  return [];
}

/** Checked inputs of an X.509 enrollment, as the provider's check makes them. */
function checkedX509(validity: [number, number][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    registrationId: "prod-meter-01",
    attestationType: "x509",
    primaryCertificate: "sha1:7443DA5375817EB82353A0FDA1DEE71DB8CAF65A",
    secondaryCertificate: "sha1:012CA754963CDF50FC4D03497678DD14A3E3B2E5",
    certificateValidity: validity,
    iotEdge: false,
    iotHubs: [],
    reprovisionPolicy: "reprovisionAndMigrateData",
    enabled: true,
    adopt: false,
    ...extra,
  };
}

describe("enrollment-certificate-validity", () => {
  const policy = certificateValidityPolicy(clock);
  const config = { expiryDays: 30 };

  test("a certificate expiring within expiryDays is reported with its slot and the days left", () => {
    const props = checkedX509([
      [nowSeconds - 300 * day, nowSeconds + 10 * day + 3600],
      [nowSeconds - day, nowSeconds + 400 * day],
    ]);
    expect(validate(policy, resourceArgs("prod-meter-01", props, config))).toEqual([
      "enrollment 'prod-meter-01': the primary certificate expires in 10 days; this stack requires at least 30 days " +
        "of validity left",
    ]);
  });

  test("expired, not yet valid and less than a day are told apart; one message per certificate", () => {
    const props = checkedX509([
      [nowSeconds - 400 * day, nowSeconds - 1],
      [nowSeconds + 3 * day + 60, nowSeconds + 400 * day],
    ]);
    expect(validate(policy, resourceArgs("prod-meter-01", props, config))).toEqual([
      "enrollment 'prod-meter-01': the primary certificate has expired",
      "enrollment 'prod-meter-01': the secondary certificate is not valid yet (it becomes valid in 3 days)",
    ]);
    const soon = checkedX509([[nowSeconds - day, nowSeconds + 3600]]);
    expect(validate(policy, resourceArgs("prod-meter-01", soon, { expiryDays: 1 }))).toEqual([
      "enrollment 'prod-meter-01': the primary certificate expires in less than a day; this stack requires at least " +
        "1 days of validity left",
    ]);
  });

  test("valid certificates, other attestations and other resource types pass", () => {
    expect(
      validate(policy, resourceArgs("ok", checkedX509([[nowSeconds - day, nowSeconds + 31 * day]]), config)),
    ).toEqual([]);
    const symmetric = { registrationId: "sym", attestationType: "symmetricKey", primaryKey: "a2V5", enabled: true };
    expect(validate(policy, resourceArgs("sym", symmetric, config))).toEqual([]);
    const expired = checkedX509([[nowSeconds - 400 * day, nowSeconds - 1]]);
    expect(validate(policy, resourceArgs("other", expired, config, "pulumi-nodejs:dynamic/other:Thing"))).toEqual([]);
  });

  test("raw inputs (an input unknown at preview, so check passed them through) are judged from the PEM", () => {
    const primary = issueCertificate({ commonName: "prod-meter-02", clientAuth: true, validDays: 5 }).certPem;
    const secondary = issueCertificate({
      commonName: "prod-meter-02",
      clientAuth: true,
      notBeforeDaysAgo: -2,
    }).certPem;
    const raw = {
      attestationType: "x509",
      primaryCertificate: primary,
      secondaryCertificate: secondary,
      linkedHubs: ["hub-1.azure-devices.net"],
    };
    expect(validate(certificateValidityPolicy(Date.now), resourceArgs("prod-meter-02", raw, config))).toEqual([
      "enrollment 'prod-meter-02': the primary certificate expires in 4 days; this stack requires at least 30 days " +
        "of validity left",
      "enrollment 'prod-meter-02': the secondary certificate is not valid yet (it becomes valid in 1 day)",
    ]);
  });
});

describe("enrollment-registration-id-pattern", () => {
  const policy = registrationIdPatternPolicy();

  test("an ID outside the pattern is reported with the pattern; matching IDs and raw inputs without one pass", () => {
    const config = { pattern: "^prod-[a-z0-9-]+$" };
    expect(validate(policy, resourceArgs("meter-01", checkedX509([], { registrationId: "meter-01" }), config))).toEqual(
      ["enrollment 'meter-01': the registration ID does not match the pattern ^prod-[a-z0-9-]+$"],
    );
    expect(validate(policy, resourceArgs("prod-meter-01", checkedX509([]), config))).toEqual([]);
    expect(validate(policy, resourceArgs("x", { attestationType: "x509", primaryCertificate: "…" }, config))).toEqual(
      [],
    );
  });

  test("a misspelt setting is an error naming it (the engine would pass it through and keep the default)", () => {
    expect(() => validate(policy, resourceArgs("prod-meter-01", checkedX509([]), { patern: "^prod-" }))).toThrow(
      "policy config enrollment-registration-id-pattern: unknown setting 'patern' (settings: pattern)",
    );
    const stackPolicy = linkedHubsPolicy();
    expect(() => validateStack(stackPolicy, [], { hubs: [] })).toThrow(
      "policy config enrollment-hubs-linked: unknown setting 'hubs' (it has no settings)",
    );
  });

  test("a pattern that is not a regular expression is an error naming the policy config key", () => {
    expect(() => validate(policy, resourceArgs("prod-meter-01", checkedX509([]), { pattern: "^prod-(" }))).toThrow(
      "policy config enrollment-registration-id-pattern.pattern: '^prod-(' is not a regular expression " +
        "(Invalid regular expression: /^prod-(/: Unterminated group)",
    );
  });
});

describe("enrollment-initial-twin-size", () => {
  const policy = initialTwinSizePolicy();
  const config = { maxTagsBytes: 100, maxDesiredPropertiesBytes: 200 };

  test("tags and desired properties are measured as compact UTF-8 JSON against their own limits", () => {
    // {"note":"ééé…"}: 11 bytes of JSON around 45 two-byte characters = 101 bytes.
    const tags = { note: "é".repeat(45) };
    expect(jsonBytes(tags)).toBe(101);
    const twin = { tags, properties: { desired: { interval: 300 } } };
    expect(validate(policy, resourceArgs("prod-meter-01", checkedX509([], { initialTwin: twin }), config))).toEqual([
      "enrollment 'prod-meter-01': initialTwin.tags is 101 bytes of JSON, over the limit of 100 bytes",
    ]);
    const big = { tags: {}, properties: { desired: { blob: "x".repeat(300) } } };
    expect(validate(policy, resourceArgs("prod-meter-01", checkedX509([], { initialTwin: big }), config))).toEqual([
      "enrollment 'prod-meter-01': initialTwin.properties.desired is 311 bytes of JSON, over the limit of 200 bytes",
    ]);
  });

  test("a twin at the limit, and no twin, pass", () => {
    const atLimit = { tags: { note: "x".repeat(89) }, properties: { desired: {} } };
    expect(jsonBytes(atLimit.tags)).toBe(100);
    expect(validate(policy, resourceArgs("a", checkedX509([], { initialTwin: atLimit }), config))).toEqual([]);
    expect(validate(policy, resourceArgs("b", checkedX509([]), config))).toEqual([]);
  });
});

describe("enrollment-hubs-linked", () => {
  const policy = linkedHubsPolicy();
  const stack = (hubs: unknown): PolicyResource =>
    policyResource("dps-enrollments-prod", { linkedHubHostNames: hubs }, "pulumi:pulumi:Stack");

  test("each hub not among the stack output linkedHubHostNames is reported by position, on the enrollment", () => {
    const enrollment = policyResource(
      "prod-meter-01",
      checkedX509([], { iotHubs: ["HUB-1.azure-devices.net", "hub-9.azure-devices.net", "hub-8.azure-devices.net"] }),
    );
    expect(validateStack(policy, [stack(["hub-1.azure-devices.net", "hub-2.azure-devices.net"]), enrollment])).toEqual([
      [enrollment.urn, "enrollment 'prod-meter-01': hub #2 in iotHubs is not linked to this stack"],
      [enrollment.urn, "enrollment 'prod-meter-01': hub #3 in iotHubs is not linked to this stack"],
    ]);
  });

  test("without the stack output, raw inputs' linkedHubs decide; with neither, nothing is reported", () => {
    const raw = policyResource("prod-meter-02", {
      attestationType: "symmetricKey",
      iotHubs: ["hub-3.azure-devices.net"],
      linkedHubs: ["hub-1.azure-devices.net"],
    });
    expect(validateStack(policy, [stack([]), raw])).toEqual([
      [raw.urn, "enrollment 'prod-meter-02': hub #1 in iotHubs is not linked to this stack"],
    ]);
    const checked = policyResource("prod-meter-03", checkedX509([], { iotHubs: ["hub-3.azure-devices.net"] }));
    expect(validateStack(policy, [checked])).toEqual([]);
  });
});

describe("enrollment-created-enabled", () => {
  const policy = createdEnabledPolicy();
  const dpsView = { etag: '"2a0b"', createdDateTimeUtc: "2026-11-30T01:59:39.4210000Z" };

  test("a disabled enrollment the preview writes is reported; DPS's own view, enabled ones and allowDisabled pass", () => {
    const created = policyResource("prod-meter-01", checkedX509([], { enabled: false }));
    const unchanged = policyResource("prod-meter-02", checkedX509([], { enabled: false, ...dpsView }));
    const enabled = policyResource("prod-meter-03", checkedX509([]));
    const allowed = policyResource(
      "prod-meter-04",
      checkedX509([], { registrationId: "prod-meter-04", enabled: false }),
    );
    expect(validateStack(policy, [created, unchanged, enabled, allowed], { allowDisabled: ["prod-meter-04"] })).toEqual(
      [
        [
          created.urn,
          "enrollment 'prod-meter-01' would be created or updated disabled; this stack creates enrollments enabled. " +
            "Policies cannot tell a create from an update: to disable an existing enrollment on purpose, add " +
            "'prod-meter-01' to allowDisabled in the policy config",
        ],
      ],
    );
  });
});

describe("policy messages", () => {
  test("name the enrollment and reason but never a value from the props (keys, twin, hubs, certificates)", () => {
    const secretKey = Buffer.alloc(32, 0x5a).toString("base64");
    const props = {
      registrationId: "meter-secret",
      attestationType: "symmetricKey",
      primaryKey: secretKey,
      secondaryKey: Buffer.alloc(32, 0x6b).toString("base64"),
      iotHubs: ["hub-unlinked.azure-devices.net"],
      initialTwin: { tags: { owner: "twin-tag-value-4711" }, properties: { desired: { pin: "twin-desired-0815" } } },
      enabled: false,
      certificateValidity: [[nowSeconds - 400 * day, nowSeconds - 1]],
      serviceAccessKey: Buffer.alloc(32, 0x7c).toString("base64"),
    };
    const name = "meter-secret";
    const strict: Record<string, object> = {
      "enrollment-certificate-validity": { expiryDays: 30 },
      "enrollment-registration-id-pattern": { pattern: "^prod-" },
      "enrollment-initial-twin-size": { maxTagsBytes: 1, maxDesiredPropertiesBytes: 1 },
      "enrollment-hubs-linked": {},
      "enrollment-created-enabled": { allowDisabled: [] },
    };
    const messages: string[] = [];
    for (const policy of enrollmentPolicies(clock)) {
      if ("validateResource" in policy) {
        messages.push(...validate(policy, resourceArgs(name, props, strict[policy.name])));
      } else if ("validateStack" in policy) {
        const stack = policyResource(
          "stack",
          { linkedHubHostNames: ["hub-1.azure-devices.net"] },
          "pulumi:pulumi:Stack",
        );
        const resources = [stack, policyResource(name, props)];
        messages.push(...validateStack(policy, resources, strict[policy.name]).map(([, m]) => m));
      }
    }
    // Every policy reported something, so every message was checked.
    expect(messages).toHaveLength(6);
    const values = leafStrings(props).filter((v) => v !== props.registrationId);
    expect(values).toContain(secretKey);
    expect(values).toContain("twin-desired-0815");
    for (const message of messages) {
      expect(message).toMatch(/^enrollment 'meter-secret'/);
      for (const value of values) expect(message).not.toContain(value);
    }
  });
});

describe("enrollment readers", () => {
  test("only enrollment types have a reader (dynamic resources are matched by type token)", () => {
    expect(enrollmentReader(individualEnrollmentType)).toBeDefined();
    expect(enrollmentReader("pulumi:pulumi:Stack")).toBeUndefined();
    expect(enrollmentReader("constructor")).toBeUndefined();
  });
});

describe("per-stack policy config (policy/config/<stack>.json)", () => {
  const policies = enrollmentPolicies(clock);
  const configDir = path.join(__dirname, "config");

  test.each(["local", "dev", "prod"])("%s.json names every policy, with settings their schemas accept", (stack) => {
    const config = JSON.parse(fs.readFileSync(path.join(configDir, `${stack}.json`), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(config).sort()).toEqual(policies.map((p) => p.name).sort());
    const ajv = new Ajv({ strict: false });
    for (const policy of policies) {
      const { enforcementLevel, ...settings } = config[policy.name];
      expect(["advisory", "mandatory", "disabled"]).toContain(enforcementLevel);
      const schema = { type: "object", additionalProperties: false, properties: policy.configSchema?.properties ?? {} };
      expect([policy.name, ajv.validate(schema, settings), ajv.errorsText()]).toEqual([policy.name, true, "No errors"]);
    }
  });

  test("certificate validity is mandatory in prod and advisory elsewhere", () => {
    const level = (stack: string): unknown =>
      (
        JSON.parse(fs.readFileSync(path.join(configDir, `${stack}.json`), "utf8")) as Record<
          string,
          { enforcementLevel: string }
        >
      )["enrollment-certificate-validity"].enforcementLevel;
    expect([level("local"), level("dev"), level("prod")]).toEqual(["advisory", "advisory", "mandatory"]);
  });
});
