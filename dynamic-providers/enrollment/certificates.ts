// Certificates travel through the state as thumbprint references (`sha1:<THUMBPRINT>`), not as text: `check` swaps
// the text for the reference and keeps the text in memory; `create`/`update`, which the engine always runs after
// `check` in the same provider process, swap it back before sending. Two RSA-2048 certificates would otherwise
// add ≈ 4 KB of base64 to every X.509 enrollment's state (inputs and outputs), and a preview shows thumbprints.
import { EnrollmentError } from "./errors";
import { parseCertificateText } from "./normalize";
import type { CertificateValidity } from "./types";
import { certificateRef } from "./wire";

const slots = ["primaryCertificate", "secondaryCertificate"] as const;

/** Inputs of either kind: the certificates travel in the same two properties. */
export interface CertificateSlots {
  primaryCertificate?: string;
  secondaryCertificate?: string;
}

export class CertificateStash {
  private readonly texts = new Map<string, string>();

  /** The inputs with certificate text replaced by references; the text is remembered. */
  stash<T extends CertificateSlots>(inputs: T): T {
    const out = { ...inputs };
    for (const slot of slots) {
      const text = inputs[slot];
      const ref = certificateRef(text);
      if (text === undefined || ref === undefined || ref === text) continue;
      this.texts.set(ref, text);
      out[slot] = ref;
    }
    return out;
  }

  /**
   * The inputs with references replaced by the remembered text (text passes through unchanged); `what` names the
   * resource in the error, e.g. `enrollment 'sensor-1'`.
   */
  resolve<T extends CertificateSlots>(inputs: T, what: string): T {
    const out = { ...inputs };
    for (const slot of slots) {
      const value = inputs[slot];
      if (value === undefined || !value.startsWith("sha1:")) continue;
      const text = this.texts.get(value);
      if (text === undefined) {
        throw new EnrollmentError(
          `${what}: ${slot}: the text of certificate ${value} is not known to this ` +
            "provider process (it is read from the program's inputs by `check`); run `pulumi up` again",
        );
      }
      out[slot] = text;
    }
    return out;
  }
}

/**
 * The validity of certificates given as text (PEM or base64 DER), primary first: what `check` adds to the inputs
 * beside the references, so a policy can see expiry without the text. Undefined without certificates, or when one
 * of them is not a certificate.
 */
export function certificateValidity(certificates: CertificateSlots): CertificateValidity[] | undefined {
  const validity: CertificateValidity[] = [];
  for (const slot of slots) {
    const text = certificates[slot];
    if (text === undefined) continue;
    const cert = parseCertificateText(text);
    if (!cert) return undefined;
    const seconds = (date: string): number => Math.floor(Date.parse(date) / 1000);
    validity.push([seconds(cert.validFrom), seconds(cert.validTo)]);
  }
  return validity.length > 0 ? validity : undefined;
}
