// Service-API operations on individual enrollments and enrollment groups, one handler per REST operation. The two
// kinds share their rules, so each handler is made for a kind.
import { DpsError } from "../errors";
import { header, type HandlerResult, type RequestContext } from "../http";
import {
  documentId,
  etagMatches,
  normalizeDocument,
  present,
  presentAttestation,
  validateId,
  type StoredDocument,
} from "../model/enrollment";
import type { EnrollmentKind, IndividualEnrollment } from "../model/types";
import { presentRegistration } from "./registrations";
import { pageRequest, pageResult } from "./paging";
import { linkedHubNames, type Services } from "./services";

export type Handler = (ctx: RequestContext, services: Services) => HandlerResult | Promise<HandlerResult>;

/** The quotas of a DPS instance. */
export const quotas = { individualEnrollments: 1_000_000, groupsPerAttestationType: 100 };

const names = {
  enrollment: { noun: "Enrollment", field: "registrationId", notFound: "EnrollmentNotFound", itemType: "Enrollment" },
  group: {
    noun: "Enrollment group",
    field: "enrollmentGroupId",
    notFound: "EnrollmentGroupNotFound",
    itemType: "EnrollmentGroup",
  },
} as const;

function pathId(kind: EnrollmentKind, ctx: RequestContext): string {
  return validateId(names[kind].field, ctx.params.id);
}

function load(kind: EnrollmentKind, id: string, services: Services): StoredDocument {
  const doc = services.store.getDocument(kind, id);
  if (!doc) {
    throw new DpsError(names[kind].notFound, `${names[kind].noun} '${id}' was not found`);
  }
  return doc;
}

/** GET and query answers: keys hidden, and an individual enrollment carries its device's registration state. */
function presentStored(kind: EnrollmentKind, doc: StoredDocument, services: Services): StoredDocument {
  const shown = present(doc, false);
  if (kind === "enrollment") {
    const record = services.store.getRegistration(documentId(doc));
    if (record && record.enrollmentGroupId === undefined) {
      (shown as IndividualEnrollment).registrationState = presentRegistration(record);
    }
  }
  return shown;
}

export function getDocument(kind: EnrollmentKind): Handler {
  return (ctx, services) => ({
    status: 200,
    body: presentStored(kind, load(kind, pathId(kind, ctx), services), services),
  });
}

function checkQuota(kind: EnrollmentKind, doc: StoredDocument, services: Services): void {
  if (kind === "enrollment" && services.store.countDocuments("enrollment") >= quotas.individualEnrollments) {
    throw new DpsError(
      "QuotaExceeded",
      `this service already holds ${quotas.individualEnrollments} individual enrollments, the maximum`,
    );
  }
  if (kind === "group" && services.store.countGroups(doc.attestation.type) >= quotas.groupsPerAttestationType) {
    throw new DpsError(
      "QuotaExceeded",
      `this service already holds ${quotas.groupsPerAttestationType} enrollment groups with ${doc.attestation.type} attestation, the maximum`,
    );
  }
}

/** Create when absent (no If-Match), update when If-Match is `*` or the current etag. */
function write(
  kind: EnrollmentKind,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  ctx: RequestContext,
  services: Services,
): StoredDocument {
  return services.store.transaction(() => {
    const existing = services.store.getDocument(kind, id);
    if (existing && ifMatch === undefined) {
      throw new DpsError(
        "Conflict",
        `${names[kind].noun} '${id}' already exists: send If-Match with its etag (or *) to update it`,
      );
    }
    if (!existing && ifMatch !== undefined) {
      throw new DpsError("PreconditionFailed", `${names[kind].noun} '${id}' does not exist, so If-Match cannot match`);
    }
    if (existing && ifMatch !== undefined && !etagMatches(ifMatch, existing.etag)) {
      throw new DpsError(
        "PreconditionFailed",
        `${names[kind].noun} '${id}' has changed: If-Match ${ifMatch} is not its current etag`,
      );
    }
    const doc = normalizeDocument(body, {
      kind,
      pathId: id,
      linkedHubs: linkedHubNames(services),
      existing,
      now: ctx.now,
    });
    if (!existing) {
      checkQuota(kind, doc, services);
    }
    services.store.putDocument(kind, doc);
    return doc;
  });
}

