import { generateKeyPairSync, createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { signJwt } from "../tests/support/token-server";
import { authenticateService } from "./auth";
import { authenticateBearer, dpsAudience, loadEntraTrust, type EntraTrust } from "./entra";
import { DpsError } from "./errors";
import type { EmulatorIdentity } from "./identity";

const issuer = "http://127.0.0.1:1/tenant/";
const contributor = "11111111-1111-1111-1111-111111111111";
const reader = "22222222-2222-2222-2222-222222222222";
const now = new Date("2030-01-01T00:00:00Z");
const nowSeconds = now.getTime() / 1000;
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const header = { alg: "RS256", typ: "JWT" };
const trust: EntraTrust = {
  issuer,
  key: publicKey,
  roles: new Map([
    [contributor, "contributor"],
    [reader, "reader"],
  ]),
};

function token(overrides: Record<string, unknown> = {}): string {
  const claims = { iss: issuer, aud: dpsAudience, nbf: nowSeconds - 60, exp: nowSeconds + 3600, oid: contributor };
  return signJwt({ ...claims, ...overrides }, privateKey, header);
}

function refusal(jwt: string, required: "EnrollmentRead" | "EnrollmentWrite" = "EnrollmentWrite"): string {
  try {
    authenticateBearer(jwt, trust, required, now);
  } catch (err) {
    expect(err).toBeInstanceOf(DpsError);
    expect((err as DpsError).status).toBe(401);
    expect((err as DpsError).errorCode).toBe(401002);
    return (err as DpsError).message;
  }
  throw new Error("expected the token to be refused");
}

describe("Entra ID bearer tokens", () => {
  test("a token of the trusted issuer for DPS, in its lifetime, with a role assignment passes", () => {
    expect(authenticateBearer(token(), trust, "EnrollmentWrite", now)).toEqual({
      principal: `oid:${contributor}`,
      rights: [
        "ServiceConfig",
        "EnrollmentRead",
        "EnrollmentWrite",
        "RegistrationStatusRead",
        "RegistrationStatusWrite",
      ],
    });
    // An audience list and an upper-case object ID are fine.
    const upper = token({ aud: ["other", dpsAudience], oid: contributor.toUpperCase() });
    expect(authenticateBearer(upper, trust, "EnrollmentRead", now).principal).toBe(`oid:${contributor.toUpperCase()}`);
  });

  test.each<[string, () => string, string]>([
    ["not a JWT", () => "abc.def", "bearer token is not a JWT"],
    [
      "signature stripped",
      () => `${token().split(".").slice(0, 2).join(".")}.`,
      "bearer token signature does not verify with the trusted issuer's key",
    ],
    [
      "alg none, unsigned",
      () => {
        const [, payload] = token().split(".");
        return `${Buffer.from('{"alg":"none"}').toString("base64url")}.${payload}.x`;
      },
      "bearer token algorithm 'none' is not RS256",
    ],
    [
      "HS256 keyed with the public key",
      () => {
        const h = Buffer.from('{"alg":"HS256"}').toString("base64url");
        const [, payload] = token().split(".");
        const pem = publicKey.export({ type: "spki", format: "pem" });
        const sig = createHmac("sha256", pem).update(`${h}.${payload}`).digest("base64url");
        return `${h}.${payload}.${sig}`;
      },
      "bearer token algorithm 'HS256' is not RS256",
    ],
    [
      "signed by another key",
      () => signJwt({ iss: issuer, aud: dpsAudience, exp: nowSeconds + 60, oid: contributor }, otherKey(), header),
      "bearer token signature does not verify with the trusted issuer's key",
    ],
    [
      "claims changed after signing",
      () => {
        const [h, , sig] = token().split(".");
        const claims = { iss: issuer, aud: dpsAudience, exp: nowSeconds + 60, oid: contributor, extra: 1 };
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}`;
      },
      "bearer token signature does not verify with the trusted issuer's key",
    ],
    [
      "another issuer",
      () => token({ iss: "https://sts.windows.net/x/" }),
      `bearer token issuer 'https://sts.windows.net/x/' is not the trusted issuer '${issuer}'`,
    ],
    [
      "another audience",
      () => token({ aud: "https://management.azure.com" }),
      "bearer token audience 'https://management.azure.com' is not https://azure-devices-provisioning.net",
    ],
    ["expired", () => token({ exp: nowSeconds }), "bearer token expired at 2030-01-01T00:00:00.000Z"],
    ["no exp", () => token({ exp: undefined }), "bearer token expired (no exp)"],
    [
      "not yet valid",
      () => token({ nbf: nowSeconds + 60 }),
      "bearer token is not valid before 2030-01-01T00:01:00.000Z",
    ],
    ["no oid", () => token({ oid: undefined }), "bearer token has no oid (object ID) claim"],
    [
      "no role assignment",
      () => token({ oid: "33333333-3333-3333-3333-333333333333" }),
      "principal '33333333-3333-3333-3333-333333333333' has no role assignment on this service (needs Device " +
        "Provisioning Service Data Contributor or Device Provisioning Service Data Reader)",
    ],
    [
      "Data Reader writing",
      () => token({ oid: reader }),
      `principal '${reader}' (Device Provisioning Service Data Reader) lacks the EnrollmentWrite right`,
    ],
  ])("%s is refused with 401 naming the reason", (_name, make, message) => {
    expect(refusal(make())).toBe(message);
  });

  test("Data Reader reads", () => {
    expect(authenticateBearer(token({ oid: reader }), trust, "EnrollmentRead", now).rights).toEqual([
      "EnrollmentRead",
      "RegistrationStatusRead",
    ]);
  });

  test("bearer tokens are refused when Entra ID is off, and checked when it is on", () => {
    const identity: EmulatorIdentity = { idScope: "0ne00000000", policies: [] };
    const call = (entra?: EntraTrust) => () =>
      authenticateService(`Bearer ${token({ aud: "x" })}`, ["localhost"], identity, "EnrollmentRead", now, entra);
    expect(call()).toThrow(
      "Microsoft Entra ID bearer tokens are not accepted by this emulator: use a SharedAccessSignature, or start the " +
        "emulator with --entra-issuer and --entra-key",
    );
    expect(call(trust)).toThrow("bearer token audience 'x' is not https://azure-devices-provisioning.net");
  });
});

function otherKey(): ReturnType<typeof generateKeyPairSync>["privateKey"] {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
}

describe("--entra-key", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entra-key-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const settings = (keyFile: string) => ({ issuer, keyFile, roleAssignments: [] });

  test("takes a PEM public key", () => {
    const file = path.join(dir, "key.pem");
    fs.writeFileSync(file, publicKey.export({ type: "spki", format: "pem" }));
    expect(loadEntraTrust(settings(file)).key.asymmetricKeyType).toBe("rsa");
  });

  test("a missing file, or one that is no key, is refused naming the flag and the file", () => {
    const missing = path.join(dir, "missing.pem");
    expect(() => loadEntraTrust(settings(missing))).toThrow(
      `--entra-key ${missing}: not a readable PEM public key or certificate (ENOENT)`,
    );
    const garbage = path.join(dir, "garbage.pem");
    fs.writeFileSync(garbage, "not a key");
    expect(() => loadEntraTrust(settings(garbage))).toThrow(
      new RegExp(`^--entra-key ${garbage}: not a readable PEM public key or certificate \\(`),
    );
    const ec = path.join(dir, "ec.pem");
    fs.writeFileSync(
      ec,
      generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }),
    );
    expect(() => loadEntraTrust(settings(ec))).toThrow(
      `--entra-key ${ec}: expected an RSA key (tokens are RS256), got ec`,
    );
  });
});
