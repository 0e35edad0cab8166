// Team state: Pulumi's DIY backend on Azure Blob Storage (azblob://), for real against Azurite, with the pinned CLI
// and the enrollment fixture program against the DPS emulator. Two checkouts share one stack in one container: an
// up and a preview through the blob backend; two concurrent ups where the second is refused by the first one's
// lock and nothing is lost; a preview with read-only storage access, and an up refused with it.
//
// The race is deterministic, not timed: the DIY backend writes its lock blob before the update runs the program
// (backend/diy/lock.go, Lock in Update), and the first up's enrollments reach the emulator through a gate that holds
// their connections. Once the gate holds one, the first up is inside its update with the lock written; the second
// up runs then, and the gate opens only after it has been refused.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  CommandError,
  ConcurrentUpdateError,
  LocalWorkspace,
  type ConfigMap,
  type Stack,
  type UpResult,
} from "@pulumi/pulumi/automation";
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import type { ContainerClient } from "@azure/storage-blob";

import {
  pinnedPulumiCommand,
  projectRoot,
  scratchEnv,
  scratchProject,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { azuriteAccount, azuriteKey, readBlobs, startAzurite, type Azurite } from "../support/azurite";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";
import { startGateProxy, type GateProxy } from "../support/gate-proxy";

const program = path.join(projectRoot, "tests", "fixtures", "enrollment-program");
const containerName = "pulumi-state";
const primaryKey = Buffer.alloc(32, 0x31).toString("base64");
const secondaryKey = Buffer.alloc(32, 0x32).toString("base64");
const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";

let azurite: Azurite;
let container: ContainerClient;
const cleanups: (() => void)[] = [];
/** CLI runs still going when a test fails: teardown waits for them, never stops the services under them. */
const pending: Promise<unknown>[] = [];
const emulators: TestEmulator[] = [];
const gates: GateProxy[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
  container = await azurite.createContainer(containerName);
});

afterAll(async () => {
  gates.forEach((g) => g.open());
  await Promise.allSettled(pending);
  await Promise.all(gates.map((g) => g.close()));
  await Promise.all(emulators.map((e) => e.dispose()));
  cleanups.reverse().forEach((cleanup) => cleanup());
  await azurite?.dispose();
});

/** A throwaway PULUMI_HOME, so nothing is written to the user's ~/.pulumi. */
function pulumiHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "dps-pulumi-home-"));
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  return home;
}

function checkout(prefix: string): ScratchProject {
  const project = scratchProject(program, prefix);
  cleanups.push(() => project.cleanup());
  return project;
}

/** Environment of a team member's CLI: the shared blob backend, the team's passphrase, storage credentials. */
function teamEnv(home: string, storage: Record<string, string>): Record<string, string> {
  return {
    ...scratchEnv(azurite.backendUrl(containerName)),
    ...storage,
    PULUMI_HOME: home,
  };
}

async function stackIn(project: ScratchProject, name: string, env: Record<string, string>): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { stackName: name, workDir: project.workDir },
    { pulumiCommand: await pinnedPulumiCommand(), envVars: env },
  );
}

interface SharedStack {
  /** The stack in a first checkout, which configured it. */
  first: Stack;
  /** The same stack from a second checkout (the stack file copied, as git would bring it). */
  second: Stack;
  homes: string[];
  /** The DPS of this stack alone (the fixture's registration IDs are fixed). */
  emulator: TestEmulator;
  /** Between the stack and its DPS, shut: the test decides when enrollments reach the emulator. */
  gate: GateProxy;
}

async function sharedStack(name: string): Promise<SharedStack> {
  const emulator = await startTestEmulator();
  emulators.push(emulator);
  const gate = await startGateProxy(emulator.port);
  gates.push(gate);
  const homes = [pulumiHome(), pulumiHome()];
  const [one, two] = [checkout(`dps-${name}-a-`), checkout(`dps-${name}-b-`)];
  const first = await stackIn(one, name, teamEnv(homes[0], azurite.sharedKeyEnv()));
  const config: ConfigMap = {
    platform: { value: "existing" },
    connectionString: { value: emulator.connection.connectionString, secret: true },
    endpoint: { value: `https://localhost:${gate.port}` },
    caCertificate: { value: emulator.connection.caCertificate },
    primaryKey: { value: primaryKey, secret: true },
    secondaryKey: { value: secondaryKey, secret: true },
  };
  await first.setAllConfig(config);
  const stackFile = `Pulumi.${name}.yaml`;
  fs.copyFileSync(path.join(one.workDir, stackFile), path.join(two.workDir, stackFile));
  const second = await stackIn(two, name, teamEnv(homes[1], azurite.sharedKeyEnv()));
  return { first, second, homes, emulator, gate };
}

