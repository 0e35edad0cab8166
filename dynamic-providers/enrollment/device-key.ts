// A device's key in a symmetric-key enrollment group: DPS never holds it, the device derives it from the group key
// and its registration ID, and DPS does the same to check the device's token.
import { createHmac } from "node:crypto";

/** base64(HMAC-SHA256(key = base64-decoded group key, message = the registration ID in UTF-8)). */
export function deriveDeviceKey(groupKeyBase64: string, registrationId: string): string {
  const key = Buffer.from(groupKeyBase64, "base64");
  if (key.length === 0 || key.toString("base64") !== groupKeyBase64.replace(/\s+/g, "")) {
    throw new Error("the group key must be base64 (a symmetric-key enrollment group's primary or secondary key)");
  }
  if (registrationId.length === 0) throw new Error("the registration ID must not be empty");
  return createHmac("sha256", key).update(registrationId, "utf8").digest("base64");
}
