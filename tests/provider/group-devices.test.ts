// Devices of enrollment groups the program created through the real CLI: an X.509 group's device (leaf → intermediate
// → root, the group signed by the intermediate) and a symmetric-key group's device (its key from `npm run device-key`)
// register over HTTPS and MQTT with Microsoft's device SDK, and the twin Microsoft's hub Registry reads from the
// assigned hub is the group's initial twin. A disabled group refuses its devices; a deleted one leaves their
// registration records and hub identities behind.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

import type { Stack } from "@pulumi/pulumi/automation";

import { issueCertificate, type IssuedCertificate } from "../../emulator/pki";
import {
  projectRoot,
  scratchEnv,
  scratchProject,
  scratchStack,
  type ScratchProject,
} from "../../scripts/lib/pulumi-cli";
import { registerWithCertificate, registerWithKey, type Transport } from "../support/devices";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";

const run = promisify(execFile);
const initialTwin = { tags: { fleet: "waterflow" }, properties: { desired: { devicetype: "waterflow" } } };

let emulator: TestEmulator;
let project: ScratchProject;
let stack: Stack;
let manifestFile: string;
let root: IssuedCertificate;
let intermediate: IssuedCertificate;

function manifest(options: { enabled: boolean; symmetric: boolean }): string {
  const twin = JSON.stringify(initialTwin);
  const groups = [
    `  - enrollmentGroupId: x509-devices\n    attestation: { x509: { primaryCertificate: certs/intermediate-ca.pem } }\n    initialTwin: ${twin}\n    enabled: ${options.enabled}`,
  ];
  if (options.symmetric) {
    groups.push(
      `  - enrollmentGroupId: symmetric-devices\n    attestation: { symmetricKey: {} }\n    initialTwin: ${twin}\n    enabled: ${options.enabled}`,
    );
  }
  return `enrollmentGroups:\n${groups.join("\n")}\n`;
}