interface StateFile {
  checkpoint: { latest: { resources: { urn: string; type: string; id?: string }[] } };
}

async function stateOf(name: string): Promise<{ text: string; enrollments: string[] }> {
  const blobs = await readBlobs(container, `.pulumi/stacks/dps-enrollments/${name}.json`);
  const text = blobs.get(`.pulumi/stacks/dps-enrollments/${name}.json`) ?? "";
  const state = JSON.parse(text) as StateFile;
  const enrollments = state.checkpoint.latest.resources.filter((r) => r.type === enrollmentType).map((r) => r.id);
  return { text, enrollments: enrollments.map(String).sort() };
}

const lockPrefix = (name: string): string => `.pulumi/locks/organization/dps-enrollments/${name}/`;

test("up and preview through the blob backend: state in the container, secrets encrypted, no lock left", async () => {
  const { first, second, homes, emulator, gate } = await sharedStack("team");
  gate.open();
  const output: string[] = [];

  const up = await first.up({ onOutput: (line) => output.push(line) });
  expect(up.summary.resourceChanges).toEqual({ create: 3 });
  // The other checkout sees the same state: nothing to do.
  const preview = await second.preview({ onOutput: (line) => output.push(line) });
  expect(preview.changeSummary).toEqual({ same: 3 });

  const blobs = await readBlobs(container);
  // The DIY layout (meta.yaml version 1: project-scoped stacks); timestamps in names read <time>.
  expect(
    [...blobs.keys()]
      .filter((k) => k.includes("/team"))
      .map((k) => k.replace(/\d{10,}/, "<time>"))
      .sort(),
  ).toEqual([
    ".pulumi/backups/dps-enrollments/team/team.<time>.json",
    ".pulumi/history/dps-enrollments/team/team-<time>.checkpoint.json",
    ".pulumi/history/dps-enrollments/team/team-<time>.history.json",
    ".pulumi/stacks/dps-enrollments/team.json",
    ".pulumi/stacks/dps-enrollments/team.json.bak",
  ]);
  expect(blobs.get(".pulumi/meta.yaml")).toBe("version: 1\n");
  const state = await stateOf("team");
  expect(state.enrollments).toEqual(["sym-generated", "sym-given"]);
  const key = /SharedAccessKey=([^;]+)/.exec(emulator.connection.connectionString)?.[1] ?? "";
  for (const secret of [primaryKey, secondaryKey, key, String(up.outputs.generatedPrimaryKey.value)]) {
    for (const [name, text] of [...blobs, ["output", output.join("")]])
      expect([name, text.includes(secret)]).toEqual([name, false]);
  }
  // A backend URL is all the CLI needs: no `pulumi login`, no credentials file in PULUMI_HOME.
  for (const home of homes) expect(fs.existsSync(path.join(home, "credentials.json"))).toBe(false);
});

