// An `up` killed mid-way (some PUTs done, the state not yet saved) converges by the recovery the README documents:
// `pulumi cancel` (the killed CLI's lock), then `up` again — nothing lost, nothing duplicated. Also with
// PULUMI_SKIP_CHECKPOINTS, where the killed `up` saved no state at all and every create is completed by the journal.
import * as fs from "node:fs";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";

import {
  pinnedPulumiBin,
  projectRoot,
  scratchProject,
  scratchStack,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";

const count = 300;
let emulator: TestEmulator;
let project: ScratchProject;

async function enrollmentsInDps(): Promise<string[]> {
  const query = emulator.client().createIndividualEnrollmentQuery({ query: "*" }, 1000);
  const page = (await query.next(query.continuationToken)) as unknown as { responseBody: { registrationId: string }[] };
  return page.responseBody.map((e) => e.registrationId);
}

/** The process IDs whose parent is `pid`, and theirs, from /proc. */
function descendants(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The parent is the second field after the command name (which may hold spaces).
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/**
 * SIGKILLs the pinned CLI's `up` of the stack (not the test process, not other stacks) and every process it
 * started: the CLI dies as a machine would lose it, and its dynamic-provider process, which would outlive it as an
 * orphan, goes with it (regression: the test left those running).
 */
function killUp(stackName: string): boolean {
  const cli = path.join(pinnedPulumiBin(), "pulumi");
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args[0] === cli && args[1] === "up" && args.includes(stackName)) {
        const tree = [Number(pid), ...descendants(Number(pid))];
        for (const member of tree) {
          try {
            process.kill(member, "SIGKILL");
          } catch {
            // it ended on its own meanwhile
          }
        }
        return true;
      }
    } catch {
      // the process ended while we looked
    }
  }
  return false;
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
    if ((await enrollmentsInDps()).length >= 40) killed = killUp(name);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await first).toBe("killed");
  const partial = (await enrollmentsInDps()).length;
  expect(partial).toBeGreaterThanOrEqual(40);
  expect(partial).toBeLessThan(count);

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
});
