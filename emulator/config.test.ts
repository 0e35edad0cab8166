import { defaultConfig, parseArgs } from "./config";

describe("emulator flags", () => {
  const base = defaultConfig("/data");

  test("parse into the configuration", () => {
    const config = parseArgs(
      [
        "--host",
        "0.0.0.0",
        "--port",
        "443",
        "--mqtt-port",
        "-1",
        "--hub",
        "a.azure-devices.net:5",
        "--hub",
        "b.azure-devices.net::noapply",
        "--throttle",
        "1000",
        "--faults",
        "0.25",
        "--fault-kinds",
        "503,drop",
        "--request-log",
        "-",
      ],
      base,
    );
    expect(config).toEqual({
      ...base,
      host: "0.0.0.0",
      port: 443,
      mqttPort: -1,
      linkedHubs: [
        { hostName: "a.azure-devices.net", allocationWeight: 5, applyAllocationPolicy: true },
        { hostName: "b.azure-devices.net", allocationWeight: 1, applyAllocationPolicy: false },
      ],
      throttlePerMinute: 1000,
      faultRate: 0.25,
      faultKinds: ["503", "drop"],
      requestLog: "-",
    });
  });

  test.each([
    [["--port", "x"], '--port "x": expected a whole number from 0 to 65535'],
    [["--port"], "--port needs a value"],
    [["--faults", "2"], '--faults "2": expected a fraction from 0 to 1'],
    [["--fault-kinds", "500,404"], '--fault-kinds: unknown fault "404" (use 500, 503, drop)'],
    [["--hub", "a:0"], '--hub weight "0": expected a whole number from 1 to 1000'],
    [["--hub", "a:1:maybe"], '--hub "a:1:maybe": the third part may only be "noapply"'],
    [["--entra-role", "abc"], '--entra-role "abc": expected OBJECTID:contributor or OBJECTID:reader'],
    [["--entra-role", "abc:owner"], '--entra-role "abc:owner": expected OBJECTID:contributor or OBJECTID:reader'],
    [["--entra-issuer", "https://issuer/"], "--entra-issuer and --entra-key go together"],
    [["--entra-key", "k.pem"], "--entra-issuer and --entra-key go together"],
  ])("%j is refused with a message naming the flag", (args, message) => {
    expect(() => parseArgs(args, base)).toThrow(message);
  });

  test("Entra ID is off by default; --entra-issuer, --entra-key and --entra-role turn it on", () => {
    expect(base.entra).toBeUndefined();
    expect(parseArgs([], base).entra).toBeUndefined();
    const config = parseArgs(
      ["--entra-issuer", "http://127.0.0.1:9/t/", "--entra-key", "/keys/issuer.pem", "--entra-role", "a-1:contributor"],
      base,
    );
    expect(config.entra).toEqual({
      issuer: "http://127.0.0.1:9/t/",
      keyFile: "/keys/issuer.pem",
      roleAssignments: [{ principalId: "a-1", role: "contributor" }],
    });
  });

  test("an unknown flag is refused with the usage", () => {
    expect(() => parseArgs(["--colour"], base)).toThrow(/^unknown flag "--colour"\nUsage: npm run emulator/);
  });
});
