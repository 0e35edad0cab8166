// The service API of the emulator, driven by Microsoft's azure-iot-provisioning-service client over HTTPS; every
// response body is validated against the official 2021-10-01 document.
import * as https from "node:https";

import type { EnrollmentGroup, IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { issueCertificate, type IssuedCertificate } from "../../emulator/pki";
import { createSasToken } from "../../emulator/sas";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";
import { expectServiceSchema } from "../support/spec";

let emulator: TestEmulator;
let rootCa: IssuedCertificate;
let deviceCert: IssuedCertificate;

beforeAll(async () => {
  emulator = await startTestEmulator();
  rootCa = issueCertificate({ commonName: "Test Root CA", isCA: true });
  deviceCert = issueCertificate({ commonName: "x509-device-1", issuer: rootCa, clientAuth: true });
});

afterAll(async () => {
  await emulator.dispose();
});

const hub1 = "127.0.0.2";
const hub2 = "127.0.0.3";

function enrollment(fields: Record<string, unknown>): IndividualEnrollment {
  return fields as unknown as IndividualEnrollment;
}

/** A raw HTTPS request, for what the SDK cannot send (bad tokens, bad bodies). */
function raw(
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: emulator.port,
        method,
        path,
        ca: emulator.caPem,
        servername: "localhost",
        headers: options.headers,
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

function ownerToken(seconds = 3600): string {
  const owner = emulator.identity.policies[0];
  return createSasToken("localhost", owner.primaryKey, Math.ceil(Date.now() / 1000) + seconds, owner.keyName);
}

describe("individual enrollments", () => {
  test("create returns the stored enrollment with generated keys, defaults and timestamps", async () => {
    const client = emulator.client();
    const { responseBody } = await client.createOrUpdateIndividualEnrollment(
      enrollment({
        registrationId: "Sym-Device-1",
        attestation: { type: "symmetricKey" },
        deviceId: "sym-device-1-id",
        capabilities: { iotEdge: true },
        allocationPolicy: "static",
        iotHubs: [hub2],
        initialTwin: { tags: {}, properties: { desired: { devicetype: "waterflow", client: "" } } },
        optionalDeviceInformation: { model: "x1" },
      }),
    );
    expectServiceSchema("IndividualEnrollment", responseBody);
    const body = responseBody as unknown as Record<string, unknown>;
    expect(body.registrationId).toBe("sym-device-1");
    expect(body.deviceId).toBe("sym-device-1-id");
    expect(body.capabilities).toEqual({ iotEdge: true });
    expect(body.provisioningStatus).toBe("enabled");
    expect(body.reprovisionPolicy).toEqual({ updateHubAssignment: true, migrateDeviceData: true });
    expect(body.iotHubs).toEqual([hub2]);
    expect(body.initialTwin).toEqual({ tags: {}, properties: { desired: { devicetype: "waterflow", client: "" } } });
    expect(body.optionalDeviceInformation).toEqual({ model: "x1" });
    const keys = (body.attestation as { symmetricKey: { primaryKey: string; secondaryKey: string } }).symmetricKey;
    expect(Buffer.from(keys.primaryKey, "base64")).toHaveLength(64);
    expect(Buffer.from(keys.secondaryKey, "base64")).toHaveLength(64);
    expect(keys.primaryKey).not.toBe(keys.secondaryKey);
    expect(body.etag).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(body.createdDateTimeUtc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(body.lastUpdatedDateTimeUtc).toBe(body.createdDateTimeUtc);
  });

  test("GET hides symmetric keys; the attestation-mechanism POST returns them", async () => {
    const client = emulator.client();
    const created = await client.createOrUpdateIndividualEnrollment(
      enrollment({
        registrationId: "sym-keys",
        attestation: {
          type: "symmetricKey",
          symmetricKey: {
            primaryKey: Buffer.alloc(32, 1).toString("base64"),
            secondaryKey: Buffer.alloc(16, 2).toString("base64"),
          },
        },
      }),
    );
    const got = await client.getIndividualEnrollment("SYM-KEYS");
    expectServiceSchema("IndividualEnrollment", got.responseBody);
    expect((got.responseBody as unknown as Record<string, unknown>).attestation).toEqual({
      type: "symmetricKey",
      symmetricKey: {},
    });
    expect(got.responseBody.etag).toBe(created.responseBody.etag);
    const mechanism = await client.getIndividualEnrollmentAttestationMechanism("sym-keys");
    expectServiceSchema("AttestationMechanism", mechanism.responseBody);
    expect(mechanism.responseBody).toEqual({
      type: "symmetricKey",
      symmetricKey: {
        primaryKey: Buffer.alloc(32, 1).toString("base64"),
        secondaryKey: Buffer.alloc(16, 2).toString("base64"),
      },
    });
  });

  test("X.509 certificates are parsed and only their info is returned", async () => {
    const client = emulator.client();
    const der = Buffer.from(
      deviceCert.certPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""),
      "base64",
    ).toString("base64");
    const { responseBody } = await client.createOrUpdateIndividualEnrollment(
      enrollment({
        registrationId: "x509-device-1",
        attestation: {
          type: "x509",
          x509: {
            clientCertificates: { primary: { certificate: deviceCert.certPem }, secondary: { certificate: der } },
          },
        },
      }),
    );
    expectServiceSchema("IndividualEnrollment", responseBody);
    const certs = (
      responseBody.attestation as unknown as {
        x509: { clientCertificates: Record<string, { certificate?: string; info: Record<string, unknown> }> };
      }
    ).x509.clientCertificates;
    expect(certs.primary.certificate).toBeUndefined();
    expect(certs.primary.info.subjectName).toBe("CN=x509-device-1");
    expect(certs.primary.info.issuerName).toBe("CN=Test Root CA");
    expect(certs.primary.info.version).toBe(3);
    expect(certs.primary.info.serialNumber).toBe(deviceCert.cert.serialNumber.toUpperCase());
    expect(certs.primary.info.sha1Thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(certs.primary.info.sha256Thumbprint).toMatch(/^[0-9A-F]{64}$/);
    expect(certs.primary.info.notAfterUtc).toBe(
      deviceCert.cert.validity.notAfter.toISOString().replace(/\.\d{3}Z$/, "Z"),
    );
    // The same certificate as PEM and as base64 DER yields the same info.
    expect(certs.secondary.info).toEqual(certs.primary.info);
  });

  test("TPM enrollments keep endorsement and storage root keys", async () => {
    const ek = Buffer.alloc(64, 9).toString("base64");
    const srk = Buffer.alloc(32, 3).toString("base64");
    const { responseBody } = await emulator.client().createOrUpdateIndividualEnrollment(
      enrollment({
        registrationId: "tpm-device",
        attestation: { type: "tpm", tpm: { endorsementKey: ek, storageRootKey: srk } },
      }),
    );
    expectServiceSchema("IndividualEnrollment", responseBody);
    expect(responseBody.attestation).toEqual({ type: "tpm", tpm: { endorsementKey: ek, storageRootKey: srk } });
  });

  test("PUT on an existing enrollment without If-Match is 409; with * or the current etag it updates", async () => {
    const client = emulator.client();
    const created = await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "etag-device", attestation: { type: "symmetricKey" } }),
    );
    const conflict = await rejection(
      client.createOrUpdateIndividualEnrollment(
        enrollment({ registrationId: "etag-device", attestation: { type: "symmetricKey" } }),
      ),
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.errorCode).toBe(409001);
    expect(conflict.body.message).toBe(
      "Enrollment 'etag-device' already exists: send If-Match with its etag (or *) to update it",
    );
    expectServiceSchema("ProvisioningServiceErrorDetails", conflict.body);

    const updated = await client.createOrUpdateIndividualEnrollment(
      enrollment({
        registrationId: "etag-device",
        attestation: { type: "symmetricKey" },
        provisioningStatus: "disabled",
        etag: created.responseBody.etag,
      }),
    );
    expect(updated.responseBody.provisioningStatus).toBe("disabled");
    expect(updated.responseBody.etag).not.toBe(created.responseBody.etag);
    expect((updated.responseBody as unknown as Record<string, unknown>).createdDateTimeUtc).toBe(
      (created.responseBody as unknown as Record<string, unknown>).createdDateTimeUtc,
    );
    // Keys omitted on update are kept.
    const keysBefore = (created.responseBody.attestation as unknown as { symmetricKey: unknown }).symmetricKey;
    expect((updated.responseBody.attestation as unknown as { symmetricKey: unknown }).symmetricKey).toEqual(keysBefore);

    const stale = await rejection(
      client.createOrUpdateIndividualEnrollment(
        enrollment({
          registrationId: "etag-device",
          attestation: { type: "symmetricKey" },
          etag: created.responseBody.etag,
        }),
      ),
    );
    expect(stale.status).toBe(412);
    expect(stale.body.errorCode).toBe(412002);

    const star = await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "etag-device", attestation: { type: "symmetricKey" }, etag: "*" }),
    );
    expect(star.responseBody.provisioningStatus).toBe("enabled");
  });

  test("etags compare ignoring one layer of quotes", async () => {
    const client = emulator.client();
    const created = await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "quoted-etag", attestation: { type: "symmetricKey" } }),
    );
    const bare = String(created.responseBody.etag).replace(/"/g, "");
    const updated = await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "quoted-etag", attestation: { type: "symmetricKey" }, etag: bare }),
    );
    expect(updated.responseBody.etag).not.toBe(created.responseBody.etag);
  });

  test("DELETE honours If-Match, and a deleted enrollment is 404", async () => {
    const client = emulator.client();
    const created = await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "to-delete", attestation: { type: "symmetricKey" } }),
    );
    const stale = await rejection(client.deleteIndividualEnrollment("to-delete", '"not-the-etag"'));
    expect(stale.status).toBe(412);
    await client.deleteIndividualEnrollment("to-delete", created.responseBody.etag);
    const gone = await rejection(client.getIndividualEnrollment("to-delete"));
    expect(gone.status).toBe(404);
    expect(gone.body.errorCode).toBe(404202);
    expect(gone.body.message).toBe("Enrollment 'to-delete' was not found");
    expectServiceSchema("ProvisioningServiceErrorDetails", gone.body);
    const again = await rejection(client.deleteIndividualEnrollment("to-delete"));
    expect(again.status).toBe(404);
  });

  test("query pages with x-ms-max-item-count and x-ms-continuation, omitting the token on the last page", async () => {
    const client = emulator.client();
    for (let i = 0; i < 7; i++) {
      await client.createOrUpdateIndividualEnrollment(
        enrollment({ registrationId: `page-${i}`, attestation: { type: "symmetricKey" } }),
      );
    }
    const query = client.createIndividualEnrollmentQuery({ query: "SELECT * FROM enrollments" }, 3);
    const seen: string[] = [];
    let pages = 0;
    while (query.hasMoreResults) {
      // The SDK's promise-form next() drops the stored token (a quirk): pass it explicitly.
      const result = (await query.next(query.continuationToken)) as unknown as {
        responseBody: IndividualEnrollment[];
        httpResponse: { headers: Record<string, string> };
      };
      pages++;
      for (const item of result.responseBody) {
        expectServiceSchema("IndividualEnrollment", item);
        expect((item.attestation as unknown as { symmetricKey?: Record<string, unknown> }).symmetricKey ?? {}).toEqual(
          {},
        );
        seen.push(item.registrationId);
      }
      expect(result.httpResponse.headers["x-ms-item-type"]).toBe("Enrollment");
      expect(result.httpResponse.headers["x-ms-max-item-count"]).toBe("3");
    }
    const all = seen.filter((id) => id.startsWith("page-"));
    expect(all).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6"]);
    expect(pages).toBe(Math.ceil(seen.length / 3));
  });

  test("bulk operations create, update, updateIfMatchETag and delete up to 10 items, reporting item errors", async () => {
    const client = emulator.client();
    const run = (op: unknown): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        // The SDK's promise form never settles (a known SDK bug): use the callback form.
        client.runBulkEnrollmentOperation(op as never, (err, result) =>
          err ? reject(err) : resolve(result as unknown as Record<string, unknown>),
        );
      });
    const items = [0, 1, 2].map((i) => ({ registrationId: `bulk-${i}`, attestation: { type: "symmetricKey" } }));
    const created = await run({ mode: "create", enrollments: items });
    expectServiceSchema("BulkEnrollmentOperationResult", created);
    expect(created).toEqual({ isSuccessful: true, errors: [] });

    const again = await run({
      mode: "create",
      enrollments: [items[0], { registrationId: "bulk-3", attestation: { type: "symmetricKey" } }],
    });
    expectServiceSchema("BulkEnrollmentOperationResult", again);
    expect(again).toEqual({
      isSuccessful: false,
      errors: [
        {
          registrationId: "bulk-0",
          errorCode: 409001,
          errorStatus: "Enrollment 'bulk-0' already exists: send If-Match with its etag (or *) to update it",
        },
      ],
    });
    expect((await client.getIndividualEnrollment("bulk-3")).responseBody.registrationId).toBe("bulk-3");

    const update = await run({ mode: "update", enrollments: [{ ...items[1], provisioningStatus: "disabled" }] });
    expect(update).toEqual({ isSuccessful: true, errors: [] });
    expect((await client.getIndividualEnrollment("bulk-1")).responseBody.provisioningStatus).toBe("disabled");

    const stale = await run({ mode: "updateIfMatchEtag", enrollments: [{ ...items[2], etag: '"stale"' }] });
    expect((stale.errors as { errorCode: number }[])[0].errorCode).toBe(412002);

    const removed = await run({ mode: "delete", enrollments: items });
    expect(removed).toEqual({ isSuccessful: true, errors: [] });
    expect((await rejection(client.getIndividualEnrollment("bulk-0"))).status).toBe(404);

    const tooMany = await rejection(
      run({
        mode: "create",
        enrollments: Array.from({ length: 11 }, (_, i) => ({
          registrationId: `big-${i}`,
          attestation: { type: "symmetricKey" },
        })),
      }),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errorCode).toBe(400008);
    expect(tooMany.body.message).toBe("a bulk operation takes at most 10 items (got 11)");
  });
});

