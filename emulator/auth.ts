// Authentication as a layer: service-API requests carry a SAS signed with a shared access policy's key and need the
// operation's right. Every failure is a 401 with the service's error body.
import { DpsError } from "./errors";
import type { AccessRight, EmulatorIdentity } from "./identity";
import { decodedResource, parseSasToken, resourceCovers, signatureMatches } from "./sas";

export interface ServicePrincipal {
  policy: string;
  rights: AccessRight[];
}

/**
 * Verifies `Authorization: SharedAccessSignature …` against the policies. `hostNames` are the names the token's
 * resource may cover (the configured host name and the Host header's name).
 */
export function authenticateService(
  authorization: string | undefined,
  hostNames: readonly string[],
  identity: EmulatorIdentity,
  required: AccessRight,
  now: Date,
): ServicePrincipal {
  if (!authorization) {
    throw new DpsError("Unauthorized", "Authorization header is missing: send a SharedAccessSignature");
  }
  if (authorization.startsWith("Bearer ")) {
    throw new DpsError(
      "Unauthorized",
      "Microsoft Entra ID bearer tokens are not accepted by the emulator: use a SharedAccessSignature",
    );
  }
  const token = parseSasToken(authorization);
  if (!token) {
    throw new DpsError("Unauthorized", "Authorization is not a valid SharedAccessSignature (needs sr, sig, se, skn)");
  }
  if (token.se * 1000 <= now.getTime()) {
    throw new DpsError("Unauthorized", `SharedAccessSignature expired at ${new Date(token.se * 1000).toISOString()}`);
  }
  const policy = identity.policies.find((p) => p.keyName === token.skn);
  if (!policy) {
    throw new DpsError("Unauthorized", `shared access policy '${token.skn ?? ""}' does not exist`);
  }
  if (!signatureMatches(token, policy.primaryKey) && !signatureMatches(token, policy.secondaryKey)) {
    throw new DpsError("Unauthorized", `SharedAccessSignature was not signed with a key of policy '${policy.keyName}'`);
  }
  const resource = decodedResource(token);
  if (!resource || !hostNames.some((host) => resourceCovers(resource, host))) {
    throw new DpsError("Unauthorized", `SharedAccessSignature resource '${token.sr}' is not this service`);
  }
  if (!policy.rights.includes(required)) {
    throw new DpsError("Unauthorized", `shared access policy '${policy.keyName}' lacks the ${required} right`);
  }
  return { policy: policy.keyName, rights: policy.rights };
}
