// Device-API operations over HTTPS: register (202 + operationId + Retry-After), operation status, status lookup.
import { DpsError } from "../errors";
import { header, type RequestContext } from "../http";
import type { DeviceCredentials, Registrar } from "../device/registrar";
import type { Route } from "../router";

/** Seconds a device should wait before polling; the SDK's default would be 2 s. */
export const retryAfterSeconds = 1;

function credentials(ctx: RequestContext): DeviceCredentials {
  return {
    idScope: ctx.params.idScope,
    registrationId: ctx.params.registrationId,
    sas: header(ctx, "authorization"),
    peerCertificates: ctx.peerCertificates,
  };
}

function bodyRegistrationId(ctx: RequestContext): void {
  const body = ctx.body as { registrationId?: unknown } | undefined;
  const given = body?.registrationId;
  if (
    given !== undefined &&
    (typeof given !== "string" || given.toLowerCase() !== ctx.params.registrationId.toLowerCase())
  ) {
    throw new DpsError(
      "ArgumentInvalid",
      `registrationId ${JSON.stringify(given)} in the body does not match '${ctx.params.registrationId}' in the URL`,
    );
  }
  if ((body as { tpm?: unknown } | undefined)?.tpm !== undefined) {
    throw new DpsError("Unauthorized", "TPM attestation is not emulated: use a symmetric key or an X.509 certificate");
  }
}

export function deviceRoutes(registrar: Registrar): Route[] {
  const device = { kind: "device" } as const;
  return [
    {
      operation: "RuntimeRegistration_RegisterDevice",
      method: "PUT",
      pattern: /^\/([^/]+)\/registrations\/([^/]+)\/register\/?$/i,
      params: ["idScope", "registrationId"],
      auth: device,
      handler: async (ctx) => {
        bodyRegistrationId(ctx);
        const creds = credentials(ctx);
        const match = registrar.authenticate(creds);
        ctx.principal = creds.registrationId;
        const payload = (ctx.body as { payload?: unknown } | undefined)?.payload;
        const operation = await registrar.register(creds, match, payload);
        return {
          status: 202,
          body: { operationId: operation.operationId, status: "assigning" },
          headers: { "Retry-After": String(retryAfterSeconds) },
        };
      },
    },
    {
      operation: "RuntimeRegistration_OperationStatusLookup",
      method: "GET",
      pattern: /^\/([^/]+)\/registrations\/([^/]+)\/operations\/([^/]+)\/?$/i,
      params: ["idScope", "registrationId", "operationId"],
      auth: device,
      handler: (ctx) => {
        registrar.authenticate(credentials(ctx));
        ctx.principal = ctx.params.registrationId;
        return { status: 200, body: registrar.operation(ctx.params.registrationId, ctx.params.operationId) };
      },
    },
    {
      operation: "RuntimeRegistration_DeviceRegistrationStatusLookup",
      method: "POST",
      pattern: /^\/([^/]+)\/registrations\/([^/]+)\/?$/i,
      params: ["idScope", "registrationId"],
      auth: device,
      handler: (ctx) => {
        bodyRegistrationId(ctx);
        registrar.authenticate(credentials(ctx));
        ctx.principal = ctx.params.registrationId;
        return { status: 200, body: registrar.status(ctx.params.registrationId) };
      },
    },
  ];
}