describe("enrollment groups", () => {
  test("X.509 groups keep signing certificate info; symmetric-key groups hide their keys on GET", async () => {
    const client = emulator.client();
    const x509 = await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: "x509-group",
      attestation: { type: "x509", x509: { signingCertificates: { primary: { certificate: rootCa.certPem } } } },
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
    } as unknown as EnrollmentGroup);
    expectServiceSchema("EnrollmentGroup", x509.responseBody);
    expect(
      (
        x509.responseBody.attestation as unknown as {
          x509: { signingCertificates: { primary: { info: { subjectName: string } } } };
        }
      ).x509.signingCertificates.primary.info.subjectName,
    ).toBe("CN=Test Root CA");

    await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: "sym-group",
      attestation: { type: "symmetricKey" },
    } as unknown as EnrollmentGroup);
    const got = await client.getEnrollmentGroup("sym-group");
    expectServiceSchema("EnrollmentGroup", got.responseBody);
    expect((got.responseBody as unknown as Record<string, unknown>).attestation).toEqual({
      type: "symmetricKey",
      symmetricKey: {},
    });
    const mechanism = await client.getEnrollmentGroupAttestationMechanism("sym-group");
    expect(
      Buffer.from(
        (mechanism.responseBody as unknown as { symmetricKey: { primaryKey: string } }).symmetricKey.primaryKey,
        "base64",
      ),
    ).toHaveLength(64);

    const query = client.createEnrollmentGroupQuery({ query: "*" }, 10);
    const page = (await query.next()) as unknown as { responseBody: EnrollmentGroup[] };
    expect(page.responseBody.map((g) => g.enrollmentGroupId)).toEqual(["sym-group", "x509-group"]);
    expect(query.hasMoreResults).toBe(false);

    await client.deleteEnrollmentGroup("sym-group");
    expect((await rejection(client.getEnrollmentGroup("sym-group"))).body.errorCode).toBe(404203);
  });

  test("groups may hold at most 100 enrollment groups per attestation type", async () => {
    const client = emulator.client();
    const existing = 1; // x509-group from the test above
    for (let i = existing; i < 100; i++) {
      await client.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: `quota-${i}`,
        attestation: { type: "x509", x509: { signingCertificates: { primary: { certificate: rootCa.certPem } } } },
      } as unknown as EnrollmentGroup);
    }
    const over = await rejection(
      client.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: "quota-over",
        attestation: { type: "x509", x509: { signingCertificates: { primary: { certificate: rootCa.certPem } } } },
      } as unknown as EnrollmentGroup),
    );
    expect(over.status).toBe(403);
    expect(over.body.message).toBe(
      "this service already holds 100 enrollment groups with x509 attestation, the maximum",
    );
    // Symmetric-key groups have their own quota.
    await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: "sym-after-quota",
      attestation: { type: "symmetricKey" },
    } as unknown as EnrollmentGroup);
  });
});

