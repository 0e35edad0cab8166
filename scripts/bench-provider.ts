// Provider benchmark: `pulumi up` creating N enrollments from a manifest, a no-change `pulumi preview` and a
// `pulumi refresh`, each beside the same N PUTs / GETs issued directly with Microsoft's client at the same
// concurrency. Prints the times and ratios, state-file bytes per enrollment, and the peak memory of the CLI and of
// the dynamic-provider process. The emulator runs as its own process.
//
//   npm run bench:provider -- [--enrollments 1000] [--parallel 16]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";
import type { Stack } from "@pulumi/pulumi/automation";

import { emulatorClientOptions } from "../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../dynamic-providers/service-client";
import type { ConnectionInfo } from "../emulator/server";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";
import { sampleProcesses } from "./lib/process-sampler";
import { projectRoot, scratchProject, scratchStack, stackStateFile } from "./lib/pulumi-cli";

const usage = `Usage: npm run bench:provider -- [--enrollments N] [--parallel N]
  --enrollments N   enrollments in the manifest (default 1000)
  --parallel N      pulumi --parallel and the direct client's concurrency (default 16)
  --help, -h        this list
DPS_BENCH_CPU_PROF=<dir> also writes V8 CPU profiles of the preview's processes there.`;

function parseOptions(argv: readonly string[]): { enrollments: number; parallel: number } | "help" {
  const flags = parseFlags(argv, {
    enrollments: { type: "string" },
    parallel: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  return {
    enrollments: flags.enrollments === undefined ? 1000 : integerFlag("--enrollments", flags.enrollments, 1, 100_000),
    parallel: flags.parallel === undefined ? 16 : integerFlag("--parallel", flags.parallel, 1, 256),
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = Date.now();
  const result = await run();
  return { result, seconds: (Date.now() - started) / 1000 };
}

async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(usage);
    return;
  }
  const { enrollments: n, parallel } = options;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-bench-provider-"));
  const emulator = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(projectRoot, "emulator", "main.ts"),
      "--data",
      dataDir,
      "--port",
      "0",
      "--mqtt-port",
      "-1",
      "--request-log",
      "none",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  emulator.stdout.on("data", (c: Buffer) => (out += c.toString()));
  while (!out.includes("listening")) await new Promise((r) => setTimeout(r, 50));
  const info = JSON.parse(fs.readFileSync(path.join(dataDir, "connection.json"), "utf8")) as ConnectionInfo;
  const client = createServiceClient(emulatorClientOptions(info));

  const project = scratchProject(projectRoot, "dps-bench-provider-");
  try {
    const entry = (i: number): string =>
      `  - registrationId: bench-${i}\n    attestation: { symmetricKey: {} }\n    initialTwin: { tags: { fleet: bench } }`;
    const manifest = `individualEnrollments:\n${Array.from({ length: n }, (_, i) => entry(i)).join("\n")}\n`;
    /** A stack of the n-entry manifest against the emulator. */
    const benchStack = async (name: string, env: Record<string, string> = {}): Promise<Stack> => {
      const file = path.join(project.workDir, "stacks", name, "enrollments.yaml");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, manifest);
      const stack = await scratchStack(project, name, env);
      await stack.workspace.setAllConfig(stack.name, {
        platform: { value: "emulator" },
        emulatorDataDir: { value: dataDir },
      });
      return stack;
    };
    const stack = await benchStack("bench");
    const patterns = { cli: /bin\/pulumi (up|preview|refresh)/, provider: /dynamic-provider/ };

    const up = await sampleProcesses(project.workDir, patterns, () => timed(() => stack.up({ parallel })));
    // DPS_BENCH_CPU_PROF=<dir>: V8 CPU profiles of the program and provider processes during the preview.
    const profileDir = process.env.DPS_BENCH_CPU_PROF;
    if (profileDir) process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${path.resolve(profileDir)}`;
    const preview = await sampleProcesses(project.workDir, patterns, () => timed(() => stack.preview({ parallel })));
    delete process.env.NODE_OPTIONS;
    const refresh = await sampleProcesses(project.workDir, patterns, () => timed(() => stack.refresh({ parallel })));

    const direct = await timed(() =>
      pool(n, parallel, (i) =>
        client.createOrUpdateIndividualEnrollment({
          registrationId: `direct-${i}`,
          attestation: { type: "symmetricKey" },
          initialTwin: { tags: { fleet: "bench" }, properties: { desired: {} } },
        } as unknown as IndividualEnrollment),
      ),
    );
    const directGets = await timed(() => pool(n, parallel, (i) => client.getIndividualEnrollment(`direct-${i}`)));
    const directRefresh = await timed(() =>
      pool(n, parallel, async (i) => {
        await client.getIndividualEnrollment(`direct-${i}`);
        await client.getIndividualEnrollmentAttestationMechanism(`direct-${i}`);
      }),
    );

    const stateBytes = fs.statSync(stackStateFile(project, stack.name)).size;
    const row = (label: string, pulumiSeconds: number, directSeconds: number, peaks: Record<string, number>): string =>
      `${label.padEnd(28)} pulumi ${pulumiSeconds.toFixed(1).padStart(6)} s   direct ${directSeconds.toFixed(1).padStart(5)} s   ratio ${(pulumiSeconds / directSeconds).toFixed(1).padStart(5)}×   peak RSS: CLI ${peaks.cli.toFixed(0)} MiB, provider ${peaks.provider.toFixed(0)} MiB`;
    console.log(`${n} enrollments, parallel ${parallel}, emulator on loopback (2-core machine)`);
    console.log(row("up (create) vs PUT", up.result.seconds, direct.seconds, up.peaks));
    console.log(row("preview (no change) vs GET", preview.result.seconds, directGets.seconds, preview.peaks));
    console.log(row("refresh vs GET + keys POST", refresh.result.seconds, directRefresh.seconds, refresh.peaks));
    console.log(`state file: ${stateBytes} bytes, ${(stateBytes / n).toFixed(0)} bytes per enrollment`);
    await stack.destroy({ parallel });
    await stack.workspace.removeStack(stack.name);

    // The same `up` with PULUMI_SKIP_CHECKPOINTS (state saved once, at the end): what the file backend's
    // per-step checkpoint costs. See the README on when that is safe.
    const fast = await benchStack("bench-skip-checkpoints", { PULUMI_SKIP_CHECKPOINTS: "true" });
    const upSkip = await sampleProcesses(project.workDir, patterns, () => timed(() => fast.up({ parallel })));
    console.log(row("up, PULUMI_SKIP_CHECKPOINTS", upSkip.result.seconds, direct.seconds, upSkip.peaks));
    await fast.destroy({ parallel });
    await fast.workspace.removeStack(fast.name);
  } finally {
    project.cleanup();
    emulator.kill("SIGTERM");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:provider: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof FlagError) console.error("npm run bench:provider -- --help lists every flag");
  process.exit(1);
});
