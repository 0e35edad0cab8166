import { FlagError, integerFlag, parseFlags } from "./flags";

const specs = {
  port: { type: "string" },
  hub: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

describe("parseFlags", () => {
  test("reads --flag value, --flag=value, repeated flags and booleans; absent flags get their empty value", () => {
    expect(parseFlags(["--port=8443", "--hub", "a", "--hub=b", "-h"], specs)).toEqual({
      port: "8443",
      hub: ["a", "b"],
      help: true,
    });
    expect(parseFlags([], specs)).toEqual({ port: undefined, hub: [], help: false });
  });

  test("takes a value that starts with one dash (--mqtt-port -1)", () => {
    expect(parseFlags(["--port", "-1"], specs).port).toBe("-1");
  });

  test.each<[string[], string]>([
    [["--colour"], 'unknown flag "--colour"'],
    [["-x"], 'unknown flag "-x"'],
    [["--port"], "--port needs a value"],
    [["--port", "--hub", "a"], "--port needs a value, not the flag --hub (write --port=--hub if you mean it)"],
    [["--port", "1", "--port", "2"], "--port is given twice"],
    [["--help=yes"], "--help takes no value"],
    [["8443"], 'unexpected argument "8443": values follow their flag'],
    [["--", "--port"], 'unexpected argument "--": values follow their flag'],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseFlags(argv, specs)).toThrow(new FlagError(message));
  });
});

describe("integerFlag", () => {
  test("accepts whole numbers within the range", () => {
    expect(integerFlag("--port", "0", 0, 65535)).toBe(0);
    expect(integerFlag("--mqtt-port", "-1", -1, 65535)).toBe(-1);
  });

  test.each(["x", "", "1.5", "1e3", " 1", "65536", "-2", "0x10"])("refuses %j naming the flag", (value) => {
    expect(() => integerFlag("--port", value, -1, 65535)).toThrow(
      new FlagError(`--port ${JSON.stringify(value)}: expected a whole number from -1 to 65535`),
    );
  });
});
