import {
  previewCost,
  quotaShare,
  ratio,
  renderMarkdown,
  renderText,
  seconds,
  throttledFigures,
  type BenchReport,
  type ThrottledFigures,
} from "./figures";

const report: BenchReport = {
  date: "2026-11-30 06:00 UTC",
  machine: "2 × CPU",
  command: "npm run bench:provider -- --enrollments 1000",
  parallel: 16,
  settings: ["default settings: PULUMI_SKIP_CHECKPOINTS=true"],
  sizes: [
    {
      enrollments: 1000,
      stateBytesPerEnrollment: 3021.4,
      operations: [
        {
          label: "up (create all), default settings",
          seconds: 12.34,
          floorSeconds: 6.1,
          sdkSeconds: 1.9,
          sdkCalls: "1000 PUT",
          peaks: { cli: 188.4, program: 301, provider: 210.6 },
          floorPeaks: { cli: 150, program: 250.2, provider: 180 },
        },
        { label: "up (create all), checkpoints on", skipped: "above --checkpointed-max 0" },
        {
          label: "refresh",
          seconds: 9.6,
          floorSeconds: 4,
          sdkSeconds: 6.7,
          sdkCalls: "1000 GET + 1000 keys POST",
          peaks: { cli: 205, program: 0, provider: 380 },
        },
      ],
    },
  ],
  throttled: {
    enrollments: 5000,
    quotaPerMinute: 1000,
    result: "succeeded",
    seconds: 320,
    operations: 5000,
    throttled: 12,
    inDps: 5000,
    inState: 5000,
  },
};

test("ratio and seconds: one decimal below 10×, none above, a dash when a side is missing", () => {
  expect([ratio(12.34, 6.1), ratio(212.3, 1.9), ratio(1, undefined), ratio(undefined, 2), ratio(1, 0)]).toEqual([
    "2.0×",
    "112×",
    "—",
    "—",
    "—",
  ]);
  expect([seconds(12.345), seconds(undefined)]).toEqual(["12.3 s", "—"]);
});

test("quotaShare: operations per minute over the run against the quota", () => {
  const run = report.throttled as ThrottledFigures;
  expect(quotaShare({ ...run, seconds: 300 })).toBe(1);
  expect(quotaShare(run)).toBe(0.9375);
});

test("renderText: each operation beside the floor and the SDK, a skipped one says why, the throttled run last", () => {
  expect(renderText(report).split("\n")).toEqual([
    "bench:provider 2026-11-30 06:00 UTC on 2 × CPU, --parallel 16",
    "  default settings: PULUMI_SKIP_CHECKPOINTS=true",
    "",
    "1,000 enrollments",
    "  up (create all), default settings    12.3 s   no-op    6.1 s ( 2.0×)   SDK   1.9 s ( 6.5×)   peak RSS MiB CLI / program / provider: 188 / 301 / 211 (no-op 150 / 250 / 180)",
    "  up (create all), checkpoints on    skipped: above --checkpointed-max 0",
    "  refresh                               9.6 s   no-op    4.0 s ( 2.4×)   SDK   6.7 s ( 1.4×)   peak RSS MiB CLI / program / provider: 205 / — / 380",
    "  state: 3021 bytes per enrollment",
    "",
    "throttled run: emulator --throttle 1000, the default pacing, up creating 5000: succeeded in 320.0 s, 5000 operations = 938/min = 93.8 % of the quota; 5000 in DPS, 5000 in the state, 0 not created, 12 answers of 429",
    "",
  ]);
});

