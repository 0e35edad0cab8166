// Stacks written before the provider became a package upgrade in place. The state comes from the code of the last
// commit before (git archive, run as it ran then: the packages/enrollment-provider shim loading the sources through
// ts-node); then the current package takes over the same stack: the preview names the upgrade (providerVersion)
// and replaces nothing, the `up` sends DPS only the one real change, and a no-change preview follows. State that a
// newer provider wrote is refused by refresh and destroy until the override says otherwise.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation";

import { issueCertificate } from "../../emulator/pki";
import { pinnedPulumiCommand, projectRoot, scratchEnv } from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";
import { serializedProvider } from "../support/serialized-provider";

/** The last commit before the provider became a package (its state format is what existing stacks hold). */
const legacyCommit = "023365ff468fc3f96b20d573c9277bf334f31903";
const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";
/** The emulator's hubs, as tests/fixtures/enrollment-program names them. */
const currentHubs = ["127.0.0.2", "127.0.0.3"];
const providerVersion = (
  JSON.parse(fs.readFileSync(path.join(projectRoot, "dynamic-providers", "package.json"), "utf8")) as {
    version: string;
  }
).version;

let root: string;
let emulator: TestEmulator;
let stack: Stack;
const output: string[] = [];

interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

async function enrollmentState(): Promise<Record<string, StateResource>> {
  const deployment = (await stack.exportStack()).deployment as { resources: StateResource[] };
  const enrollments = deployment.resources.filter((r) => r.type === enrollmentType);
  return Object.fromEntries(enrollments.map((r): [string, StateResource] => [r.id ?? "", r]));
}

/** A node_modules of symlinks to the project's, with `@dps-enrollments` a real directory of its own. */
function legacyNodeModules(dir: string, shim: string): void {
  fs.mkdirSync(path.join(dir, "@dps-enrollments"), { recursive: true });
  for (const entry of fs.readdirSync(path.join(projectRoot, "node_modules"))) {
    if (entry === "@dps-enrollments") continue;
    fs.symlinkSync(path.join(projectRoot, "node_modules", entry), path.join(dir, entry));
  }
  // A copy, as install-links made it: Pulumi names it by its place under node_modules.
  fs.cpSync(shim, path.join(dir, "@dps-enrollments", "enrollment-provider"), { recursive: true });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "dps-upgrade-"));
  const legacy = path.join(root, "legacy");
  fs.mkdirSync(legacy);
  const archive = spawnSync(
    "sh",
    [
      "-c",
      `git -C "$0" archive --format=tar ${legacyCommit} dynamic-providers packages tests/fixtures/enrollment-program tsconfig.json | tar -x -C "$1"`,
      projectRoot,
      legacy,
    ],
    { encoding: "utf8" },
  );
  if (archive.status !== 0) {
    throw new Error(`cannot extract commit ${legacyCommit} (a clone with its history is needed): ${archive.stderr}`);
  }
  legacyNodeModules(path.join(legacy, "node_modules"), path.join(legacy, "packages", "enrollment-provider"));
  const program = path.join(root, "program");
  fs.cpSync(path.join(legacy, "tests", "fixtures", "enrollment-program"), program, { recursive: true });
  // The emulator's hubs have since moved to addresses of their own; the program names them as they are now (the
  // provider code under test is the legacy one, untouched).
  const legacyProgram = path.join(program, "index.ts");
  const legacyHubs = '["emulator-hub-1.azure-devices.net", "emulator-hub-2.azure-devices.net"]';
  const source = fs.readFileSync(legacyProgram, "utf8");
  if (!source.includes(legacyHubs)) throw new Error(`the legacy program no longer names ${legacyHubs}`);
  fs.writeFileSync(legacyProgram, source.replace(legacyHubs, JSON.stringify(currentHubs)));
  fs.symlinkSync(path.join(legacy, "node_modules"), path.join(program, "node_modules"));
  fs.mkdirSync(path.join(root, "state"));

  emulator = await startTestEmulator({ requestLog: path.join(root, "requests.log") });
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "upgrade", workDir: program },
    {
      pulumiCommand: await pinnedPulumiCommand(),
      // The legacy shim loads the implementation from DPS_ENROLLMENTS_ROOT; the current package ignores it.
      envVars: { ...scratchEnv(`file://${path.join(root, "state")}`), DPS_ENROLLMENTS_ROOT: legacy },
    },
  );
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
    primaryKey: { value: Buffer.alloc(32, 0x21).toString("base64"), secret: true },
    secondaryKey: { value: Buffer.alloc(32, 0x22).toString("base64"), secret: true },
    x509Primary: { value: issueCertificate({ commonName: "x509-both", clientAuth: true }).certPem },
    x509Secondary: { value: issueCertificate({ commonName: "x509-both", clientAuth: true }).certPem },
  });
});