/** `npm run device-key` as a user runs it, against the test's stack (its backend in the environment). */
async function deviceKey(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", path.join(projectRoot, "scripts", "device-key.ts"), ...args],
      { cwd: projectRoot, env: { ...process.env, ...scratchEnv(project.backendUrl) } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A device of the X.509 group: its certificate (CN = registration ID) signed by the intermediate, and the chain. */
function x509Device(id: string): { chain: string; key: string } {
  const leaf = issueCertificate({ commonName: id, issuer: intermediate, clientAuth: true });
  return { chain: leaf.certPem + intermediate.certPem + root.certPem, key: leaf.keyPem };
}

/** The device's twin as its hub's registry reads it: tags and desired properties without metadata. */
async function twinOnHub(hub: string, deviceId: string): Promise<unknown> {
  const twin = (await emulator.registry(hub).getTwin(deviceId)).responseBody;
  const { $metadata: _metadata, $version: _version, ...desired } = twin.properties.desired as Record<string, unknown>;
  return { tags: twin.tags, properties: { desired } };
}

beforeAll(async () => {
  emulator = await startTestEmulator({ mqttPort: 0 });
  project = scratchProject(projectRoot, "dps-group-devices-");
  const certs = path.join(project.workDir, "stacks", "devices", "certs");
  fs.mkdirSync(certs, { recursive: true });
  root = issueCertificate({ commonName: "Test Root CA", isCA: true });
  intermediate = issueCertificate({ commonName: "Test Intermediate CA", isCA: true, issuer: root });
  fs.writeFileSync(path.join(certs, "intermediate-ca.pem"), intermediate.certPem);
  manifestFile = path.join(project.workDir, "stacks", "devices", "enrollments.yaml");
  fs.writeFileSync(manifestFile, manifest({ enabled: true, symmetric: true }));
  stack = await scratchStack(project, "devices");
  await stack.workspace.setAllConfig(stack.name, {
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
  });
  expect((await stack.up()).summary.resourceChanges).toEqual({ create: 4 });
});

afterAll(async () => {
  await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  project?.cleanup();
  await emulator?.dispose();
});

describe.each<Transport>(["http", "mqtt"])("over %s", (transport) => {
  test("a device of the X.509 group registers through its chain and finds the group's initial twin", async () => {
    const id = `x509-member-${transport}`;
    const device = x509Device(id);
    const result = await registerWithCertificate(emulator, transport, id, device.chain, device.key);
    expect(result).toMatchObject({ registrationId: id, deviceId: id, status: "assigned" });
    expect(emulator.connection.linkedHubs).toContain(result.assignedHub);
    expect(await twinOnHub(result.assignedHub, id)).toEqual(initialTwin);
  });

  test("a device of the symmetric-key group registers with the key npm run device-key derives", async () => {
    const id = `symmetric-member-${transport}`;
    const derived = await deviceKey("--stack", "devices", "--group", "symmetric-devices", "--registration-id", id);
    expect(derived.code).toBe(0);
    expect(derived.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    const result = await registerWithKey(emulator, transport, id, derived.stdout.trim());
    expect(result).toMatchObject({ registrationId: id, deviceId: id, status: "assigned" });
    expect(await twinOnHub(result.assignedHub, id)).toEqual(initialTwin);
  });
});

test("npm run device-key: clear errors for a missing flag, an unknown stack or group, an X.509 group", async () => {
  const refusals = await Promise.all([
    deviceKey("--stack", "devices", "--registration-id", "d"),
    deviceKey("--stack", "nope", "--group", "symmetric-devices", "--registration-id", "d"),
    deviceKey("--stack", "devices", "--group", "other", "--registration-id", "d"),
    deviceKey("--stack", "devices", "--group", "x509-devices", "--registration-id", "d"),
  ]);
  expect(refusals.map((r) => [r.code, r.stdout, r.stderr])).toEqual([
    [1, "", "device-key: --group is required\nnpm run device-key -- --help lists every flag\n"],
    [1, "", "device-key: stack 'nope' does not exist (npm run pulumi -- stack ls lists the stacks)\n"],
    [
      1,
      "",
      "device-key: stack 'devices' has no enrollment group 'other' (its groups: symmetric-devices, x509-devices)\n",
    ],
    [
      1,
      "",
      "device-key: enrollment group 'x509-devices' of stack 'devices' uses x509 attestation, not a symmetric key: " +
        "its devices prove themselves with certificates, and have no key to derive\n",
    ],
  ]);
});

test("a disabled group refuses its devices, registered or new; a deleted one leaves records and hub identities", async () => {
  const registered = "x509-member-http";
  const before = (await emulator.client().getDeviceRegistrationState(registered)).responseBody;
  fs.writeFileSync(manifestFile, manifest({ enabled: false, symmetric: true }));
  expect((await stack.up()).summary.resourceChanges).toEqual({ same: 2, update: 2 });

  for (const id of [registered, "x509-newcomer"]) {
    const device = x509Device(id);
    await expect(registerWithCertificate(emulator, "http", id, device.chain, device.key)).rejects.toMatchObject({
      result: {
        status: "disabled",
        registrationState: { registrationId: id, status: "disabled", errorCode: 401001 },
      },
    });
  }
  // Its hub identity stays: the device can go on connecting to its hub, it just cannot provision again.
  const hub = before.assignedHub;
  expect((await emulator.registry(hub).get(registered)).responseBody.deviceId).toBe(registered);

  // Deleting the symmetric-key group: its devices' records stay in DPS, their identities on their hubs.
  const member = "symmetric-member-http";
  const memberHub = (await emulator.client().getDeviceRegistrationState(member)).responseBody.assignedHub;
  fs.writeFileSync(manifestFile, manifest({ enabled: false, symmetric: false }));
  expect((await stack.up()).summary.resourceChanges).toEqual({ same: 3, delete: 1 });
  expect((await emulator.client().getDeviceRegistrationState(member)).responseBody).toMatchObject({
    registrationId: member,
    status: "assigned",
    assignedHub: memberHub,
  });
  expect((await emulator.registry(memberHub).get(member)).responseBody.deviceId).toBe(member);
  expect((await rejection(emulator.client().getEnrollmentGroup("symmetric-devices"))).status).toBe(404);
});