export function putDocument(kind: EnrollmentKind): Handler {
  return (ctx, services) => {
    const doc = write(kind, pathId(kind, ctx), ctx.body, header(ctx, "if-match"), ctx, services);
    return { status: 200, body: present(doc, true) };
  };
}

function remove(kind: EnrollmentKind, id: string, ifMatch: string | undefined, services: Services): void {
  services.store.transaction(() => {
    const existing = load(kind, id, services);
    if (ifMatch !== undefined && !etagMatches(ifMatch, existing.etag)) {
      throw new DpsError(
        "PreconditionFailed",
        `${names[kind].noun} '${id}' has changed: If-Match ${ifMatch} is not its current etag`,
      );
    }
    services.store.deleteDocument(kind, id);
    // An individual enrollment's registration record goes with it; a group's devices keep theirs (as in DPS).
    if (kind === "enrollment") {
      const record = services.store.getRegistration(id);
      if (record && record.enrollmentGroupId === undefined) {
        services.store.deleteRegistration(id);
      }
    }
  });
}

export function deleteDocument(kind: EnrollmentKind): Handler {
  return (ctx, services) => {
    remove(kind, pathId(kind, ctx), header(ctx, "if-match"), services);
    return { status: 204 };
  };
}

export function getAttestationMechanism(kind: EnrollmentKind): Handler {
  return (ctx, services) => ({
    status: 200,
    body: presentAttestation(load(kind, pathId(kind, ctx), services).attestation, true),
  });
}

function requireQuerySpecification(body: unknown): void {
  if (typeof body !== "object" || body === null || typeof (body as { query?: unknown }).query !== "string") {
    throw new DpsError("ArgumentInvalid", 'the query specification must be {"query": "<query text>"}');
  }
}

export function queryDocuments(kind: EnrollmentKind): Handler {
  return (ctx, services) => {
    requireQuerySpecification(ctx.body);
    const request = pageRequest(ctx);
    const page = services.store.listDocuments(kind, request.after, request.size);
    return pageResult(page, request.size, names[kind].itemType, (doc) => presentStored(kind, doc, services));
  };
}

const bulkModes = ["create", "update", "updateifmatchetag", "delete"] as const;
export const maxBulkItems = 10;

/** Bulk operations answer 200 with per-item errors; the SDK's own mode spelling is `updateIfMatchEtag`. */
export function bulkOperation(kind: EnrollmentKind): Handler {
  return (ctx, services) => {
    const body = ctx.body as { mode?: unknown; enrollments?: unknown; enrollmentGroups?: unknown } | undefined;
    const mode = typeof body?.mode === "string" ? body.mode.toLowerCase() : undefined;
    if (!mode || !(bulkModes as readonly string[]).includes(mode)) {
      throw new DpsError("ArgumentInvalid", "mode must be one of create, update, updateIfMatchETag, delete");
    }
    const listField = kind === "enrollment" ? "enrollments" : "enrollmentGroups";
    const items = body?.[listField];
    if (!Array.isArray(items) || items.length === 0) {
      throw new DpsError("ArgumentInvalid", `${listField} must be a non-empty list`);
    }
    if (items.length > maxBulkItems) {
      throw new DpsError(
        "BulkOperationTooLarge",
        `a bulk operation takes at most ${maxBulkItems} items (got ${items.length})`,
      );
    }
    const idField = names[kind].field;
    const errors: Record<string, unknown>[] = [];
    for (const item of items as unknown[]) {
      const rawId = (item as Record<string, unknown> | null)?.[idField];
      try {
        const id = validateId(idField, rawId);
        const etag = (item as { etag?: unknown }).etag;
        const exists = services.store.getDocument(kind, id) !== undefined;
        switch (mode) {
          case "create":
            write(kind, id, item, undefined, ctx, services);
            break;
          case "update":
            write(kind, id, item, exists ? "*" : undefined, ctx, services);
            break;
          case "updateifmatchetag":
            write(kind, id, item, exists ? (typeof etag === "string" ? etag : "") : undefined, ctx, services);
            break;
          case "delete":
            remove(kind, id, typeof etag === "string" ? etag : undefined, services);
            break;
        }
      } catch (err) {
        if (!(err instanceof DpsError)) {
          throw err;
        }
        errors.push({
          [idField]: typeof rawId === "string" ? rawId : "",
          errorCode: err.errorCode,
          errorStatus: err.message,
        });
      }
    }
    return { status: 200, body: { isSuccessful: errors.length === 0, errors } };
  };
}
