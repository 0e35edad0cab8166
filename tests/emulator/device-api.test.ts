// The device API of the emulator with Microsoft's device SDK over HTTPS and MQTT: symmetric keys and X.509, for
// individual enrollments and groups; allocation, custom webhooks, reprovisioning and the resulting registration state,
// and the device identity and twin each registration leaves on its hub, read with azure-iothub's Registry.
import { X509Certificate } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

import type { EnrollmentGroup, IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { hashedHub } from "../../emulator/device/allocation";
import { issueCertificate, type IssuedCertificate } from "../../emulator/pki";
import { createSasToken, deriveDeviceKey } from "../../emulator/sas";
import { registerWithCertificate, registerWithKey, type Transport } from "../support/devices";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";
import { expectDeviceSchema, expectServiceSchema } from "../support/spec";

const hub1 = "127.0.0.2";
const hub2 = "127.0.0.3";
const key = (fill: number): string => Buffer.alloc(32, fill).toString("base64");

let emulator: TestEmulator;
let groupCa: IssuedCertificate;

beforeAll(async () => {
  emulator = await startTestEmulator({
    mqttPort: 0,
    linkedHubs: [
      { name: "emulator-hub-1", hostName: hub1, allocationWeight: 1, applyAllocationPolicy: true },
      { name: "emulator-hub-2", hostName: hub2, allocationWeight: 9, applyAllocationPolicy: true },
    ],
  });
  groupCa = issueCertificate({ commonName: "Group Signing CA", isCA: true });
});

afterAll(async () => {
  await emulator.dispose();
});

async function putEnrollment(fields: Record<string, unknown>): Promise<void> {
  await emulator.client().createOrUpdateIndividualEnrollment(fields as unknown as IndividualEnrollment);
}

interface OnHub {
  /** The device identity, as GET /devices/{id} returns it. */
  device: Record<string, unknown>;
  tags: unknown;
  /** Desired properties without `$metadata` and `$version`. */
  desired: Record<string, unknown>;
}

/** A device's identity and twin on a hub, read with Microsoft's Registry and the hub's iothubowner policy. */
async function onHub(hub: string, deviceId: string): Promise<OnHub> {
  const registry = emulator.registry(hub);
  const device = JSON.parse(JSON.stringify((await registry.get(deviceId)).responseBody)) as Record<string, unknown>;
  const twin = (await registry.getTwin(deviceId)).responseBody;
  const { $metadata: _metadata, $version: _version, ...desired } = twin.properties.desired as Record<string, unknown>;
  return { device, tags: twin.tags, desired };
}

/** Registration over plain HTTPS (PUT register, then GET the operation), without the SDK's polling delay. */
async function registerRaw(id: string, deviceKey: string): Promise<Record<string, unknown>> {
  const scope = emulator.identity.idScope;
  const sas = createSasToken(
    `${scope}/registrations/${id}`,
    deviceKey,
    Math.ceil(Date.now() / 1000) + 600,
    "registration",
  );
  const headers = { Authorization: sas, "Content-Type": "application/json" };
  const put = await httpsJson("PUT", `/${scope}/registrations/${id}/register?api-version=2021-10-01`, headers, {
    registrationId: id,
  });
  expect(put.status).toBe(202);
  expectDeviceSchema("RegistrationOperationStatus", put.body);
  const op = await httpsJson(
    "GET",
    `/${scope}/registrations/${id}/operations/${String(put.body.operationId)}?api-version=2021-10-01`,
    headers,
  );
  expect(op.status).toBe(200);
  expectDeviceSchema("RegistrationOperationStatus", op.body);
  return op.body.registrationState as Record<string, unknown>;
}

function httpsJson(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port: emulator.port, method, path, headers, ca: emulator.caPem, servername: "localhost" },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || "{}") as Record<string, unknown> }),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const sha1Thumbprint = (pem: string): string => new X509Certificate(pem).fingerprint.replace(/:/g, "");

const waterflowTwin = { tags: {}, properties: { desired: { devicetype: "waterflow", client: "" } } };

