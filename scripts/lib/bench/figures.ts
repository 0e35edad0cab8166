// The figures `npm run bench:provider` measures and how they are shown: each operation of this project beside the
// no-op floor (the same engine and toolchain, resources that do nothing) and the raw SDK (the same DPS calls with
// Microsoft's client at the same concurrency), with ratios; as console lines and as the Markdown the README quotes.
// Pure: the benchmark fills a BenchReport, these functions only render it.
import type { ThrottledUpFigures } from "./throttled";

/** Peak resident memory, MiB, of the CLI, the program (language host's Node process) and the provider process. */
export interface Peaks {
  cli: number;
  program: number;
  provider: number;
}

export interface OperationFigures {
  /** What was timed, e.g. "up (create all), default settings". */
  label: string;
  /** Seconds this project took; undefined when skipped (`skipped` says why). */
  seconds?: number;
  skipped?: string;
  /** The no-op program's seconds for the same operation and count. */
  floorSeconds?: number;
  /** The raw SDK's seconds for the equivalent DPS calls, and what those calls were. */
  sdkSeconds?: number;
  sdkCalls?: string;
  peaks?: Peaks;
  /** The no-op program's peaks for the same operation and count. */
  floorPeaks?: Peaks;
}

export interface SizeFigures {
  enrollments: number;
  operations: OperationFigures[];
  /** State file bytes per enrollment after `up`. */
  stateBytesPerEnrollment?: number;
}

export interface ThrottledFigures {
  enrollments: number;
  /** The emulator's --throttle: operations per minute. */
  quotaPerMinute: number;
  /** The stack's dpsOperationsPerMinute, when set (else the provider's default). */
  configuredPerMinute?: number;
  /** The engine's verdict: succeeded or failed. */
  result: string;
  seconds: number;
  /** DPS operations the emulator performed (answers other than 429) during the run. */
  operations: number;
  /** Answers of 429 the emulator sent. */
  throttled: number;
  /** Enrollments in DPS and in the stack's state after the run. */
  inDps: number;
  inState: number;
}

/** The figures of the pacing lane's throttled `up` (scripts/lib/bench/throttled.ts), as this report shows them. */
export function throttledFigures(
  run: Pick<ThrottledUpFigures, "result" | "seconds" | "completed" | "inDps" | "inState" | "emulator">,
  options: { enrollments: number; throttle: number; operationsPerMinute?: number },
): ThrottledFigures {
  return {
    enrollments: options.enrollments,
    quotaPerMinute: options.throttle,
    configuredPerMinute: options.operationsPerMinute,
    result: run.result,
    seconds: run.seconds,
    operations: run.completed,
    throttled: run.emulator.throttled,
    inDps: run.inDps,
    inState: run.inState,
  };
}

/** A no-change preview of a handful of enrollments beside as many no-op resources: the fixed cost of a preview. */
export interface FixedCostFigures {
  enrollments: number;
  seconds: number;
  floorSeconds: number;
}

export interface BenchReport {
  /** ISO time the run started. */
  date: string;
  machine: string;
  command: string;
  parallel: number;
  /** What was configured so the pacer does not dominate the unthrottled sizes. */
  settings: string[];
  sizes: SizeFigures[];
  previewFixed?: FixedCostFigures;
  throttled?: ThrottledFigures | { skipped: string };
}

/** What a no-change preview costs per resource, this project beside the no-op floor. */
export interface PreviewCost {
  from: number;
  to: number;
  /** Milliseconds per enrollment (per no-op resource): the slope between the two largest sizes. */
  perResourceMs: number;
  floorPerResourceMs: number;
}

/** The slope of the no-change preview between the two largest sizes measured (undefined with fewer than two). */
export function previewCost(report: Pick<BenchReport, "sizes">): PreviewCost | undefined {
  const points = report.sizes
    .map((size) => ({ n: size.enrollments, op: size.operations.find((o) => o.label === "no-change preview") }))
    .filter((p) => p.op?.seconds !== undefined && p.op.floorSeconds !== undefined)
    .sort((a, b) => a.n - b.n)
    .slice(-2);
  if (points.length < 2 || points[1].n === points[0].n) return undefined;
  const [a, b] = points;
  const slope = (ta: number, tb: number): number => ((tb - ta) * 1000) / (b.n - a.n);
  return {
    from: a.n,
    to: b.n,
    perResourceMs: slope(a.op?.seconds ?? 0, b.op?.seconds ?? 0),
    floorPerResourceMs: slope(a.op?.floorSeconds ?? 0, b.op?.floorSeconds ?? 0),
  };
}

/** The preview lines: per-resource cost (ratio to the floor) and fixed cost (difference to the floor). */
function previewLines(report: BenchReport): string[] {
  const out: string[] = [];
  const cost = previewCost(report);
  if (cost) {
    out.push(
      `no-change preview per resource (slope from ${cost.from.toLocaleString("en-US")} to ` +
        `${cost.to.toLocaleString("en-US")}): ${cost.perResourceMs.toFixed(2)} ms per enrollment, no-op ` +
        `${cost.floorPerResourceMs.toFixed(2)} ms per resource ` +
        `(${ratio(cost.perResourceMs, cost.floorPerResourceMs)})`,
    );
  }
  const fixed = report.previewFixed;
  if (fixed) {
    const extra = fixed.seconds - fixed.floorSeconds;
    out.push(
      `no-change preview fixed cost (${fixed.enrollments} enrollments, ${fixed.enrollments} no-op resources): ` +
        `${seconds(fixed.seconds)}, no-op ${seconds(fixed.floorSeconds)} ` +
        `(${extra >= 0 ? "+" : "−"}${Math.abs(extra).toFixed(1)} s)`,
    );
  }
  return out;
}

