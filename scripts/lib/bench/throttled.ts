// The throttled scenario of goal 1: an emulator enforcing the DPS operations quota (`--throttle Q`, its own process,
// 429 with Retry-After beyond it) and `up` creating N enrollments with default settings. What counts comes from the
// emulator's request log, not from the client: operations answered, 429s sent; and from the state: what was created.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { spawnEmulator } from "../../../tests/support/emulator-process";
import type { ThrottledFigures } from "./figures";
import { serviceTraffic } from "./request-log";
import { benchProjects, enrollmentStack } from "./stacks";

export interface ThrottledOptions {
  enrollments: number;
  /** The emulator's quota, operations per minute. */
  quotaPerMinute: number;
  parallel: number;
  /** Stack config dpsOperationsPerMinute; undefined leaves the provider's default. */
  configuredPerMinute?: number;
  /** Environment of the CLI runs (the default settings' PULUMI_SKIP_CHECKPOINTS, …). */
  env?: Record<string, string>;
}

const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";

export async function throttledUp(options: ThrottledOptions): Promise<ThrottledFigures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-bench-throttled-"));
  const requestLog = path.join(dataDir, "requests.log");
  const emulator = await spawnEmulator(
    ["--port", "0", "--mqtt-port", "-1", "--throttle", String(options.quotaPerMinute), "--request-log", requestLog],
    dataDir,
  );
  const projects = benchProjects();
  try {
    const stack = await enrollmentStack(projects.enrollments, "throttled", {
      count: options.enrollments,
      prefix: "throttled-",
      dataDir,
      env: options.env,
      config:
        options.configuredPerMinute === undefined
          ? {}
          : { dpsOperationsPerMinute: { value: String(options.configuredPerMinute) } },
    });
    // Only the run's own requests count: the log starts empty here.
    fs.writeFileSync(requestLog, "");
    const started = performance.now();
    let failure = "";
    await stack.up({ parallel: options.parallel }).catch((err: unknown) => {
      failure = err instanceof Error ? err.message : String(err);
    });
    const seconds = (performance.now() - started) / 1000;
    const state = (await stack.exportStack()).deployment as { resources?: { type: string }[] };
    const created = (state.resources ?? []).filter((r) => r.type === enrollmentType).length;
    const traffic = serviceTraffic(fs.readFileSync(requestLog, "utf8"));
    if (failure && created === options.enrollments) {
      throw new Error(`the throttled up failed although every enrollment was created: ${failure.slice(-2000)}`);
    }
    await stack.workspace.removeStack(stack.name, { force: true });
    return {
      enrollments: options.enrollments,
      quotaPerMinute: options.quotaPerMinute,
      configuredPerMinute: options.configuredPerMinute,
      seconds,
      operations: traffic.operations,
      throttled: traffic.throttled,
      failures: options.enrollments - created,
      created,
    };
  } finally {
    projects.cleanup();
    await emulator.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