describe.each<Transport>(["http", "mqtt"])("registration over %s", (transport) => {
  test("an individual symmetric-key enrollment lands on its static hub with its initial twin", async () => {
    const id = `sym-${transport}`;
    await putEnrollment({
      registrationId: id,
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(1), secondaryKey: key(2) } },
      deviceId: `${id}-device`,
      allocationPolicy: "static",
      iotHubs: [hub1],
      initialTwin: waterflowTwin,
    });
    const result = await registerWithKey(emulator, transport, id, key(2));
    expect(result).toMatchObject({
      registrationId: id,
      assignedHub: hub1,
      deviceId: `${id}-device`,
      status: "assigned",
      substatus: "initialAssignment",
    });

    const state = (await emulator.client().getDeviceRegistrationState(id)).responseBody;
    expectServiceSchema("DeviceRegistrationState", state);
    expect(state).toMatchObject({
      registrationId: id,
      assignedHub: hub1,
      status: "assigned",
      substatus: "initialAssignment",
    });
    const enrollment = (await emulator.client().getIndividualEnrollment(id)).responseBody;
    expectServiceSchema("IndividualEnrollment", enrollment);
    expect(
      (enrollment as unknown as { registrationState: { assignedHub: string } }).registrationState.assignedHub,
    ).toBe(hub1);
    const placed = await onHub(hub1, `${id}-device`);
    expect(placed.tags).toEqual(waterflowTwin.tags);
    expect(placed.desired).toEqual(waterflowTwin.properties.desired);
    // The device authenticates to its hub with the keys it proved itself with.
    expect(placed.device).toMatchObject({
      deviceId: `${id}-device`,
      status: "enabled",
      authentication: { type: "sas", symmetricKey: { primaryKey: key(1), secondaryKey: key(2) } },
      capabilities: { iotEdge: false },
    });
  });

  test("a group symmetric-key device registers with its derived key", async () => {
    const groupId = `sym-group-${transport}`;
    // Each group its own key: a device belongs to the group whose derived key signed its token.
    const groupKey = key(transport === "http" ? 3 : 23);
    await emulator.client().createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId,
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: groupKey, secondaryKey: key(4) } },
      allocationPolicy: "static",
      iotHubs: [hub2],
    } as unknown as EnrollmentGroup);
    const id = `group-member-${transport}`;
    const result = await registerWithKey(emulator, transport, id, deriveDeviceKey(groupKey, id));
    expect(result).toMatchObject({ registrationId: id, assignedHub: hub2, deviceId: id, status: "assigned" });

    const query = emulator.client().createEnrollmentGroupDeviceRegistrationStateQuery({ query: "*" }, groupId);
    const page = (await query.next()) as unknown as { responseBody: { registrationId: string }[] };
    page.responseBody.forEach((s) => expectServiceSchema("DeviceRegistrationState", s));
    expect(page.responseBody.map((s) => s.registrationId)).toEqual([id]);
    // On the hub the device's keys are the ones derived for it, never the group's.
    expect((await onHub(hub2, id)).device.authentication).toEqual({
      type: "sas",
      symmetricKey: { primaryKey: deriveDeviceKey(groupKey, id), secondaryKey: deriveDeviceKey(key(4), id) },
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    });
  });

  test("an individual X.509 device registers by its client certificate", async () => {
    const id = `x509-${transport}`;
    const cert = issueCertificate({ commonName: id, clientAuth: true });
    await putEnrollment({
      registrationId: id,
      attestation: { type: "x509", x509: { clientCertificates: { primary: { certificate: cert.certPem } } } },
      allocationPolicy: "static",
      iotHubs: [hub2],
      capabilities: { iotEdge: true },
    });
    const result = await registerWithCertificate(emulator, transport, id, cert.certPem, cert.keyPem);
    expect(result).toMatchObject({ registrationId: id, assignedHub: hub2, status: "assigned" });
    const placed = await onHub(hub2, id);
    expect(placed.device.capabilities).toEqual({ iotEdge: true });
    expect(placed.device.authentication).toEqual({
      type: "selfSigned",
      symmetricKey: { primaryKey: null, secondaryKey: null },
      x509Thumbprint: { primaryThumbprint: sha1Thumbprint(cert.certPem), secondaryThumbprint: null },
    });
  });

  test("a group X.509 device registers through its chain to the group's signing certificate", async () => {
    const groupId = `x509-group-${transport}`;
    await emulator.client().createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId,
      attestation: { type: "x509", x509: { signingCertificates: { primary: { certificate: groupCa.certPem } } } },
      allocationPolicy: "static",
      iotHubs: [hub1],
    } as unknown as EnrollmentGroup);
    const id = `x509-member-${transport}`;
    const leaf = issueCertificate({ commonName: id, issuer: groupCa, clientAuth: true });
    const result = await registerWithCertificate(emulator, transport, id, leaf.certPem + groupCa.certPem, leaf.keyPem);
    expect(result).toMatchObject({ registrationId: id, assignedHub: hub1, status: "assigned" });
    const state = (await emulator.client().getDeviceRegistrationState(id)).responseBody;
    expect(state).toMatchObject({ registrationId: id, assignedHub: hub1, status: "assigned" });
    expect(((await onHub(hub1, id)).device.authentication as { type: string }).type).toBe("certificateAuthority");
  });
});

