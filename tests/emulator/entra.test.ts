// Microsoft Entra ID bearer tokens on the wire (--entra-issuer): Microsoft's service client with a token credential
// against the emulator over HTTPS. Refusals are 401 with the service's error body.
import type { AccessToken, TokenCredential } from "@azure/core-auth";

import { createServiceClient } from "../../dynamic-providers/service-client";
import { rejection, startTestEmulator, type TestEmulator } from "../support/emulator";
import { startTokenServer, type TokenServer } from "../support/token-server";

const oid = "0b5e8f7a-0000-4000-8000-00000000000a";
let tokens: TokenServer;
let emulator: TestEmulator;

beforeAll(async () => {
  tokens = await startTokenServer([]);
  emulator = await startTestEmulator({
    entra: {
      issuer: tokens.issuer,
      keyFile: tokens.keyFile,
      roleAssignments: [{ principalId: oid, role: "contributor" }],
    },
  });
});

afterAll(async () => {
  await emulator?.dispose();
  await tokens?.close();
});

/** The service client with a credential that always hands out `token`. */
function clientWith(token: string) {
  const credential: TokenCredential = {
    getToken: (): Promise<AccessToken> => Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  return createServiceClient({ hostName: "localhost", credential, port: emulator.port, ca: emulator.caPem });
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: tokens.issuer, aud: "https://azure-devices-provisioning.net", exp: now + 3600, oid, ...overrides };
}

test("a valid token is accepted for every operation of a Data Contributor", async () => {
  const client = clientWith(tokens.sign(claims()));
  const created = await client.createOrUpdateIndividualEnrollment({
    registrationId: "entra-wire",
    attestation: { type: "symmetricKey" },
  } as never);
  expect(created.responseBody.registrationId).toBe("entra-wire");
  expect((await client.getIndividualEnrollment("entra-wire")).responseBody.etag).toBe(created.responseBody.etag);
  await client.deleteIndividualEnrollment("entra-wire");
  // The SAS of the connection string still works beside Entra ID.
  expect((await rejection(emulator.client().getIndividualEnrollment("entra-wire"))).status).toBe(404);
});

test.each<[string, () => string, string]>([
  [
    "expired",
    () => tokens.sign(claims({ exp: 1_700_000_000 })),
    `bearer token expired at ${new Date(1_700_000_000_000).toISOString()}`,
  ],
  [
    "tampered",
    () => {
      const [header, , signature] = tokens.sign(claims()).split(".");
      const forged = Buffer.from(JSON.stringify(claims({ oid: "someone-else" }))).toString("base64url");
      return `${header}.${forged}.${signature}`;
    },
    "bearer token signature does not verify with the trusted issuer's key",
  ],
  [
    "for another audience",
    () => tokens.sign(claims({ aud: "https://storage.azure.com" })),
    "bearer token audience 'https://storage.azure.com' is not https://azure-devices-provisioning.net",
  ],
])("a token %s is 401 with the service's error body", async (_name, token, message) => {
  const { status, body } = await rejection(clientWith(token()).getIndividualEnrollment("anything"));
  expect(status).toBe(401);
  expect(body).toEqual({
    errorCode: 401002,
    trackingId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    message,
    timestampUtc: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/),
  });
});
