// What the review says about a certificate: subject, SHA-1 thumbprint and expiry, never its text. The state and the
// preview hold certificates as `sha1:<THUMBPRINT>` references; the old side's details come from the resource's
// outputs (what DPS returned), the new side's from the certificate files of the project and the stack's manifest.
import { X509Certificate } from "node:crypto";

import { isPlainObject } from "../../../dynamic-providers/enrollment/normalize";

export interface CertificateInfo {
  subject: string;
  sha1Thumbprint: string;
  /** ISO 8601. */
  notAfter: string;
}

const referencePattern = /^sha1:([0-9A-Fa-f]{40})$/;

/** The thumbprint of a `sha1:<THUMBPRINT>` certificate reference, upper case; undefined for anything else. */
export function certificateReference(value: unknown): string | undefined {
  const match = typeof value === "string" ? referencePattern.exec(value) : null;
  return match ? match[1].toUpperCase() : undefined;
}

function describe(cert: X509Certificate): CertificateInfo {
  return {
    subject: cert.subject.split("\n").join(", "),
    sha1Thumbprint: cert.fingerprint.replace(/:/g, "").toUpperCase(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

const pemBlock = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Every certificate in a file's bytes: PEM (one or more blocks) or a single DER certificate. */
export function certificatesInFile(bytes: Buffer): CertificateInfo[] {
  const text = bytes.toString("latin1");
  const blocks = text.match(pemBlock);
  const parse = (input: string | Buffer): CertificateInfo[] => {
    try {
      return [describe(new X509Certificate(input))];
    } catch {
      return [];
    }
  };
  return blocks ? blocks.flatMap((block) => parse(block)) : parse(bytes);
}

/** Certificate details a resource's outputs carry (objects with subject, sha1Thumbprint and notAfter). */
export function certificateInfosIn(value: unknown): CertificateInfo[] {
  if (Array.isArray(value)) return value.flatMap(certificateInfosIn);
  if (!isPlainObject(value)) return [];
  const { subject, sha1Thumbprint, notAfter } = value;
  if (typeof subject === "string" && typeof sha1Thumbprint === "string" && typeof notAfter === "string") {
    return [{ subject, sha1Thumbprint: sha1Thumbprint.toUpperCase(), notAfter }];
  }
  return Object.values(value).flatMap(certificateInfosIn);
}

/** Certificates by SHA-1 thumbprint. */
export class CertificateIndex {
  private readonly byThumbprint = new Map<string, CertificateInfo>();

  constructor(infos: Iterable<CertificateInfo> = []) {
    for (const info of infos) this.add(info);
  }

  add(info: CertificateInfo): void {
    if (!this.byThumbprint.has(info.sha1Thumbprint)) this.byThumbprint.set(info.sha1Thumbprint, info);
  }

  get(thumbprint: string): CertificateInfo | undefined {
    return this.byThumbprint.get(thumbprint.toUpperCase());
  }

  /** This index with more certificates, without changing it. */
  with(infos: Iterable<CertificateInfo>): CertificateIndex {
    const index = new CertificateIndex(this.byThumbprint.values());
    for (const info of infos) index.add(info);
    return index;
  }
}
