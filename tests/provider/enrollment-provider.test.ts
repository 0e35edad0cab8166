// Both kinds' provider methods (enrollments, groups) against the emulator over HTTPS, with Microsoft's service client.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { Pacer } from "../../dynamic-providers/enrollment/pacer";
import { EnrollmentProvider, GroupProvider } from "../../dynamic-providers/enrollment/provider";
import { createServiceClient } from "../../dynamic-providers/service-client";
import type {
  EnrollmentInputs,
  EnrollmentSpec,
  GroupInputs,
  GroupSpec,
} from "../../dynamic-providers/enrollment/types";
import { issueCertificate } from "../../emulator/pki";
import { emulatorStats } from "../../scripts/lib/emulator-stats";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";

const hub1 = "127.0.0.2";
const hub2 = "127.0.0.3";
const fastRetry = { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 };

let emulator: TestEmulator;
let provider: EnrollmentProvider;

beforeAll(async () => {
  emulator = await startTestEmulator();
  provider = new EnrollmentProvider({ client: () => emulator.client(), retry: fastRetry });
});

afterAll(async () => {
  await emulator.dispose();
});

function inputs(spec: EnrollmentSpec, adopt = false): EnrollmentInputs {
  const result = provider.check(spec, { linkedHubs: [hub1, hub2], adopt });
  if (!result.inputs) throw new Error(JSON.stringify(result.failures));
  return result.inputs;
}

const twin = { tags: {}, properties: { desired: { devicetype: "waterflow", client: "" } } };

