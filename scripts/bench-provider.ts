// Provider benchmark: for each size, `up` creating every enrollment with default settings, a no-change `preview`,
// `refresh` and `destroy` of this project's program against the emulator (its own process), each beside the no-op
// floor (tests/fixtures/noop-program: the same CLI, language host, flags and environment, resources that do nothing)
// and the raw SDK (the same DPS calls with Microsoft's client at the same concurrency); `up` with checkpoints too at
// the sizes that can afford it; peak memory of the CLI, program and provider; state bytes per enrollment; and the
// throttled run (emulator --throttle, achieved rate ÷ quota, failures); first, the fixed cost of a no-change preview
// (7 enrollments beside 7 no-op resources). Writes the figures as JSON and Markdown and
// an SVG chart of `up` time against enrollment count.
//
//   npm run bench:provider -- [--enrollments 1000,10000] [--parallel 16] [--throttled 5000] [--out docs]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";

import { emulatorClientOptions } from "../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../dynamic-providers/service-client";
import { spawnEmulator } from "../tests/support/emulator-process";
import { renderChart } from "./lib/bench/chart";
import {
  renderMarkdown,
  type FixedCostFigures,
  renderText,
  throttledFigures,
  type BenchReport,
  type OperationFigures,
  type SizeFigures,
} from "./lib/bench/figures";
import { benchUsage, parseBenchOptions, type BenchOptions } from "./lib/bench/options";
import { pool, timeRawSdk } from "./lib/bench/raw-sdk";
import {
  benchProjects,
  enrollmentStack,
  measure,
  noopStack,
  pacedConfig,
  withCheckpoints,
  type BenchProjects,
  type Measured,
} from "./lib/bench/stacks";
import { throttledUp } from "./lib/bench/throttled";
import { checkpointEnv } from "./lib/checkpoints";
import { FlagError } from "./lib/flags";
import { projectRoot, stackStateFile, type ScratchProject } from "./lib/pulumi-cli";

/**
 * The environment of a run with default settings, as `npm run pulumi` and `npm start` give an enrollment-only stack
 * (scripts/lib/checkpoints.ts): checkpoints skipped, the state saved once, at the end; recovery rests on the
 * ownership markers in DPS, not on the state (see the README).
 */
const defaultSettings = checkpointEnv("emulator", {});

/** High enough that the pacer never waits in the unthrottled sizes: they measure everything but the quota. */
const unthrottledPerMinute = 1_000_000;
const config = pacedConfig(unthrottledPerMinute);

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} at start`;
}

function log(line: string): void {
  console.error(`[bench] ${new Date().toISOString().slice(11, 19)} ${line}`);
}

/** Measures one CLI run and says at once what it took (a size of 10,000 runs for a long time). */
async function step<T>(label: string, project: ScratchProject, run: () => Promise<T>): Promise<Measured<T>> {
  const measured = await measure(project, run);
  const { cli, program, provider } = measured.peaks;
  log(
    `  ${label}: ${measured.seconds.toFixed(1)} s, peak RSS MiB CLI ${cli.toFixed(0)}, program ${program.toFixed(0)}, provider ${provider.toFixed(0)}`,
  );
  return measured;
}

/** Runs a preview with V8 CPU profiles of the Node processes when DPS_BENCH_CPU_PROF names a directory. */
async function profiledPreview(stack: Stack, parallel: number, label: string): Promise<number> {
  const dir = process.env.DPS_BENCH_CPU_PROF;
  const before = process.env.NODE_OPTIONS;
  if (dir) process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${path.resolve(dir, label)}`;
  try {
    return (await stack.preview({ parallel })).changeSummary.same ?? 0;
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
}

