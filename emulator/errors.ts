// The one error type of the emulator. It renders the body DPS sends (ProvisioningServiceErrorDetails) and the
// `x-ms-error-code` header; every code has six digits whose first three are the HTTP status, as the service's do.
import { randomUUID } from "node:crypto";

/** Error codes of the emulator, by name. Codes seen from the real service are used where known (401002, 404201). */
export const ErrorCodes = {
  InvalidRequestBody: 400001,
  ArgumentInvalid: 400002,
  InvalidRegistrationId: 400003,
  InvalidCertificate: 400004,
  InvalidAllocation: 400005,
  AttestationTypeChange: 400006,
  InvalidApiVersion: 400007,
  BulkOperationTooLarge: 400008,
  InvalidContinuationToken: 400009,
  Unauthorized: 401002,
  QuotaExceeded: 403001,
  ResourceNotFound: 404001,
  DeviceEnrollmentNotFound: 404201,
  EnrollmentNotFound: 404202,
  EnrollmentGroupNotFound: 404203,
  RegistrationNotFound: 404204,
  OperationNotFound: 404205,
  MethodNotAllowed: 405001,
  Conflict: 409001,
  PreconditionFailed: 412002,
  UnsupportedMediaType: 415001,
  Throttled: 429001,
  InternalServerError: 500001,
  ServiceUnavailable: 503001,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

export interface ErrorBody {
  errorCode: number;
  trackingId: string;
  message: string;
  timestampUtc: string;
}

export class DpsError extends Error {
  readonly status: number;
  readonly errorCode: number;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCodeName, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "DpsError";
    this.errorCode = ErrorCodes[code];
    this.status = Math.floor(this.errorCode / 1000);
    this.headers = headers;
  }

  body(trackingId: string, now: Date = new Date()): ErrorBody {
    return { errorCode: this.errorCode, trackingId, message: this.message, timestampUtc: formatTimestamp(now) };
  }
}

/** DPS timestamps carry seven fractional digits: 2022-08-31T22:02:50.5163352Z. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

export function newTrackingId(): string {
  return randomUUID();
}
