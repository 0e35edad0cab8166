// Certificates for the emulator's TLS, for tests and for development: RSA keys from Node's native generator,
// certificates built and signed with node-forge.
import { constants, generateKeyPairSync, privateEncrypt, randomBytes } from "node:crypto";

import * as forge from "node-forge";

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  der: Buffer;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

export interface CertificateRequest {
  commonName: string;
  /** The issuer; omitted for a self-signed certificate. */
  issuer?: IssuedCertificate;
  /** A CA (root or intermediate) may sign other certificates. */
  isCA?: boolean;
  /** DNS names and IP addresses for a server certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Client authentication (devices) instead of server authentication. */
  clientAuth?: boolean;
  validDays?: number;
  /** Shift of notBefore into the past, to make already-expired certificates in tests. */
  notBeforeDaysAgo?: number;
}

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256; the digest follows it. */
const sha256DigestInfo = Buffer.from("3031300d060960864801650304020105000420", "hex");

/**
 * A forge key whose `sign` is done by Node: forge's pure-JS big-number arithmetic takes about a second per signature
 * inside Jest's sandbox (a tenth of that outside), and its key generation is slower still, so Node makes the keys too.
 */
function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const pair = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    privateKey: nodeSigningKey(pair.privateKey),
    publicKey: forge.pki.publicKeyFromPem(pair.publicKey),
    keyPem: pair.privateKey,
  };
}

/** A forge private key (PEM) that signs through Node. */
function nodeSigningKey(keyPem: string): forge.pki.rsa.PrivateKey {
  return {
    ...forge.pki.privateKeyFromPem(keyPem),
    sign: (md) => {
      if (typeof md === "string") {
        throw new Error("sign expects a message digest");
      }
      const digest = Buffer.from(md.digest().getBytes(), "binary");
      const padded = { key: keyPem, padding: constants.RSA_PKCS1_PADDING };
      return privateEncrypt(padded, Buffer.concat([sha256DigestInfo, digest])).toString("binary");
    },
  };
}

/** A certificate and its private key read back from PEM, able to issue more certificates (a stored CA). */
export function certificateFromPem(certPem: string, keyPem: string): IssuedCertificate {
  const cert = forge.pki.certificateFromPem(certPem);
  return {
    cert,
    key: nodeSigningKey(keyPem),
    certPem,
    keyPem,
    der: Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary"),
  };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // keep the DER INTEGER positive
  return bytes.toString("hex");
}

export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  const day = 24 * 3600 * 1000;
  cert.validity.notBefore = new Date(Date.now() - 60_000 - (request.notBeforeDaysAgo ?? 0) * day);
  cert.validity.notAfter = new Date(cert.validity.notBefore.getTime() + (request.validDays ?? 365) * day);
  const subject = [{ name: "commonName", value: request.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(request.issuer ? request.issuer.cert.subject.attributes : subject);
  const extensions: object[] = [
    { name: "basicConstraints", cA: request.isCA === true, critical: request.isCA === true },
    request.isCA
      ? { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ];
  if (!request.isCA) {
    extensions.push(
      request.clientAuth ? { name: "extKeyUsage", clientAuth: true } : { name: "extKeyUsage", serverAuth: true },
    );
  }
  const altNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) {
    extensions.push({ name: "subjectAltName", altNames });
  }
  cert.setExtensions(extensions);
  cert.sign(request.issuer ? request.issuer.key : keys.privateKey, forge.md.sha256.create());
  return {
    cert,
    key: keys.privateKey,
    certPem: forge.pki.certificateToPem(cert),
    keyPem: keys.keyPem,
    der: Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary"),
  };
}