test("two concurrent ups of one stack: the second is refused by the first one's lock, and nothing is lost", async () => {
  const { first, second, emulator, gate } = await sharedStack("race");

  const output: string[] = [];
  const firstUp: Promise<UpResult> = first.up({ onOutput: (line) => output.push(line) });
  pending.push(firstUp.catch(() => undefined));
  // Held at the gate: the first up is inside its update, and its lock is written.
  await gate.waitForHeld(1);
  const locks = await readBlobs(container, lockPrefix("race"));
  expect(locks.size).toBe(1);
  const [[lockKey, lockText]] = [...locks];
  const lock = JSON.parse(lockText) as { pid: number; username: string; hostname: string; timestamp: string };

  const refusal = await second.up().then(
    () => new Error("the second up was not refused"),
    (err: unknown) => err,
  );
  expect(refusal).toBeInstanceOf(ConcurrentUpdateError);
  const lockUrl =
    `azblob://${containerName}/${lockKey}?storage_account=${azuriteAccount}&domain=127.0.0.1:${azurite.port}` +
    "&protocol=http&localemu=true";
  expect((refusal as ConcurrentUpdateError).message).toContain(
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete " +
      "the lock file with `pulumi cancel`.\n" +
      `  ${lockUrl}: created by ${lock.username}@${lock.hostname} (pid ${lock.pid}) at ` +
      lock.timestamp.replace(/\.\d+/, ""),
  );
  // The refused up wrote no lock of its own, the first one's is untouched, and nothing has reached DPS yet.
  expect(await readBlobs(container, lockPrefix("race"))).toEqual(locks);
  expect((await rejection(emulator.client().getIndividualEnrollment("sym-given"))).status).toBe(404);

  gate.open();
  const up = await firstUp;
  expect(up.summary.result).toBe("succeeded");
  expect(up.summary.resourceChanges).toEqual({ create: 3 });

  expect((await stateOf("race")).enrollments).toEqual(["sym-generated", "sym-given"]);
  expect((await emulator.client().getIndividualEnrollment("sym-given")).responseBody.registrationId).toBe("sym-given");
  expect((await readBlobs(container, lockPrefix("race"))).size).toBe(0);
  // From the checkout that was refused: everything is there, nothing to do.
  const preview = await second.preview();
  expect(preview.changeSummary).toEqual({ same: 3 });
  const again = await second.up();
  expect(again.summary.resourceChanges).toEqual({ same: 3 });
});

// Pulumi 3.276's gocloud.dev azureblob writer panics when an upload fails (writer.Close closes a pipe reader its
// upload goroutine has set to nil): a refused state write ends the CLI with a panic, not the storage's 403. The
// lock is the first write of an up, so nothing else has happened by then.
test("a preview needs only read access to the state; an up with it is refused (gocloud.dev panic on the 403) and changes nothing", async () => {
  const { first, emulator, gate } = await sharedStack("readonly");
  gate.open();
  await first.up();
  const before = await stateOf("readonly");

  // Read and list, like the role "Storage Blob Data Reader" that review jobs get.
  const sas = generateBlobSASQueryParameters(
    {
      containerName,
      permissions: ContainerSASPermissions.parse("rl"),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(azuriteAccount, azuriteKey),
  ).toString();
  const reader = await stackIn(
    checkoutWith(first),
    "readonly",
    teamEnv(pulumiHome(), { AZURE_STORAGE_ACCOUNT: azuriteAccount, AZURE_STORAGE_SAS_TOKEN: sas }),
  );

  const preview = await reader.preview();
  expect(preview.changeSummary).toEqual({ same: 3 });

  await reader.setConfig("hub", { value: "127.0.0.3" });
  const refused = await reader.up().then(
    () => undefined,
    (err: unknown) => err as CommandError,
  );
  expect(refused).toBeInstanceOf(CommandError);
  const stderr = refused?.message ?? "";
  // The panic's stack, innermost first: the blob writer's Close, the bucket write, the backend's Lock.
  const frames = [
    "Panic:            runtime error: invalid memory address or nil pointer dereference",
    "gocloud.dev/blob/azureblob.(*writer).Close(",
    "github.com/pulumi/pulumi/pkg/v3/backend/diy.(*wrappedBucket).WriteAll(",
    "github.com/pulumi/pulumi/pkg/v3/backend/diy.(*diyBackend).Lock(",
    "github.com/pulumi/pulumi/pkg/v3/backend/diy.(*diyBackend).Update(",
  ];
  expect(frames.map((frame) => stderr.indexOf(frame))).toEqual(
    frames.map((frame) => stderr.indexOf(frame)).sort((a, b) => a - b),
  );
  expect(frames.filter((frame) => !stderr.includes(frame))).toEqual([]);

  expect(await stateOf("readonly")).toEqual(before);
  expect((await readBlobs(container, lockPrefix("readonly"))).size).toBe(0);
  expect((await emulator.client().getIndividualEnrollment("sym-given")).responseBody.iotHubs).toEqual(["127.0.0.2"]);
});

/** Another checkout holding the same stack file as `stack`'s. */
function checkoutWith(stack: Stack): ScratchProject {
  const project = checkout("dps-reader-");
  const stackFile = `Pulumi.${stack.name}.yaml`;
  fs.copyFileSync(path.join(stack.workspace.workDir, stackFile), path.join(project.workDir, stackFile));
  return project;
}