describe("status lookup and registration records", () => {
  test("the status-lookup POST returns the device's registration result; deleting the record removes it", async () => {
    const id = "lookup-device";
    await putEnrollment({
      registrationId: id,
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(30), secondaryKey: key(31) } },
    });
    const registered = await registerRaw(id, key(30));
    const scope = emulator.identity.idScope;
    const sas = createSasToken(
      `${scope}/registrations/${id}`,
      key(30),
      Math.ceil(Date.now() / 1000) + 600,
      "registration",
    );
    const lookup = await httpsJson(
      "POST",
      `/${scope}/registrations/${id}?api-version=2021-10-01`,
      { Authorization: sas, "Content-Type": "application/json" },
      { registrationId: id },
    );
    expect(lookup.status).toBe(200);
    expectDeviceSchema("DeviceRegistrationResult", lookup.body);
    expect(lookup.body).toEqual(registered);

    const state = (await emulator.client().getDeviceRegistrationState(id)).responseBody;
    const stale = await rejection(emulator.client().deleteDeviceRegistrationState(id, '"stale"'));
    expect(stale.status).toBe(412);
    await emulator.client().deleteDeviceRegistrationState(id, state.etag);
    expect((await rejection(emulator.client().getDeviceRegistrationState(id))).body.errorCode).toBe(404204);
    const gone = await httpsJson(
      "POST",
      `/${scope}/registrations/${id}?api-version=2021-10-01`,
      { Authorization: sas, "Content-Type": "application/json" },
      { registrationId: id },
    );
    expect(gone.status).toBe(404);
  });
});

describe("refusals", () => {
  test("a wrong key is refused with 401", async () => {
    await putEnrollment({
      registrationId: "wrong-key",
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(5), secondaryKey: key(6) } },
    });
    await expect(registerWithKey(emulator, "http", "wrong-key", key(7))).rejects.toMatchObject({
      name: "UnauthorizedError",
    });
    await expect(registerWithKey(emulator, "mqtt", "wrong-key", key(7))).rejects.toThrow(
      "Connection refused: Not authorized",
    );
  });

  test("a certificate whose CN is not the registration ID is refused", async () => {
    const cert = issueCertificate({ commonName: "someone-else", clientAuth: true });
    await expect(
      registerWithCertificate(emulator, "http", "claimed-id", cert.certPem, cert.keyPem),
    ).rejects.toMatchObject({
      name: "UnauthorizedError",
    });
  });

  test("a disabled enrollment ends `disabled` and an unknown device `failed` with 404201", async () => {
    await putEnrollment({
      registrationId: "disabled-device",
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(8), secondaryKey: key(9) } },
      provisioningStatus: "disabled",
    });
    await expect(registerWithKey(emulator, "http", "disabled-device", key(8))).rejects.toThrow("status is disabled");
    const state = (await emulator.client().getDeviceRegistrationState("disabled-device")).responseBody;
    expect(state).toMatchObject({ status: "disabled" });

    await expect(registerWithKey(emulator, "http", "nobody-knows-me", key(10))).rejects.toMatchObject({
      name: "ProvisioningRegistrationFailedError",
      result: { status: "failed", registrationState: { errorCode: 404201 } },
    });
    expect((await rejection(emulator.client().getDeviceRegistrationState("nobody-knows-me"))).status).toBe(404);
  });
});

