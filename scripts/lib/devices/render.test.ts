import type { DeviceOutcome, DeviceSpec } from "./provision";
import { registrationNote, renderDevices, stableJson } from "./render";

const hub1 = { name: "emulator-hub-1", hostName: "127.0.0.2" };
const hub2 = { name: "emulator-hub-2", hostName: "127.0.0.3" };
const mydevice: DeviceSpec = { registrationId: "mydevice", attestation: "x509", transport: "http" };
const groupDevice: DeviceSpec = {
  registrationId: "group-device-01",
  attestation: "x509",
  groupId: "x509-devices",
  transport: "mqtt",
};
const symmetricDevice: DeviceSpec = {
  registrationId: "symmetric-device-01",
  attestation: "symmetricKey",
  groupId: "symmetric-devices",
  transport: "http",
};

type Assigned = Extract<DeviceOutcome, { kind: "assigned" }>;

function assigned(overrides: Partial<Assigned> = {}): Assigned {
  return {
    kind: "assigned",
    spec: mydevice,
    hub: hub2,
    deviceId: "mydevice",
    substatus: "initialAssignment",
    desired: { devicetype: "waterflow", client: "" },
    policy: "reprovisionAndMigrateData",
    ...overrides,
  };
}

test("a device's block: registration ID, attestation, status, hub, device ID, desired properties, what happened", () => {
  expect(renderDevices([assigned()])).toBe(
    [
      "mydevice (X.509, individual enrollment, HTTPS)",
      "  status              assigned",
      "  assigned hub        emulator-hub-2 (127.0.0.3)",
      "  device ID           mydevice",
      '  desired properties  {"client":"","devicetype":"waterflow"}',
      "  registration        first assignment: initialAssignment",
    ].join("\n"),
  );
});

test("missing enrollments and groups take one line each; refusals and failures say why", () => {
  const outcomes: DeviceOutcome[] = [
    { kind: "missing", spec: mydevice },
    { kind: "missing", spec: groupDevice },
    {
      kind: "refused",
      spec: symmetricDevice,
      status: "disabled",
      errorCode: 401001,
      errorMessage: "the enrollment group is disabled",
    },
    { kind: "refused", spec: groupDevice, status: "failed" },
    { kind: "error", spec: mydevice, message: "connect ECONNREFUSED 127.0.0.1:8443" },
  ];
  expect(renderDevices(outcomes)).toBe(
    [
      "mydevice: individual enrollment mydevice is not in this stack; not provisioned",
      "",
      "group-device-01: enrollment group x509-devices is not in this stack; not provisioned",
      "",
      "symmetric-device-01 (symmetric key, enrollment group symmetric-devices, HTTPS)",
      "  status  disabled: the enrollment group is disabled (DPS error 401001)",
      "",
      "group-device-01 (X.509, enrollment group x509-devices, MQTT)",
      "  status  failed",
      "",
      "mydevice (X.509, individual enrollment, HTTPS)",
      "  status  not registered: connect ECONNREFUSED 127.0.0.1:8443",
    ].join("\n"),
  );
});

test.each<[string, Partial<Assigned>, string]>([
  [
    "migrate, same hub",
    { previous: { status: "assigned", hub: hub2 }, substatus: "deviceDataMigrated" },
    "re-registered: reprovisionAndMigrateData, same hub, twin kept (deviceDataMigrated)",
  ],
  [
    "migrate, another hub",
    { previous: { status: "assigned", hub: hub1 }, substatus: "deviceDataMigrated" },
    "re-registered: reprovisionAndMigrateData, moved from emulator-hub-1 to emulator-hub-2, twin migrated (deviceDataMigrated)",
  ],
  [
    "reset, same hub",
    { previous: { status: "assigned", hub: hub2 }, substatus: "deviceDataReset", policy: "reprovisionAndResetData" },
    "re-registered: reprovisionAndResetData, same hub, twin reset to the initial twin (deviceDataReset)",
  ],
  [
    "reset, back to the first hub",
    {
      previous: { status: "assigned", hub: hub1 },
      substatus: "reprovisionedToInitialAssignment",
      policy: "reprovisionAndResetData",
    },
    "re-registered: reprovisionAndResetData, moved back from emulator-hub-1 to emulator-hub-2, its first hub, twin reset to the initial twin (reprovisionedToInitialAssignment)",
  ],
  [
    "never",
    { previous: { status: "assigned", hub: hub2 }, substatus: "initialAssignment", policy: "never" },
    "re-registered: never, stays on emulator-hub-2, twin kept (initialAssignment)",
  ],
  [
    "assigned after being refused",
    { previous: { status: "disabled" } },
    "first assignment: initialAssignment (it was disabled before)",
  ],
])("what a registration did: %s", (_, overrides, note) => {
  expect(registrationNote(assigned(overrides))).toBe(note);
});

test("desired properties print with sorted keys at every level, arrays in order", () => {
  expect(stableJson({ b: { z: 1, a: [3, { y: null, x: "x" }] }, a: true })).toBe(
    '{"a":true,"b":{"a":[3,{"x":"x","y":null}],"z":1}}',
  );
});
