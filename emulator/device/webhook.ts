// Custom allocation: POSTs the documented AllocationRequest to the enrollment's webhook and reads its
// AllocationResponse ({iotHubHostName, initialTwin?, payload?}).
import * as http from "node:http";
import * as https from "node:https";

import type { InitialTwin } from "../model/types";

export interface AllocationRequest {
  individualEnrollment?: unknown;
  enrollmentGroup?: unknown;
  deviceRuntimeContext: {
    registrationId: string;
    currentIotHubHostName?: string;
    currentDeviceId?: string;
    symmetricKey?: Record<string, never>;
    x509?: Record<string, never>;
    payload?: unknown;
  };
  linkedHubs: string[];
}

export interface AllocationResponse {
  iotHubHostName: string;
  initialTwin?: InitialTwin;
  payload?: unknown;
}

const timeoutMs = 10_000;

export function callWebhook(webhookUrl: string, request: AllocationRequest): Promise<AllocationResponse> {
  const url = new URL(webhookUrl);
  const body = JSON.stringify(request);
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`the webhook answered HTTP ${res.statusCode}`));
            return;
          }
          try {
            const parsed = JSON.parse(text) as Partial<AllocationResponse>;
            if (typeof parsed.iotHubHostName !== "string") {
              reject(new Error("the webhook's answer has no iotHubHostName"));
              return;
            }
            resolve(parsed as AllocationResponse);
          } catch {
            reject(new Error("the webhook's answer is not JSON"));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`the webhook did not answer within ${timeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end(body);
  });
}
