// A throttled `pulumi up`: the emulator as its own process with `--throttle N` (DPS's operations quota, answered
// with 429 and Retry-After), a manifest of M symmetric-key enrollments, `up --parallel P` through the pinned CLI on a
// scratch backend. Returns what the run achieved against the quota, from the emulator's own counters
// (`/_emulator/stats`) and the provider's pacing line. Used by tests/provider/throttled-up.test.ts at small scale
// and by the provider benchmark (e.g. `--throttle 1000`, 5,000 enrollments). The emulator is killed at the end
// instead of destroying what was created.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { emulatorClientOptions } from "../../../dynamic-providers/enrollment/connection";
import { Pacer } from "../../../dynamic-providers/enrollment/pacer";
import { parsePacingLine, type PacingFigures } from "../../../dynamic-providers/enrollment/pacing";
import { createServiceClient } from "../../../dynamic-providers/service-client";
import type { EmulatorStats } from "../../../emulator/middleware";
import type { ConnectionInfo } from "../../../emulator/server";
import { spawnEmulator } from "../../../tests/support/emulator-process";
import { emulatorStats, performedOperations } from "../emulator-stats";
import { projectRoot, scratchProject, scratchStack, stackStateFile } from "../pulumi-cli";

export interface ThrottledUpOptions {
  enrollments: number;
  /** The emulator's `--throttle`: operations a minute before 429. */
  throttle: number;
  parallel: number;
  /** Stack config `dpsOperationsPerMinute`; omitted: the provider's default (1,000 for the emulator). */
  operationsPerMinute?: number;
  /** Extra environment of the CLI (e.g. PULUMI_SKIP_CHECKPOINTS). */
  env?: Record<string, string>;
  /** Hears the CLI's output as it comes. */
  onOutput?: (text: string) => void;
}

export interface ThrottledUpFigures {
  /** `succeeded` or `failed`: the engine's verdict. */
  result: string;
  /** Wall time of the `up`, seconds. */
  seconds: number;
  /** Resources the `up` created, by the engine's summary (enrollments, the component and the stack). */
  created: number;
  /** Enrollments in DPS and in the stack's state after the run. */
  inDps: number;
  inState: number;
  /** The emulator's counters after the run. */
  emulator: EmulatorStats;
  /** Answers other than 429, over all operations: the operations DPS performed. */
  completed: number;
  /** Operations a minute DPS performed over the `up`, and that divided by the throttle. */
  achievedPerMinute: number;
  quotaUsed: number;
  /** The provider's pacing lines (one per DPS) and the CLI's error lines, as printed. */
  pacing: string[];
  /** The provider's own figures for the emulator's DPS (from its pacing line), when it printed them. */
  provider?: PacingFigures;
  errors: string[];
  /** Everything the CLI printed. */
  output: string;
}

/** Registration IDs of every individual enrollment in the emulator, read by a client paced to its throttle. */
async function enrollmentsInDps(connection: ConnectionInfo, throttle: number): Promise<string[]> {
  const client = createServiceClient({
    ...emulatorClientOptions(connection),
    pacing: { pacer: new Pacer({ perMinute: throttle }), stallMs: 120_000 },
  });
  const query = client.createIndividualEnrollmentQuery({ query: "*" }, 1000);
  const ids: string[] = [];
  do {
    const page = (await query.next(query.continuationToken)) as unknown as {
      responseBody: { registrationId: string }[];
    };
    ids.push(...page.responseBody.map((e) => e.registrationId));
  } while (query.hasMoreResults);
  return ids;
}

export async function throttledUp(options: ThrottledUpOptions): Promise<ThrottledUpFigures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-throttled-"));
  const project = scratchProject(projectRoot, "dps-throttled-up-");
  const emulator = await spawnEmulator(
    ["--port", "0", "--mqtt-port", "-1", "--request-log", "none", "--throttle", String(options.throttle)],
    dataDir,
  );
  try {
    const name = "throttled";
    const manifest = path.join(project.workDir, "stacks", name, "enrollments.yaml");
    fs.mkdirSync(path.dirname(manifest), { recursive: true });
    const entries = Array.from(
      { length: options.enrollments },
      (_, i) => `  - registrationId: throttled-${String(i).padStart(5, "0")}\n    attestation: { symmetricKey: {} }`,
    );
    fs.writeFileSync(manifest, `individualEnrollments:\n${entries.join("\n")}\n`);
    const stack = await scratchStack(project, name, options.env ?? {});
    await stack.workspace.setAllConfig(stack.name, {
      platform: { value: "emulator" },
      emulatorDataDir: { value: dataDir },
      ...(options.operationsPerMinute === undefined
        ? {}
        : { dpsOperationsPerMinute: { value: String(options.operationsPerMinute) } }),
    });

    let output = "";
    const started = Date.now();
    const result = await stack
      .up({
        parallel: options.parallel,
        onOutput: (text) => {
          output += text;
          options.onOutput?.(text);
        },
      })
      .then(
        (up) => ({ result: up.summary.result, created: up.summary.resourceChanges?.create ?? 0 }),
        () => ({ result: "failed", created: 0 }),
      );
    const seconds = (Date.now() - started) / 1000;

    const { connection } = emulator;
    const stats = await emulatorStats(connection);
    const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";
    const state = JSON.parse(fs.readFileSync(stackStateFile(project, name), "utf8")) as {
      checkpoint: { latest?: { resources?: { type: string }[] } };
    };
    const inState = (state.checkpoint.latest?.resources ?? []).filter((r) => r.type === enrollmentType).length;
    const completed = performedOperations(stats);
    const achievedPerMinute = (completed / seconds) * 60;
    const lines = output.split("\n").map((l) => l.trim());
    const pacing = lines.filter((l) => l.startsWith("dps-enrollments pacing:"));
    return {
      ...result,
      seconds,
      inDps: new Set(await enrollmentsInDps(connection, options.throttle)).size,
      inState,
      emulator: stats,
      completed,
      achievedPerMinute,
      quotaUsed: achievedPerMinute / options.throttle,
      pacing,
      provider: pacing.map(parsePacingLine).find((figures) => figures !== undefined),
      errors: lines.filter((l) => /\berror\b/i.test(l)),
      output,
    };
  } finally {
    await emulator.kill();
    project.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
