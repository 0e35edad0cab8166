// The policy pack through the real CLI: `pulumi preview --policy-pack policy --policy-pack-config
// policy/config/<stack>.json` on a scratch stack against the emulator. The engine starts the pack through our
// language host's RunPlugin. Mandatory violations fail the preview, advisory ones pass with a warning, and no value
// from the props (keys, twin) reaches the output.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { EngineEvent } from "@pulumi/pulumi/automation";

import { issueCertificate } from "../../emulator/pki";
import { projectRoot } from "../../scripts/lib/pulumi-cli";
import { startFixtureStack, type FixtureStack } from "../support/fixture-stack";

const policyPack = path.join(projectRoot, "policy");
const policyConfig = (stack: string): string => path.join(projectRoot, "policy", "config", `${stack}.json`);

const hubs = ["emulator-hub-1.azure-devices.net", "emulator-hub-2.azure-devices.net"];
const secretPrimary = Buffer.alloc(32, 0x5a).toString("base64");
const secretSecondary = Buffer.alloc(32, 0x6b).toString("base64");
const twinValue = "twin-desired-value-4711";

/** An X.509 enrollment whose certificate expires in ten days (and a bit: the preview takes time). */
const expiring = {
  name: "prod-meter-01",
  args: {
    attestationType: "x509",
    primaryCertificate: issueCertificate({ commonName: "prod-meter-01", clientAuth: true, validDays: 11 }).certPem,
    iotHubs: [hubs[0]],
  },
};
/**
 * Expires in five days, and its device ID is unknown at preview (the ID of an enrollment the preview creates): check
 * then passes the raw inputs through, and the policies read the certificate text and the hubs from those.
 */
const rawExpiring = {
  name: "prod-meter-02",
  deviceIdOf: "prod-meter-01",
  args: {
    attestationType: "x509",
    primaryCertificate: issueCertificate({ commonName: "prod-meter-02", clientAuth: true, validDays: 6 }).certPem,
    iotHubs: ["emulator-hub-7.azure-devices.net"],
  },
};
/** Disabled from the start: created by the first `up`, unchanged afterwards. */
const existingDisabled = { name: "prod-sensor-02", args: { attestationType: "symmetricKey", enabled: false } };
/** Breaks every other rule: a name outside prod's pattern, an unlinked hub, a big twin, created disabled. */
const offender = {
  name: "sensor-03",
  keys: "offender",
  args: {
    iotHubs: [hubs[1], "emulator-hub-9.azure-devices.net"],
    initialTwin: { tags: { blob: "x".repeat(5000) }, properties: { desired: { pin: twinValue } } },
    enabled: false,
  },
};

let fixture: FixtureStack;

beforeAll(async () => {
  fixture = await startFixtureStack(
    "prod",
    (emulator) => ({
      platform: { value: "emulator" },
      emulatorDataDir: { value: emulator.dataDir },
      offenderPrimary: { value: secretPrimary, secret: true },
      offenderSecondary: { value: secretSecondary, secret: true },
      linkedHubHostNames: { value: JSON.stringify(hubs) },
      enrollments: { value: JSON.stringify([existingDisabled]) },
    }),
    "policy-program",
  );
  // Without policies: DPS (the emulator) then holds a disabled enrollment that later previews leave unchanged.
  const up = await fixture.stack.up({ onOutput: fixture.capture });
  expect(up.summary.resourceChanges).toEqual({ create: 2 });
});

afterAll(() => fixture?.dispose());

