// What the default settings cost: `pulumi up` creating N enrollments as scripts/run.sh and `npm start` run it
// (checkpoints skipped for an enrollment-only stack, ownership markers in DPS), beside the engine's linear floor
// measured in the same run (N no-op dynamic resources, checkpoints skipped), and the `up` that recovers a run whose
// state was lost entirely (every create answered 409 and taken back through its marker). Each `up` also says how
// many DPS operations it made and how long those take at DPS's quota (1,000 a minute per unit): the provider paces
// itself to `--per-minute` (default 1,000,000, so that the engine and the provider are measured, not the quota).
// `--with-checkpoints` adds the old default, a checkpoint around every step. The emulator runs as its own process.
//
//   npm run bench:recovery -- [--enrollments 1000] [--per-minute 1000000] [--with-checkpoints]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { spawnEmulator } from "../tests/support/emulator-process";
import { benchProjects, enrollmentStack, noopStack, pacedConfig, withCheckpoints } from "./lib/bench/stacks";
import { checkpointEnv } from "./lib/checkpoints";
import { emulatorStats, performedOperations } from "./lib/emulator-stats";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";

const usage = `Usage: npm run bench:recovery -- [--enrollments N] [--per-minute N] [--with-checkpoints]
  --enrollments N      enrollments created (default 1000)
  --per-minute N       the stack's dpsOperationsPerMinute (default 1000000: the quota does not dominate; 1000 is
                       DPS's real quota for one unit)
  --with-checkpoints   also time the old default (a checkpoint around every step; quadratic)
  --help, -h           this list`;

/** DPS's operations quota per unit, per minute. */
const quotaPerMinute = 1000;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    enrollments: { type: "string" },
    "per-minute": { type: "string" },
    "with-checkpoints": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) {
    console.log(usage);
    return;
  }
  const n = flags.enrollments === undefined ? 1000 : integerFlag("--enrollments", flags.enrollments, 1, 100_000);
  const perMinute =
    flags["per-minute"] === undefined ? 1_000_000 : integerFlag("--per-minute", flags["per-minute"], 1, 10_000_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-bench-recovery-"));
  const emulator = await spawnEmulator(["--port", "0", "--mqtt-port", "-1", "--request-log", "none"], dataDir);
  const counted = async (run: () => Promise<unknown>): Promise<{ seconds: number; operations: number }> => {
    const before = performedOperations(await emulatorStats(emulator.connection));
    const seconds = await timed(run);
    return { seconds, operations: performedOperations(await emulatorStats(emulator.connection)) - before };
  };
  const projects = benchProjects();
  try {
    // Default settings: what scripts/run.sh, npm start and deploy give an emulator (or existing) stack.
    const defaults = checkpointEnv("emulator", {});
    const enrollments = (name: string, env: Record<string, string>) =>
      enrollmentStack(projects.enrollments, name, {
        count: n,
        prefix: "bench-",
        dataDir,
        env,
        config: pacedConfig(perMinute),
      });
    const rows: { label: string; seconds: number; operations?: number }[] = [];

    const floorStack = await noopStack(projects.noop, "floor", { count: n, env: defaults });
    rows.push({
      label: `floor: up creating ${n} no-op resources, checkpoints skipped`,
      seconds: await timed(() => floorStack.up()),
    });

    const stack = await enrollments("recovery", defaults);
    rows.push({ label: `up creating ${n} enrollments, default settings`, ...(await counted(() => stack.up())) });
    // The state lost entirely (a killed run saves nothing): a new state, the same stack, every create a 409.
    await stack.workspace.removeStack("recovery", { force: true });
    const again = await enrollments("recovery", defaults);
    rows.push({
      label: `up after the state was lost (${n} taken back by marker)`,
      ...(await counted(() => again.up())),
    });
    await again.destroy();

    if (flags["with-checkpoints"]) {
      const checkpointed = await enrollments("checkpointed", withCheckpoints);
      rows.push({
        label: `up creating ${n} enrollments, a checkpoint every step`,
        ...(await counted(() => checkpointed.up())),
      });
      await checkpointed.destroy({ parallel: 16 });
    }

    const floor = rows[0].seconds;
    console.log(
      `defaults: ${JSON.stringify(defaults)}; dpsOperationsPerMinute ${perMinute}; ${os.cpus().length} cores; ` +
        "emulator as its own process",
    );
    for (const row of rows) {
      const atQuota =
        row.operations === undefined
          ? ""
          : `  ${row.operations} DPS operations: ${((row.operations / quotaPerMinute) * 60).toFixed(0)} s at ` +
            `DPS's quota of ${quotaPerMinute} a minute`;
      console.log(
        `${row.label.padEnd(62)} ${row.seconds.toFixed(1).padStart(7)} s  ${(row.seconds / floor).toFixed(2)}× floor${atQuota}`,
      );
    }
  } finally {
    projects.cleanup();
    await emulator.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:recovery: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof FlagError) console.error("npm run bench:recovery -- --help lists every flag");
  process.exit(1);
});
