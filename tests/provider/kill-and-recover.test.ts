// Crash safety with default settings, across machines: two separate copies of the project (fresh clones: sources
// only, no local state, no journal) share one file backend and one DPS (the emulator over HTTPS). An `up` in clone A
// is SIGKILLed with its whole process tree at a seeded random point; clone B runs `pulumi cancel` (the lock the
// killed CLI left) and `up`, and converges: every manifest enrollment in DPS and in the state once, the foreign
// enrollments untouched to the etag, the same-ID foreign ones refused until the manifest says `adopt` or drops
// them. Then an `up` killed mid-update (B, recovered by A) and a `destroy` killed mid-way (A, recovered by B).
// Default settings are what scripts/run.sh and scripts/main.ts use: PULUMI_SKIP_CHECKPOINTS=true for an
// enrollment-only stack (scripts/lib/checkpoints.ts), so a killed run saves nothing and DPS's ownership markers
// alone tell the next run what is the stack's. `DPS_KILL_SEED=<n>` reproduces the kill points.
import * as fs from "node:fs";
import * as path from "node:path";

import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";

import type { DpsEnrollment } from "../../dynamic-providers/enrollment/wire";
import { checkpointEnv, stackPlatform } from "../../scripts/lib/checkpoints";
import {
  pinnedPulumiCommand,
  pinnedPulumiExecutable,
  projectRoot,
  scratchEnv,
  scratchProject,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";
import { removeTornSidecars } from "../support/file-backend";
import { awaitNoSurvivors, findProcess, killTree } from "../support/process-tree";

jest.setTimeout(30 * 60_000);

const stackName = "fleet";
const owner = `organization/dps-enrollments/${stackName}`;
const other = "organization/dps-enrollments/other-fleet";
const count = 200;
const fleetIds = Array.from({ length: count }, (_, i) => `fleet-${String(i).padStart(3, "0")}`);
const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";

const seed = Number(process.env.DPS_KILL_SEED) || Math.floor(Math.random() * 2 ** 31);
/** mulberry32: the kill points from the seed. */
function random(): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random();
/** A kill point between 10 % and 75 % of the enrollments. */
const killPoint = (): number => Math.floor(count * (0.1 + 0.65 * next()));

let emulator: TestEmulator;
let cloneA: ScratchProject;
let cloneB: ScratchProject;
/** The CLI's output, to a file beside the clones: for a failing run's log. */
const capture = (o: string): void => fs.appendFileSync(path.join(path.dirname(cloneA.workDir), "cli.log"), o);

const adoptAdvice =
  "To take it over, set `adopt: true` on this enrollment (the manifest entry or the resource's args) and run " +
  "`pulumi up` again; Pulumi's `import` does not work with dynamic providers.";

/**
 * A manifest as committed: the fleet, then (unless `fleetOnly`) the two IDs someone else holds in DPS. A run killed
 * on purpose names the fleet only: a refused ID would end it on its own, maybe before the kill point (the bug this
 * pins: "regression: an up refused before its kill point was taken for a killed one").
 */
function manifest(options: {
  batch: number;
  adoptUnmarked: boolean;
  withOtherStacks: boolean;
  fleetOnly?: boolean;
}): string {
  const lines = ["individualEnrollments:"];
  fleetIds.forEach((id, i) => {
    lines.push(`  - registrationId: ${id}`, "    attestation: { symmetricKey: {} }");
    if (options.batch > 1 || i % 4 === 0) lines.push(`    optionalDeviceInformation: { batch: ${options.batch} }`);
  });
  if (options.fleetOnly) return `${lines.join("\n")}\n`;
  lines.push("  - registrationId: taken-unmarked", "    attestation: { symmetricKey: {} }");
  if (options.adoptUnmarked) lines.push("    adopt: true");
  if (options.withOtherStacks)
    lines.push("  - registrationId: taken-by-other", "    attestation: { symmetricKey: {} }");
  return `${lines.join("\n")}\n`;
}

function writeManifest(clone: ScratchProject, text: string): void {
  const file = path.join(clone.workDir, "stacks", stackName, "enrollments.yaml");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

async function allInDps(): Promise<DpsEnrollment[]> {
  const query = emulator.client().createIndividualEnrollmentQuery({ query: "*" }, 1000);
  const page = (await query.next(query.continuationToken)) as unknown as { responseBody: DpsEnrollment[] };
  return page.responseBody.sort((a, b) => a.registrationId.localeCompare(b.registrationId));
}

async function get(id: string): Promise<DpsEnrollment> {
  return (await emulator.client().getIndividualEnrollment(id)).responseBody as unknown as DpsEnrollment;
}

async function openStack(clone: ScratchProject): Promise<Stack> {
  // Default settings: the environment scripts/run.sh and scripts/main.ts give a stack of this platform.
  const envVars = {
    ...scratchEnv(cloneA.backendUrl),
    ...checkpointEnv(stackPlatform(clone.workDir, stackName), {}),
  };
  return LocalWorkspace.selectStack(
    { stackName, workDir: clone.workDir },
    { pulumiCommand: await pinnedPulumiCommand(), envVars },
  );
}

/** Runs `operation` and SIGKILLs the CLI's whole tree once `ready` holds; resolves when it has ended. */
async function killedWhen(
  clone: ScratchProject,
  command: string,
  operation: Promise<unknown>,
  ready: () => Promise<boolean>,
): Promise<{ outcome: string; pid: number }> {
  // A run that ends before the kill says how, so a failing test names the reason.
  const outcome = operation.then(
    () => "finished on its own",
    (err: Error) => `failed on its own: ${err.message}`,
  );
  let ended = false;
  void outcome.then(() => (ended = true));
  while (!ended) {
    if (await ready()) {
      const pid = findProcess(pinnedPulumiExecutable(), command, clone.workDir);
      if (pid !== undefined) {
        killTree(pid);
        await outcome;
        return { outcome: "killed", pid };
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { outcome: await outcome, pid: 0 };
}

/** No process of either clone or the backend survives (the killed CLI's plugins included). */
async function expectNothingRunning(): Promise<void> {
  for (const dir of [cloneA, cloneB].map((c) => path.dirname(c.workDir))) {
    expect(await awaitNoSurvivors(dir)).toEqual([]);
  }
}

/**
 * Runs `command` (`run` started it) until `progress` reaches a seeded random point, SIGKILLs the CLI's whole tree,
 * and checks it died mid-way leaving nothing running. Returns the killed CLI's pid.
 */
async function killMidway(
  clone: ScratchProject,
  command: "up" | "destroy",
  run: Promise<unknown>,
  progress: () => Promise<number>,
): Promise<number> {
  const point = killPoint();
  const killed = await killedWhen(clone, command, run, async () => (await progress()) >= point);
  expect(killed.outcome).toBe("killed");
  const done = await progress();
  console.log(`kill-and-recover: ${command} killed at ${point} of ${count} (${done} done in DPS)`);
  expect(done).toBeGreaterThanOrEqual(point);
  expect(done).toBeLessThan(count);
  await expectNothingRunning();
  // The documented repair, needed only when the kill landed in the final save's metadata write.
  const torn = removeTornSidecars(cloneA.backendUrl.replace("file://", ""));
  if (torn.length > 0) console.log(`kill-and-recover: the kill tore ${torn.join(", ")}; removed (README recovery)`);
  return killed.pid;
}

const untouched = ["stray-by-other", "stray-unmarked", "taken-by-other"];

/** The foreign enrollments the stack never takes, exactly as they were (etag and every field). */
async function expectForeignUntouched(): Promise<void> {
  for (const id of untouched) expect(await get(id)).toEqual(foreign[id]);
}

async function stateIds(stack: Stack): Promise<string[]> {
  const deployment = (await stack.exportStack()).deployment as {
    resources?: { type: string; outputs?: { registrationId?: string; optionalDeviceInformation?: unknown } }[];
  };
  const enrollments = (deployment.resources ?? []).filter((r) => r.type === enrollmentType);
  // Refresh and the state never see the ownership marker.
  for (const r of enrollments) expect(JSON.stringify(r.outputs?.optionalDeviceInformation ?? {})).not.toContain("hash");
  return enrollments.map((r) => r.outputs?.registrationId ?? "").sort();
}

const foreign: Record<string, DpsEnrollment> = {};

beforeAll(async () => {
  console.log(`kill-and-recover: seed ${seed} (DPS_KILL_SEED=${seed} reproduces the kill points)`);
  emulator = await startTestEmulator();
  cloneA = scratchProject(projectRoot, "dps-clone-a-");
  cloneB = scratchProject(projectRoot, "dps-clone-b-");
  // The stack and its committed stack file: created in A, the file copied to B as a clone would have it.
  const stack = await LocalWorkspace.createStack(
    { stackName, workDir: cloneA.workDir },
    { pulumiCommand: await pinnedPulumiCommand(), envVars: scratchEnv(cloneA.backendUrl) },
  );
  await stack.workspace.setAllConfig(stackName, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
  });
  const stackFile = path.join("stacks", `Pulumi.${stackName}.yaml`);
  fs.copyFileSync(path.join(cloneA.workDir, stackFile), path.join(cloneB.workDir, stackFile));
  // A holds the commit that named the fleet; B the next one, which also names the two IDs someone else holds.
  writeManifest(cloneA, manifest({ batch: 1, adoptUnmarked: false, withOtherStacks: true, fleetOnly: true }));
  writeManifest(cloneB, manifest({ batch: 1, adoptUnmarked: false, withOtherStacks: true }));

  // Someone else's enrollments: two with IDs the manifest also names, two unrelated; one of each pair marked by
  // another stack of the same project.
  const marker = { "dps-enrollments": { stack: other, hash: "0".repeat(64) } };
  const documents = [
    { registrationId: "taken-unmarked", optionalDeviceInformation: { owner: "someone else" } },
    { registrationId: "taken-by-other", optionalDeviceInformation: marker },
    { registrationId: "stray-unmarked", deviceId: "stray" },
    { registrationId: "stray-by-other", optionalDeviceInformation: { ...marker, note: "kept" } },
  ];
  for (const doc of documents) {
    await emulator.client().createOrUpdateIndividualEnrollment({
      ...doc,
      attestation: { type: "symmetricKey" },
    } as never);
    foreign[doc.registrationId] = await get(doc.registrationId);
  }
}, 600_000);

afterAll(async () => {
  await expectNothingRunning();
  await emulator?.dispose();
  cloneA?.cleanup();
  cloneB?.cleanup();
});

test("an up killed in clone A converges from clone B: cancel, up; nothing lost, duplicated or taken over", async () => {
  const stackA = await openStack(cloneA);
  expect((await stackA.workspace.getAllConfig(stackName))["dps-enrollments:platform"].value).toBe("emulator");
  // Default settings for this stack are linear: checkpoints skipped (a killed run saves nothing at all).
  expect(checkpointEnv(stackPlatform(cloneA.workDir, stackName), {})).toEqual({ PULUMI_SKIP_CHECKPOINTS: "true" });

  const fleetCount = async (): Promise<number> =>
    (await allInDps()).filter((e) => e.registrationId.startsWith("fleet-")).length;
  const pid = await killMidway(cloneA, "up", stackA.up({ onOutput: capture }), fleetCount);

  // Clone B, another machine: the killed CLI's lock stops it until `pulumi cancel`.
  const stackB = await openStack(cloneB);
  const locked = await stackB.up({ onOutput: capture }).then(
    () => "",
    (err: Error) => err.message,
  );
  expect(locked).toContain(
    "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock " +
      "file with `pulumi cancel`.",
  );
  expect(locked).toContain(`(pid ${pid})`);
  await stackB.cancel();

  // The two IDs someone else holds are refused, each with its reason; nothing of theirs changes.
  const refused = await stackB.up({ onOutput: capture }).then(
    () => "",
    (err: Error) => err.message,
  );
  expect(refused).toContain(
    `enrollment 'taken-unmarked' already exists in DPS and this stack does not manage it. ${adoptAdvice}`,
  );
  expect(refused).toContain(
    `enrollment 'taken-by-other' already exists in DPS and belongs to stack '${other}' (its ownership marker says ` +
      `so); this stack does not manage it. ${adoptAdvice}`,
  );
  await expectForeignUntouched();
  expect(await get("taken-unmarked")).toEqual(foreign["taken-unmarked"]);

  // The manifest adopts the unmarked one and drops the other stack's: up converges.
  writeManifest(cloneB, manifest({ batch: 1, adoptUnmarked: true, withOtherStacks: false }));
  const converged = await stackB.up({ onOutput: capture });
  expect(converged.summary.result).toBe("succeeded");

  const live = await allInDps();
  expect(live.map((e) => e.registrationId)).toEqual(
    [...fleetIds, "stray-by-other", "stray-unmarked", "taken-by-other", "taken-unmarked"].sort(),
  );
  await expectForeignUntouched();
  const ours = live.filter((e) => e.registrationId.startsWith("fleet-") || e.registrationId === "taken-unmarked");
  expect(ours.map((e) => (e.optionalDeviceInformation?.["dps-enrollments"] as { stack: string }).stack)).toEqual(
    ours.map(() => owner),
  );
  // The user's own optionalDeviceInformation stays beside the marker; the adopted one is now as the manifest says.
  expect(Object.keys((await get("fleet-000")).optionalDeviceInformation ?? {}).sort()).toEqual([
    "batch",
    "dps-enrollments",
  ]);
  expect(Object.keys((await get("taken-unmarked")).optionalDeviceInformation ?? {})).toEqual(["dps-enrollments"]);
  expect(await stateIds(stackB)).toEqual([...fleetIds, "taken-unmarked"].sort());
  expect((await stackB.preview()).changeSummary).toEqual({ same: count + 3 });
  // Refresh reads every enrollment and finds no drift: the marker is not a property.
  expect((await stackB.refresh()).summary.resourceChanges).toEqual({ same: count + 3 });
});

test("an up killed mid-update in clone B converges from clone A", async () => {
  const text = manifest({ batch: 2, adoptUnmarked: true, withOtherStacks: false });
  writeManifest(cloneB, text);
  const stackB = await openStack(cloneB);
  const updated = async (): Promise<number> =>
    (await allInDps()).filter((e) => e.optionalDeviceInformation?.batch === 2).length;
  await killMidway(cloneB, "up", stackB.up({ onOutput: capture }), updated);

  // Clone A pulls the same commit, releases the lock and runs up: the killed run's own updates moved the etags
  // (412), and their markers show they were this stack's writes.
  writeManifest(cloneA, text);
  const stackA = await openStack(cloneA);
  await stackA.cancel();
  const up = await stackA.up({ onOutput: capture });
  expect(up.summary.result).toBe("succeeded");
  expect(await updated()).toBe(count);
  await expectForeignUntouched();
  expect(await stateIds(stackA)).toEqual([...fleetIds, "taken-unmarked"].sort());
  expect((await stackA.preview()).changeSummary).toEqual({ same: count + 3 });
});

test("a destroy killed in clone A completes from clone B, leaving exactly the foreign enrollments", async () => {
  const stackA = await openStack(cloneA);
  const gone = async (): Promise<number> =>
    count - (await allInDps()).filter((e) => e.registrationId.startsWith("fleet-")).length;
  await killMidway(cloneA, "destroy", stackA.destroy({ onOutput: capture }), gone);

  const stackB = await openStack(cloneB);
  await stackB.cancel();
  const destroy = await stackB.destroy({ onOutput: capture });
  expect(destroy.summary.result).toBe("succeeded");
  expect((await allInDps()).map((e) => e.registrationId)).toEqual(untouched);
  await expectForeignUntouched();
  expect(await stateIds(stackB)).toEqual([]);
  await stackB.workspace.removeStack(stackName);
});
