// The emulator as a service: durability across kill -9, port 443 with unmodified clients, throttling, fault
// injection, the request log, and policies with limited rights.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";

import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { emulatorClientOptions } from "../../dynamic-providers/enrollment/connection";
import { usage } from "../../emulator/config";
import { createServiceClient } from "../../dynamic-providers/service-client";
import { connectionString, loadIdentity, newPolicy, saveIdentity } from "../../emulator/identity";
import { projectRoot } from "../../scripts/lib/pulumi-cli";
import { rejection, startTestEmulator } from "../support/emulator";
import { spawnEmulator } from "../support/emulator-process";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "dps-runtime-"));
}

const enrollment = (id: string, extra: Record<string, unknown> = {}): IndividualEnrollment =>
  ({ registrationId: id, attestation: { type: "symmetricKey" }, ...extra }) as unknown as IndividualEnrollment;

test("every acknowledged write survives kill -9 and a restart", async () => {
  const dataDir = tempDir();
  try {
    const first = await spawnEmulator(["--port", "0", "--mqtt-port", "-1"], dataDir);
    const ca = fs.readFileSync(first.connection.caCertificate, "utf8");
    const client = createServiceClient(emulatorClientOptions(first.connection));
    const etags = new Map<string, string>();
    for (let i = 0; i < 25; i++) {
      const { responseBody } = await client.createOrUpdateIndividualEnrollment(enrollment(`durable-${i}`));
      etags.set(responseBody.registrationId, String(responseBody.etag));
    }
    const updated = await client.createOrUpdateIndividualEnrollment(
      enrollment("durable-0", { provisioningStatus: "disabled", etag: etags.get("durable-0") }),
    );
    etags.set("durable-0", String(updated.responseBody.etag));
    await client.deleteIndividualEnrollment("durable-24");
    etags.delete("durable-24");
    await first.kill();

    // The same flags as --flag=value.
    const second = await spawnEmulator(["--port=0", "--mqtt-port=-1"], dataDir);
    try {
      // Same identity and CA: the old connection string and trust still work.
      expect(second.connection.connectionString).toBe(first.connection.connectionString);
      expect(second.connection.idScope).toBe(first.connection.idScope);
      expect(fs.readFileSync(second.connection.caCertificate, "utf8")).toBe(ca);
      // The first start's connection string against the restarted emulator.
      const again = createServiceClient({
        ...emulatorClientOptions(second.connection),
        connectionString: first.connection.connectionString,
      });
      for (const [id, etag] of etags) {
        expect((await again.getIndividualEnrollment(id)).responseBody.etag).toBe(etag);
      }
      expect((await again.getIndividualEnrollment("durable-0")).responseBody.provisioningStatus).toBe("disabled");
      expect((await rejection(again.getIndividualEnrollment("durable-24"))).status).toBe(404);
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the command line: --help lists the flags; an unknown flag or a bad value stops the emulator, naming the flag", () => {
  const run = (args: string[]): [number | null, string, string] => {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(projectRoot, "emulator", "main.ts"), ...args],
      {
        cwd: projectRoot,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    return [result.status, result.stdout, result.stderr];
  };
  const hint = "npm run emulator -- --help lists every flag\n";
  expect(run(["--help"])).toEqual([0, `${usage}\n`, ""]);
  expect(run(["--colour"])).toEqual([1, "", `emulator: unknown flag "--colour"\n${hint}`]);
  expect(run(["--port=http"])).toEqual([
    1,
    "",
    `emulator: --port "http": expected a whole number from 0 to 65535\n${hint}`,
  ]);
});

function canBind443(): boolean {
  if (process.getuid?.() === 0) return true;
  const start = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
  return start <= 443;
}

/** Whether these addresses are free: `npm start` leaves an emulator on 8443/8883 running (regression). */
function portsFree(addresses: [string, number][]): boolean {
  const probe = `const net = require("node:net");
    const addresses = ${JSON.stringify(addresses)};
    let left = addresses.length;
    for (const [host, port] of addresses) {
      const server = net.createServer().once("error", () => process.exit(1));
      server.listen(port, host, () => server.close(() => --left === 0 && process.exit(0)));
    }`;
  return spawnSync(process.execPath, ["-e", probe], { timeout: 10_000 }).status === 0;
}

const port443Free = portsFree([
  ["127.0.0.1", 443],
  ["127.0.0.2", 443],
  ["127.0.0.3", 443],
  ["127.0.0.1", 8883],
]);

(canBind443() && port443Free ? test : test.skip)(
  "on port 443, Microsoft's clients work unmodified with only NODE_EXTRA_CA_CERTS, the hub registry client included",
  async () => {
    const dataDir = tempDir();
    const emulator = await spawnEmulator(["--port", "443", "--mqtt-port", "8883"], dataDir);
    try {
      expect(emulator.connection.endpoint).toBe("https://localhost");
      expect(emulator.connection.mqttEndpoint).toBe("mqtts://localhost:8883");
      expect(emulator.connection.hubs.map((h) => h.endpoint)).toEqual(["https://127.0.0.2", "https://127.0.0.3"]);
      const result = spawnSync(
        path.join(projectRoot, "node_modules", ".bin", "tsx"),
        [
          path.join(projectRoot, "tests", "fixtures", "unmodified-clients.ts"),
          JSON.stringify({
            connectionString: emulator.connection.connectionString,
            idScope: emulator.connection.idScope,
            hubs: emulator.connection.hubs,
          }),
        ],
        {
          encoding: "utf8",
          env: { ...process.env, NODE_EXTRA_CA_CERTS: emulator.connection.caCertificate },
          timeout: 60_000,
        },
      );
      expect(result.stderr).toBe("");
      const hub = JSON.parse(result.stdout) as Record<string, Record<string, string>>;
      expect(hub.created).toBe("unmodified-device");
      expect(hub.http.status).toBe("assigned");
      expect(hub.mqtt).toEqual({ status: "assigned", assignedHub: hub.http.assignedHub });
      expect(hub.state).toEqual({ status: "assigned", assignedHub: hub.http.assignedHub });
      expect(emulator.connection.linkedHubs).toContain(hub.http.assignedHub);
      expect(hub.twin).toEqual({ tags: { site: "lab" }, devicetype: "waterflow" });
    } finally {
      await emulator.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

function get(
  port: number,
  ca: string,
  requestPath: string,
  authorization?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: requestPath,
        ca,
        servername: "localhost",
        headers: authorization ? { Authorization: authorization } : {},
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("throttling answers 429 with Retry-After once the per-minute budget is spent", async () => {
  const emulator = await startTestEmulator({ throttlePerMinute: 3 });
  try {
    const client = emulator.client();
    for (let i = 0; i < 3; i++) {
      expect((await rejection(client.getIndividualEnrollment(`t-${i}`))).status).toBe(404);
    }
    const throttled = await rejection(client.getIndividualEnrollment("t-3"));
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({
      errorCode: 429001,
      message: "throttled: more than 3 operations per minute",
    });
    const raw = await get(emulator.port, emulator.caPem, "/enrollments/t-4?api-version=2021-10-01");
    expect(raw.status).toBe(429);
    expect(raw.headers["retry-after"]).toBe("20");
    expect(raw.headers["x-ms-error-code"]).toBe("429001");
    // The emulator's counters (not part of DPS's API): every answer by operation and status.
    const stats = await get(emulator.port, emulator.caPem, "/_emulator/stats");
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.body)).toEqual({
      operations: { IndividualEnrollment_Get: { "404": 3, "429": 2 } },
      throttled: 2,
    });
  } finally {
    await emulator.dispose();
  }
});

test.each([
  ["500", 500, 500001],
  ["503", 503, 503001],
] as const)("fault injection answers %s with the service's error body", async (kind, status, code) => {
  const emulator = await startTestEmulator({ faultRate: 1, faultKinds: [kind] });
  try {
    const result = await rejection(emulator.client().getIndividualEnrollment("any"));
    expect(result.status).toBe(status);
    expect(result.body).toMatchObject({ errorCode: code, message: `injected fault (--faults): ${kind}` });
  } finally {
    await emulator.dispose();
  }
});

test("fault injection can drop the connection", async () => {
  const emulator = await startTestEmulator({ faultRate: 1, faultKinds: ["drop"] });
  try {
    await expect(get(emulator.port, emulator.caPem, "/enrollments/x?api-version=2021-10-01")).rejects.toMatchObject({
      code: "ECONNRESET",
    });
  } finally {
    await emulator.dispose();
  }
});

test("the request log has one JSON line per request and never a key or token", async () => {
  const dir = tempDir();
  const logFile = path.join(dir, "requests.log");
  const emulator = await startTestEmulator({ requestLog: logFile });
  try {
    const client = emulator.client();
    const created = await client.createOrUpdateIndividualEnrollment(enrollment("logged"));
    await rejection(client.getIndividualEnrollment("missing"));
    await emulator.close();
    const lines = fs
      .readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.operation, l.method, l.path, l.status, l.errorCode, l.principal])).toEqual([
      ["IndividualEnrollment_CreateOrUpdate", "PUT", "/enrollments/logged", 200, undefined, "provisioningserviceowner"],
      ["IndividualEnrollment_Get", "GET", "/enrollments/missing", 404, 404202, undefined],
    ]);
    const text = fs.readFileSync(logFile, "utf8");
    const keys = (
      created.responseBody.attestation as unknown as { symmetricKey: { primaryKey: string; secondaryKey: string } }
    ).symmetricKey;
    for (const secret of [
      keys.primaryKey,
      keys.secondaryKey,
      emulator.identity.policies[0].primaryKey,
      "SharedAccessSignature",
    ]) {
      expect(text).not.toContain(secret);
    }
  } finally {
    fs.rmSync(emulator.dataDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a policy without the operation's right is refused with 401", async () => {
  const dataDir = tempDir();
  const identity = loadIdentity(dataDir);
  const reader = newPolicy("enrollmentreader", ["EnrollmentRead"]);
  saveIdentity(dataDir, { ...identity, policies: [...identity.policies, reader] });
  const emulator = await startTestEmulator({ dataDir });
  try {
    const client = emulator.client(connectionString("localhost", reader));
    expect((await rejection(client.getIndividualEnrollment("nothing"))).status).toBe(404);
    const write = await rejection(client.createOrUpdateIndividualEnrollment(enrollment("denied")));
    expect(write.status).toBe(401);
    expect(write.body).toMatchObject({
      errorCode: 401002,
      message: "shared access policy 'enrollmentreader' lacks the EnrollmentWrite right",
    });
    const registration = await rejection(client.getDeviceRegistrationState("nothing"));
    expect(registration.body.message).toBe(
      "shared access policy 'enrollmentreader' lacks the RegistrationStatusRead right",
    );
    expect(emulator.connection.policies.map((p) => [p.keyName, p.rights])).toEqual([
      [
        "provisioningserviceowner",
        ["ServiceConfig", "EnrollmentRead", "EnrollmentWrite", "RegistrationStatusRead", "RegistrationStatusWrite"],
      ],
      ["enrollmentreader", ["EnrollmentRead"]],
    ]);
  } finally {
    await emulator.dispose();
  }
});
