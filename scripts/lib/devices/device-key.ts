// A device's symmetric key in a symmetric-key enrollment group, as the device side computes it: DPS never accepts the
// group key itself from a device, only this key derived for its registration ID.
import { createHmac } from "node:crypto";

/** base64(HMAC-SHA256(key = base64-decoded group key, message = UTF-8 registration ID)). */
export function deriveDeviceKey(groupKeyBase64: string, registrationId: string): string {
  return createHmac("sha256", Buffer.from(groupKeyBase64, "base64")).update(registrationId, "utf8").digest("base64");
}
