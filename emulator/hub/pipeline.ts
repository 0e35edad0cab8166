// The HTTPS pipeline of the emulated IoT hubs, for requests whose Host is a linked hub: route, api-version, SAS of
// one of that hub's own policies (a DPS key never works here), body, handler, IoT Hub's error body, request log.
// Throttling and fault injection are the DPS's (--throttle, --faults) and do not apply.
import type { IncomingMessage, ServerResponse } from "node:http";

import { verifyPolicySas } from "../auth";
import type { LinkedHub } from "../config";
import { DpsError, formatTimestamp } from "../errors";
import { parseJsonBody, readBody, sendJson } from "../http";
import { hubPolicies, type EmulatorIdentity } from "../identity";
import { beginRequest, endRequest, type RequestLog } from "../middleware";
import { matchRoute } from "../router";
import type { Store } from "../store/store";
import { HubError } from "./errors";
import { hubApiVersions, hubRoutes } from "./registry";

/** A request the DPS layers refused (body too large, not JSON) as the hub's error. */
function asHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof DpsError && err.status === 413) return new HubError("RequestEntityTooLarge", err.message);
  if (err instanceof DpsError && err.status < 500) return new HubError("ArgumentInvalid", err.message);
  return new HubError("InternalServerError", "the emulator failed to handle the request");
}

export class HubPipeline {
  constructor(
    private readonly store: Store,
    private readonly identity: EmulatorIdentity,
    private readonly log: RequestLog,
  ) {}

  async handle(hub: LinkedHub, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = beginRequest(req, "hub");
    const { trackingId, url, method, entry } = start;
    entry.hub = hub.hostName;
    try {
      let found;
      try {
        found = matchRoute(hubRoutes, method, url.pathname);
      } catch {
        throw new HubError("ArgumentInvalid", "the request path is not correctly URL-encoded");
      }
      if (!found.match) {
        throw found.methodMismatch
          ? new HubError("MethodNotAllowed", `${method} is not allowed on ${url.pathname}`)
          : new HubError("NotFound", `no operation at ${method} ${url.pathname} on this hub`);
      }
      const { route, params } = found.match;
      entry.operation = route.operation;
      const version = url.searchParams.get("api-version");
      if (!version || !hubApiVersions.includes(version)) {
        throw new HubError(
          "InvalidProtocolVersion",
          `api-version ${version ? `'${version}' is not supported` : "is required"} (supported: ${hubApiVersions.join(", ")})`,
        );
      }
      const now = new Date();
      const authorization = req.headers.authorization;
      const refuse = (reason: string): HubError => new HubError("IotHubUnauthorizedAccess", `Unauthorized: ${reason}`);
      if (!authorization) {
        throw refuse("no Authorization header: send a SharedAccessSignature of one of the hub's policies");
      }
      if (authorization.startsWith("Bearer ")) {
        throw refuse(
          "the emulator's hubs take no Microsoft Entra ID tokens: use one of the hub's shared access policies",
        );
      }
      const policy = verifyPolicySas(
        authorization,
        [hub.hostName],
        `this hub (${hub.hostName})`,
        hubPolicies(this.identity, hub.hostName),
        route.right,
        now,
        refuse,
      );
      entry.principal = policy.keyName;
      const result = route.handler(
        {
          hub,
          params,
          query: url.searchParams,
          ifMatch: req.headers["if-match"],
          body: parseJsonBody(await readBody(req), req.headers["content-type"]),
          now: formatTimestamp(now),
        },
        this.store,
      );
      sendJson(res, result.status, result.body);
      entry.status = result.status;
    } catch (err) {
      const error = asHubError(err);
      if (error.code === "InternalServerError") {
        console.error(`[emulator] hub ${hub.hostName} ${trackingId}:`, err);
      }
      if (!res.headersSent) {
        sendJson(res, error.status, error.body(trackingId), { "iothub-errorcode": error.code });
      }
      entry.status = error.status;
      entry.errorCode = error.errorCode;
    } finally {
      endRequest(this.log, start);
    }
  }
}
