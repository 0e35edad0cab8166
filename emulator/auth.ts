// Authentication as a layer: service-API requests carry a SAS signed with a shared access policy's key, or (opt in,
// entra.ts) a Microsoft Entra ID bearer token, and need the operation's right. Every failure is a 401 with the
// service's error body.
import { authenticateBearer, type EntraTrust } from "./entra";
import { DpsError } from "./errors";
import type { AccessPolicy, AccessRight, EmulatorIdentity } from "./identity";
import { decodedResource, parseSasToken, resourceCovers, signatureMatches } from "./sas";

export interface ServicePrincipal {
  /** For the request log: the policy name, or `oid:<object ID>` for Entra ID. */
  principal: string;
  rights: AccessRight[];
}

/**
 * Verifies `Authorization: SharedAccessSignature …` against the policies, or `Bearer …` against `entra` when it is
 * on. `hostNames` are the names the SAS resource may cover (the configured host name and the Host header's name).
 */
export function authenticateService(
  authorization: string | undefined,
  hostNames: readonly string[],
  identity: EmulatorIdentity,
  required: AccessRight,
  now: Date,
  entra?: EntraTrust,
): ServicePrincipal {
  if (!authorization) {
    throw new DpsError("Unauthorized", "Authorization header is missing: send a SharedAccessSignature");
  }
  if (authorization.startsWith("Bearer ")) {
    if (!entra) {
      throw new DpsError(
        "Unauthorized",
        "Microsoft Entra ID bearer tokens are not accepted by this emulator: use a SharedAccessSignature, or start " +
          "the emulator with --entra-issuer and --entra-key",
      );
    }
    return authenticateBearer(authorization.slice("Bearer ".length).trim(), entra, required, now);
  }
  const policy = verifyPolicySas(
    authorization,
    hostNames,
    "this service",
    identity.policies,
    required,
    now,
    (reason) => new DpsError("Unauthorized", reason),
  );
  return { principal: policy.keyName, rights: policy.rights };
}

/**
 * A SAS token checked against shared access policies, the DPS's or a hub's: well formed, not expired, of an existing
 * policy, signed with one of its keys, for one of `resources`, with the `required` right. `refuse` makes the error.
 */
export function verifyPolicySas<Right extends string>(
  authorization: string,
  resources: readonly string[],
  resourceName: string,
  policies: readonly AccessPolicy<Right>[],
  required: Right,
  now: Date,
  refuse: (reason: string) => Error,
): AccessPolicy<Right> {
  const token = parseSasToken(authorization);
  if (!token) {
    throw refuse("Authorization is not a valid SharedAccessSignature (needs sr, sig, se, skn)");
  }
  if (token.se * 1000 <= now.getTime()) {
    throw refuse(`SharedAccessSignature expired at ${new Date(token.se * 1000).toISOString()}`);
  }
  const policy = policies.find((p) => p.keyName === token.skn);
  if (!policy) {
    throw refuse(`shared access policy '${token.skn ?? ""}' does not exist`);
  }
  if (!signatureMatches(token, policy.primaryKey) && !signatureMatches(token, policy.secondaryKey)) {
    throw refuse(`SharedAccessSignature was not signed with a key of policy '${policy.keyName}'`);
  }
  const resource = decodedResource(token);
  if (!resource || !resources.some((host) => resourceCovers(resource, host))) {
    throw refuse(`SharedAccessSignature resource '${token.sr}' is not ${resourceName}`);
  }
  if (!policy.rights.includes(required)) {
    throw refuse(`shared access policy '${policy.keyName}' lacks the ${required} right`);
  }
  return policy;
}