async function measureSize(
  n: number,
  options: BenchOptions,
  projects: BenchProjects,
  emulator: { dataDir: string; client: ReturnType<typeof createServiceClient> },
): Promise<SizeFigures> {
  const { parallel } = options;
  log(`${n}: raw SDK (create, get, get + keys, delete)`);
  const sdk = await timeRawSdk(emulator.client, n, parallel, `sdk-${n}-`);

  const project = await enrollmentStack(projects.enrollments, `bench-${n}`, {
    count: n,
    prefix: `e${n}-`,
    dataDir: emulator.dataDir,
    env: defaultSettings,
    config,
  });
  const noop = await noopStack(projects.noop, `noop-${n}`, { count: n, env: defaultSettings });
  log(`${n}: up, default settings`);
  const up = await step(`up ${n}`, projects.enrollments, () => project.up({ parallel }));
  const upFloor = await step(`no-op up ${n}`, projects.noop, () => noop.up({ parallel }));
  const stateBytes = fs.statSync(stackStateFile(projects.enrollments, project.name)).size;

  log(`${n}: no-change preview`);
  const preview = await step(`preview ${n}`, projects.enrollments, () =>
    profiledPreview(project, parallel, `enrollments-${n}`),
  );
  const previewFloor = await step(`no-op preview ${n}`, projects.noop, () =>
    profiledPreview(noop, parallel, `noop-${n}`),
  );
  // Every enrollment, the component and the stack unchanged: anything else would not be a no-change preview.
  if (preview.result !== n + 2 || previewFloor.result !== n + 1) {
    throw new Error(`the previews were not no-change ones: ${preview.result} and ${previewFloor.result} unchanged`);
  }
  log(`${n}: refresh`);
  const refresh = await step(`refresh ${n}`, projects.enrollments, () => project.refresh({ parallel }));
  const refreshFloor = await step(`no-op refresh ${n}`, projects.noop, () => noop.refresh({ parallel }));
  log(`${n}: destroy`);
  const destroy = await step(`destroy ${n}`, projects.enrollments, () => project.destroy({ parallel }));
  const destroyFloor = await step(`no-op destroy ${n}`, projects.noop, () => noop.destroy({ parallel }));
  await project.workspace.removeStack(project.name);
  await noop.workspace.removeStack(noop.name);

  const operations: OperationFigures[] = [
    {
      label: "up (create all), default settings",
      seconds: up.seconds,
      floorSeconds: upFloor.seconds,
      sdkSeconds: sdk.create,
      sdkCalls: `${n} PUT`,
      peaks: up.peaks,
      floorPeaks: upFloor.peaks,
    },
  ];
  const checkpointed: OperationFigures = { label: "up (create all), checkpoints on" };
  if (n <= options.checkpointedMax) {
    log(`${n}: up with checkpoints`);
    const slow = await enrollmentStack(projects.enrollments, `checkpoints-${n}`, {
      count: n,
      prefix: `c${n}-`,
      dataDir: emulator.dataDir,
      env: withCheckpoints,
      config,
    });
    const slowNoop = await noopStack(projects.noop, `noop-checkpoints-${n}`, { count: n, env: withCheckpoints });
    const measured = await step(`up with checkpoints ${n}`, projects.enrollments, () => slow.up({ parallel }));
    const measuredFloor = await step(`no-op up with checkpoints ${n}`, projects.noop, () => slowNoop.up({ parallel }));
    Object.assign(checkpointed, {
      seconds: measured.seconds,
      floorSeconds: measuredFloor.seconds,
      sdkSeconds: sdk.create,
      sdkCalls: `${n} PUT`,
      peaks: measured.peaks,
      floorPeaks: measuredFloor.peaks,
    });
    // Its destroy would be as slow again and is not what is measured: the stacks go, the enrollments by the SDK.
    await slow.workspace.removeStack(slow.name, { force: true });
    await slowNoop.workspace.removeStack(slowNoop.name, { force: true });
    await pool(n, parallel, (i) => emulator.client.deleteIndividualEnrollment(`c${n}-${i}`));
  } else {
    checkpointed.skipped = `above --checkpointed-max ${options.checkpointedMax} (the file backend rewrites the whole state twice per create: hours at this size)`;
  }
  operations.push(
    checkpointed,
    {
      label: "no-change preview",
      seconds: preview.seconds,
      floorSeconds: previewFloor.seconds,
      sdkSeconds: sdk.get,
      sdkCalls: `${n} GET`,
      peaks: preview.peaks,
      floorPeaks: previewFloor.peaks,
    },
    {
      label: "refresh",
      seconds: refresh.seconds,
      floorSeconds: refreshFloor.seconds,
      sdkSeconds: sdk.refresh,
      sdkCalls: `${n} GET + ${n} keys POST`,
      peaks: refresh.peaks,
      floorPeaks: refreshFloor.peaks,
    },
    {
      label: "destroy, default settings",
      seconds: destroy.seconds,
      floorSeconds: destroyFloor.seconds,
      sdkSeconds: sdk.delete,
      sdkCalls: `${n} DELETE`,
      peaks: destroy.peaks,
      floorPeaks: destroyFloor.peaks,
    },
  );
  return { enrollments: n, operations, stateBytesPerEnrollment: stateBytes / n };
}

/** As many enrollments as the `local` stack has: a preview this small is almost all fixed cost. */
const fixedCostSize = 7;

