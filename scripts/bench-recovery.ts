// What the default settings cost: `pulumi up` creating N enrollments as scripts/run.sh and `npm start` run it
// (checkpoints skipped for an enrollment-only stack, ownership markers in DPS), beside the engine's linear floor
// measured in the same run (N no-op dynamic resources, checkpoints skipped), and the `up` that recovers a run whose
// state was lost entirely (every create answered 409 and taken back through its marker). `--with-checkpoints` adds
// the old default, a checkpoint around every step. The emulator runs as its own process.
//
//   npm run bench:recovery -- [--enrollments 1000] [--with-checkpoints]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";

import { noopFloorProject } from "./lib/bench/stacks";
import { checkpointEnv } from "./lib/checkpoints";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";
import { projectRoot, scratchProject, scratchStack } from "./lib/pulumi-cli";

const usage = `Usage: npm run bench:recovery -- [--enrollments N] [--with-checkpoints]
  --enrollments N      enrollments created (default 1000)
  --with-checkpoints   also time the old default (a checkpoint around every step; quadratic)
  --help, -h           this list`;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    enrollments: { type: "string" },
    "with-checkpoints": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) {
    console.log(usage);
    return;
  }
  const n = flags.enrollments === undefined ? 1000 : integerFlag("--enrollments", flags.enrollments, 1, 100_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-bench-recovery-"));
  const emulator = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "emulator", "main.ts"), "--data", dataDir, "--port", "0"].concat([
      "--mqtt-port",
      "-1",
      "--request-log",
      "none",
    ]),
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  emulator.stdout.on("data", (c: Buffer) => (out += c.toString()));
  while (!out.includes("listening")) await new Promise((r) => setTimeout(r, 50));
  const project = scratchProject(projectRoot, "dps-bench-recovery-");
  const noop = noopFloorProject();
  try {
    const manifest = `individualEnrollments:\n${Array.from(
      { length: n },
      (_, i) => `  - registrationId: bench-${i}\n    attestation: { symmetricKey: {} }`,
    ).join("\n")}\n`;
    const enrollmentStack = async (name: string, env: Record<string, string>): Promise<Stack> => {
      const file = path.join(project.workDir, "stacks", name, "enrollments.yaml");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, manifest);
      const stack = await scratchStack(project, name, env);
      await stack.workspace.setAllConfig(name, {
        platform: { value: "emulator" },
        emulatorDataDir: { value: dataDir },
      });
      return stack;
    };
    const rows: [string, number][] = [];

    const floorStack = await scratchStack(noop, "floor", { PULUMI_SKIP_CHECKPOINTS: "true" });
    await floorStack.workspace.setConfig("floor", "count", { value: String(n) });
    rows.push([`floor: up creating ${n} no-op resources, checkpoints skipped`, await timed(() => floorStack.up())]);

    // Default settings: what scripts/run.sh, npm start and deploy give an emulator (or existing) stack.
    const defaults = checkpointEnv("emulator", {});
    const stack = await enrollmentStack("recovery", defaults);
    rows.push([`up creating ${n} enrollments, default settings`, await timed(() => stack.up())]);
    // The state lost entirely (a killed run saves nothing): a new state, the same stack, every create a 409.
    await stack.workspace.removeStack("recovery", { force: true });
    const again = await enrollmentStack("recovery", defaults);
    rows.push([`up after the state was lost (${n} taken back by marker)`, await timed(() => again.up())]);
    await again.destroy();

    if (flags["with-checkpoints"]) {
      const checkpointed = await enrollmentStack("checkpointed", {});
      rows.push([`up creating ${n} enrollments, a checkpoint every step`, await timed(() => checkpointed.up())]);
      await checkpointed.destroy({ parallel: 16 });
    }

    const floor = rows[0][1];
    console.log(`defaults: ${JSON.stringify(defaults)}; ${os.cpus().length} cores; emulator as its own process`);
    for (const [label, seconds] of rows) {
      console.log(`${label.padEnd(62)} ${seconds.toFixed(1).padStart(7)} s  ${(seconds / floor).toFixed(2)}× floor`);
    }
  } finally {
    project.cleanup();
    noop.cleanup();
    emulator.kill("SIGTERM");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:recovery: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof FlagError) console.error("npm run bench:recovery -- --help lists every flag");
  process.exit(1);
});