/** `a / b` as e.g. "2.3×", or "—" when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0)) return "—";
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`;
}

/** Seconds as e.g. "12.3 s" ("—" when missing). */
export function seconds(value: number | undefined): string {
  return value === undefined ? "—" : `${value.toFixed(1)} s`;
}

/** MiB, or "—" for a process that did not run (refresh and destroy run no program). */
function mib(value: number): string {
  return value > 0 ? value.toFixed(0) : "—";
}

/** Peaks as "CLI / program / provider" MiB, or "—" when not measured. */
function peakTriple(peaks: Peaks | undefined): string {
  return peaks ? `${mib(peaks.cli)} / ${mib(peaks.program)} / ${mib(peaks.provider)}` : "—";
}

/** Achieved operations per minute over the run, as a fraction of the quota. */
export function quotaShare(run: ThrottledFigures): number {
  return run.seconds > 0 ? run.operations / (run.seconds / 60) / run.quotaPerMinute : 0;
}

function throttledLine(run: BenchReport["throttled"]): string | undefined {
  if (run === undefined) return undefined;
  if ("skipped" in run) return `throttled run: skipped: ${run.skipped}`;
  const achieved = run.operations / (run.seconds / 60);
  const configured =
    run.configuredPerMinute === undefined ? "the default pacing" : `dpsOperationsPerMinute ${run.configuredPerMinute}`;
  return (
    `throttled run: emulator --throttle ${run.quotaPerMinute}, ${configured}, up creating ${run.enrollments}: ` +
    `${run.result} in ${seconds(run.seconds)}, ${run.operations} operations = ${achieved.toFixed(0)}/min = ` +
    `${(quotaShare(run) * 100).toFixed(1)} % of the quota; ${run.inDps} in DPS, ${run.inState} in the state, ` +
    `${run.enrollments - run.inState} not created, ${run.throttled} answers of 429`
  );
}

/** The console report: one block per size, each operation on one line. */
export function renderText(report: BenchReport): string {
  const out: string[] = [
    `bench:provider ${report.date} on ${report.machine}, --parallel ${report.parallel}`,
    ...report.settings.map((s) => `  ${s}`),
  ];
  for (const size of report.sizes) {
    out.push("", `${size.enrollments.toLocaleString("en-US")} enrollments`);
    const width = Math.max(...size.operations.map((o) => o.label.length));
    for (const op of size.operations) {
      if (op.seconds === undefined) {
        out.push(`  ${op.label.padEnd(width)}  skipped: ${op.skipped ?? "not measured"}`);
        continue;
      }
      const floor = op.floorPeaks ? ` (no-op ${peakTriple(op.floorPeaks)})` : "";
      const peaks = op.peaks ? `   peak RSS MiB CLI / program / provider: ${peakTriple(op.peaks)}${floor}` : "";
      out.push(
        `  ${op.label.padEnd(width)}  ${seconds(op.seconds).padStart(8)}   no-op ${seconds(op.floorSeconds).padStart(8)} ` +
          `(${ratio(op.seconds, op.floorSeconds).padStart(5)})   SDK ${seconds(op.sdkSeconds).padStart(7)} ` +
          `(${ratio(op.seconds, op.sdkSeconds).padStart(5)})${peaks}`,
      );
    }
    if (size.stateBytesPerEnrollment !== undefined) {
      out.push(`  state: ${size.stateBytesPerEnrollment.toFixed(0)} bytes per enrollment`);
    }
  }
  const preview = previewLines(report);
  if (preview.length > 0) out.push("", ...preview);
  const throttled = throttledLine(report.throttled);
  if (throttled) out.push("", throttled);
  return `${out.join("\n")}\n`;
}

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** The Markdown the README's performance section quotes (tables per size, the throttled run, how it was run). */
export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [
    `Measured ${report.date} on ${report.machine} with \`${report.command}\` (\`--parallel ${report.parallel}\`).`,
    ...report.settings.map((s) => `- ${s}`),
  ];
  for (const size of report.sizes) {
    out.push("", `**${size.enrollments.toLocaleString("en-US")} enrollments**`, "");
    const rows = size.operations.map((op) => [
      op.label,
      op.seconds === undefined ? `skipped: ${op.skipped ?? "not measured"}` : seconds(op.seconds),
      seconds(op.floorSeconds),
      ratio(op.seconds, op.floorSeconds),
      op.sdkSeconds === undefined ? "—" : `${seconds(op.sdkSeconds)} (${op.sdkCalls ?? "same calls"})`,
      ratio(op.seconds, op.sdkSeconds),
      peakTriple(op.peaks),
      peakTriple(op.floorPeaks),
    ]);
    out.push(
      ...table(
        [
          "operation",
          "this project",
          "no-op floor",
          "ratio",
          "raw SDK",
          "ratio",
          "peak RSS MiB CLI / program / provider",
          "no-op peak RSS MiB",
        ],
        rows,
      ),
    );
    if (size.stateBytesPerEnrollment !== undefined) {
      out.push("", `State: ${size.stateBytesPerEnrollment.toFixed(0)} bytes per enrollment.`);
    }
  }
  const sentence = (line: string): string => `${line[0].toUpperCase()}${line.slice(1)}.`;
  const preview = previewLines(report);
  if (preview.length > 0) out.push("", ...preview.map((line) => `- ${sentence(line)}`));
  const throttled = throttledLine(report.throttled);
  if (throttled) out.push("", sentence(throttled));
  return `${out.join("\n")}\n`;
}
