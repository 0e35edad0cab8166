// The emulator's IoT hubs with Microsoft's azure-iothub Registry over HTTPS, each hub on its own loopback address
// (127.0.0.2, 127.0.0.3): the twin a registration leaves, devices listed, read, created, updated and deleted, twin
// updates with and without a matching etag, each hub's own policies and rights, routing by Host, IoT Hub's error body.
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";
import type { Twin } from "azure-iothub";

import { connectionString, hubPolicies } from "../../emulator/identity";
import { createSasToken } from "../../emulator/sas";
import { registerWithKey } from "../support/devices";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";

const hub1 = "127.0.0.2";
const hub2 = "127.0.0.3";
const key = (fill: number): string => Buffer.alloc(32, fill).toString("base64");
/** IoT Hub's times: ISO 8601 with seven fractional digits. */
const timestamp = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
const exceptionMessage = expect.stringMatching(
  /^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/,
);

let emulator: TestEmulator;
let logDir: string;

beforeAll(async () => {
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-hubs-log-"));
  emulator = await startTestEmulator({ requestLog: path.join(logDir, "requests.log") });
});

afterAll(async () => {
  await emulator.dispose();
  fs.rmSync(logDir, { recursive: true, force: true });
});

/** An enrollment on one hub (static), registered over HTTPS with Microsoft's device SDK. */
async function registerOn(
  hub: string,
  registrationId: string,
  fill: number,
  fields: Record<string, unknown> = {},
): Promise<void> {
  await emulator.client().createOrUpdateIndividualEnrollment({
    registrationId,
    attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(fill), secondaryKey: key(fill + 1) } },
    allocationPolicy: "static",
    iotHubs: [hub],
    ...fields,
  } as unknown as IndividualEnrollment);
  expect(await registerWithKey(emulator, "http", registrationId, key(fill))).toMatchObject({
    assignedHub: hub,
    status: "assigned",
  });
}

/** A twin as plain JSON (the SDK's Twin object carries its registry). */
function plain(twin: Twin): Record<string, unknown> {
  return JSON.parse(JSON.stringify(twin)) as Record<string, unknown>;
}

