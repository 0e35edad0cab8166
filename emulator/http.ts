// HTTP plumbing shared by every handler: the request context, results, body reading and error rendering.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { X509Certificate } from "node:crypto";

import { DpsError, type ErrorBody } from "./errors";

/** DPS rejects messages above 96 KB. */
export const maxBodyBytes = 96 * 1024;

export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  trackingId: string;
  now: Date;
  /** TLS client certificate chain, leaf first (device X.509 attestation). */
  peerCertificates: X509Certificate[];
  /** Who the request was authenticated as, for the request log. */
  principal?: string;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(new DpsError("InvalidRequestBody", `the request body is larger than ${maxBodyBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) {
    return undefined;
  }
  if (contentType !== undefined && !/json/i.test(contentType)) {
    throw new DpsError("UnsupportedMediaType", `Content-Type '${contentType}' is not supported: send application/json`);
  }
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    throw new DpsError("InvalidRequestBody", "the request body is not valid JSON");
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: DpsError, trackingId: string): ErrorBody {
  const body = error.body(trackingId);
  sendJson(res, error.status, body, { "x-ms-error-code": String(error.errorCode), ...error.headers });
  return body;
}
