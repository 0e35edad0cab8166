// X.509 certificates as DPS sees them: accepted as PEM or base64 DER, answered with an `info` block only.
import { X509Certificate, createHash } from "node:crypto";

/** X509CertificateInfo of the service API. */
export interface CertificateInfo {
  subjectName: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  issuerName: string;
  notBeforeUtc: string;
  notAfterUtc: string;
  serialNumber: string;
  version: number;
}

const pemPattern = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/** DER bytes of a certificate given as PEM or base64 DER; undefined when it is neither. */
export function certificateDer(text: string): Buffer | undefined {
  const pem = pemPattern.exec(text);
  const base64 = (pem ? pem[1] : text).replace(/\s+/g, "");
  if (base64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    return undefined;
  }
  return Buffer.from(base64, "base64");
}

/** Parses a certificate given as PEM or base64 DER; undefined when it is not a certificate. */
export function parseCertificate(text: string): X509Certificate | undefined {
  const der = certificateDer(text);
  if (!der) {
    return undefined;
  }
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** `CN=leaf, O=Org, C=US`: most specific RDN first, as the service (and .NET) print distinguished names. */
export function formatDistinguishedName(nodeName: string): string {
  return nodeName
    .split("\n")
    .filter((line) => line.length > 0)
    .reverse()
    .join(", ");
}

/** The subject's common name, or undefined when the subject has none. */
export function commonName(cert: X509Certificate): string | undefined {
  const line = cert.subject.split("\n").find((l) => l.startsWith("CN="));
  return line?.slice(3);
}

/** X.509 version (1–3) read from the TBSCertificate: an explicit [0] tag holds version - 1, absent means v1. */
export function certificateVersion(der: Buffer): number {
  let offset = 0;
  const skipHeader = (): void => {
    offset += 1;
    const first = der[offset];
    offset += first & 0x80 ? 1 + (first & 0x7f) : 1;
  };
  skipHeader(); // Certificate SEQUENCE
  skipHeader(); // TBSCertificate SEQUENCE
  if (der[offset] !== 0xa0) {
    return 1;
  }
  skipHeader(); // [0] EXPLICIT
  // INTEGER, length 1, value
  return der[offset] === 0x02 && der[offset + 1] === 0x01 ? der[offset + 2] + 1 : 1;
}

function thumbprint(der: Buffer, algorithm: "sha1" | "sha256"): string {
  return createHash(algorithm).update(der).digest("hex").toUpperCase();
}

function utc(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function certificateInfo(cert: X509Certificate): CertificateInfo {
  return {
    subjectName: formatDistinguishedName(cert.subject),
    sha1Thumbprint: thumbprint(cert.raw, "sha1"),
    sha256Thumbprint: thumbprint(cert.raw, "sha256"),
    issuerName: formatDistinguishedName(cert.issuer),
    notBeforeUtc: utc(cert.validFrom),
    notAfterUtc: utc(cert.validTo),
    serialNumber: cert.serialNumber.toUpperCase(),
    version: certificateVersion(cert.raw),
  };
}

/** SHA-1 and SHA-256 thumbprints of DER bytes, upper-case hex as in `info`. */
export function thumbprints(der: Buffer): { sha1: string; sha256: string } {
  return { sha1: thumbprint(der, "sha1"), sha256: thumbprint(der, "sha256") };
}

/**
 * True when `chain` (leaf first) leads from the leaf to `anchor`: every certificate is signed by the next one, and the
 * last one is the anchor itself or is signed by it. Used for enrollment groups' signing certificates.
 */
export function chainsTo(chain: X509Certificate[], anchor: X509Certificate): boolean {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    if (cert.raw.equals(anchor.raw)) {
      return i > 0;
    }
    if (cert.checkIssued(anchor) && cert.verify(anchor.publicKey)) {
      return true;
    }
    const next = chain[i + 1];
    if (!next || !cert.checkIssued(next) || !cert.verify(next.publicKey)) {
      return false;
    }
  }
  return false;
}
