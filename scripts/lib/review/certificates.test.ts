import * as fs from "node:fs";
import * as path from "node:path";

import { CertificateIndex, certificateInfosIn, certificateReference, certificatesInFile } from "./certificates";

const fixtures = path.join(__dirname, "..", "..", "..", "tests", "fixtures", "review-certs");
const cam01 = fs.readFileSync(path.join(fixtures, "cam-01.pem"));
const rotated = fs.readFileSync(path.join(fixtures, "cam-01-rotated.pem"));
const cam01Info = {
  subject: "CN=cam-01",
  sha1Thumbprint: "1EB2C956FC4AE4BBC5D72523D655696D74BC1D26",
  notAfter: "2036-11-27T02:19:20.000Z",
};

test("certificateReference reads sha1:<THUMBPRINT> references only", () => {
  expect(certificateReference("sha1:1eb2c956fc4ae4bbc5d72523d655696d74bc1d26")).toBe(cam01Info.sha1Thumbprint);
  expect(certificateReference("sha1:1EB2")).toBeUndefined();
  expect(certificateReference("MIIC…")).toBeUndefined();
  expect(certificateReference(42)).toBeUndefined();
});

test("certificatesInFile: PEM with several blocks, DER, and anything else", () => {
  expect(certificatesInFile(cam01)).toEqual([cam01Info]);
  const both = certificatesInFile(Buffer.concat([cam01, Buffer.from("\n"), rotated]));
  expect(both.map((c) => c.sha1Thumbprint)).toEqual([
    cam01Info.sha1Thumbprint,
    "FEE78321D239CB9CDCC565840C8339B66B4A7E78",
  ]);
  const der = Buffer.from(cam01.toString().replace(/-----[^-]+-----|\s/g, ""), "base64");
  expect(certificatesInFile(der)).toEqual([cam01Info]);
  expect(certificatesInFile(Buffer.from("not a certificate"))).toEqual([]);
});

test("certificateInfosIn finds what DPS returned in a resource's outputs", () => {
  const outputs = {
    primaryCertificate: "sha1:…",
    primaryCertificateInfo: { ...cam01Info, sha1Thumbprint: "1eb2c956fc4ae4bbc5d72523d655696d74bc1d26", extra: 1 },
    nested: [{ secondary: { subject: "CN=b", sha1Thumbprint: "AA", notAfter: "2030-01-01T00:00:00Z" } }],
  };
  expect(certificateInfosIn(outputs)).toEqual([
    cam01Info,
    { subject: "CN=b", sha1Thumbprint: "AA", notAfter: "2030-01-01T00:00:00Z" },
  ]);
});

test("CertificateIndex: first entry wins, lookups ignore case, `with` leaves the original alone", () => {
  const index = new CertificateIndex([cam01Info, { ...cam01Info, subject: "CN=other" }]);
  expect(index.get(cam01Info.sha1Thumbprint.toLowerCase())).toEqual(cam01Info);
  const more = index.with([{ subject: "CN=x", sha1Thumbprint: "BB", notAfter: "2030-01-01T00:00:00Z" }]);
  expect(more.get("BB")?.subject).toBe("CN=x");
  expect(index.get("BB")).toBeUndefined();
});
