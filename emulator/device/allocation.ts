// Choosing a device's IoT hub: hashed (weighted), geoLatency (hashed locally: there is no geography here), static,
// and the candidate set an enrollment allows. Custom allocation lives in webhook.ts.
import { createHash } from "node:crypto";

import type { LinkedHub } from "../config";
import type { AllocationPolicy, EnrollmentCommon } from "../model/types";

/** Hubs an enrollment may be assigned to: its iotHubs, else every linked hub that applies allocation policy. */
export function candidateHubs(doc: EnrollmentCommon, linkedHubs: readonly LinkedHub[]): LinkedHub[] {
  if (doc.iotHubs && doc.iotHubs.length > 0) {
    return doc.iotHubs.flatMap((name) => linkedHubs.filter((h) => h.hostName === name));
  }
  if (doc.iotHubHostName) {
    return linkedHubs.filter((h) => h.hostName === doc.iotHubHostName);
  }
  return linkedHubs.filter((h) => h.applyAllocationPolicy);
}

/** The policy in effect: the enrollment's own, the legacy single hub (static), or the service default (hashed). */
export function effectivePolicy(doc: EnrollmentCommon): AllocationPolicy {
  if (doc.allocationPolicy) return doc.allocationPolicy;
  return doc.iotHubHostName ? "static" : "hashed";
}

/** Weighted hash of the registration ID over the hubs: stable for a device, proportional to allocationWeight. */
export function hashedHub(registrationId: string, hubs: readonly LinkedHub[]): LinkedHub | undefined {
  if (hubs.length === 0) return undefined;
  const total = hubs.reduce((sum, h) => sum + h.allocationWeight, 0);
  const point = createHash("sha256").update(registrationId).digest().readUInt32BE(0) % total;
  let acc = 0;
  for (const hub of hubs) {
    acc += hub.allocationWeight;
    if (point < acc) return hub;
  }
  return hubs[hubs.length - 1];
}

/** The hub a non-custom policy assigns, or why there is none (the registration then fails). */
export type Allocation = { hub: LinkedHub } | { problem: string };

export function allocate(registrationId: string, doc: EnrollmentCommon, linkedHubs: readonly LinkedHub[]): Allocation {
  const hubs = candidateHubs(doc, linkedHubs);
  if (hubs.length === 0) {
    return { problem: "the enrollment leaves no IoT hub to assign the device to" };
  }
  if (effectivePolicy(doc) !== "static") {
    return { hub: hashedHub(registrationId, hubs) ?? hubs[0] };
  }
  // Static with no hub of its own: the service documents that the enrollment must then name one; with a single
  // linked hub that applies, it is that hub, with more the emulator refuses to pick one for the device.
  if (hubs.length > 1) {
    return {
      problem:
        `allocationPolicy static names no hub and ${hubs.length} linked hubs apply ` +
        `(${hubs.map((h) => h.hostName).join(", ")}): list one in the enrollment's iotHubs`,
    };
  }
  return { hub: hubs[0] };
}
