// Cross-cutting behaviour of the HTTP pipeline: throttling (429 + Retry-After like the service's operations quota),
// fault injection, and the structured request log.
import * as fs from "node:fs";
import type { IncomingMessage } from "node:http";

import type { FaultKind } from "./config";
import { DpsError, newTrackingId } from "./errors";

/** Token bucket refilled continuously at `perMinute` operations per minute; 0 disables it. */
export class Throttle {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = perMinute;
    this.last = clock();
  }

  /** Takes one operation, or throws 429 with the seconds until the next one is allowed. */
  take(): void {
    if (this.perMinute <= 0) return;
    const now = this.clock();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return;
    }
    const waitSeconds = Math.max(1, Math.ceil(((1 - this.tokens) * 60) / this.perMinute));
    throw new DpsError("Throttled", `throttled: more than ${this.perMinute} operations per minute`, {
      "Retry-After": String(waitSeconds),
    });
  }
}

/** What `GET /_emulator/stats` answers: requests by operation and HTTP status, 429s by the throttle included. */
export interface EmulatorStats {
  /** Operation (e.g. `IndividualEnrollment_CreateOrUpdate`) → status (e.g. "200", "429") → requests. */
  operations: Record<string, Record<string, number>>;
  /** Answers of 429 by the throttle, over all operations. */
  throttled: number;
}

/** Counts every answered request of the service and device APIs (the emulator's own endpoints left out). */
export class RequestCounters {
  private readonly counts: EmulatorStats = { operations: {}, throttled: 0 };

  record(entry: Pick<RequestLogEntry, "operation" | "status" | "errorCode">): void {
    const byStatus = (this.counts.operations[entry.operation] ??= {});
    byStatus[String(entry.status)] = (byStatus[String(entry.status)] ?? 0) + 1;
    if (entry.errorCode === 429001) this.counts.throttled++;
  }

  snapshot(): EmulatorStats {
    return structuredClone(this.counts);
  }
}

/** Picks a fault for a request with probability `rate`. */
export class FaultInjector {
  constructor(
    private readonly rate: number,
    private readonly kinds: readonly FaultKind[],
    private readonly random: () => number = Math.random,
  ) {}

  pick(): FaultKind | undefined {
    if (this.rate <= 0 || this.kinds.length === 0 || this.random() >= this.rate) {
      return undefined;
    }
    return this.kinds[Math.floor(this.random() * this.kinds.length) % this.kinds.length];
  }
}

export interface RequestLogEntry {
  time: string;
  trackingId: string;
  api: "service" | "device" | "hub" | "emulator";
  /** Host name of the linked hub a hub request went to. */
  hub?: string;
  operation: string;
  method: string;
  path: string;
  status: number;
  errorCode?: number;
  principal?: string;
  durationMs: number;
  fault?: FaultKind;
}

/** JSON lines, one per request. Never holds headers or bodies, so no key or token reaches it. */
export class RequestLog {
  private readonly stream: NodeJS.WritableStream | undefined;

  constructor(target: string) {
    if (target === "-") {
      this.stream = process.stdout;
    } else if (target !== "") {
      this.stream = fs.createWriteStream(target, { flags: "a" });
    }
  }

  write(entry: RequestLogEntry): void {
    this.stream?.write(`${JSON.stringify(entry)}\n`);
  }

  close(): Promise<void> {
    const stream = this.stream;
    if (!stream || stream === process.stdout) return Promise.resolve();
    return new Promise((resolve) => stream.end(resolve));
  }
}

/** What a pipeline knows of a request before handling it: its tracking ID, URL, and the log entry to fill in. */
export interface RequestStart {
  started: bigint;
  trackingId: string;
  url: URL;
  method: string;
  entry: RequestLogEntry;
}

export function beginRequest(req: IncomingMessage, api: RequestLogEntry["api"]): RequestStart {
  const trackingId = newTrackingId();
  const url = new URL(req.url ?? "/", "https://emulator");
  const method = req.method ?? "GET";
  return {
    started: process.hrtime.bigint(),
    trackingId,
    url,
    method,
    entry: {
      time: new Date().toISOString(),
      trackingId,
      api,
      operation: "unknown",
      method,
      path: url.pathname,
      status: 0,
      durationMs: 0,
    },
  };
}

/** Writes the request's log line with its duration. */
export function endRequest(log: RequestLog, start: RequestStart): void {
  start.entry.durationMs = Number(process.hrtime.bigint() - start.started) / 1e6;
  log.write(start.entry);
}