describe("create → read → update → delete", () => {
  test("an X.509 enrollment round-trips with no drift, and its certificate info is an output", async () => {
    const cert = issueCertificate({ commonName: "mydevice", clientAuth: true });
    const desired = inputs({
      attestationType: "x509",
      primaryCertificate: cert.certPem,
      iotEdge: true,
      allocationPolicy: "static",
      iotHubs: [hub2],
      initialTwin: twin,
    });
    const created = await provider.create(desired);
    expect(created.id).toBe("mydevice");
    expect(created.outs.primaryCertificateInfo).toEqual({
      subject: "CN=mydevice",
      sha1Thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/),
      sha256Thumbprint: expect.stringMatching(/^[0-9A-F]{64}$/),
      notAfter: cert.cert.validity.notAfter.toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    // Outputs keep a thumbprint reference, not the certificate text (the inputs hold it once).
    expect(created.outs.primaryCertificate).toBe(`sha1:${created.outs.primaryCertificateInfo!.sha1Thumbprint}`);
    expect(provider.diff(created.outs, desired).changes).toBe(false);

    const read = await provider.read("mydevice", created.outs);
    expect(read.props).toEqual(created.outs);
    expect(provider.diff(read.props!, desired).changes).toBe(false);

    const changed = inputs({
      ...{ attestationType: "x509", primaryCertificate: cert.certPem },
      iotEdge: false,
      initialTwin: twin,
      allocationPolicy: "static",
      iotHubs: [hub1],
    });
    expect(provider.diff(created.outs, changed)).toMatchObject({
      changes: true,
      changed: ["iotEdge", "iotHubs"],
      replaces: [],
    });
    const updated = await provider.update("mydevice", created.outs, changed);
    expect(updated.outs.iotHubs).toEqual([hub1]);
    expect(updated.outs.etag).not.toBe(created.outs.etag);

    await provider.delete("mydevice", updated.outs);
    expect((await rejection(emulator.client().getIndividualEnrollment("mydevice"))).status).toBe(404);
    // Deleting again counts as deleted; reading a deleted one says it is gone.
    await provider.delete("mydevice", updated.outs);
    expect(await provider.read("mydevice", updated.outs)).toEqual({});
  });

  test("DPS-generated symmetric keys are outputs and never read as drift", async () => {
    const desired = inputs({ registrationId: "generated-keys", attestationType: "symmetricKey" });
    const created = await provider.create(desired);
    expect(Buffer.from(String(created.outs.primaryKey), "base64")).toHaveLength(64);
    const read = await provider.read("generated-keys", created.outs);
    expect(read.props?.primaryKey).toBe(created.outs.primaryKey);
    expect(read.inputs?.primaryKey).toBeUndefined();
    expect(provider.diff(read.props!, desired).changes).toBe(false);
    // An update keeps the generated keys.
    const updated = await provider.update("generated-keys", read.props!, { ...desired, enabled: false });
    expect(updated.outs.primaryKey).toBe(created.outs.primaryKey);
  });
});

describe("drift and concurrency", () => {
  test("a change made behind the stack's back shows on read, and update with the old etag is refused", async () => {
    const desired = inputs({ registrationId: "drifty", attestationType: "symmetricKey", initialTwin: twin });
    const created = await provider.create(desired);
    const live = (await emulator.client().getIndividualEnrollment("drifty")).responseBody;
    await emulator.client().createOrUpdateIndividualEnrollment({ ...live, provisioningStatus: "disabled" });

    const read = await provider.read("drifty", created.outs);
    expect(read.props?.enabled).toBe(false);
    expect(provider.diff(read.props!, desired)).toMatchObject({ changes: true, changed: ["enabled"] });

    // The stack's next change is sent with the etag it knows, which DPS no longer has.
    await expect(provider.update("drifty", created.outs, { ...desired, iotEdge: true })).rejects.toThrow(
      `enrollment 'drifty' changed in DPS since this stack last saw it (etag ${created.outs.etag}); nothing was overwritten. Run \`pulumi refresh\` to see the change, then \`pulumi up\` again.`,
    );
    expect((await emulator.client().getIndividualEnrollment("drifty")).responseBody.provisioningStatus).toBe(
      "disabled",
    );
    // After a refresh (read), the update goes through.
    const restored = await provider.update("drifty", read.props!, desired);
    expect(restored.outs.enabled).toBe(true);
  });

  test("an existing enrollment is never taken over without adopt, and is with it", async () => {
    await emulator.client().createOrUpdateIndividualEnrollment({
      registrationId: "someone-elses",
      attestation: { type: "symmetricKey" },
    } as unknown as IndividualEnrollment);
    const desired = inputs({ registrationId: "someone-elses", attestationType: "symmetricKey", iotEdge: true });
    await expect(provider.create(desired)).rejects.toThrow(
      "enrollment 'someone-elses' already exists in DPS and this stack does not manage it. To take it over, set `adopt: true`",
    );
    expect((await emulator.client().getIndividualEnrollment("someone-elses")).responseBody.capabilities).toEqual({
      iotEdge: false,
    });

    const adopted = await provider.create({ ...desired, adopt: true });
    expect(adopted.outs.iotEdge).toBe(true);
    expect(adopted.outs.adopt).toBe(true);
  });
});

describe("ownership markers: a run killed before its state was saved is finished, nobody else's work is taken", () => {
  const stack = "organization/dps-enrollments/fleet";
  let logged: TestEmulator;
  let owned: EnrollmentProvider;
  /** Method, path and status of every request since `from` (the request log's index). */
  const requestsSince = async (from: number): Promise<string[]> =>
    (await logged.requests()).slice(from).map((r) => `${r.method} ${r.path.split("?")[0]} ${r.status}`);
  const mine = (spec: EnrollmentSpec): EnrollmentInputs => ({ ...inputs(spec), ownerStack: stack });

  beforeAll(async () => {
    logged = await startTestEmulator({ requestLog: path.join(os.tmpdir(), `dps-ownership-${process.pid}.log`) });
    owned = new EnrollmentProvider({ client: () => logged.client(), retry: fastRetry });
  });

  afterAll(async () => {
    await logged.dispose();
    fs.rmSync(path.join(os.tmpdir(), `dps-ownership-${process.pid}.log`), { force: true });
  });

  test("a create this stack already sent is taken back by its marker, with no second write", async () => {
    const desired = mine({ registrationId: "own-create", attestationType: "symmetricKey" });
    const first = await owned.create(desired);
    const marker = (
      (await logged.client().getIndividualEnrollment("own-create")).responseBody as unknown as {
        optionalDeviceInformation: Record<string, { stack: string }>;
      }
    ).optionalDeviceInformation;
    expect(marker["dps-enrollments"].stack).toBe(stack);
    const from = (await logged.requests()).length;
    // The state lost the create: the next run creates again.
    const again = await owned.create(desired);
    expect(await requestsSince(from)).toEqual([
      "PUT /enrollments/own-create 409",
      "GET /enrollments/own-create 200",
      "POST /enrollments/own-create/attestationmechanism 200",
    ]);
    expect(again.outs).toEqual(first.outs);
    expect(again.outs.optionalDeviceInformation).toBeUndefined();
  });

  test("this stack's enrollment changed in DPS since, and another stack's, are refused; nothing is written", async () => {
    const changed = mine({ registrationId: "own-changed", attestationType: "symmetricKey" });
    await owned.create(changed);
    const live = (await logged.client().getIndividualEnrollment("own-changed")).responseBody;
    const theirs = (
      await logged.client().createOrUpdateIndividualEnrollment({ ...live, capabilities: { iotEdge: true } })
    ).responseBody.etag;
    await expect(owned.create(changed)).rejects.toThrow(
      "enrollment 'own-changed' already exists in DPS with this stack's ownership marker, but was changed in DPS " +
        "since this stack wrote it; nothing was overwritten. To take it over, set `adopt: true`",
    );
    const other = { ...changed, registrationId: "own-changed", ownerStack: "organization/dps-enrollments/other" };
    await expect(owned.create(other)).rejects.toThrow(
      "enrollment 'own-changed' already exists in DPS and belongs to stack 'organization/dps-enrollments/fleet' " +
        "(its ownership marker says so); this stack does not manage it.",
    );
    expect((await logged.client().getIndividualEnrollment("own-changed")).responseBody.etag).toBe(theirs);
  });

  test("an update answered 412 because this stack's own write moved the etag completes; anyone else's refuses", async () => {
    const v1 = mine({ registrationId: "own-update", attestationType: "symmetricKey" });
    const created = await owned.create(v1);
    const v2 = { ...v1, enabled: false };
    const written = await owned.update("own-update", created.outs, v2);
    const from = (await logged.requests()).length;
    // The state still holds v1's etag (the run that wrote v2 was killed): the same update again.
    const finished = await owned.update("own-update", created.outs, v2);
    expect(await requestsSince(from)).toEqual([
      "PUT /enrollments/own-update 412",
      "GET /enrollments/own-update 200",
      "POST /enrollments/own-update/attestationmechanism 200",
    ]);
    expect(finished.outs).toEqual(written.outs);

    // Someone else changes it (the marker stays, the content differs): the stale update overwrites nothing.
    const live = (await logged.client().getIndividualEnrollment("own-update")).responseBody;
    await logged.client().createOrUpdateIndividualEnrollment({ ...live, deviceId: "theirs" });
    await expect(owned.update("own-update", written.outs, { ...v2, enabled: true })).rejects.toThrow(
      `enrollment 'own-update' changed in DPS since this stack last saw it (etag ${written.outs.etag}); nothing was ` +
        "overwritten. Run `pulumi refresh` to see the change, then `pulumi up` again.",
    );
    expect((await logged.client().getIndividualEnrollment("own-update")).responseBody.deviceId).toBe("theirs");
  });

  test("a delete answered 412 because this stack's own write moved the etag deletes; 404 is done", async () => {
    const v1 = mine({ registrationId: "own-delete", attestationType: "symmetricKey" });
    const created = await owned.create(v1);
    await owned.update("own-delete", created.outs, { ...v1, iotEdge: true });
    const before = (await logged.requests()).length;
    // The state still holds the etag from before the update (the run that updated was killed).
    await owned.delete("own-delete", created.outs);
    expect(await requestsSince(before)).toEqual([
      "DELETE /enrollments/own-delete 412",
      "GET /enrollments/own-delete 200",
      "DELETE /enrollments/own-delete 204",
    ]);
    expect((await rejection(logged.client().getIndividualEnrollment("own-delete"))).status).toBe(404);
    const from = (await logged.requests()).length;
    await owned.delete("own-delete", created.outs);
    expect(await requestsSince(from)).toEqual(["DELETE /enrollments/own-delete 404"]);
  });
});

describe("enrollment groups have no marker: their own interrupted writes are taken back by identical content only", () => {
  const stack = "organization/dps-enrollments/fleet";
  let logged: TestEmulator;
  let groups: GroupProvider;
  const requestsSince = async (from: number): Promise<string[]> =>
    (await logged.requests()).slice(from).map((r) => `${r.method} ${r.path.split("?")[0]} ${r.status}`);
  const mine = (spec: GroupSpec): GroupInputs => {
    const result = groups.check(spec, { linkedHubs: [hub1, hub2], adopt: false });
    if (!result.inputs) throw new Error(JSON.stringify(result.failures));
    return { ...result.inputs, ownerStack: stack };
  };

  beforeAll(async () => {
    logged = await startTestEmulator({ requestLog: path.join(os.tmpdir(), `dps-group-ownership-${process.pid}.log`) });
    groups = new GroupProvider({ client: () => logged.client(), retry: fastRetry });
  });

  afterAll(async () => {
    await logged.dispose();
    fs.rmSync(path.join(os.tmpdir(), `dps-group-ownership-${process.pid}.log`), { force: true });
  });

  test("a create already sent is taken back with no second write; a group changed since is refused", async () => {
    const desired = mine({ enrollmentGroupId: "grp-create", attestationType: "symmetricKey" });
    const first = await groups.create(desired);
    const from = (await logged.requests()).length;
    const again = await groups.create(desired);
    expect(await requestsSince(from)).toEqual([
      "PUT /enrollmentGroups/grp-create 409",
      "GET /enrollmentGroups/grp-create 200",
      "POST /enrollmentgroups/grp-create/attestationmechanism 200",
    ]);
    expect(again.outs).toEqual(first.outs);

    const live = (await logged.client().getEnrollmentGroup("grp-create")).responseBody;
    const theirs = (await logged.client().createOrUpdateEnrollmentGroup({ ...live, capabilities: { iotEdge: true } }))
      .responseBody.etag;
    await expect(groups.create(desired)).rejects.toThrow(
      "enrollment group 'grp-create' already exists in DPS and this stack does not manage it. To take it over, set " +
        "`adopt: true`",
    );
    expect((await logged.client().getEnrollmentGroup("grp-create")).responseBody.etag).toBe(theirs);
  });

  test("an update answered 412 after this stack's own write completes; anyone else's change refuses", async () => {
    const v1 = mine({ enrollmentGroupId: "grp-update", attestationType: "symmetricKey" });
    const created = await groups.create(v1);
    const v2 = { ...v1, enabled: false };
    const written = await groups.update("grp-update", created.outs, v2);
    const from = (await logged.requests()).length;
    const finished = await groups.update("grp-update", created.outs, v2);
    expect(await requestsSince(from)).toEqual([
      "PUT /enrollmentGroups/grp-update 412",
      "GET /enrollmentGroups/grp-update 200",
      "POST /enrollmentgroups/grp-update/attestationmechanism 200",
    ]);
    expect(finished.outs).toEqual(written.outs);

    const live = (await logged.client().getEnrollmentGroup("grp-update")).responseBody;
    await logged.client().createOrUpdateEnrollmentGroup({ ...live, capabilities: { iotEdge: true } });
    await expect(groups.update("grp-update", written.outs, { ...v2, enabled: true })).rejects.toThrow(
      `enrollment group 'grp-update' changed in DPS since this stack last saw it (etag ${written.outs.etag})`,
    );
    expect((await logged.client().getEnrollmentGroup("grp-update")).responseBody.capabilities?.iotEdge).toBe(true);
  });
});

describe("retries", () => {
  test("faults (500, 503, dropped connections) are retried until the operation succeeds, without duplicates", async () => {
    const flaky = await startTestEmulator({ faultRate: 0.4, faultKinds: ["500", "503", "drop"] });
    try {
      const retries: string[] = [];
      const p = new EnrollmentProvider({
        client: () => flaky.client(),
        retry: { attempts: 30, baseDelayMs: 1, maxDelayMs: 5 },
        log: (m) => retries.push(m),
      });
      for (let i = 0; i < 10; i++) {
        const desired = inputs({ registrationId: `flaky-${i}`, attestationType: "symmetricKey" });
        const created = await p.create(desired);
        expect(created.id).toBe(`flaky-${i}`);
        await p.delete(created.id, created.outs);
      }
      expect(retries.length).toBeGreaterThan(0);
    } finally {
      await flaky.dispose();
    }
  });

  test("429 is waited out in the DPS's pacer, for every request of an operation", async () => {
    // One operation every 2 s; the bucket is spent before the provider starts, so its requests meet 429.
    const throttled = await startTestEmulator({ throttlePerMinute: 30 });
    try {
      while ((await rejection(throttled.client().getIndividualEnrollment("burn"))).status !== 429);
      const pacer = new Pacer({ perMinute: 6000 });
      const client = createServiceClient({
        connectionString: throttled.connection.connectionString,
        port: throttled.port,
        ca: throttled.caPem,
        pacing: { pacer, stallMs: 60_000 },
      });
      const p = new EnrollmentProvider({ client: () => client, retry: fastRetry });
      const desired = inputs({ registrationId: "paced", attestationType: "symmetricKey" });
      const created = await p.create(desired);
      // read: a GET and the keys' POST, each in its turn.
      expect((await p.read("paced", created.outs)).props).toEqual(created.outs);
      const stats = await emulatorStats(throttled.connection);
      const answered = (operation: string, status: string): number => stats.operations[operation]?.[status] ?? 0;
      expect(answered("IndividualEnrollment_CreateOrUpdate", "200")).toBe(1);
      expect(answered("IndividualEnrollment_GetAttestationMechanism", "200")).toBe(1);
      expect(pacer.stats()).toMatchObject({ operations: 3 + pacer.stats().throttled, completed: 3 });
      // Every 429 the emulator sent but the burn's last one reached the pacer.
      expect(pacer.stats().throttled).toBe(stats.throttled - 1);
      expect(pacer.stats().throttled).toBeGreaterThan(0);
    } finally {
      await throttled.dispose();
    }
  });
});