afterAll(async () => {
  await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  await emulator?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test("a stack written by the provider before it was a package upgrades in place", async () => {
  const legacyUp = await stack.up({ onOutput: (o) => void output.push(o) });
  expect(legacyUp.summary.resourceChanges).toEqual({ create: 4 });
  const legacy = await enrollmentState();
  for (const r of Object.values(legacy)) {
    // The very text the package's root index.js is serialized to today: old states resolve to the new code.
    expect([r.id, r.inputs.__provider, r.inputs.providerVersion]).toEqual([r.id, serializedProvider, undefined]);
  }
  const client = emulator.client();
  const live = async (id: string): Promise<string | undefined> =>
    (await client.getIndividualEnrollment(id)).responseBody.etag;
  const etags = { generated: await live("sym-generated"), x509: await live("x509-both") };

  // The current package and the program of today take over the same stack; one real change comes with them.
  const program = stack.workspace.workDir;
  fs.copyFileSync(
    path.join(projectRoot, "tests", "fixtures", "enrollment-program", "index.ts"),
    path.join(program, "index.ts"),
  );
  fs.rmSync(path.join(program, "node_modules"));
  fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(program, "node_modules"));
  await stack.setConfig("hub", { value: currentHubs[1] });
  const before = (await emulator.requests()).length;

  const events: EngineEvent[] = [];
  const shown: string[] = [];
  const preview = await stack.preview({ onEvent: (e) => void events.push(e), onOutput: (o) => void shown.push(o) });
  expect(preview.changeSummary).toEqual({ same: 1, update: 3 });
  const ops = events
    .map((e) => e.resourcePreEvent?.metadata)
    .filter((m) => m?.type === enrollmentType)
    .map((m) => `${m!.urn.split("::").pop()} ${m!.op}`);
  expect(ops.sort()).toEqual(["sym-generated update", "sym-given update", "x509-both update"]);
  // What the preview says (dynamic providers have no detailed diff: the CLI shows the inputs that differ).
  const lines = shown
    .join("")
    .split("\n")
    .filter((l) => l.includes(` ${enrollmentType} `))
    .map((l) => l.trim().replace(/\s+/g, " "));
  // ownerStack (the owner the provider marks in DPS) is new in the inputs too: recorded, never compared by diff.
  expect(lines.sort()).toEqual([
    `~ ${enrollmentType} sym-generated update [diff: +ownerStack,providerVersion]`,
    `~ ${enrollmentType} sym-given update [diff: +ownerStack,providerVersion~iotHubs]`,
    // The legacy state predates certificateValidity too, which check now derives (and diff never compares).
    `~ ${enrollmentType} x509-both update [diff: +certificateValidity,ownerStack,providerVersion]`,
  ]);
  output.push(...shown);

  const up = await stack.up({ onOutput: (o) => void output.push(o) });
  expect(up.summary.resourceChanges).toEqual({ same: 1, update: 3 });
  // DPS heard of the one change only: the enrollments that merely changed provider were not sent again.
  const requests = (await emulator.requests()).slice(before);
  expect(requests.map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual(["PUT /enrollments/sym-given"]);
  expect({ generated: await live("sym-generated"), x509: await live("x509-both") }).toEqual(etags);
  const upgraded = await enrollmentState();
  for (const r of Object.values(upgraded)) {
    expect([
      r.id,
      r.inputs.__provider,
      r.inputs.providerVersion,
      r.outputs.providerVersion,
      r.outputs.ownerStack,
    ]).toEqual([r.id, serializedProvider, providerVersion, providerVersion, "organization/dps-enrollments/upgrade"]);
  }
  expect(upgraded["sym-generated"].outputs.etag).toBe(legacy["sym-generated"].outputs.etag);
  // Keys stayed secret through both providers.
  const stateFile = path.join(root, "state", ".pulumi", "stacks", "dps-enrollments", "upgrade.json");
  for (const text of [output.join(""), fs.readFileSync(stateFile, "utf8")]) {
    expect(text).not.toContain(Buffer.alloc(32, 0x21).toString("base64"));
  }
  expect((await stack.preview()).changeSummary).toEqual({ same: 4 });

  // State a newer provider wrote (it records itself in every enrollment it updates): refresh and destroy refuse
  // it, naming both versions, and DPS keeps every enrollment.
  const deployment = await stack.exportStack();
  for (const r of (deployment.deployment as { resources: StateResource[] }).resources) {
    if (r.type === enrollmentType) r.outputs.providerVersion = "99.0.0";
  }
  await stack.importStack(deployment);
  const refusal = (id: string): string =>
    `enrollment '${id}' in this stack's state was last written by @dps-enrollments/enrollment-provider ` +
    `99.0.0, and this is ${providerVersion}, which may not understand it. Install ` +
    `@dps-enrollments/enrollment-provider 99.0.0 or newer in this program, or set ` +
    `DPS_ENROLLMENTS_ALLOW_OLDER_PROVIDER=true to run ${providerVersion} anyway.`;
  await expect(stack.refresh()).rejects.toThrow(refusal("sym-generated"));
  await expect(stack.destroy()).rejects.toThrow(refusal("x509-both"));
  const enrollmentsInDps = async (): Promise<string[]> => {
    const query = client.createIndividualEnrollmentQuery({ query: "*" }, 100);
    const page = (await query.next(query.continuationToken)) as unknown as {
      responseBody: { registrationId: string }[];
    };
    return page.responseBody.map((e) => e.registrationId);
  };
  expect(await enrollmentsInDps()).toEqual(["sym-generated", "sym-given", "x509-both"]);

  stack.workspace.envVars.DPS_ENROLLMENTS_ALLOW_OLDER_PROVIDER = "true";
  const destroy = await stack.destroy();
  expect(destroy.summary.resourceChanges).toEqual({ delete: 4 });
  expect(await enrollmentsInDps()).toEqual([]);
});
