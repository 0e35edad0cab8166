// `npm start` as a fresh clone runs it: the real script (scripts/run.sh main) in a copy of exactly what git would
// check out (tracked files, and new ones not ignored), with its own .emulator-data, .pulumi-state and certificates,
// the pinned CLI and a real emulator. Its emulator gets free ports (--port 0 --mqtt-port 0): 443, 8443 and 8883 may be
// taken or not bindable here, and the devices reach any port as the main job points them there. The output is asserted
// per device: registration ID, status, assigned hub, device ID and desired properties; then a second run
// re-registers every device per its enrollment's policy.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { emulatorClientOptions } from "../../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../../dynamic-providers/service-client";
import type { ConnectionInfo } from "../../emulator/server";
import { deriveDeviceKey } from "../../scripts/lib/devices/device-key";
import { projectRoot } from "../../scripts/lib/pulumi-cli";
import { assignedBlock, hub1, hub2, titles } from "../support/device-blocks";

let root: string;
let clone: string;
let emulatorPid: number | undefined;

/** The project as a fresh clone has it: the files git tracks or would add, nothing it ignores. */
function copyAsClone(to: string): string[] {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: projectRoot,
    encoding: "utf8",
  });
  expect(listed.status).toBe(0);
  const files = listed.stdout.split("\0").filter((f) => f !== "" && fs.existsSync(path.join(projectRoot, f)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(path.join(projectRoot, file), path.join(to, file));
  }
  // Dependencies as setup left them (the toolchain finds its stamps and does not install again).
  fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(to, "node_modules"), "dir");
  return files;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm start -- ARGS` in the clone, in a process group of its own (killed whole if it hangs). */
function npmStart(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // As on a developer's machine: no backend or passphrase chosen (the script picks the local ones).
  for (const key of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"])
    delete env[key];
  const child = spawn("bash", [path.join(clone, "scripts", "run.sh"), "main", ...args], {
    cwd: clone,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 240_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function connection(): ConnectionInfo {
  return JSON.parse(fs.readFileSync(path.join(clone, ".emulator-data", "connection.json"), "utf8")) as ConnectionInfo;
}

/** What npm start printed about its devices, from their heading on, the ID scope as <scope>. */
function devicesSection(stdout: string): string {
  const start = stdout.indexOf("Devices, each registered");
  expect(start).toBeGreaterThanOrEqual(0);
  return stdout.slice(start).split(connection().idScope).join("<scope>").trimEnd();
}

const heading =
  "Devices, each registered with Microsoft's device SDK (ID scope <scope>), twins read from their hub:\n\n";
const mydeviceTwin = '{"client":"","devicetype":"waterflow"}';
const edgeTwin = '{"telemetryInterval":30}';

/**
 * The group devices' part. Until the groups of issue 12 §1 are in stacks/local/enrollments.yaml, the main job says in
 * one line per device that its group is not in the stack; with them (initial twin devicetype: waterflow, the
 * service's default allocation), it prints their blocks as tests/devices/provision.test.ts asserts them.
 */
function groupDevices(registration: (policy: string) => string): string[] {
  const manifest = fs.readFileSync(path.join(clone, "stacks", "local", "enrollments.yaml"), "utf8");
  if (!/^enrollmentGroups:/m.test(manifest)) {
    return [
      "group-device-01: enrollment group x509-devices is not in this stack; not provisioned",
      "symmetric-device-01: enrollment group symmetric-devices is not in this stack; not provisioned",
    ];
  }
  const waterflow = '{"devicetype":"waterflow"}';
  return [
    assignedBlock(titles.groupDevice, hub1, "group-device-01", waterflow, registration("reprovisionAndMigrateData")),
    assignedBlock(
      titles.symmetricDevice,
      hub1,
      "symmetric-device-01",
      waterflow,
      registration("reprovisionAndMigrateData"),
    ),
  ];
}

/** Every symmetric key DPS holds for the local devices: the edge gateway's, and a group's with its derived key. */
async function keysInDps(): Promise<string[]> {
  const service = createServiceClient(emulatorClientOptions(connection()));
  const edge = (await service.getIndividualEnrollmentAttestationMechanism("edge-gateway-01")).responseBody;
  const keys = [edge.symmetricKey?.primaryKey, edge.symmetricKey?.secondaryKey];
  const group = await service.getEnrollmentGroupAttestationMechanism("symmetric-devices").then(
    (r) => r.responseBody.symmetricKey,
    () => undefined,
  );
  if (group?.primaryKey) keys.push(group.primaryKey, deriveDeviceKey(group.primaryKey, "symmetric-device-01"));
  return keys.filter((k): k is string => typeof k === "string" && k.length > 40);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "dps-npm-start-"));
  clone = path.join(root, "clone");
  const files = copyAsClone(clone);
  // A fresh clone has no certificate whose private key it lacks: the local stack's are made on the first run.
  expect(files.filter((f) => f.startsWith("stacks/local/certs/") || f.startsWith("certs/"))).toEqual([]);
  expect(
    files.filter((f) =>
      /-----BEGIN (RSA |EC )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/]/.test(fs.readFileSync(path.join(clone, f), "latin1")),
    ),
  ).toEqual([]);
});

afterAll(() => {
  // npm start leaves its emulator running in the background, as it does for a developer: stop its process group.
  if (emulatorPid !== undefined) {
    try {
      process.kill(-emulatorPid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // Whatever else the clone started (an emulator the review started when run alone with -t) goes too.
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(root)) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

test("npm start on a fresh clone provisions one device of each kind and prints its registration and twin", async () => {
  const run = await npmStart(["--port", "0", "--mqtt-port", "0"]);
  const started = /\[main\] starting the DPS emulator \(pid (\d+), log \.emulator-data\/emulator\.log\)/.exec(
    run.stdout,
  );
  emulatorPid = started ? Number(started[1]) : undefined;
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  expect(emulatorPid).toBeDefined();
  expect(run.stdout).toContain(
    [
      "[main] development certificates (private keys in certs/private/, git-ignored):",
      "[main]   root-ca: stacks/local/certs/root-ca.pem (new)",
      "[main]   intermediate-ca: stacks/local/certs/intermediate-ca.pem (new)",
      "[main]   mydevice: stacks/local/certs/mydevice.pem (new)",
      "[main]   group-device-01: stacks/local/certs/group-device-01.pem (new)",
    ].join("\n"),
  );
  expect(devicesSection(run.stdout)).toBe(
    heading +
      [
        assignedBlock(titles.mydevice, hub2, "mydevice", mydeviceTwin, "first assignment: initialAssignment"),
        assignedBlock(titles.edge, hub2, "edge-gateway-01-device", edgeTwin, "first assignment: initialAssignment"),
        ...groupDevices(() => "first assignment: initialAssignment"),
      ].join("\n\n"),
  );
  expect(fs.readdirSync(path.join(clone, "certs", "private")).sort()).toEqual([
    "group-device-01.key.pem",
    "intermediate-ca.key.pem",
    "mydevice.key.pem",
    "root-ca.key.pem",
  ]);
  // No key reaches the output: the edge gateway's (the stack's secret config, as DPS holds it), the groups'.
  const keys = await keysInDps();
  expect(keys.length).toBeGreaterThanOrEqual(2);
  for (const key of keys) expect(run.stdout).not.toContain(key);
});

test("npm start again: the same emulator and certificates, no change, every device re-registered per its policy", async () => {
  const run = await npmStart([]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  expect(run.stdout).toContain(`[main] DPS emulator already running at ${connection().endpoint}`);
  for (const key of await keysInDps()) expect(run.stdout).not.toContain(key);
  expect(run.stdout).not.toContain("development certificates");
  expect(run.stdout).toMatch(/\nResources:\n {4}\d+ unchanged\n\nDuration/);
  const again = (policy: string) => `re-registered: ${policy}, same hub, twin kept (deviceDataMigrated)`;
  expect(devicesSection(run.stdout)).toBe(
    heading +
      [
        assignedBlock(titles.mydevice, hub2, "mydevice", mydeviceTwin, again("reprovisionAndMigrateData")),
        assignedBlock(
          titles.edge,
          hub2,
          "edge-gateway-01-device",
          edgeTwin,
          "re-registered: reprovisionAndResetData, same hub, twin reset to the initial twin (deviceDataReset)",
        ),
        ...groupDevices(again),
      ].join("\n\n"),
  );
});

// Regression: `npm run review -- --stack local` (the review workflow's first step on a fresh runner) failed because the
// local manifest's certificates, git-ignored since they are made per checkout, did not exist before npm start.
test("review of the local stack without development certificates makes them, as npm start does", () => {
  for (const dir of [path.join(clone, "stacks", "local", "certs"), path.join(clone, "certs", "private")]) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"])
    delete env[key];
  const review = spawnSync(
    "bash",
    [path.join(clone, "scripts", "run.sh"), "exec", "tsx", "scripts/review.ts", "--stack", "local"],
    { cwd: clone, env, encoding: "utf8", timeout: 240_000 },
  );
  expect({ code: review.status, failed: review.stdout.includes("preview failed") }).toEqual({
    code: 0,
    failed: false,
  });
  expect(review.stderr.split("\n").slice(0, 4)).toEqual(
    ["root-ca", "intermediate-ca", "mydevice", "group-device-01"].map(
      (name) => `[review] development certificate ${name}: stacks/local/certs/${name}.pem (new)`,
    ),
  );
  // New certificates: the X.509 enrollment's (and any group's signing certificate) change in place.
  expect(review.stdout.split("\n")[2]).toMatch(
    /^\*\*Pulumi preview of <code>dps-enrollments<\/code>\*\* · <code>local<\/code>: 📝 \d+ changes?$/,
  );
  expect(fs.existsSync(path.join(clone, "certs", "private", "mydevice.key.pem"))).toBe(true);
});

test("npm start's flags: --help lists them; a bad value stops it before anything starts, naming the flag", () => {
  const run = (args: string[]) => {
    const result = spawnSync(process.execPath, ["--import", "tsx", path.join(clone, "scripts", "main.ts"), ...args], {
      cwd: clone,
      encoding: "utf8",
      timeout: 60_000,
    });
    return [result.status, result.stdout, result.stderr];
  };
  expect(run(["--help"])).toEqual([
    0,
    [
      "Usage: npm start [-- [--port N] [--mqtt-port N]]",
      "  --port N        HTTPS port of the emulator when npm start starts it (default 8443; 0: any free port)",
      "  --mqtt-port N   MQTTS port of the emulator when npm start starts it (default 8883; 0: any free port; -1: off)",
      "  --help, -h      this list",
      "An emulator already running for .emulator-data is used as it is.",
      "",
    ].join("\n"),
    "",
  ]);
  expect(run(["--mqtt-port", "-2"])).toEqual([
    1,
    "",
    '\n[main] --mqtt-port "-2": expected a whole number from -1 to 65535\n[main] npm start -- --help lists every flag\n',
  ]);
  expect(run(["--prot", "0"])).toEqual([
    1,
    "",
    '\n[main] unknown flag "--prot"\n[main] npm start -- --help lists every flag\n',
  ]);
});