/** A raw HTTPS request to `address` with a Host header of choice. */
function raw(
  address: string,
  host: string,
  requestPath: string,
  authorization?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: address,
        port: emulator.port,
        path: requestPath,
        ca: emulator.caPem,
        servername: /^\d/.test(host) ? undefined : host,
        headers: { Host: host, ...(authorization ? { Authorization: authorization } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function hubToken(hub: string, keyName: string): string {
  const policy = hubPolicies(emulator.identity, hub).find((p) => p.keyName === keyName);
  if (!policy) throw new Error(`no policy ${keyName} on ${hub}`);
  return createSasToken(hub, policy.primaryKey, Math.ceil(Date.now() / 1000) + 600, keyName);
}

test("connection.json lists each hub: name, host, endpoint and its own iothubowner connection string", () => {
  const owner = (hub: string): string =>
    connectionString(
      hub,
      hubPolicies(emulator.identity, hub).find((p) => p.keyName === "iothubowner")!,
    );
  expect(emulator.connection.hubs).toEqual([
    {
      name: "emulator-hub-1",
      hostName: hub1,
      endpoint: `https://${hub1}:${emulator.port}`,
      connectionString: owner(hub1),
    },
    {
      name: "emulator-hub-2",
      hostName: hub2,
      endpoint: `https://${hub2}:${emulator.port}`,
      connectionString: owner(hub2),
    },
  ]);
  expect(owner(hub1)).toMatch(
    /^HostName=127\.0\.0\.2;SharedAccessKeyName=iothubowner;SharedAccessKey=[A-Za-z0-9+/]{43}=$/,
  );
  expect(owner(hub1)).not.toBe(owner(hub2).replace(hub2, hub1));
  expect(hubPolicies(emulator.identity, hub1).map((p) => [p.keyName, p.rights])).toEqual([
    ["iothubowner", ["RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect"]],
    ["service", ["ServiceConnect"]],
    ["device", ["DeviceConnect"]],
    ["registryRead", ["RegistryRead"]],
    ["registryReadWrite", ["RegistryRead", "RegistryWrite"]],
  ]);
});

test("the twin a registration leaves on its hub is the enrollment's initial twin", async () => {
  const initialTwin = {
    tags: { site: "lab", place: { floor: 2 } },
    properties: { desired: { devicetype: "waterflow", limits: { max: 10 } } },
  };
  await registerOn(hub2, "twin-device", 1, { deviceId: "twin-device-id", initialTwin });
  const twin = (await emulator.registry("emulator-hub-2").getTwin("twin-device-id")).responseBody;
  const leaf = { $lastUpdated: timestamp, $lastUpdatedVersion: 1 };
  expect(plain(twin)).toEqual({
    deviceId: "twin-device-id",
    etag: "AAAAAAAAAAE=",
    deviceEtag: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
    status: "enabled",
    statusUpdateTime: "0001-01-01T00:00:00Z",
    connectionState: "Disconnected",
    lastActivityTime: "0001-01-01T00:00:00Z",
    cloudToDeviceMessageCount: 0,
    authenticationType: "sas",
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    modelId: "",
    version: 1,
    tags: initialTwin.tags,
    properties: {
      desired: {
        ...initialTwin.properties.desired,
        $metadata: { ...leaf, devicetype: leaf, limits: { ...leaf, max: leaf } },
        $version: 1,
      },
      reported: { $metadata: { $lastUpdated: timestamp }, $version: 1 },
    },
    capabilities: { iotEdge: false },
  });
  // Only on its assigned hub.
  await expect(emulator.registry("emulator-hub-1").getTwin("twin-device-id")).rejects.toMatchObject({
    name: "DeviceNotFoundError",
  });
});

test("list, get and delete devices; a deleted device is DeviceNotFound with IoT Hub's error body", async () => {
  await registerOn(hub1, "listed-b", 11);
  await registerOn(hub1, "listed-a", 13);
  const registry = emulator.registry("emulator-hub-1");
  const ids = async (): Promise<string[]> => (await registry.list()).responseBody.map((d) => d.deviceId);
  expect(await ids()).toEqual(["listed-a", "listed-b"]);

  const device = JSON.parse(JSON.stringify((await registry.get("listed-a")).responseBody)) as unknown;
  expect(device).toEqual({
    deviceId: "listed-a",
    generationId: expect.stringMatching(/^\d{18}$/),
    etag: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
    connectionState: "Disconnected",
    status: "enabled",
    statusReason: null,
    connectionStateUpdatedTime: "0001-01-01T00:00:00Z",
    statusUpdatedTime: "0001-01-01T00:00:00Z",
    lastActivityTime: "0001-01-01T00:00:00Z",
    cloudToDeviceMessageCount: 0,
    authentication: {
      symmetricKey: { primaryKey: key(13), secondaryKey: key(14) },
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
      type: "sas",
    },
    capabilities: { iotEdge: false },
  });

  await registry.delete("listed-a");
  expect(await ids()).toEqual(["listed-b"]);
  await expect(registry.get("listed-a")).rejects.toMatchObject({
    name: "DeviceNotFoundError",
    message: `device 'listed-a' does not exist on hub emulator-hub-1 (${hub1})`,
  });
  expect(await rejection(registry.delete("listed-a"))).toEqual({
    status: 404,
    body: {
      Message: `ErrorCode:DeviceNotFound;device 'listed-a' does not exist on hub emulator-hub-1 (${hub1})`,
      ExceptionMessage: exceptionMessage,
    },
  });
});

test("twin updates: Twin.update with its etag, a stale etag refused with 412, * updates unconditionally", async () => {
  await registerOn(hub1, "patched", 21, {
    initialTwin: { tags: { site: "lab" }, properties: { desired: { devicetype: "waterflow", interval: 10 } } },
  });
  const registry = emulator.registry("emulator-hub-1");
  const twin = (await registry.getTwin("patched")).responseBody;
  await twin.update({ tags: { floor: 3 }, properties: { desired: { devicetype: null, interval: 30 } } });
  expect([twin.etag, twin.tags, twin.properties.desired.interval, twin.properties.desired.$version]).toEqual([
    "AAAAAAAAAAI=",
    { site: "lab", floor: 3 },
    30,
    2,
  ]);
  expect(twin.properties.desired).not.toHaveProperty("devicetype");

  // The etag of the first read is stale now.
  expect(await rejection(registry.updateTwin("patched", { tags: { floor: 4 } }, "AAAAAAAAAAE="))).toEqual({
    status: 412,
    body: {
      Message: 'ErrorCode:PreconditionFailed;the twin\'s etag is "AAAAAAAAAAI=", not "AAAAAAAAAAE=": read it again',
      ExceptionMessage: exceptionMessage,
    },
  });
  await expect(registry.updateTwin("patched", { tags: { floor: 4 } }, "AAAAAAAAAAE=")).rejects.toMatchObject({
    name: "InvalidEtagError",
  });
  expect((await registry.getTwin("patched")).responseBody.tags).toEqual({ site: "lab", floor: 3 });

  const forced = (await registry.updateTwin("patched", { properties: { desired: { interval: 60 } } }, "*"))
    .responseBody;
  expect([forced.etag, forced.properties.desired.interval]).toEqual(["AAAAAAAAAAM=", 60]);
  expect(plain(forced).properties).toMatchObject({
    desired: { $metadata: { interval: { $lastUpdated: timestamp, $lastUpdatedVersion: 3 } }, $version: 3 },
  });

  expect(await rejection(registry.updateTwin("patched", { properties: { reported: { x: 1 } } }, "*"))).toEqual({
    status: 400,
    body: {
      Message: "ErrorCode:ArgumentInvalid;properties.reported cannot be updated by a service: the device reports them",
      ExceptionMessage: exceptionMessage,
    },
  });
});

test("devices created through the registry: generated keys, a second create is 409, update with If-Match * applies", async () => {
  const registry = emulator.registry("emulator-hub-2");
  const created = JSON.parse(JSON.stringify((await registry.create({ deviceId: "manual" })).responseBody)) as {
    etag: string;
    authentication: { type: string; symmetricKey: { primaryKey: string; secondaryKey: string } };
  };
  expect(created.authentication.type).toBe("sas");
  expect(Buffer.from(created.authentication.symmetricKey.primaryKey, "base64")).toHaveLength(32);
  expect(created.authentication.symmetricKey.secondaryKey).not.toBe(created.authentication.symmetricKey.primaryKey);

  expect(await rejection(registry.create({ deviceId: "manual" }))).toEqual({
    status: 409,
    body: {
      Message: `ErrorCode:DeviceAlreadyExists;device 'manual' already exists on hub emulator-hub-2 (${hub2}): send If-Match to update it`,
      ExceptionMessage: exceptionMessage,
    },
  });
  const updated = (await registry.update({ deviceId: "manual", status: "disabled" })).responseBody;
  expect(updated.status).toBe("disabled");
  expect(updated.etag).not.toBe(created.etag);
  expect(plain((await registry.getTwin("manual")).responseBody)).toMatchObject({ status: "disabled", version: 1 });
});

describe("each hub takes its own policies only", () => {
  const unauthorized = (reason: string): { status: number; body: unknown } => ({
    status: 401,
    body: { Message: `ErrorCode:IotHubUnauthorizedAccess;Unauthorized: ${reason}`, ExceptionMessage: exceptionMessage },
  });

  test("a wrong key, the other hub's key and the DPS's key are 401 with IoT Hub's error body", async () => {
    const hub1Owner = emulator.hub("emulator-hub-1").connectionString;
    const hub2Owner = emulator.hub("emulator-hub-2").connectionString;
    const dpsOwner = emulator.identity.policies[0];
    const attempts: [string, string][] = [
      [
        `HostName=${hub1};SharedAccessKeyName=iothubowner;SharedAccessKey=${key(99)}`,
        "SharedAccessSignature was not signed with a key of policy 'iothubowner'",
      ],
      [hub2Owner.replace(hub2, hub1), "SharedAccessSignature was not signed with a key of policy 'iothubowner'"],
      [
        `HostName=${hub1};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${dpsOwner.primaryKey}`,
        "shared access policy 'provisioningserviceowner' does not exist",
      ],
      [
        `HostName=${hub1};SharedAccessKeyName=iothubowner;SharedAccessKey=${dpsOwner.primaryKey}`,
        "SharedAccessSignature was not signed with a key of policy 'iothubowner'",
      ],
    ];
    for (const [cs, reason] of attempts) {
      expect(await rejection(emulator.registry("emulator-hub-1", cs).list())).toEqual(unauthorized(reason));
    }
    await expect(emulator.registry("emulator-hub-1", attempts[0][0]).list()).rejects.toMatchObject({
      name: "UnauthorizedError",
    });
    // And a hub's key is nothing to the DPS.
    const dps = await rejection(emulator.client(hub1Owner.replace(hub1, "localhost")).getIndividualEnrollment("x"));
    expect([dps.status, dps.body.message]).toEqual([401, "shared access policy 'iothubowner' does not exist"]);
  });

  test("a policy without the operation's right is refused: registryRead reads but does not delete", async () => {
    await registerOn(hub2, "read-only", 31);
    const readOnly = hubPolicies(emulator.identity, hub2).find((p) => p.keyName === "registryRead")!;
    const registry = emulator.registry("emulator-hub-2", connectionString(hub2, readOnly));
    expect((await registry.get("read-only")).responseBody.deviceId).toBe("read-only");
    expect(await rejection(registry.delete("read-only"))).toEqual(
      unauthorized("shared access policy 'registryRead' lacks the RegistryWrite right"),
    );
    expect(await rejection(registry.getTwin("read-only"))).toEqual(
      unauthorized("shared access policy 'registryRead' lacks the ServiceConnect right"),
    );
  });
});

test("requests are told apart by Host: the hub on the DPS address, the DPS on a hub address", async () => {
  const devices = `/devices?api-version=2021-04-12`;
  const viaDpsAddress = await raw("127.0.0.1", hub1, devices, hubToken(hub1, "iothubowner"));
  expect(viaDpsAddress.status).toBe(200);
  expect(Array.isArray(viaDpsAddress.body)).toBe(true);
  expect(await raw(hub1, "localhost", "/_emulator/health")).toMatchObject({ status: 200, body: { status: "ok" } });

  const noVersion = await raw(hub1, hub1, "/devices", hubToken(hub1, "iothubowner"));
  expect([noVersion.status, noVersion.headers["iothub-errorcode"], noVersion.body]).toEqual([
    400,
    "InvalidProtocolVersion",
    {
      Message:
        "ErrorCode:InvalidProtocolVersion;api-version is required " +
        "(supported: 2021-04-12, 2020-09-30, 2020-03-13, 2019-10-01, 2019-03-30, 2018-06-30)",
      ExceptionMessage: exceptionMessage,
    },
  ]);
  const noToken = await raw(hub2, hub2, devices);
  expect([noToken.status, noToken.headers["iothub-errorcode"], noToken.body]).toEqual([
    401,
    "IotHubUnauthorizedAccess",
    {
      Message:
        "ErrorCode:IotHubUnauthorizedAccess;Unauthorized: no Authorization header: send a SharedAccessSignature of " +
        "one of the hub's policies",
      ExceptionMessage: exceptionMessage,
    },
  ]);
});

test("the request log has a line per hub request naming hub, operation and policy, and never a key", async () => {
  await emulator.registry("emulator-hub-2").list();
  const lines = fs
    .readFileSync(path.join(logDir, "requests.log"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.api === "hub");
  expect(lines.at(-1)).toMatchObject({
    api: "hub",
    hub: hub2,
    operation: "Devices_GetDevices",
    method: "GET",
    path: "/devices/",
    status: 200,
    principal: "iothubowner",
  });
  const text = fs.readFileSync(path.join(logDir, "requests.log"), "utf8");
  for (const policy of [...hubPolicies(emulator.identity, hub1), ...hubPolicies(emulator.identity, hub2)]) {
    expect(text).not.toContain(policy.primaryKey);
  }
  expect(text).not.toContain("SharedAccessSignature");
});

describe("listening on the hubs' addresses", () => {
  test("a hub address this machine does not have is a warning; the hub still answers on the DPS address", async () => {
    // 192.0.2.0/24 is TEST-NET-1: no machine has it, so listening there fails with EADDRNOTAVAIL.
    const far = await startTestEmulator({
      linkedHubs: [{ name: "far", hostName: "192.0.2.1", allocationWeight: 1, applyAllocationPolicy: true }],
    });
    try {
      expect(far.warnings).toEqual([
        "hub far: 192.0.2.1 is not an address of this machine, so clients connecting to it cannot reach the " +
          "emulator (on macOS: sudo ifconfig lo0 alias 192.0.2.1 up, then restart the emulator)",
      ]);
      const policy = hubPolicies(far.identity, "192.0.2.1").find((p) => p.keyName === "iothubowner")!;
      const token = createSasToken("192.0.2.1", policy.primaryKey, Math.ceil(Date.now() / 1000) + 600, "iothubowner");
      const listed = await new Promise<number>((resolve, reject) => {
        https
          .get(
            {
              host: "127.0.0.1",
              port: far.port,
              path: "/devices?api-version=2021-04-12",
              ca: far.caPem,
              headers: { Host: "192.0.2.1", Authorization: token },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
          .on("error", reject);
      });
      expect(listed).toBe(200);
    } finally {
      await far.dispose();
    }
  });

  test("a hub address whose port is taken stops the start, naming the address, and leaves nothing listening", async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, hub1, () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-hubs-taken-"));
    try {
      await expect(startTestEmulator({ dataDir, port })).rejects.toThrow(
        `cannot listen on ${hub1}:${port}: the port is in use; choose another --port (or --hub address)`,
      );
      // The DPS address it had taken first is free again.
      const probe = net.createServer();
      await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(port, "127.0.0.1", resolve));
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
