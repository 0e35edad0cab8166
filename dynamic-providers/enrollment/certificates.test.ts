import { createHash } from "node:crypto";

import { issueCertificate } from "../../emulator/pki";
import { CertificateStash, certificateValidity } from "./certificates";
import type { EnrollmentInputs } from "./types";

const primary = Buffer.from("primary certificate DER").toString("base64");
const secondary = Buffer.from("secondary certificate DER").toString("base64");
const ref = (der: string): string =>
  `sha1:${createHash("sha1").update(Buffer.from(der, "base64")).digest("hex").toUpperCase()}`;

const x509: EnrollmentInputs = {
  registrationId: "mydevice",
  attestationType: "x509",
  primaryCertificate: primary,
  secondaryCertificate: secondary,
  iotEdge: false,
  iotHubs: [],
  reprovisionPolicy: "reprovisionAndMigrateData",
  enabled: true,
  adopt: false,
};

describe("CertificateStash", () => {
  test("stash swaps certificate text for sha1 references and resolve swaps it back", () => {
    const stash = new CertificateStash();
    const stored = stash.stash(x509);
    expect(stored.primaryCertificate).toBe(ref(primary));
    expect(stored.secondaryCertificate).toBe(ref(secondary));
    expect(stash.resolve(stored, "enrollment 'mydevice'")).toEqual(x509);
  });

  test("inputs without certificates, and text given to resolve, pass through unchanged", () => {
    const stash = new CertificateStash();
    const symmetric: EnrollmentInputs = { ...x509, attestationType: "symmetricKey" };
    delete symmetric.primaryCertificate;
    delete symmetric.secondaryCertificate;
    expect(stash.stash(symmetric)).toEqual(symmetric);
    expect(stash.resolve(x509, "enrollment 'mydevice'")).toEqual(x509);
  });

  test("a reference this process never saw in check is a clear error naming the enrollment and property", () => {
    const stored = new CertificateStash().stash(x509);
    expect(() => new CertificateStash().resolve(stored, "enrollment 'mydevice'")).toThrow(
      `enrollment 'mydevice': primaryCertificate: the text of certificate ${ref(primary)} is not known to this ` +
        "provider process (it is read from the program's inputs by `check`); run `pulumi up` again",
    );
  });
});

describe("certificateValidity", () => {
  const day = 24 * 3600;
  // issueCertificate starts validity a minute before now (minus notBeforeDaysAgo days).
  const issued = (options: { notBeforeDaysAgo?: number; validDays?: number }) => {
    const before = Math.floor(Date.now() / 1000);
    const pem = issueCertificate({ commonName: "mydevice", clientAuth: true, ...options }).certPem;
    return { pem, earliest: before - 61, latest: Math.floor(Date.now() / 1000) - 59 };
  };

  test("gives [notBefore, notAfter] in epoch seconds for PEM and base64 DER, primary first", () => {
    const primary = issued({ validDays: 10 });
    const secondary = issued({ notBeforeDaysAgo: -3, validDays: 400 });
    const der = primary.pem.replace(/-----[A-Z ]+-----|\s/g, "");
    const validity = certificateValidity({ primaryCertificate: der, secondaryCertificate: secondary.pem });
    expect(validity).toHaveLength(2);
    const [[pBefore, pAfter], [sBefore, sAfter]] = validity ?? [];
    expect(pBefore).toBeGreaterThanOrEqual(primary.earliest);
    expect(pBefore).toBeLessThanOrEqual(primary.latest);
    expect(pAfter - pBefore).toBe(10 * day);
    expect(sBefore - 3 * day).toBeGreaterThanOrEqual(secondary.earliest);
    expect(sBefore - 3 * day).toBeLessThanOrEqual(secondary.latest);
    expect(sAfter - sBefore).toBe(400 * day);
  });

  test("is undefined without certificates or when one is not a certificate", () => {
    expect(certificateValidity({})).toBeUndefined();
    expect(
      certificateValidity({ primaryCertificate: issued({}).pem, secondaryCertificate: "not a certificate" }),
    ).toBeUndefined();
  });
});
