// An `up` killed mid-way (some PUTs done, the state not yet saved) converges by the recovery the README documents:
// `pulumi cancel` (the killed CLI's lock), then `up` again — nothing lost, nothing duplicated. With checkpoints (as
// `platform: azure` runs) the state holds pending creates; with PULUMI_SKIP_CHECKPOINTS (the default of enrollment
// stacks) the killed `up` saved nothing, and every create is completed through the ownership markers in DPS
// (kill-and-recover.test.ts does the same from another clone). The kill takes the CLI's whole process tree, and
// nothing of the run may survive it.
import * as fs from "node:fs";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";

import {
  pinnedPulumiExecutable,
  projectRoot,
  scratchProject,
  scratchStack,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";
import { removeTornSidecars } from "../support/file-backend";
import { awaitNoSurvivors, findProcess, killTree } from "../support/process-tree";

// With checkpoints, the killed `up`, the recovering one and the destroy each rewrite the state around every step
// (quadratic): minutes on a shared 2-core machine.
jest.setTimeout(15 * 60_000);

const count = 300;
let emulator: TestEmulator;
let project: ScratchProject;

async function enrollmentsInDps(): Promise<string[]> {
  const query = emulator.client().createIndividualEnrollmentQuery({ query: "*" }, 1000);
  const page = (await query.next(query.continuationToken)) as unknown as { responseBody: { registrationId: string }[] };
  return page.responseBody.map((e) => e.registrationId);
}

/** SIGKILLs the pinned CLI's `up` in the scratch project and its whole process tree; false while it has not started. */
function killUp(): boolean {
  const pid = findProcess(pinnedPulumiExecutable(), "up", project.workDir);
  if (pid === undefined) return false;
  killTree(pid);
  return true;
}

beforeAll(() => {
  project = scratchProject(projectRoot, "dps-interrupted-");
});

beforeEach(async () => {
  emulator = await startTestEmulator();
});

afterEach(async () => {
  await emulator?.dispose();
});

afterAll(() => {
  project?.cleanup();
});

async function interruptedStack(name: string, env: Record<string, string>): Promise<Stack> {
  const manifest = path.join(project.workDir, "stacks", name, "enrollments.yaml");
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  const entries = Array.from(
    { length: count },
    (_, i) => `  - registrationId: int-${i}\n    attestation: { symmetricKey: {} }`,
  );
  fs.writeFileSync(manifest, `individualEnrollments:\n${entries.join("\n")}\n`);
  const stack = await scratchStack(project, name, env);
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
  });
  return stack;
}

test.each([
  ["interrupted", {}],
  ["interrupted-skip-checkpoints", { PULUMI_SKIP_CHECKPOINTS: "true" }],
])("%s: cancel, then up again, converges after an up killed mid-way", async (name, env) => {
  const stack = await interruptedStack(name, env);
  const first = stack.up({ parallel: 8 }).then(
    () => "finished",
    () => "killed",
  );
  let killed = false;
  while (!killed) {
    if ((await enrollmentsInDps()).length >= 40) killed = killUp();
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await first).toBe("killed");
  const partial = (await enrollmentsInDps()).length;
  expect(partial).toBeGreaterThanOrEqual(40);
  expect(partial).toBeLessThan(count);
  // Regression: the CLI's language host, program and dynamic-provider process outlived it as orphans.
  expect(await awaitNoSurvivors(path.dirname(project.workDir))).toEqual([]);

  const torn = removeTornSidecars(project.backendUrl.replace("file://", ""));
  if (torn.length > 0) console.log(`interrupted-up: the kill tore ${torn.join(", ")}; removed (README recovery)`);
  await stack.cancel();
  const second = await stack.up({ parallel: 8 });
  expect(second.summary.result).toBe("succeeded");
  const ids = await enrollmentsInDps();
  expect(ids).toHaveLength(count);
  expect(new Set(ids).size).toBe(count);
  expect((await stack.preview()).changeSummary).toEqual({ same: count + 2 });

  const destroy = await stack.destroy({ parallel: 8 });
  expect(destroy.summary.resourceChanges).toEqual({ delete: count + 2 });
  expect(await enrollmentsInDps()).toEqual([]);
  await stack.workspace.removeStack(stack.name);
  expect(await awaitNoSurvivors(path.dirname(project.workDir))).toEqual([]);
});
