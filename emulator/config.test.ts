import { FlagError } from "../scripts/lib/flags";
import { defaultConfig, parseEmulatorArgs, usage, type EmulatorConfig } from "./config";

const base = defaultConfig("/data");

function configOf(argv: string[]): EmulatorConfig {
  const parsed = parseEmulatorArgs(argv, base);
  if (parsed.help) throw new Error("expected a configuration, got --help");
  return parsed.config;
}

describe("emulator flags", () => {
  test("parse into the configuration, as --flag value and as --flag=value", () => {
    const expected: EmulatorConfig = {
      ...base,
      host: "0.0.0.0",
      port: 443,
      mqttPort: -1,
      linkedHubs: [
        { name: "a", hostName: "a.azure-devices.net", allocationWeight: 5, applyAllocationPolicy: true },
        { name: "hub-b", hostName: "127.0.0.9", allocationWeight: 1, applyAllocationPolicy: false },
        { name: "127.0.0.7", hostName: "127.0.0.7", allocationWeight: 1, applyAllocationPolicy: true },
      ],
      throttlePerMinute: 1000,
      faultRate: 0.25,
      faultKinds: ["503", "drop"],
      requestLog: "-",
    };
    const pairs = [
      ["--host", "0.0.0.0"],
      ["--port", "443"],
      ["--mqtt-port", "-1"],
      ["--hub", "a.azure-devices.net:5"],
      ["--hub", "hub-b=127.0.0.9::noapply"],
      ["--hub", "127.0.0.7"],
      ["--throttle", "1000"],
      ["--faults", "0.25"],
      ["--fault-kinds", "503,drop"],
      ["--request-log", "-"],
    ];
    expect(configOf(pairs.flat())).toEqual(expected);
    expect(configOf(pairs.map(([flag, value]) => `${flag}=${value}`))).toEqual(expected);
  });

  test("the default hubs are named and on loopback addresses of their own, so no DNS is needed", () => {
    expect(base.linkedHubs).toEqual([
      { name: "emulator-hub-1", hostName: "127.0.0.2", allocationWeight: 1, applyAllocationPolicy: true },
      { name: "emulator-hub-2", hostName: "127.0.0.3", allocationWeight: 1, applyAllocationPolicy: true },
    ]);
  });

  test("--data moves the request log into the new data directory unless --request-log says otherwise", () => {
    expect(configOf(["--data", "/other"])).toMatchObject({ dataDir: "/other", requestLog: "/other/requests.log" });
    expect(configOf(["--data", "/other", "--request-log", "none"])).toMatchObject({ requestLog: "" });
  });

  test("--help and -h ask for the flag list, which names every flag", () => {
    expect(parseEmulatorArgs(["--help"], base)).toEqual({ help: true });
    expect(parseEmulatorArgs(["--port", "1", "-h"], base)).toEqual({ help: true });
    const listed = [...usage.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual([
      "--host",
      "--port",
      "--mqtt-port",
      "--hostname",
      "--data",
      "--hub",
      "--throttle",
      "--faults",
      "--fault-kinds",
      "--request-log",
      "--entra-issuer",
      "--entra-key",
      "--entra-role",
      "--help",
    ]);
  });

  test.each<[string[], string]>([
    [["--port", "x"], '--port "x": expected a whole number from 0 to 65535'],
    [["--port=70000"], '--port "70000": expected a whole number from 0 to 65535'],
    [["--mqtt-port", "-2"], '--mqtt-port "-2": expected a whole number from -1 to 65535'],
    [["--port"], "--port needs a value"],
    [["--port", "--data", "/d"], "--port needs a value, not the flag --data (write --port=--data if you mean it)"],
    [["--port", "1", "--port=2"], "--port is given twice"],
    [["--colour"], 'unknown flag "--colour"'],
    [["8443"], 'unexpected argument "8443": values follow their flag'],
    [["--throttle", "-5"], '--throttle "-5": expected a whole number from 0 to 1000000'],
    [["--faults", "2"], '--faults "2": expected a fraction from 0 to 1'],
    [["--faults", "half"], '--faults "half": expected a fraction from 0 to 1'],
    [["--fault-kinds", "500,404"], '--fault-kinds: unknown fault "404" (use 500, 503, drop)'],
    [["--hub", "a:0"], '--hub weight "0": expected a whole number from 1 to 1000'],
    [["--hub", "a:1:maybe"], '--hub "a:1:maybe": the part after the weight may only be "noapply"'],
    [["--hub", "a_b"], '--hub "a_b": expected [NAME=]HOST[:WEIGHT[:noapply]]'],
    [["--hub", "a=h:1:noapply:x"], '--hub "a=h:1:noapply:x": expected [NAME=]HOST[:WEIGHT[:noapply]]'],
    [
      ["--hub", "my.hub=127.0.0.2"],
      '--hub "my.hub=127.0.0.2": the name must be 1 to 50 letters, digits and inner hyphens (no dots)',
    ],
    [["--hub", "a=127.0.0.2", "--hub", "a=127.0.0.3"], "--hub: hub name 'a' is used twice"],
    [["--hub", "a=127.0.0.2", "--hub", "b=127.0.0.2"], "--hub: hub host '127.0.0.2' is used twice"],
    [
      ["--hub", "a=127.0.0.1"],
      "--hub: hub a: 127.0.0.1 is the DPS's own host; give each hub its own loopback address, e.g. 127.0.0.2",
    ],
    [
      ["--hostname", "dps.local", "--hub", "a=dps.local"],
      "--hub: hub a: dps.local is the DPS's own host; give each hub its own loopback address, e.g. 127.0.0.2",
    ],
    [["--entra-role", "abc"], '--entra-role "abc": expected OBJECTID:contributor or OBJECTID:reader'],
    [["--entra-role", "abc:owner"], '--entra-role "abc:owner": expected OBJECTID:contributor or OBJECTID:reader'],
    [
      ["--entra-issuer", "https://issuer/"],
      "--entra-issuer and --entra-key go together: Entra ID needs the issuer and its signing key",
    ],
    [
      ["--entra-key", "k.pem"],
      "--entra-issuer and --entra-key go together: Entra ID needs the issuer and its signing key",
    ],
    [["--help=1"], "--help takes no value"],
  ])("%j is refused with a message naming the flag", (argv, message) => {
    expect(() => parseEmulatorArgs(argv, base)).toThrow(new FlagError(message));
  });

  test("Entra ID is off by default; --entra-issuer, --entra-key and --entra-role turn it on", () => {
    expect(base.entra).toBeUndefined();
    expect(configOf([]).entra).toBeUndefined();
    const config = configOf([
      "--entra-issuer",
      "http://127.0.0.1:9/t/",
      "--entra-key",
      "/keys/issuer.pem",
      "--entra-role",
      "a-1:contributor",
      "--entra-role=b-2:reader",
    ]);
    expect(config.entra).toEqual({
      issuer: "http://127.0.0.1:9/t/",
      keyFile: "/keys/issuer.pem",
      roleAssignments: [
        { principalId: "a-1", role: "contributor" },
        { principalId: "b-2", role: "reader" },
      ],
    });
  });
});
