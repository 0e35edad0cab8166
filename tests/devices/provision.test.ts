// The main job's devices against an emulator over HTTPS and MQTT, with Microsoft's device SDK and hub registry
// client: one of each kind (individual X.509 and symmetric key; a device of an X.509 group through leaf → intermediate
// → root, and of a symmetric-key group through its derived key), enrolled as stacks/local/enrollments.yaml enrolls
// them (the groups created with Microsoft's service client, as the manifest's groups will be), with certificates from
// a development certificate store made at test time. What npm start prints for each, first and second registration,
// and for a disabled or missing group.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { ensureDevCertificates, type CertificateStore } from "../../scripts/dev-certs";
import { emulatorDeviceEndpoint } from "../../scripts/lib/devices/device-client";
import { deriveDeviceKey } from "../../scripts/lib/devices/device-key";
import { localCredentials, localFleet, type LocalDevice } from "../../scripts/lib/devices/local-devices";
import { provisionDevice, type DeviceOutcome, type ProvisioningContext } from "../../scripts/lib/devices/provision";
import { renderDevices } from "../../scripts/lib/devices/render";
import { assignedBlock, hub1, hub2, titles } from "../support/device-blocks";
import { startTestEmulator, type TestEmulator } from "../support/emulator";

let emulator: TestEmulator;
let storeRoot: string;
let store: CertificateStore;
let context: ProvisioningContext<LocalDevice>;
// The stack's secret config of this test: a key made now, never printed.
const edgeGatewayPrimaryKey = randomBytes(64).toString("base64");
const waterflow = { tags: {}, properties: { desired: { devicetype: "waterflow" } } };

beforeAll(async () => {
  emulator = await startTestEmulator({ mqttPort: 0 });
  storeRoot = fs.mkdtempSync(path.join(os.tmpdir(), "dps-devices-certs-"));
  store = { certDir: path.join(storeRoot, "certs"), keyDir: path.join(storeRoot, "private") };
  ensureDevCertificates(store, { devices: ["mydevice"], groupDevices: ["group-device-01"] });
  const pem = (name: string) => fs.readFileSync(path.join(store.certDir, `${name}.pem`), "utf8");
  const service = emulator.client();
  const enroll = (e: Record<string, unknown>) =>
    service.createOrUpdateIndividualEnrollment(e as unknown as IndividualEnrollment);
  const migrate = { updateHubAssignment: true, migrateDeviceData: true };
  await enroll({
    registrationId: "mydevice",
    attestation: { type: "x509", x509: { clientCertificates: { primary: { certificate: pem("mydevice") } } } },
    allocationPolicy: "hashed",
    reprovisionPolicy: migrate,
    initialTwin: { tags: {}, properties: { desired: { devicetype: "waterflow", client: "" } } },
  });
  await enroll({
    registrationId: "edge-gateway-01",
    deviceId: "edge-gateway-01-device",
    attestation: {
      type: "symmetricKey",
      symmetricKey: { primaryKey: edgeGatewayPrimaryKey, secondaryKey: randomBytes(64).toString("base64") },
    },
    capabilities: { iotEdge: true },
    allocationPolicy: "static",
    iotHubs: ["127.0.0.3"],
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
    initialTwin: { tags: { site: "lab" }, properties: { desired: { telemetryInterval: 30 } } },
  });
  const group = (g: Record<string, unknown>) =>
    service.createOrUpdateEnrollmentGroup({ reprovisionPolicy: migrate, initialTwin: waterflow, ...g } as never);
  await group({
    enrollmentGroupId: "x509-devices",
    attestation: { type: "x509", x509: { signingCertificates: { primary: { certificate: pem("intermediate-ca") } } } },
  });
  await group({ enrollmentGroupId: "symmetric-devices", attestation: { type: "symmetricKey" } });
  const endpoint = emulatorDeviceEndpoint(emulator.connection);
  context = {
    service,
    endpoint,
    hubs: emulator.connection.hubs,
    hubCa: endpoint.ca,
    credentials: localCredentials({
      store,
      service,
      stackSecret: (key) => {
        expect(key).toBe("dps-enrollments:edgeGatewayPrimaryKey");
        return Promise.resolve(edgeGatewayPrimaryKey);
      },
    }),
  };
});

afterAll(async () => {
  await emulator?.dispose();
  fs.rmSync(storeRoot, { recursive: true, force: true });
});

