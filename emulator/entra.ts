// Microsoft Entra ID bearer tokens, opt in (--entra-issuer, --entra-key): a layer beside SAS in auth.ts. Only tokens
// of one trusted local issuer are accepted: RS256-signed by its key, for the DPS audience, within their lifetime.
// Azure RBAC puts no roles in the token; the service looks up the caller's object ID (`oid`) in its role
// assignments, so the emulator does the same with the assignments given by --entra-role.
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import * as fs from "node:fs";

import type { ServicePrincipal } from "./auth";
import type { EntraRole, EntraSettings } from "./config";
import { DpsError } from "./errors";
import { allRights, type AccessRight } from "./identity";

/** The `aud` of tokens for scope `https://azure-devices-provisioning.net/.default`. */
export const dpsAudience = "https://azure-devices-provisioning.net";

export const roleNames: Record<EntraRole, string> = {
  contributor: "Device Provisioning Service Data Contributor",
  reader: "Device Provisioning Service Data Reader",
};

/** The built-in roles as the SAS rights the routes check: Reader's data actions are the read ones only. */
const roleRights: Record<EntraRole, readonly AccessRight[]> = {
  contributor: allRights,
  reader: ["EnrollmentRead", "RegistrationStatusRead"],
};

export interface EntraTrust {
  issuer: string;
  key: KeyObject;
  /** Role of each principal, by object ID. */
  roles: ReadonlyMap<string, EntraRole>;
}

/** Reads the issuer's signing key (a PEM public key or certificate); a bad file names the flag. */
export function loadEntraTrust(settings: EntraSettings): EntraTrust {
  let key: KeyObject;
  try {
    key = createPublicKey(fs.readFileSync(settings.keyFile, "utf8"));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`--entra-key ${settings.keyFile}: not a readable PEM public key or certificate (${reason})`, {
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(
      `--entra-key ${settings.keyFile}: expected an RSA key (tokens are RS256), got ${key.asymmetricKeyType}`,
    );
  }
  return {
    issuer: settings.issuer,
    key,
    roles: new Map(settings.roleAssignments.map((a) => [a.principalId.toLowerCase(), a.role])),
  };
}

interface Claims {
  iss?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  oid?: unknown;
}

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

function unauthorized(message: string): DpsError {
  return new DpsError("Unauthorized", message);
}

/** Verifies the JWT of `Authorization: Bearer <jwt>` and the caller's role for `required`. */
export function authenticateBearer(jwt: string, trust: EntraTrust, required: AccessRight, now: Date): ServicePrincipal {
  const parts = jwt.split(".");
  let header: { alg?: unknown };
  let claims: Claims;
  try {
    if (parts.length !== 3) throw new Error("not three segments");
    header = decodeSegment(parts[0]) as { alg?: unknown };
    claims = decodeSegment(parts[1]) as Claims;
    if (typeof header !== "object" || header === null || typeof claims !== "object" || claims === null) {
      throw new Error("not JSON objects");
    }
  } catch {
    throw unauthorized("bearer token is not a JWT");
  }
  // Only RS256: `none` or HS256 signed with the public key must never pass.
  if (header.alg !== "RS256") {
    throw unauthorized(`bearer token algorithm '${String(header.alg)}' is not RS256`);
  }
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  if (!verify("sha256", signed, trust.key, Buffer.from(parts[2], "base64url"))) {
    throw unauthorized("bearer token signature does not verify with the trusted issuer's key");
  }
  if (claims.iss !== trust.issuer) {
    throw unauthorized(`bearer token issuer '${String(claims.iss)}' is not the trusted issuer '${trust.issuer}'`);
  }
  const audiences = Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud];
  if (!audiences.includes(dpsAudience)) {
    throw unauthorized(`bearer token audience '${audiences.map(String).join("', '")}' is not ${dpsAudience}`);
  }
  const nowSeconds = now.getTime() / 1000;
  if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) {
    const when = typeof claims.exp === "number" ? ` at ${new Date(claims.exp * 1000).toISOString()}` : " (no exp)";
    throw unauthorized(`bearer token expired${when}`);
  }
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds) {
    throw unauthorized(`bearer token is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  }
  if (typeof claims.oid !== "string" || claims.oid === "") {
    throw unauthorized("bearer token has no oid (object ID) claim");
  }
  const role = trust.roles.get(claims.oid.toLowerCase());
  if (!role) {
    throw unauthorized(
      `principal '${claims.oid}' has no role assignment on this service (needs ${roleNames.contributor} or ` +
        `${roleNames.reader})`,
    );
  }
  if (!roleRights[role].includes(required)) {
    throw unauthorized(`principal '${claims.oid}' (${roleNames[role]}) lacks the ${required} right`);
  }
  return { principal: `oid:${claims.oid}`, rights: [...roleRights[role]] };
}
