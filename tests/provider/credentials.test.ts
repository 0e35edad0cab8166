// Credentials of `platform: existing`, read by the provider runtime from the stack config: a SAS connection string,
// or a host name with Microsoft Entra ID through DefaultAzureCredential (unmodified, reaching the local token issuer
// of tests/support/token-server.ts as a managed identity), each with the endpoint and CA overrides; and the errors
// of missing or unreadable config. Everything goes over HTTPS to the emulator with Microsoft's service client.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { resolveConnection } from "../../dynamic-providers/enrollment/connection";
import { loadIdentity } from "../../emulator/identity";
import {
  createIndividualEnrollmentProvider,
  type IndividualEnrollmentProvider as Runtime,
  type RawInputs,
} from "../../dynamic-providers/enrollment/individual-enrollment-provider";
import { createRuntime } from "../../dynamic-providers/enrollment/runtime";
import type { EnrollmentOutputs } from "../../dynamic-providers/enrollment/types";
import { startTestEmulator, type TestEmulator } from "../support/emulator";
import { startTokenServer, type TokenServer } from "../support/token-server";

const contributorOid = "6f1c1b7e-0000-4000-8000-000000000001";
const readerOid = "6f1c1b7e-0000-4000-8000-000000000002";
const unassignedOid = "6f1c1b7e-0000-4000-8000-000000000003";
const identities = [
  { clientId: "dps-contributor", objectId: contributorOid },
  { clientId: "dps-reader", objectId: readerOid },
  { clientId: "dps-no-role", objectId: unassignedOid },
  // The contributor's identity, but a token meant for Azure Resource Manager.
  { clientId: "dps-arm-token", objectId: contributorOid, audience: "https://management.azure.com" },
];
const hub1 = "127.0.0.2";

let tokens: TokenServer;
let emulator: TestEmulator;
let projectDir: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  tokens = await startTokenServer(identities);
  emulator = await startTestEmulator({
    entra: {
      issuer: tokens.issuer,
      keyFile: tokens.keyFile,
      roleAssignments: [
        { principalId: contributorOid, role: "contributor" },
        { principalId: readerOid, role: "reader" },
      ],
    },
  });
  // A project directory of its own: caCertificate is relative to it.
  projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-credentials-"));
  fs.mkdirSync(path.join(projectDir, "certs"));
  fs.writeFileSync(path.join(projectDir, "certs", "dps-ca.pem"), emulator.caPem);
  // Only the token server's managed identity: no stray Azure credentials of the machine.
  for (const name of Object.keys(process.env)) {
    if (/^(AZURE_|IDENTITY_|MSI_|IMDS_)/.test(name)) delete process.env[name];
  }
  Object.assign(process.env, tokens.env);
});

afterAll(async () => {
  process.env = savedEnv;
  await emulator?.dispose();
  await tokens?.close();
  if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
});

/** The provider on a runtime of its own, configured as the engine would: the stack config in its namespace. */
async function runtimeWith(config: Record<string, string>): Promise<Runtime> {
  const runtime = createIndividualEnrollmentProvider(createRuntime(projectDir));
  const stack = Object.fromEntries(Object.entries(config).map(([key, value]) => [`dps-enrollments:${key}`, value]));
  await runtime.configure({ config: { get: (key) => stack[key], require: (key) => stack[key] } });
  return runtime;
}

function existing(extra: Record<string, string>): Record<string, string> {
  return {
    platform: "existing",
    endpoint: `https://localhost:${emulator.port}`,
    caCertificate: "certs/dps-ca.pem",
    ...extra,
  };
}

async function create(runtime: Runtime, registrationId: string): Promise<{ id: string; outs: EnrollmentOutputs }> {
  const raw: RawInputs = { registrationId, attestationType: "symmetricKey", iotHubs: [hub1], linkedHubs: [hub1] };
  const checked = await runtime.check(raw, raw);
  expect(checked.failures).toBeUndefined();
  const created = await runtime.create(checked.inputs as never);
  return { id: created.id, outs: created.outs as EnrollmentOutputs };
}

