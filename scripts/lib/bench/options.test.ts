import { FlagError } from "../flags";
import { parseBenchOptions, sizeList } from "./options";

test("defaults: 1,000 and 10,000 enrollments, parallel 16, checkpoints timed up to 1,000, the throttled run on", () => {
  expect(parseBenchOptions([])).toEqual({
    sizes: [1000, 10_000],
    parallel: 16,
    checkpointedMax: 1000,
    throttled: 5000,
    throttle: 1000,
    out: "docs",
  });
  expect(parseBenchOptions(["-h"])).toBe("help");
});

test("flags override the defaults", () => {
  expect(
    parseBenchOptions([
      "--enrollments=300",
      "--parallel",
      "8",
      "--checkpointed-max",
      "0",
      "--throttled",
      "600",
      "--throttle",
      "300",
      "--out",
      "/tmp/x",
    ]),
  ).toEqual({ sizes: [300], parallel: 8, checkpointedMax: 0, throttled: 600, throttle: 300, out: "/tmp/x" });
});

test("sizeList sorts and deduplicates, and takes 10_000 spelled with underscores", () => {
  expect(sizeList("--enrollments", "10_000, 1000,1000")).toEqual([1000, 10_000]);
});

test.each<[string[], string]>([
  [["--enrollments", "1000,"], '--enrollments "1000,": expected N or N,N,...'],
  [["--enrollments", "0"], '--enrollments "0": expected a whole number from 1 to 100000'],
  [["--enrollments", "1e4"], '--enrollments "1e4": expected a whole number from 1 to 100000'],
  [["--parallel", "0"], '--parallel "0": expected a whole number from 1 to 256'],
  [["--throttle", "0"], '--throttle "0": expected a whole number from 1 to 1000000'],
  [["--sizes", "1"], 'unknown flag "--sizes"'],
])("%p is refused: %s", (argv, message) => {
  expect(() => parseBenchOptions(argv)).toThrow(new FlagError(message));
});