/** A no-change preview of `fixedCostSize` enrollments beside as many no-op resources (the median of three each). */
async function measureFixedCost(
  options: BenchOptions,
  projects: BenchProjects,
  emulator: { dataDir: string },
): Promise<FixedCostFigures> {
  const n = fixedCostSize;
  const project = await enrollmentStack(projects.enrollments, `fixed-${n}`, {
    count: n,
    prefix: `f${n}-`,
    dataDir: emulator.dataDir,
    env: defaultSettings,
    config,
  });
  const noop = await noopStack(projects.noop, `noop-fixed-${n}`, { count: n, env: defaultSettings });
  await project.up({ parallel: options.parallel });
  await noop.up({ parallel: options.parallel });
  const median = async (project: ScratchProject, stack: Stack, label: string): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push((await step(label, project, () => stack.preview())).seconds);
    return times.sort((a, b) => a - b)[1];
  };
  const seconds = await median(projects.enrollments, project, `preview ${n}`);
  const floorSeconds = await median(projects.noop, noop, `no-op preview ${n}`);
  await project.destroy({ parallel: options.parallel });
  await noop.destroy({ parallel: options.parallel });
  await project.workspace.removeStack(project.name);
  await noop.workspace.removeStack(noop.name);
  return { enrollments: n, seconds, floorSeconds };
}

/** The chart's series: `up` (default settings) of this project, of the no-op floor and of the raw SDK per size. */
function upChart(report: BenchReport): string {
  const up = (pick: (op: OperationFigures) => number | undefined): (readonly [number, number])[] =>
    report.sizes.flatMap((size) => {
      const value = pick(size.operations[0]);
      return value === undefined ? [] : [[size.enrollments, value] as const];
    });
  return renderChart({
    title: "pulumi up creating N enrollments (default settings)",
    xLabel: "enrollments",
    yLabel: "seconds",
    series: [
      { label: "this project", color: "#1f77b4", points: up((op) => op.seconds) },
      { label: "no-op floor", color: "#7f7f7f", points: up((op) => op.floorSeconds), dashed: true },
      { label: "raw SDK", color: "#2ca02c", points: up((op) => op.sdkSeconds) },
    ],
  });
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(benchUsage);
    return;
  }
  const report: BenchReport = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: machine(),
    command: ["npm run bench:provider", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    parallel: options.parallel,
    settings: [
      `default settings: ${Object.entries(defaultSettings)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}; PULUMI_NODEJS_TRANSPILE_ONLY=${process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "(unset)"}; ` +
        `GOMEMLIMIT=${process.env.GOMEMLIMIT ?? "(unset)"} (both programs)`,
      `unthrottled sizes: emulator without --throttle, stack config dpsOperationsPerMinute ${unthrottledPerMinute}`,
      "the emulator runs as its own process on loopback; the no-op floor is tests/fixtures/noop-program",
    ],
    sizes: [],
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-bench-provider-"));
  const emulator = await spawnEmulator(["--port", "0", "--mqtt-port", "-1", "--request-log", "none"], dataDir);
  const client = createServiceClient(emulatorClientOptions(emulator.connection));
  const projects = benchProjects();
  try {
    log(`${fixedCostSize}: no-change preview (the fixed cost)`);
    report.previewFixed = await measureFixedCost(options, projects, { dataDir });
    for (const n of options.sizes) {
      report.sizes.push(await measureSize(n, options, projects, { dataDir, client }));
      console.log(renderText({ ...report, sizes: [report.sizes[report.sizes.length - 1]] }));
    }
  } finally {
    projects.cleanup();
    await emulator.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (options.throttled > 0) {
    log(`throttled: up creating ${options.throttled} against --throttle ${options.throttle}`);
    const throttled = { enrollments: options.throttled, throttle: options.throttle, parallel: options.parallel };
    report.throttled = throttledFigures(await throttledUp({ ...throttled, env: defaultSettings }), throttled);
  } else {
    report.throttled = { skipped: "--throttled 0" };
  }
  console.log(renderText(report));
  const out = path.resolve(projectRoot, options.out);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "performance.json"), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(out, "performance.md"), renderMarkdown(report));
  fs.writeFileSync(path.join(out, "performance-up.svg"), upChart(report));
  log(`wrote ${path.relative(projectRoot, out)}/performance.{json,md} and performance-up.svg`);
}

main().catch((err: unknown) => {
  console.error(`bench:provider: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof FlagError) console.error("npm run bench:provider -- --help lists every flag");
  process.exit(1);
});