test("renderMarkdown: a table per size with the SDK's calls named, the throttled run as a sentence", () => {
  expect(renderMarkdown(report).split("\n")).toEqual([
    "Measured 2026-11-30 06:00 UTC on 2 × CPU with `npm run bench:provider -- --enrollments 1000` (`--parallel 16`).",
    "- default settings: PULUMI_SKIP_CHECKPOINTS=true",
    "",
    "**1,000 enrollments**",
    "",
    "| operation | this project | no-op floor | ratio | raw SDK | ratio | peak RSS MiB CLI / program / provider | no-op peak RSS MiB |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    "| up (create all), default settings | 12.3 s | 6.1 s | 2.0× | 1.9 s (1000 PUT) | 6.5× | 188 / 301 / 211 | 150 / 250 / 180 |",
    "| up (create all), checkpoints on | skipped: above --checkpointed-max 0 | — | — | — | — | — | — |",
    "| refresh | 9.6 s | 4.0 s | 2.4× | 6.7 s (1000 GET + 1000 keys POST) | 1.4× | 205 / — / 380 | — |",
    "",
    "State: 3021 bytes per enrollment.",
    "",
    "Throttled run: emulator --throttle 1000, the default pacing, up creating 5000: succeeded in 320.0 s, 5000 operations = 938/min = 93.8 % of the quota; 5000 in DPS, 5000 in the state, 0 not created, 12 answers of 429.",
    "",
  ]);
});

test("a skipped throttled run says why", () => {
  expect(
    renderText({ ...report, sizes: [], throttled: { skipped: "--throttled 0" } })
      .split("\n")
      .slice(-2),
  ).toEqual(["throttled run: skipped: --throttled 0", ""]);
});

test("throttledFigures: the pacing lane's run as this report shows it (operations the emulator performed, its 429s)", () => {
  const run = {
    result: "failed",
    seconds: 300.5,
    completed: 4990,
    inDps: 4990,
    inState: 4980,
    emulator: { operations: {}, throttled: 7 },
  };
  expect(throttledFigures(run, { enrollments: 5000, throttle: 1000, operationsPerMinute: 900 })).toEqual({
    enrollments: 5000,
    quotaPerMinute: 1000,
    configuredPerMinute: 900,
    result: "failed",
    seconds: 300.5,
    operations: 4990,
    throttled: 7,
    inDps: 4990,
    inState: 4980,
  });
});

/** Two sizes with previews, and the fixed-cost preview of a handful. */
function withPreviews(): BenchReport {
  const preview = (n: number, s: number, floor: number): BenchReport["sizes"][number] => ({
    enrollments: n,
    operations: [{ label: "no-change preview", seconds: s, floorSeconds: floor, sdkSeconds: 1, sdkCalls: `${n} GET` }],
  });
  return {
    ...report,
    sizes: [preview(10_000, 61, 52), preview(1000, 7, 7)],
    previewFixed: { enrollments: 10, seconds: 3.46, floorSeconds: 2.83 },
    throttled: undefined,
  };
}

test("previewCost: the slope between the two largest sizes, whatever their order, this project and the floor", () => {
  expect(previewCost(withPreviews())).toEqual({ from: 1000, to: 10_000, perResourceMs: 6, floorPerResourceMs: 5 });
  expect(previewCost(report)).toBeUndefined();
});

test("renderText and renderMarkdown: the preview's cost per resource (ratio) and fixed cost (difference)", () => {
  expect(renderText(withPreviews()).split("\n").slice(-3)).toEqual([
    "no-change preview per resource (slope from 1,000 to 10,000): 6.00 ms per enrollment, no-op 5.00 ms per resource (1.2×)",
    "no-change preview fixed cost (10 enrollments, 10 no-op resources): 3.5 s, no-op 2.8 s (+0.6 s)",
    "",
  ]);
  expect(renderMarkdown(withPreviews()).split("\n").slice(-3)).toEqual([
    "- No-change preview per resource (slope from 1,000 to 10,000): 6.00 ms per enrollment, no-op 5.00 ms per resource (1.2×).",
    "- No-change preview fixed cost (10 enrollments, 10 no-op resources): 3.5 s, no-op 2.8 s (+0.6 s).",
    "",
  ]);
});
