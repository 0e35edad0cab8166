// The one error type of the emulated IoT hubs. It renders the body IoT Hub's REST API sends,
// {"Message":"ErrorCode:<code>;<text>","ExceptionMessage":"Tracking ID:…-G:…-TimeStamp:…"}, which Microsoft's
// azure-iothub client parses into DeviceNotFoundError, UnauthorizedError, InvalidEtagError and so on, and the
// `iothub-errorcode` header. The codes and their statuses are the service's; the texts are the emulator's own.

/** IoT Hub error codes by name, with their six-digit numbers (the first three are the HTTP status). */
export const HubErrorCodes = {
  ArgumentInvalid: 400004,
  InvalidProtocolVersion: 400001,
  IotHubUnauthorizedAccess: 401002,
  DeviceNotFound: 404001,
  NotFound: 404000,
  MethodNotAllowed: 405000,
  DeviceAlreadyExists: 409001,
  PreconditionFailed: 412002,
  RequestEntityTooLarge: 413000,
  InternalServerError: 500001,
} as const;

export type HubErrorCode = keyof typeof HubErrorCodes;

export interface HubErrorBody {
  Message: string;
  ExceptionMessage: string;
}

export class HubError extends Error {
  readonly status: number;
  readonly errorCode: number;

  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "HubError";
    this.errorCode = HubErrorCodes[code];
    this.status = Math.floor(this.errorCode / 1000);
  }

  body(trackingId: string, now: Date = new Date()): HubErrorBody {
    return {
      Message: `ErrorCode:${this.code};${this.message}`,
      ExceptionMessage: `Tracking ID:${trackingId.replace(/-/g, "")}-G:0-TimeStamp:${hubTimestamp(now)}`,
    };
  }
}

/** The TimeStamp of IoT Hub's ExceptionMessage: MM/DD/YYYY HH:MM:SS in UTC. */
function hubTimestamp(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return (
    `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`
  );
}
