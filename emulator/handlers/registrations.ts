// Service-API operations on device registration states: get, delete, and query by enrollment group.
import { DpsError } from "../errors";
import { header, type HandlerResult, type RequestContext } from "../http";
import { etagMatches, validateId } from "../model/enrollment";
import type { DeviceRegistrationState, RegistrationRecord } from "../model/types";
import { pageRequest, pageResult } from "./paging";
import type { Services } from "./services";

/** The service-API view of a record: internal bookkeeping removed. */
export function presentRegistration(record: RegistrationRecord): DeviceRegistrationState {
  const { enrollmentGroupId, attestationType, hubHistory, ...state } = record;
  return state;
}

function load(ctx: RequestContext, services: Services): RegistrationRecord {
  const id = validateId("registrationId", ctx.params.id);
  const record = services.store.getRegistration(id);
  if (!record) {
    throw new DpsError("RegistrationNotFound", `no registration state for '${id}': the device has not registered`);
  }
  return record;
}

export function getRegistration(ctx: RequestContext, services: Services): HandlerResult {
  return { status: 200, body: presentRegistration(load(ctx, services)) };
}

export function deleteRegistration(ctx: RequestContext, services: Services): HandlerResult {
  services.store.transaction(() => {
    const record = load(ctx, services);
    const ifMatch = header(ctx, "if-match");
    if (ifMatch !== undefined && !etagMatches(ifMatch, record.etag)) {
      throw new DpsError(
        "PreconditionFailed",
        `registration state '${record.registrationId}' has changed: If-Match ${ifMatch} is not its current etag`,
      );
    }
    services.store.deleteRegistration(record.registrationId);
  });
  return { status: 204 };
}

/** The query body is ignored, as the 2021-10-01 spec defines none (the C# SDK still sends one). */
export function queryRegistrations(ctx: RequestContext, services: Services): HandlerResult {
  const groupId = validateId("enrollmentGroupId", ctx.params.id);
  const request = pageRequest(ctx);
  const page = services.store.listRegistrationsOfGroup(groupId, request.after, request.size);
  return pageResult(page, request.size, "DeviceRegistration", presentRegistration);
}
