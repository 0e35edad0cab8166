import { shallowStacks } from "./shallow-stacks";

/** The formatter hook, read as a value (Node's typings declare it a method). */
const errors = Error as { prepareStackTrace?: unknown };

/** `new Error(message).stack` captured at `limit` frames (the SDK sets Infinity for the state's stack trace). */
function captureAt(limit: number, message: string): string {
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  try {
    return new Error(message).stack ?? "";
  } finally {
    Error.stackTraceLimit = previous;
  }
}

describe("shallowStacks", () => {
  test("inside the window a default-depth capture has no frames and an unlimited one its first `keep`; closing restores both settings", () => {
    const before = { limit: Error.stackTraceLimit, format: errors.prepareStackTrace };
    const restore = shallowStacks(2);
    let plain: string;
    let deep: string[];
    try {
      plain = new Error("debuggable").stack ?? "";
      deep = captureAt(Number.POSITIVE_INFINITY, "callsites").split("\n");
    } finally {
      restore();
    }
    expect(plain).toBe("Error: debuggable");
    expect(deep).toHaveLength(3);
    expect(deep[0]).toBe("Error: callsites");
    expect(deep[1]).toMatch(/^ {4}at captureAt \(.*shallow-stacks\.test\.ts:\d+:\d+\)$/);
    expect(Error.stackTraceLimit).toBe(before.limit);
    expect(errors.prepareStackTrace).toBe(before.format);
    expect(captureAt(Number.POSITIVE_INFINITY, "after").split("\n").length).toBeGreaterThan(3);
  });

  test("the frames kept go through the formatter installed before (source-map-support in a Pulumi program)", () => {
    const installed = errors.prepareStackTrace;
    const seen: number[] = [];
    Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => {
      seen.push(frames.length);
      return `mapped ${error.message}: ${frames.map((f) => f.getFunctionName() ?? "?").join(",")}`;
    };
    try {
      const restore = shallowStacks(1);
      let deep: string;
      try {
        deep = captureAt(Number.POSITIVE_INFINITY, "state");
      } finally {
        restore();
      }
      expect(deep).toBe("mapped state: captureAt");
      expect(seen).toEqual([1]);
    } finally {
      errors.prepareStackTrace = installed;
    }
  });

  test("without an installed formatter the kept frames read as V8 writes them, which the SDK's position pattern parses", () => {
    const installed = errors.prepareStackTrace;
    errors.prepareStackTrace = undefined;
    try {
      const restore = shallowStacks(1);
      let deep: string;
      try {
        deep = captureAt(Number.POSITIVE_INFINITY, "plain");
      } finally {
        restore();
      }
      expect(errors.prepareStackTrace).toBeUndefined();
      const lines = deep.split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe("Error: plain");
      // The Node SDK's Resource.framePositionRegExp.
      const position = /^\s*at .* \((?<file>.*):(?<line>[0-9]+):(?<column>[0-9]+)\)$/.exec(lines[1]);
      expect(position?.groups?.file).toBe(__filename);
    } finally {
      errors.prepareStackTrace = installed;
    }
  });
});