describe("validation errors name the field and the reason", () => {
  const cases: [string, Record<string, unknown>, number, string][] = [
    ["bad id characters", { registrationId: "bad/id!", attestation: { type: "symmetricKey" } }, 400003, ""],
    [
      "static with two hubs",
      {
        registrationId: "v1",
        attestation: { type: "symmetricKey" },
        allocationPolicy: "static",
        iotHubs: [hub1, hub2],
      },
      400005,
      "allocationPolicy static takes one hub in iotHubs at most (got 2)",
    ],
    [
      "custom without webhook",
      { registrationId: "v2", attestation: { type: "symmetricKey" }, allocationPolicy: "custom" },
      400005,
      "allocationPolicy custom needs customAllocationDefinition.webhookUrl and customAllocationDefinition.apiVersion",
    ],
    [
      "unlinked hub",
      { registrationId: "v3", attestation: { type: "symmetricKey" }, iotHubs: ["other.azure-devices.net"] },
      400005,
      `iotHubs: 'other.azure-devices.net' is not linked to this provisioning service (linked: ${hub1}, ${hub2})`,
    ],
    [
      "not a certificate",
      {
        registrationId: "v4",
        attestation: { type: "x509", x509: { clientCertificates: { primary: { certificate: "hello" } } } },
      },
      400004,
      "attestation.x509.clientCertificates.primary.certificate is not an X.509 certificate (PEM or base64 DER)",
    ],
    [
      "short symmetric key",
      { registrationId: "v5", attestation: { type: "symmetricKey", symmetricKey: { primaryKey: "YWJj" } } },
      400002,
      "attestation.symmetricKey.primaryKey must be base64 of 16 to 64 bytes",
    ],
    [
      "bad endorsement key",
      { registrationId: "v6", attestation: { type: "tpm", tpm: { endorsementKey: "not base64!" } } },
      400002,
      "attestation.tpm.endorsementKey must be a base64 TPM endorsement key",
    ],
    [
      "unknown attestation",
      { registrationId: "v7", attestation: { type: "password" } },
      400002,
      'attestation.type "password" is not supported: use tpm, x509 or symmetricKey',
    ],
    [
      "bad reprovision flag",
      {
        registrationId: "v8",
        attestation: { type: "symmetricKey" },
        reprovisionPolicy: { updateHubAssignment: "yes" },
      },
      400002,
      "reprovisionPolicy.updateHubAssignment must be true or false",
    ],
  ];
  test.each(cases)("%s", async (_name, body, code, message) => {
    const id = encodeURIComponent(body.registrationId as string);
    const result = await raw("PUT", `/enrollments/${id}?api-version=2021-10-01`, {
      body: JSON.stringify(body),
      headers: { Authorization: ownerToken(), "Content-Type": "application/json" },
    });
    expect(result.status).toBe(Math.floor(code / 1000));
    const error = JSON.parse(result.body) as Record<string, unknown>;
    expectServiceSchema("ProvisioningServiceErrorDetails", error);
    expect(error.errorCode).toBe(code);
    expect(result.headers["x-ms-error-code"]).toBe(String(code));
    if (message) expect(error.message).toBe(message);
    expect(typeof error.trackingId).toBe("string");
    expect(error.timestampUtc).toMatch(/Z$/);
  });

  test("static allocation with no hubs is accepted for enrollments and groups alike (the linked hubs apply)", async () => {
    const client = emulator.client();
    const created = await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "static-any", attestation: { type: "symmetricKey" }, allocationPolicy: "static" }),
    );
    expectServiceSchema("IndividualEnrollment", created.responseBody);
    const group = await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: "static-any-group",
      attestation: { type: "symmetricKey" },
      allocationPolicy: "static",
      iotHubs: [],
    } as unknown as EnrollmentGroup);
    for (const body of [created.responseBody, group.responseBody] as unknown as Record<string, unknown>[]) {
      expect(body.allocationPolicy).toBe("static");
      expect(body.iotHubs ?? []).toEqual([]);
    }
    await client.deleteIndividualEnrollment("static-any");
    await client.deleteEnrollmentGroup("static-any-group");
  });

  test("the attestation type cannot change on update", async () => {
    const client = emulator.client();
    await client.createOrUpdateIndividualEnrollment(
      enrollment({ registrationId: "type-change", attestation: { type: "symmetricKey" } }),
    );
    const result = await rejection(
      client.createOrUpdateIndividualEnrollment(
        enrollment({
          registrationId: "type-change",
          attestation: { type: "tpm", tpm: { endorsementKey: "AAAA" } },
          etag: "*",
        }),
      ),
    );
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({
      errorCode: 400006,
      message: "attestation.type cannot change from symmetricKey to tpm; delete and re-create the enrollment",
    });
  });

  test("a missing or unsupported api-version is 400", async () => {
    const missing = await raw("GET", "/enrollments/x", { headers: { Authorization: ownerToken() } });
    expect(missing.status).toBe(400);
    expect((JSON.parse(missing.body) as { errorCode: number }).errorCode).toBe(400007);
    const old = await raw("GET", "/enrollments/x?api-version=2017-11-15", { headers: { Authorization: ownerToken() } });
    expect(old.status).toBe(400);
    const preview = await raw("GET", "/enrollments/missing?api-version=2025-07-01-preview", {
      headers: { Authorization: ownerToken() },
    });
    expect(preview.status).toBe(404);
  });

  test("a malformed body is 400 and a non-JSON content type is 415", async () => {
    const bad = await raw("PUT", "/enrollments/x?api-version=2021-10-01", {
      body: "{nope",
      headers: { Authorization: ownerToken(), "Content-Type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ errorCode: 400001, message: "the request body is not valid JSON" });
    const xml = await raw("PUT", "/enrollments/x?api-version=2021-10-01", {
      body: "<x/>",
      headers: { Authorization: ownerToken(), "Content-Type": "application/xml" },
    });
    expect(xml.status).toBe(415);
  });
});

describe("authentication", () => {
  test("no token, a wrong key, an expired token and a foreign resource are 401 with the error body", async () => {
    const owner = emulator.identity.policies[0];
    const future = Math.ceil(Date.now() / 1000) + 3600;
    const cases: [string | undefined, string][] = [
      [undefined, "Authorization header is missing: send a SharedAccessSignature"],
      [
        createSasToken("localhost", Buffer.alloc(32, 5).toString("base64"), future, owner.keyName),
        "SharedAccessSignature was not signed with a key of policy 'provisioningserviceowner'",
      ],
      [
        createSasToken("localhost", owner.primaryKey, Math.floor(Date.now() / 1000) - 10, owner.keyName),
        "SharedAccessSignature expired at",
      ],
      [
        createSasToken("otherdps.azure-devices-provisioning.net", owner.primaryKey, future, owner.keyName),
        "SharedAccessSignature resource 'otherdps.azure-devices-provisioning.net' is not this service",
      ],
      [createSasToken("localhost", owner.primaryKey, future, "nobody"), "shared access policy 'nobody' does not exist"],
    ];
    for (const [token, message] of cases) {
      const result = await raw("GET", "/enrollments/anything?api-version=2021-10-01", {
        headers: token ? { Authorization: token } : {},
      });
      expect(result.status).toBe(401);
      const body = JSON.parse(result.body) as Record<string, unknown>;
      expectServiceSchema("ProvisioningServiceErrorDetails", body);
      expect(body.errorCode).toBe(401002);
      expect(String(body.message).startsWith(message)).toBe(true);
    }
  });

  test("the secondary key signs as well as the primary", async () => {
    const owner = emulator.identity.policies[0];
    const token = createSasToken("localhost", owner.secondaryKey, Math.ceil(Date.now() / 1000) + 60, owner.keyName);
    const result = await raw("GET", "/enrollments/missing?api-version=2021-10-01", {
      headers: { Authorization: token },
    });
    expect(result.status).toBe(404);
  });
});