/** Create, read back, delete and see it gone: the provider's whole path through these credentials. */
async function roundTrip(runtime: Runtime, registrationId: string): Promise<void> {
  const { id, outs } = await create(runtime, registrationId);
  expect(id).toBe(registrationId);
  expect(outs.iotHubs).toEqual([hub1]);
  expect(Buffer.from(String(outs.primaryKey), "base64")).toHaveLength(64);
  const live = (await emulator.client().getIndividualEnrollment(registrationId)).responseBody;
  expect(live.etag).toBe(outs.etag);

  const read = await runtime.read(id, outs);
  expect(read.props).toEqual(outs);

  await runtime.delete(id, outs);
  expect(await runtime.read(id, outs)).toEqual({});
}

describe("platform existing with a connection string", () => {
  test("endpoint port and caCertificate (relative to the project) reach the emulator; create, read, delete", async () => {
    const config = existing({ connectionString: emulator.connection.connectionString });
    expect(await resolveConnection((key) => config[key], projectDir)).toEqual({
      connectionString: emulator.connection.connectionString,
      host: "localhost",
      port: emulator.port,
      ca: emulator.caPem,
    });
    await roundTrip(await runtimeWith(config), "sas-existing");
  });

  test("the endpoint's host is where the client connects: 127.0.0.1 for a connection string of localhost", async () => {
    const config = existing({
      connectionString: emulator.connection.connectionString,
      endpoint: `https://127.0.0.1:${emulator.port}`,
    });
    await roundTrip(await runtimeWith(config), "sas-endpoint-host");
  });

  test("a wrong key is DPS's 401, named in the provider's error", async () => {
    const wrongKey = emulator.connection.connectionString.replace(
      /SharedAccessKey=.*$/,
      `SharedAccessKey=${Buffer.alloc(32, 1).toString("base64")}`,
    );
    const runtime = await runtimeWith(existing({ connectionString: wrongKey }));
    await expect(create(runtime, "sas-wrong-key")).rejects.toThrow(
      "creating enrollment 'sas-wrong-key' failed: SharedAccessSignature was not signed with a key of policy " +
        "'provisioningserviceowner' (DPS error 401002)",
    );
  });
});

describe("platform existing with hostName and Microsoft Entra ID", () => {
  test("DefaultAzureCredential gets a DPS token from the managed identity endpoint; create, read, delete", async () => {
    process.env.AZURE_CLIENT_ID = "dps-contributor";
    const config = existing({ hostName: "localhost" });
    const options = await resolveConnection((key) => config[key], projectDir);
    expect(options.credential?.constructor.name).toBe("DefaultAzureCredential");
    expect({ ...options, credential: undefined }).toEqual({
      hostName: "localhost",
      credential: undefined,
      host: "localhost",
      port: emulator.port,
      ca: emulator.caPem,
    });

    await roundTrip(await runtimeWith(config), "entra-existing");
    // One token for all the calls, asked for the DPS resource by the user-assigned identity.
    expect(tokens.requests.filter((r) => r.clientId === "dps-contributor")).toEqual([
      { resource: "https://azure-devices-provisioning.net", clientId: "dps-contributor", apiVersion: "2019-08-01" },
    ]);
  });

  test("a token for another audience is refused with 401, and the provider's error says so", async () => {
    process.env.AZURE_CLIENT_ID = "dps-arm-token";
    const runtime = await runtimeWith(existing({ hostName: "localhost" }));
    await expect(create(runtime, "entra-wrong-audience")).rejects.toThrow(
      "creating enrollment 'entra-wrong-audience' failed: bearer token audience 'https://management.azure.com' is " +
        "not https://azure-devices-provisioning.net (DPS error 401002)",
    );
  });

  test("an identity without a role assignment is refused with 401 naming the roles it needs", async () => {
    process.env.AZURE_CLIENT_ID = "dps-no-role";
    const runtime = await runtimeWith(existing({ hostName: "localhost" }));
    await expect(create(runtime, "entra-no-role")).rejects.toThrow(
      `creating enrollment 'entra-no-role' failed: principal '${unassignedOid}' has no role assignment on this ` +
        "service (needs Device Provisioning Service Data Contributor or Device Provisioning Service Data Reader) " +
        "(DPS error 401002)",
    );
  });

  test("Data Reader reads but may not create", async () => {
    process.env.AZURE_CLIENT_ID = "dps-reader";
    const runtime = await runtimeWith(existing({ hostName: "localhost" }));
    const gone = { registrationId: "entra-reader" } as EnrollmentOutputs;
    expect(await runtime.read("entra-reader", gone)).toEqual({});
    await expect(create(runtime, "entra-reader")).rejects.toThrow(
      `creating enrollment 'entra-reader' failed: principal '${readerOid}' (Device Provisioning Service Data ` +
        "Reader) lacks the EnrollmentWrite right (DPS error 401002)",
    );
  });

  test("an emulator without --entra-issuer refuses bearer tokens, as by default", async () => {
    const plain = await startTestEmulator();
    try {
      process.env.AZURE_CLIENT_ID = "dps-contributor";
      fs.writeFileSync(path.join(projectDir, "certs", "plain-ca.pem"), plain.caPem);
      const runtime = await runtimeWith({
        platform: "existing",
        hostName: "localhost",
        endpoint: `https://localhost:${plain.port}`,
        caCertificate: "certs/plain-ca.pem",
      });
      await expect(create(runtime, "entra-off")).rejects.toThrow(
        "creating enrollment 'entra-off' failed: Microsoft Entra ID bearer tokens are not accepted by this " +
          "emulator: use a SharedAccessSignature, or start the emulator with --entra-issuer and --entra-key " +
          "(DPS error 401002)",
      );
    } finally {
      await plain.dispose();
    }
  });
});