async function provisionAll(): Promise<DeviceOutcome[]> {
  const outcomes: DeviceOutcome[] = [];
  for (const device of localFleet) outcomes.push(await provisionDevice(device, context));
  return outcomes;
}

const waterflowJson = '{"devicetype":"waterflow"}';

test("first run: every kind of device is assigned and finds its initial twin on its hub", async () => {
  const outcomes = await provisionAll();
  expect(renderDevices(outcomes)).toBe(
    [
      assignedBlock(
        titles.mydevice,
        hub2,
        "mydevice",
        '{"client":"","devicetype":"waterflow"}',
        "first assignment: initialAssignment",
      ),
      assignedBlock(
        titles.edge,
        hub2,
        "edge-gateway-01-device",
        '{"telemetryInterval":30}',
        "first assignment: initialAssignment",
      ),
      assignedBlock(titles.groupDevice, hub1, "group-device-01", waterflowJson, "first assignment: initialAssignment"),
      assignedBlock(
        titles.symmetricDevice,
        hub1,
        "symmetric-device-01",
        waterflowJson,
        "first assignment: initialAssignment",
      ),
    ].join("\n\n"),
  );
  // DPS registered the group device on its hub with the key derived from the group's: the device's own key.
  const groupKey = (await emulator.client().getEnrollmentGroupAttestationMechanism("symmetric-devices")).responseBody
    .symmetricKey?.primaryKey as string;
  const identity = (await emulator.registry("127.0.0.2").get("symmetric-device-01")).responseBody;
  expect(identity.authentication?.symmetricKey?.primaryKey).toBe(deriveDeviceKey(groupKey, "symmetric-device-01"));
  // The X.509 group's device is known to its hub by its CA (the SDK's Authentication type leaves `type` out).
  const groupDevice = (await emulator.registry("127.0.0.2").get("group-device-01")).responseBody;
  expect((groupDevice.authentication as { type?: string } | undefined)?.type).toBe("certificateAuthority");
});

test("second run: each device re-registers per its enrollment's reprovisioning policy and says so", async () => {
  // A service changed a desired property meanwhile: migrating keeps it, resetting drops it.
  for (const [hub, deviceId] of [
    ["127.0.0.3", "mydevice"],
    ["127.0.0.3", "edge-gateway-01-device"],
  ]) {
    await emulator.registry(hub).updateTwin(deviceId, { properties: { desired: { firmware: "1.2.0" } } }, "*");
  }
  expect(renderDevices(await provisionAll())).toBe(
    [
      assignedBlock(
        titles.mydevice,
        hub2,
        "mydevice",
        '{"client":"","devicetype":"waterflow","firmware":"1.2.0"}',
        "re-registered: reprovisionAndMigrateData, same hub, twin kept (deviceDataMigrated)",
      ),
      assignedBlock(
        titles.edge,
        hub2,
        "edge-gateway-01-device",
        '{"telemetryInterval":30}',
        "re-registered: reprovisionAndResetData, same hub, twin reset to the initial twin (deviceDataReset)",
      ),
      assignedBlock(
        titles.groupDevice,
        hub1,
        "group-device-01",
        waterflowJson,
        "re-registered: reprovisionAndMigrateData, same hub, twin kept (deviceDataMigrated)",
      ),
      assignedBlock(
        titles.symmetricDevice,
        hub1,
        "symmetric-device-01",
        waterflowJson,
        "re-registered: reprovisionAndMigrateData, same hub, twin kept (deviceDataMigrated)",
      ),
    ].join("\n\n"),
  );
});

test("a disabled group refuses its device and a missing group is one line; neither is a crash", async () => {
  const service = emulator.client();
  const symmetric = (await service.getEnrollmentGroup("symmetric-devices")).responseBody;
  await service.createOrUpdateEnrollmentGroup({ ...symmetric, provisioningStatus: "disabled" });
  await service.deleteEnrollmentGroup("x509-devices");
  const outcomes = await provisionAll();
  expect(renderDevices(outcomes.slice(2))).toBe(
    [
      "group-device-01: enrollment group x509-devices is not in this stack; not provisioned",
      "",
      titles.symmetricDevice,
      "  status  disabled: the enrollment group is disabled (DPS error 401001)",
    ].join("\n"),
  );
});
