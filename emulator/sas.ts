// Shared access signatures as DPS uses them: parsing, signing, verification and derived device keys. Pure functions;
// the service-API and device-API authentication layers (auth.ts) decide which keys to try.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface SasToken {
  /** The resource URI exactly as it appears in the token (signed in this form). */
  sr: string;
  /** The signature, URL-decoded (base64). */
  sig: string;
  /** Expiry, seconds since the Unix epoch. */
  se: number;
  skn?: string;
}

const prefix = "SharedAccessSignature ";

/** Parses `SharedAccessSignature sr=…&sig=…&se=…&skn=…` (fields in any order); undefined when malformed. */
export function parseSasToken(value: string | undefined): SasToken | undefined {
  if (!value?.startsWith(prefix)) {
    return undefined;
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(prefix.length).trim().split("&")) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      return undefined;
    }
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = fields.get("sr");
  const sig = fields.get("sig");
  const se = Number(fields.get("se"));
  if (!sr || !sig || !Number.isFinite(se)) {
    return undefined;
  }
  const skn = fields.get("skn");
  try {
    return { sr, sig: decodeURIComponent(sig), se, skn: skn === undefined ? undefined : decodeURIComponent(skn) };
  } catch {
    return undefined;
  }
}

/** base64(HMAC-SHA256(base64decode(key), message)). */
export function hmacBase64(base64Key: string, message: string): string {
  return createHmac("sha256", Buffer.from(base64Key, "base64")).update(message, "utf8").digest("base64");
}

/** The signature of a token: HMAC over `sr + "\n" + se`, with sr exactly as written in the token. */
export function signSas(base64Key: string, sr: string, se: number): string {
  return hmacBase64(base64Key, `${sr}\n${se}`);
}

/** True when the token's signature was made with the key (constant-time comparison). */
export function signatureMatches(token: SasToken, base64Key: string): boolean {
  const expected = Buffer.from(signSas(base64Key, token.sr, token.se));
  const actual = Buffer.from(token.sig);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Builds a token the way Microsoft's SDKs do (used by tests and tools). */
export function createSasToken(sr: string, base64Key: string, se: number, skn?: string): string {
  const sig = encodeURIComponent(signSas(base64Key, sr, se));
  return `${prefix}sr=${sr}&sig=${sig}&se=${se}${skn === undefined ? "" : `&skn=${encodeURIComponent(skn)}`}`;
}

/** A group enrollment's device key: base64(HMAC-SHA256(base64decode(groupKey), registrationId)). */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return hmacBase64(groupKey, registrationId);
}

/** The token's resource URI, URL-decoded (clients send it raw or encoded), or undefined when undecodable. */
export function decodedResource(token: SasToken): string | undefined {
  try {
    return decodeURIComponent(token.sr);
  } catch {
    return undefined;
  }
}

/** Resource URIs are prefixes matched by whole segments: `a/b` covers `a/b/c`, not `a/bc`. */
export function resourceCovers(resource: string, target: string): boolean {
  const r = resource.toLowerCase().replace(/\/+$/, "");
  const t = target.toLowerCase();
  return t === r || t.startsWith(`${r}/`);
}