describe("enrollments that name their DPS (serviceHostName: platform azure)", () => {
  // The stack's own DPS is unusable (platform azure without connectionString or hostName): every call below must
  // go to the DPS the resource names, through the endpoint and CA overrides.
  const azure = { platform: "azure", endpoint: `https://localhost:${0}`, caCertificate: "certs/dps-ca.pem" };
  const stackConfig = (): Record<string, string> => ({ ...azure, endpoint: `https://localhost:${emulator.port}` });
  const owner = (): { primaryKey: string; secondaryKey: string } => {
    const policy = loadIdentity(emulator.dataDir).policies.find((p) => p.keyName === "provisioningserviceowner");
    if (!policy) throw new Error("the emulator has no provisioningserviceowner policy");
    return policy;
  };
  const enrollment = (registrationId: string, service: Partial<RawInputs>): RawInputs => ({
    registrationId,
    attestationType: "symmetricKey",
    linkedHubs: [hub1],
    iotHubs: [hub1],
    serviceHostName: "LOCALHOST",
    ...service,
  });

  test("with the provisioningserviceowner key: create, read, rotate to the secondary key (update), delete", async () => {
    const runtime = await runtimeWith(stackConfig());
    const raw = enrollment("azure-key", { serviceAccessKey: owner().primaryKey });
    const checked = await runtime.check(raw, raw);
    expect(checked.failures).toBeUndefined();
    const inputs = checked.inputs as RawInputs;
    expect([inputs.serviceHostName, inputs.serviceAccessKeyName]).toEqual(["localhost", "provisioningserviceowner"]);
    const created = await runtime.create(inputs as never);
    const outs = created.outs as EnrollmentOutputs;
    expect([outs.serviceHostName, outs.serviceAccessKeyName, outs.serviceAccessKey]).toEqual([
      "localhost",
      "provisioningserviceowner",
      owner().primaryKey,
    ]);
    expect((await emulator.client().getIndividualEnrollment("azure-key")).responseBody.etag).toBe(outs.etag);
    expect((await runtime.read("azure-key", outs)).props).toEqual(outs);

    // Key rotation is an update: the unchanged enrollment is re-sent with the new key, which the state then holds.
    const rotatedRaw = enrollment("azure-key", { serviceAccessKey: owner().secondaryKey });
    const rotated = (await runtime.check(rotatedRaw, rotatedRaw)).inputs as never;
    expect(await runtime.diff("azure-key", outs, rotated)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = (await runtime.update("azure-key", outs, rotated)).outs as EnrollmentOutputs;
    expect(updated.serviceAccessKey).toBe(owner().secondaryKey);
    expect(updated.iotHubs).toEqual([hub1]);

    await runtime.delete("azure-key", updated);
    expect(await runtime.read("azure-key", updated)).toEqual({});
  });

  test("without a key, Microsoft Entra ID: create, read, delete", async () => {
    process.env.AZURE_CLIENT_ID = "dps-contributor";
    const runtime = await runtimeWith(stackConfig());
    const raw = enrollment("azure-entra", {});
    const inputs = (await runtime.check(raw, raw)).inputs as never;
    const outs = (await runtime.create(inputs)).outs as EnrollmentOutputs;
    expect([outs.serviceHostName, outs.serviceAccessKeyName, outs.serviceAccessKey]).toEqual([
      "localhost",
      undefined,
      undefined,
    ]);
    expect((await runtime.read("azure-entra", outs)).props).toEqual(outs);
    await runtime.delete("azure-entra", outs);
    expect(await runtime.read("azure-entra", outs)).toEqual({});
  });

  test("another DPS is a replacement, created before the old one is deleted", async () => {
    const runtime = await runtimeWith(stackConfig());
    const raw = enrollment("azure-move", { serviceAccessKey: owner().primaryKey });
    const inputs = (await runtime.check(raw, raw)).inputs as RawInputs;
    const olds = { ...inputs, etag: '"e"', createdDateTimeUtc: "t", lastUpdatedDateTimeUtc: "t" } as never;
    const movedRaw = enrollment("azure-move", {
      serviceHostName: "other-dps.azure-devices-provisioning.net",
      serviceAccessKey: owner().primaryKey,
    });
    const moved = (await runtime.check(movedRaw, movedRaw)).inputs as never;
    expect(await runtime.diff("azure-move", olds, moved)).toEqual({
      changes: true,
      replaces: ["serviceHostName"],
      deleteBeforeReplace: false,
    });
  });

  test("check names bad service properties, and the stack's DPS is never asked", async () => {
    const runtime = await runtimeWith(stackConfig());
    const raw = enrollment("azure-bad", { serviceHostName: "https://my-dps", serviceAccessKey: "not base64!" });
    expect(await runtime.check(raw, raw)).toEqual({
      failures: [
        {
          property: "serviceHostName",
          reason: "'https://my-dps' is not a host name (e.g. my-dps.azure-devices-provisioning.net, no scheme or path)",
        },
        { property: "serviceAccessKey", reason: "must be base64 of 16 to 64 bytes" },
      ],
    });
    const keyOnly: RawInputs = { ...enrollment("azure-key-only", {}), serviceHostName: undefined };
    keyOnly.serviceAccessKeyName = "provisioningserviceowner";
    expect(await runtime.check(keyOnly, keyOnly)).toEqual({
      failures: [{ property: "serviceAccessKey", reason: "is only used with serviceHostName" }],
    });
    // The stack's configured DPS (platform azure, no credentials) would fail like this if it were used.
    const plain = enrollment("azure-stack-dps", { serviceHostName: undefined });
    await expect(runtime.create((await runtime.check(plain, plain)).inputs as never)).rejects.toThrow(
      "config dps-enrollments:platform 'azure' needs a secret dps-enrollments:connectionString or a " +
        "dps-enrollments:hostName (Microsoft Entra ID)",
    );
  });
});

describe("missing or unreadable config", () => {
  const resolve = (config: Record<string, string>): Promise<unknown> =>
    resolveConnection((key) => config[key], projectDir);

  test("existing without connectionString or hostName", async () => {
    await expect(resolve({ platform: "existing" })).rejects.toThrow(
      "config dps-enrollments:platform 'existing' needs a secret dps-enrollments:connectionString or a " +
        "dps-enrollments:hostName (Microsoft Entra ID): pulumi config set --secret dps-enrollments:connectionString " +
        "'<HostName=…;SharedAccessKeyName=…;SharedAccessKey=…>'",
    );
  });

  test("an unreadable caCertificate names the config key and the file", async () => {
    const file = path.join(projectDir, "certs", "missing.pem");
    await expect(resolve(existing({ hostName: "localhost", caCertificate: "certs/missing.pem" }))).rejects.toThrow(
      `cannot read the CA certificate (config dps-enrollments:caCertificate) ${file}: ENOENT`,
    );
    await expect(resolve(existing({ hostName: "localhost", caCertificate: "certs" }))).rejects.toThrow(
      `cannot read the CA certificate (config dps-enrollments:caCertificate) ${path.join(projectDir, "certs")}: EISDIR`,
    );
  });

  test.each(["http://localhost:8443", "localhost:8443", "https://localhost:8443/dps", "not a url"])(
    "endpoint %j is refused: only https://HOST[:PORT]",
    async (endpoint) => {
      await expect(resolve(existing({ hostName: "localhost", endpoint }))).rejects.toThrow(
        `config dps-enrollments:endpoint '${endpoint}' must be https://HOST or https://HOST:PORT`,
      );
    },
  );

  test("an unknown platform", async () => {
    await expect(resolve({ platform: "cloud" })).rejects.toThrow(
      "config dps-enrollments:platform 'cloud' is not one of emulator, existing, azure",
    );
  });
});