/** The lines of the text output's "Policies:" section, trimmed. */
function policyLines(output: string): string[] {
  const start = output.indexOf("\nPolicies:\n");
  expect(start).toBeGreaterThan(-1);
  const section = output.slice(start + "\nPolicies:\n".length);
  const end = section.search(/\n\S/);
  return section
    .slice(0, end === -1 ? undefined : end)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

interface PolicyViolation {
  urn: string;
  policy: string;
  level: string;
  message: string;
}

function policyEvents(events: EngineEvent[]): PolicyViolation[] {
  return events
    .flatMap((e) => (e.policyEvent ? [e.policyEvent] : []))
    .map((p) => ({
      urn: p.resourceUrn ?? "",
      policy: p.policyName,
      level: p.enforcementLevel,
      message: p.message,
    }))
    .sort((a, b) => `${a.policy} ${a.message}`.localeCompare(`${b.policy} ${b.message}`));
}

/** The last line of a policy event's message: the violation (the lines before repeat the policy's description). */
const violation = (message: string): string => message.trimEnd().split("\n").pop() ?? "";

test("prod: mandatory violations fail the preview, naming enrollment and policy; unchanged disabled passes", async () => {
  // Also covers raw inputs (prod-meter-02, whose device ID is unknown at preview) through the engine.
  const { stack } = fixture;
  await stack.setConfig("enrollments", {
    value: JSON.stringify([existingDisabled, expiring, rawExpiring, offender]),
  });
  const output: string[] = [];
  const events: EngineEvent[] = [];
  const preview = stack.preview({
    policyPacks: [policyPack],
    policyPackConfigs: [policyConfig("prod")],
    onOutput: (line) => void output.push(line),
    onEvent: (event) => void events.push(event),
  });
  await expect(preview).rejects.toThrow("error: preview failed");
  const text = output.join("");
  const type = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";
  expect(policyLines(text)).toEqual([
    `❌ dps-enrollments@v0.1.0 (local: ${policyPack})`,
    `- [mandatory]  enrollment-certificate-validity  (${type}: prod-meter-01)`,
    "X.509 certificates (primary and secondary) are valid now and for at least expiryDays more days.",
    "enrollment 'prod-meter-01': the primary certificate expires in 10 days; this stack requires at least 30 days " +
      "of validity left",
    `- [mandatory]  enrollment-certificate-validity  (${type}: prod-meter-02)`,
    "X.509 certificates (primary and secondary) are valid now and for at least expiryDays more days.",
    "enrollment 'prod-meter-02': the primary certificate expires in 5 days; this stack requires at least 30 days " +
      "of validity left",
    `- [mandatory]  enrollment-created-enabled  (${type}: sensor-03)`,
    "Enrollments are created enabled: a disabled enrollment that a preview writes needs allowDisabled.",
    "enrollment 'sensor-03' would be created or updated disabled; this stack creates enrollments enabled. Policies " +
      "cannot tell a create from an update: to disable an existing enrollment on purpose, add 'sensor-03' to " +
      "allowDisabled in the policy config",
    `- [mandatory]  enrollment-hubs-linked  (${type}: prod-meter-02)`,
    "Enrollments name only hubs the stack links (stack output linkedHubHostNames).",
    "enrollment 'prod-meter-02': hub #1 in iotHubs is not linked to this stack",
    `- [mandatory]  enrollment-hubs-linked  (${type}: sensor-03)`,
    "Enrollments name only hubs the stack links (stack output linkedHubHostNames).",
    "enrollment 'sensor-03': hub #2 in iotHubs is not linked to this stack",
    `- [mandatory]  enrollment-initial-twin-size  (${type}: sensor-03)`,
    "Initial twins stay within maxTagsBytes of tags and maxDesiredPropertiesBytes of desired properties (JSON).",
    "enrollment 'sensor-03': initialTwin.tags is 5011 bytes of JSON, over the limit of 4096 bytes",
    `- [mandatory]  enrollment-registration-id-pattern  (${type}: sensor-03)`,
    "Registration IDs match the configured pattern (a regular expression).",
    "enrollment 'sensor-03': the registration ID does not match the pattern ^prod-[a-z0-9-]+$",
  ]);
  // The engine's event stream (what `npm run review` reads) carries the same, per enrollment URN.
  const urn = (name: string): string => `urn:pulumi:prod::dps-enrollments::${type}::${name}`;
  expect(policyEvents(events).map((e) => ({ ...e, message: violation(e.message) }))).toEqual([
    {
      urn: urn("prod-meter-01"),
      policy: "enrollment-certificate-validity",
      level: "mandatory",
      message:
        "enrollment 'prod-meter-01': the primary certificate expires in 10 days; this stack requires at least 30 " +
        "days of validity left",
    },
    {
      urn: urn("prod-meter-02"),
      policy: "enrollment-certificate-validity",
      level: "mandatory",
      message:
        "enrollment 'prod-meter-02': the primary certificate expires in 5 days; this stack requires at least 30 " +
        "days of validity left",
    },
    {
      urn: urn("sensor-03"),
      policy: "enrollment-created-enabled",
      level: "mandatory",
      message:
        "enrollment 'sensor-03' would be created or updated disabled; this stack creates enrollments enabled. " +
        "Policies cannot tell a create from an update: to disable an existing enrollment on purpose, add " +
        "'sensor-03' to allowDisabled in the policy config",
    },
    {
      urn: urn("prod-meter-02"),
      policy: "enrollment-hubs-linked",
      level: "mandatory",
      message: "enrollment 'prod-meter-02': hub #1 in iotHubs is not linked to this stack",
    },
    {
      urn: urn("sensor-03"),
      policy: "enrollment-hubs-linked",
      level: "mandatory",
      message: "enrollment 'sensor-03': hub #2 in iotHubs is not linked to this stack",
    },
    {
      urn: urn("sensor-03"),
      policy: "enrollment-initial-twin-size",
      level: "mandatory",
      message: "enrollment 'sensor-03': initialTwin.tags is 5011 bytes of JSON, over the limit of 4096 bytes",
    },
    {
      urn: urn("sensor-03"),
      policy: "enrollment-registration-id-pattern",
      level: "mandatory",
      message: "enrollment 'sensor-03': the registration ID does not match the pattern ^prod-[a-z0-9-]+$",
    },
  ]);
  // prod-meter-02's inputs were the raw ones (check passes them through while one is unknown), prod-meter-01's checked.
  const inputsOf = (name: string): Record<string, unknown> =>
    events.find((e) => e.resourcePreEvent?.metadata.urn === urn(name))?.resourcePreEvent?.metadata.new?.inputs ?? {};
  expect(Object.keys(inputsOf("prod-meter-02"))).toEqual(expect.arrayContaining(["primaryCertificate", "deviceId"]));
  expect(String(inputsOf("prod-meter-02").primaryCertificate)).toMatch(/^-----BEGIN CERTIFICATE-----/);
  expect(inputsOf("prod-meter-02")).not.toHaveProperty("certificateValidity");
  expect(inputsOf("prod-meter-01")).toHaveProperty("certificateValidity");
  expect(String(inputsOf("prod-meter-01").primaryCertificate)).toMatch(/^sha1:[0-9A-F]{40}$/);
  // The policy saw the keys and the twin in plaintext; neither they nor the unlinked hub's name are in the output or
  // in a policy event.
  const everything = text + JSON.stringify(events.filter((e) => e.policyEvent));
  for (const value of [secretPrimary, secretSecondary, twinValue, "emulator-hub-9"]) {
    expect(everything).not.toContain(value);
  }
});

test("local: an advisory violation passes the preview with a warning", async () => {
  const { stack } = fixture;
  await stack.setConfig("enrollments", { value: JSON.stringify([existingDisabled, expiring]) });
  const output: string[] = [];
  const preview = await stack.preview({
    policyPacks: [policyPack],
    policyPackConfigs: [policyConfig("local")],
    onOutput: (line) => void output.push(line),
  });
  expect(preview.changeSummary).toEqual({ create: 1, same: 2 });
  expect(policyLines(output.join(""))).toEqual([
    `⚠️ dps-enrollments@v0.1.0 (local: ${policyPack})`,
    "- [advisory]  enrollment-certificate-validity  (pulumi-nodejs:dynamic/dps:IndividualEnrollment: prod-meter-01)",
    "X.509 certificates (primary and secondary) are valid now and for at least expiryDays more days.",
    "enrollment 'prod-meter-01': the primary certificate expires in 10 days; this stack requires at least 30 days " +
      "of validity left",
  ]);
});

test("a policy pack that does not compile fails the preview with TypeScript's message", async () => {
  // The pack is started by our language host's RunPlugin: its failure must reach the user, not hang the preview.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-broken-pack-"));
  try {
    fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "broken-pack", version: "0.0.1" }));
    fs.writeFileSync(path.join(dir, "index.ts"), 'const port: number = "8443";\nexport { port };\n');
    fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
    const output: string[] = [];
    const preview = fixture.stack.preview({ policyPacks: [dir], onOutput: (line) => void output.push(line) });
    // The engine's own error (the SDK's policy proxy in our host never got the pack's port), after the pack's.
    await expect(preview).rejects.toThrow("error: policy pack not started: could not read policy pack port: ");
    const lines = output
      .join("")
      .split("\n")
      .map((l) => l.trim());
    expect(lines).toContain(`error: [runtime] Running program '${dir}' failed with an unhandled exception:`);
    expect(lines).toContain("TSError: ⨯ Unable to compile TypeScript:");
    expect(lines).toContain("index.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
