// TLS material: a CA and a server certificate (SANs: the host name, localhost, 127.0.0.1) made on first start and
// kept in <data>/tls, so clients trust the emulator once (NODE_EXTRA_CA_CERTS or `ca`).
import * as fs from "node:fs";
import * as path from "node:path";

import { issueCertificate } from "./pki";

export interface TlsMaterial {
  caPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Loads <data>/tls, creating the CA and server certificate on first start (or when the host name changed). */
export function loadTls(dataDir: string, hostName: string): TlsMaterial {
  const dir = path.join(dataDir, "tls");
  const files = {
    ca: path.join(dir, "ca.pem"),
    cert: path.join(dir, "server.pem"),
    key: path.join(dir, "server.key.pem"),
    host: path.join(dir, "hostname"),
  };
  const current = fs.existsSync(files.host) ? fs.readFileSync(files.host, "utf8") : undefined;
  if (current !== hostName || !fs.existsSync(files.cert) || !fs.existsSync(files.key) || !fs.existsSync(files.ca)) {
    const ca = issueCertificate({ commonName: "DPS Emulator Local CA", isCA: true, validDays: 3650 });
    const isIp = /^\d+\.\d+\.\d+\.\d+$/.test(hostName);
    const server = issueCertificate({
      commonName: hostName,
      issuer: ca,
      dnsNames: [...new Set(["localhost", ...(isIp ? [] : [hostName])])],
      ipAddresses: [...new Set(["127.0.0.1", ...(isIp ? [hostName] : [])])],
      validDays: 730,
    });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(files.ca, ca.certPem);
    fs.writeFileSync(files.cert, server.certPem);
    fs.writeFileSync(files.key, server.keyPem, { mode: 0o600 });
    fs.writeFileSync(files.host, hostName);
  }
  return {
    caPath: files.ca,
    caPem: fs.readFileSync(files.ca, "utf8"),
    certPem: fs.readFileSync(files.cert, "utf8"),
    keyPem: fs.readFileSync(files.key, "utf8"),
  };
}
