// The command line of `npm run bench:provider`, parsed and checked (every error names its flag).
import { FlagError, integerFlag, parseFlags } from "../flags";

export const benchUsage = `Usage: npm run bench:provider -- [flags]
  --enrollments N,N,...    sizes to measure (default 1000,10000)
  --parallel N             pulumi --parallel and the raw SDK's concurrency (default 16)
  --checkpointed-max N     also time \`up\` with checkpoints (the CLI's own default) up to this size; larger sizes
                           print "skipped" (default 1000; 0 never)
  --throttled N            the throttled run: \`up\` creating N enrollments against the emulator's quota (default
                           5000; 0 skips it)
  --throttle N             the emulator's quota in that run, operations per minute (default 1000)
  --out DIR                where performance.json, performance.md and performance-up.svg go (default docs)
  --help, -h               this list
DPS_BENCH_CPU_PROF=<dir> also writes V8 CPU profiles of the program and provider during each no-change preview.`;

export interface BenchOptions {
  sizes: number[];
  parallel: number;
  checkpointedMax: number;
  throttled: number;
  throttle: number;
  out: string;
}

/** `1000,10000` → [1000, 10000]: distinct whole numbers from 1 to 100,000, in increasing order. */
export function sizeList(flag: string, value: string): number[] {
  const parts = value.split(",").map((p) => p.trim().replace(/_/g, ""));
  if (parts.some((p) => p === "")) throw new FlagError(`${flag} ${JSON.stringify(value)}: expected N or N,N,...`);
  const sizes = parts.map((p) => integerFlag(flag, p, 1, 100_000));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions | "help" {
  const flags = parseFlags(argv, {
    enrollments: { type: "string" },
    parallel: { type: "string" },
    "checkpointed-max": { type: "string" },
    throttled: { type: "string" },
    throttle: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  const int = (flag: string, value: string | undefined, fallback: number, min: number, max: number): number =>
    value === undefined ? fallback : integerFlag(flag, value, min, max);
  return {
    sizes: flags.enrollments === undefined ? [1000, 10_000] : sizeList("--enrollments", flags.enrollments),
    parallel: int("--parallel", flags.parallel, 16, 1, 256),
    checkpointedMax: int("--checkpointed-max", flags["checkpointed-max"], 1000, 0, 100_000),
    throttled: int("--throttled", flags.throttled, 5000, 0, 100_000),
    throttle: int("--throttle", flags.throttle, 1000, 1, 1_000_000),
    out: flags.out ?? "docs",
  };
}
