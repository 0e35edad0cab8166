// Query paging as DPS does it: page size in `x-ms-max-item-count`, an opaque `x-ms-continuation` token that is
// present only while more pages exist (an empty one would make the Node SDK loop forever).
import { DpsError } from "../errors";
import { header, type HandlerResult, type RequestContext } from "../http";
import type { Page } from "../store/store";

export const defaultPageSize = 100;
export const maxPageSize = 1000;

export interface PageRequest {
  after: string | undefined;
  size: number;
}

export function pageRequest(ctx: RequestContext): PageRequest {
  const sizeHeader = header(ctx, "x-ms-max-item-count");
  let size = defaultPageSize;
  if (sizeHeader !== undefined && sizeHeader !== "") {
    size = Number(sizeHeader);
    if (!Number.isInteger(size) || size < 1) {
      throw new DpsError("ArgumentInvalid", `x-ms-max-item-count '${sizeHeader}' must be a positive whole number`);
    }
    size = Math.min(size, maxPageSize);
  }
  const token = header(ctx, "x-ms-continuation");
  return { after: token ? decodeContinuation(token) : undefined, size };
}

function decodeContinuation(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string") {
      return parsed.after;
    }
  } catch {
    // fall through to the error below
  }
  throw new DpsError("InvalidContinuationToken", "x-ms-continuation is not a token this service issued");
}

export function pageResult<T>(
  page: Page<T>,
  size: number,
  itemType: string,
  present: (item: T) => unknown,
): HandlerResult {
  const headers: Record<string, string> = { "x-ms-item-type": itemType, "x-ms-max-item-count": String(size) };
  if (page.next !== undefined) {
    headers["x-ms-continuation"] = Buffer.from(JSON.stringify({ after: page.next })).toString("base64");
  }
  return { status: 200, body: page.items.map(present), headers };
}
