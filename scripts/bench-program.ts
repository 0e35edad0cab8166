// Program benchmark: a no-change `pulumi preview` of an N-entry manifest against the emulator (the program and the
// provider's check/diff are all it costs), with the program run three ways, in alternating rounds:
//   - typescript: this checkout as `npm start` runs it (the provider package compiled JavaScript; index.ts and
//     components/ through ts-node, type check off);
//   - compiled:   the same program compiled to JavaScript first (no ts-node at all);
//   - baseline:   with --baseline DIR, another checkout's program as it runs there (e.g. the commit before the
//                 package, whose program and provider both ran through ts-node).
// Prints per way the median wall time and the CPU seconds of the program and provider processes, beside the same
// N GETs issued directly (the floor), all in the same run.
//
//   npm run bench:program -- [--enrollments 300] [--rounds 3] [--baseline /path/to/checkout]
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Stack } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";

import { emulatorClientOptions } from "../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../dynamic-providers/service-client";
import type { ConnectionInfo } from "../emulator/server";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";
import { sampleProcesses } from "./lib/process-sampler";
import { projectRoot, scratchProject, scratchStack, type ScratchProject } from "./lib/pulumi-cli";

const usage = `Usage: npm run bench:program -- [--enrollments N] [--rounds N] [--baseline DIR]
  --enrollments N   enrollments in the manifest (default 300)
  --rounds N        previews per way, alternating (default 3)
  --baseline DIR    also time another checkout's program as it runs there (its own node_modules)
  --help, -h        this list`;

function parseOptions(argv: readonly string[]): { enrollments: number; rounds: number; baseline?: string } | "help" {
  const flags = parseFlags(argv, {
    enrollments: { type: "string" },
    rounds: { type: "string" },
    baseline: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  return {
    enrollments: flags.enrollments === undefined ? 300 : integerFlag("--enrollments", flags.enrollments, 1, 100_000),
    rounds: flags.rounds === undefined ? 3 : integerFlag("--rounds", flags.rounds, 1, 100),
    baseline: flags.baseline,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** index.ts and what it imports, compiled to JavaScript in the copy; Pulumi runs that, without ts-node. */
function compileProgram(project: ScratchProject): void {
  const tsc = path.join(projectRoot, "node_modules", "typescript", "bin", "tsc");
  const args = [
    tsc,
    ...["--target", "ES2022", "--module", "commonjs", "--moduleResolution", "node10", "--types", "node"],
    ...["--esModuleInterop", "--resolveJsonModule", "--skipLibCheck", "--outDir", "compiled", "index.ts"],
  ];
  const result = spawnSync(process.execPath, args, { cwd: project.workDir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tsc failed: ${result.stdout}${result.stderr}`);
  const file = path.join(project.workDir, "Pulumi.yaml");
  const pulumiYaml = parse(fs.readFileSync(file, "utf8")) as { main?: string; runtime: { options?: object } };
  pulumiYaml.main = "compiled/index.js";
  pulumiYaml.runtime.options = { typescript: false };
  fs.writeFileSync(file, stringify(pulumiYaml));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(usage);
    return;
  }
  const { enrollments: n, rounds, baseline } = options;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-bench-program-"));
  const emulator = spawn(
    process.execPath,
    [
      ...["--import", "tsx", path.join(projectRoot, "emulator", "main.ts"), "--data", dataDir],
      ...["--port", "0", "--mqtt-port", "-1", "--request-log", "none"],
    ],
    { stdio: ["ignore", "pipe", "inherit"], detached: false },
  );
  let out = "";
  emulator.stdout.on("data", (c: Buffer) => (out += c.toString()));
  while (!out.includes("listening")) await new Promise((r) => setTimeout(r, 50));
  const info = JSON.parse(fs.readFileSync(path.join(dataDir, "connection.json"), "utf8")) as ConnectionInfo;
  const client = createServiceClient(emulatorClientOptions(info));

  const ways: {
    name: string;
    project: ScratchProject;
    stack?: Stack;
    seconds: number[];
    program: number[];
    provider: number[];
  }[] = [
    {
      name: "typescript",
      project: scratchProject(projectRoot, "dps-bench-ts-"),
      seconds: [],
      program: [],
      provider: [],
    },
    { name: "compiled", project: scratchProject(projectRoot, "dps-bench-js-"), seconds: [], program: [], provider: [] },
  ];
  if (baseline) {
    ways.push({
      name: "baseline",
      project: scratchProject(path.resolve(baseline), "dps-bench-base-"),
      seconds: [],
      program: [],
      provider: [],
    });
  }
  try {
    compileProgram(ways[1].project);
    for (const way of ways) {
      // Each way its own enrollments in the one emulator, created quickly (state saved once).
      const entries = Array.from(
        { length: n },
        (_, i) =>
          `  - registrationId: ${way.name}-${i}\n    attestation: { symmetricKey: {} }\n    initialTwin: { tags: { fleet: bench } }`,
      );
      const manifest = path.join(way.project.workDir, "stacks", "bench", "enrollments.yaml");
      fs.mkdirSync(path.dirname(manifest), { recursive: true });
      fs.writeFileSync(manifest, `individualEnrollments:\n${entries.join("\n")}\n`);
      way.stack = await scratchStack(way.project, "bench", { PULUMI_SKIP_CHECKPOINTS: "true" });
      await way.stack.workspace.setAllConfig("bench", {
        platform: { value: "emulator" },
        emulatorDataDir: { value: dataDir },
        // Absolute: a compiled program's `main` is in a directory of its own.
        manifest: { value: manifest },
      });
      await way.stack.up({ parallel: 16 });
    }
    const patterns = { program: /@pulumi\/pulumi\/cmd\/run/, provider: /cmd\/dynamic-provider/ };
    const direct: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const way of ways) {
        const started = Date.now();
        const costs = await sampleProcesses(way.project.workDir, patterns, () => way.stack!.preview({ parallel: 16 }));
        const changes = costs.result.changeSummary;
        if (changes.same !== n + 2)
          throw new Error(`${way.name}: the preview was not a no-change one: ${JSON.stringify(changes)}`);
        way.seconds.push((Date.now() - started) / 1000);
        way.program.push(costs.cpuSeconds.program);
        way.provider.push(costs.cpuSeconds.provider);
      }
      const started = Date.now();
      for (let i = 0; i < n; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, n - i) }, (_, j) => client.getIndividualEnrollment(`typescript-${i + j}`)),
        );
      }
      direct.push((Date.now() - started) / 1000);
    }
    console.log(`no-change preview of ${n} enrollments, median of ${rounds} rounds (2-core machine):`);
    for (const way of ways) {
      console.log(
        `${way.name.padEnd(11)} ${median(way.seconds).toFixed(1).padStart(5)} s   CPU: program ${median(way.program).toFixed(1).padStart(5)} s, provider ${median(way.provider).toFixed(1).padStart(5)} s`,
      );
    }
    console.log(`${"direct GETs".padEnd(11)} ${median(direct).toFixed(1).padStart(5)} s`);
    for (const way of ways) await way.stack?.destroy({ parallel: 16 });
  } finally {
    for (const way of ways) {
      await way.stack?.workspace.removeStack("bench", { force: true }).catch(() => undefined);
      way.project.cleanup();
    }
    emulator.kill("SIGTERM");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:program: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof FlagError) console.error("npm run bench:program -- --help lists every flag");
  process.exit(1);
});
