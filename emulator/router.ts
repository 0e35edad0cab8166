// The route table: one entry per REST operation, with the right it needs. Paths match case-insensitively and
// ignore a trailing slash (the Node SDK posts bulk operations to `/enrollments/` and lower-cases
// `/enrollmentgroups/{id}/attestationmechanism`).
import type { AccessRight } from "./identity";
import type { EnrollmentKind } from "./model/types";
import type { Handler } from "./handlers/enrollments";
import {
  bulkOperation,
  deleteDocument,
  getAttestationMechanism,
  getDocument,
  putDocument,
  queryDocuments,
} from "./handlers/enrollments";
import { deleteRegistration, getRegistration, queryRegistrations } from "./handlers/registrations";

export type RouteAuth = { kind: "service"; right: AccessRight } | { kind: "device" } | { kind: "none" };

export interface Route {
  /** Operation name, for the request log. */
  operation: string;
  method: string;
  pattern: RegExp;
  params: string[];
  auth: RouteAuth;
  handler: Handler;
}

/** Accepted `api-version` values of the service and device APIs. */
export const apiVersions = {
  service: ["2021-10-01", "2019-03-31", "2025-07-01-preview"],
  device: ["2021-10-01", "2019-03-31", "2021-06-01", "2025-07-01-preview"],
};

/** A path template (`/devices/{id}`) as a case-insensitive pattern that ignores a trailing slash, and its params. */
export function pathPattern(template: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  const source = template
    .split("/")
    .map((segment) => {
      if (segment.startsWith("{")) {
        params.push(segment.slice(1, -1));
        return "([^/]+)";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { pattern: new RegExp(`^${source}/?$`, "i"), params };
}

function route(operation: string, method: string, template: string, auth: RouteAuth, handler: Handler): Route {
  return { operation, method, ...pathPattern(template), auth, handler };
}

const read: RouteAuth = { kind: "service", right: "EnrollmentRead" };
const write: RouteAuth = { kind: "service", right: "EnrollmentWrite" };
const registrationRead: RouteAuth = { kind: "service", right: "RegistrationStatusRead" };
const registrationWrite: RouteAuth = { kind: "service", right: "RegistrationStatusWrite" };

/** The six operations individual enrollments and enrollment groups share, under their operation-id prefix. */
function documentRoutes(kind: EnrollmentKind, prefix: string, collection: string): Route[] {
  return [
    route(`${prefix}_Query`, "POST", `${collection}/query`, read, queryDocuments(kind)),
    route(`${prefix}_RunBulkOperation`, "POST", collection, write, bulkOperation(kind)),
    route(`${prefix}_Get`, "GET", `${collection}/{id}`, read, getDocument(kind)),
    route(`${prefix}_CreateOrUpdate`, "PUT", `${collection}/{id}`, write, putDocument(kind)),
    route(`${prefix}_Delete`, "DELETE", `${collection}/{id}`, write, deleteDocument(kind)),
    route(
      `${prefix}_GetAttestationMechanism`,
      "POST",
      `${collection}/{id}/attestationmechanism`,
      read,
      getAttestationMechanism(kind),
    ),
  ];
}

export const serviceRoutes: Route[] = [
  ...documentRoutes("enrollment", "IndividualEnrollment", "/enrollments"),
  ...documentRoutes("group", "EnrollmentGroup", "/enrollmentGroups"),
  route("DeviceRegistrationState_Get", "GET", "/registrations/{id}", registrationRead, getRegistration),
  route("DeviceRegistrationState_Delete", "DELETE", "/registrations/{id}", registrationWrite, deleteRegistration),
  route("DeviceRegistrationState_Query", "POST", "/registrations/{id}/query", registrationRead, queryRegistrations),
];

/** What matchRoute needs of a route (the DPS's and the hubs' routes alike). */
export interface RoutePattern {
  method: string;
  pattern: RegExp;
  params: string[];
}

export interface Match<R extends RoutePattern = Route> {
  route: R;
  params: Record<string, string>;
}

/** Finds the route for a request; `methodMismatch` tells 405 from 404. */
export function matchRoute<R extends RoutePattern>(
  routes: readonly R[],
  method: string,
  path: string,
): { match?: Match<R>; methodMismatch: boolean } {
  let methodMismatch = false;
  for (const candidate of routes) {
    const m = candidate.pattern.exec(path);
    if (!m) continue;
    if (candidate.method !== method) {
      methodMismatch = true;
      continue;
    }
    const params: Record<string, string> = {};
    candidate.params.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1]);
    });
    return { match: { route: candidate, params }, methodMismatch: false };
  }
  return { methodMismatch };
}