describe("allocation", () => {
  test("hashed allocation honours the linked hubs' allocation weights", async () => {
    const results: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `hashed-${i}`;
      await putEnrollment({
        registrationId: id,
        attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(11), secondaryKey: key(12) } },
      });
      results.push(String((await registerRaw(id, key(11))).assignedHub));
    }
    const hubs = emulator.config.linkedHubs;
    expect(results).toEqual(results.map((_, i) => hashedHub(`hashed-${i}`, hubs)?.hostName));
    // Weight 9 against 1: the heavy hub takes the clear majority, the light one still some.
    expect(results.filter((h) => h === hub2).length).toBeGreaterThanOrEqual(30);
    expect(results.filter((h) => h === hub1).length).toBeGreaterThanOrEqual(1);
  });

  test("static with no hubs: the one linked hub that applies, or a failed registration when several apply", async () => {
    const fields = {
      registrationId: "static-any",
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(13), secondaryKey: key(14) } },
      allocationPolicy: "static",
    };
    await putEnrollment(fields);
    expect(await registerRaw("static-any", key(13))).toMatchObject({
      registrationId: "static-any",
      status: "failed",
      errorCode: 400005,
      errorMessage:
        `allocationPolicy static names no hub and 2 linked hubs apply (${hub1}, ${hub2}): ` +
        "list one in the enrollment's iotHubs",
    });

    // One hub applies allocation policy, the other is linked with applyAllocationPolicy false.
    const single = await startTestEmulator({
      linkedHubs: [
        { name: "emulator-hub-1", hostName: hub1, allocationWeight: 1, applyAllocationPolicy: false },
        { name: "emulator-hub-2", hostName: hub2, allocationWeight: 1, applyAllocationPolicy: true },
      ],
    });
    try {
      await single.client().createOrUpdateIndividualEnrollment(fields as unknown as IndividualEnrollment);
      expect(await registerWithKey(single, "http", "static-any", key(13))).toMatchObject({
        status: "assigned",
        assignedHub: hub2,
      });
    } finally {
      await single.dispose();
    }
  });

  test("custom allocation posts the AllocationRequest and uses the webhook's hub, twin and payload", async () => {
    const requests: Record<string, unknown>[] = [];
    const webhook = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        requests.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(
          JSON.stringify({
            iotHubHostName: hub1,
            initialTwin: { tags: { chosenBy: "webhook" } },
            payload: { greeting: "hi" },
          }),
        );
      });
    });
    await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/allocate`;
      await putEnrollment({
        registrationId: "custom-device",
        attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(13), secondaryKey: key(14) } },
        allocationPolicy: "custom",
        iotHubs: [hub1, hub2],
        customAllocationDefinition: { webhookUrl: url, apiVersion: "2021-10-01" },
      });
      const result = await registerWithKey(emulator, "http", "custom-device", key(13), { model: "m1" });
      expect(result).toMatchObject({ assignedHub: hub1, status: "assigned", payload: { greeting: "hi" } });
      expect(requests).toHaveLength(1);
      expect(requests[0].deviceRuntimeContext).toEqual({
        registrationId: "custom-device",
        symmetricKey: {},
        payload: { model: "m1" },
      });
      expect(requests[0].linkedHubs).toEqual([hub1, hub2]);
      const sent = requests[0].individualEnrollment as { registrationId: string; attestation: unknown };
      expect(sent.registrationId).toBe("custom-device");
      // Symmetric keys are not sent to the webhook.
      expect(sent.attestation).toEqual({ type: "symmetricKey", symmetricKey: {} });
      const placed = await onHub(hub1, "custom-device");
      expect([placed.tags, placed.desired]).toEqual([{ chosenBy: "webhook" }, {}]);
    } finally {
      await new Promise<void>((r) => webhook.close(() => r()));
    }
  });
});

describe("reprovisioning", () => {
  async function moveTo(
    id: string,
    hub: string,
    policy: { updateHubAssignment: boolean; migrateDeviceData: boolean },
    twin?: object,
  ): Promise<void> {
    await putEnrollment({
      registrationId: id,
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(15), secondaryKey: key(16) } },
      allocationPolicy: "static",
      iotHubs: [hub],
      reprovisionPolicy: policy,
      initialTwin: twin ?? { tags: { version: "1" } },
      etag: "*",
    });
  }

  test("migrate, reset, back to the first hub, and never, each with its substatus", async () => {
    const id = "reprovisioned";
    await putEnrollment({
      registrationId: id,
      attestation: { type: "symmetricKey", symmetricKey: { primaryKey: key(15), secondaryKey: key(16) } },
      allocationPolicy: "static",
      iotHubs: [hub1],
      initialTwin: { tags: { version: "1" } },
    });
    expect(await registerWithKey(emulator, "http", id, key(15))).toMatchObject({
      assignedHub: hub1,
      substatus: "initialAssignment",
    });

    await moveTo(id, hub2, { updateHubAssignment: true, migrateDeviceData: true }, { tags: { version: "2" } });
    expect(await registerWithKey(emulator, "http", id, key(15))).toMatchObject({
      assignedHub: hub2,
      substatus: "deviceDataMigrated",
    });
    expect((await onHub(hub2, id)).tags).toEqual({ version: "1" });
    await expect(emulator.registry(hub1).get(id)).rejects.toMatchObject({
      name: "DeviceNotFoundError",
      message: `device '${id}' does not exist on hub emulator-hub-1 (${hub1})`,
    });

    await moveTo(id, hub2, { updateHubAssignment: true, migrateDeviceData: false }, { tags: { version: "3" } });
    expect(await registerWithKey(emulator, "http", id, key(15))).toMatchObject({
      assignedHub: hub2,
      substatus: "deviceDataReset",
    });
    expect((await onHub(hub2, id)).tags).toEqual({ version: "3" });

    await moveTo(id, hub1, { updateHubAssignment: true, migrateDeviceData: true });
    expect(await registerWithKey(emulator, "http", id, key(15))).toMatchObject({
      assignedHub: hub1,
      substatus: "reprovisionedToInitialAssignment",
    });

    await moveTo(id, hub2, { updateHubAssignment: false, migrateDeviceData: false });
    expect(await registerWithKey(emulator, "http", id, key(15))).toMatchObject({ assignedHub: hub1 });
  });
});
