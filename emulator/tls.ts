// TLS material: a CA and one server certificate for every name clients use (the DPS host name, localhost, 127.0.0.1
// and each linked hub's host) made on first start and kept in <data>/tls, so clients trust the emulator once
// (NODE_EXTRA_CA_CERTS or `ca`).
import * as fs from "node:fs";
import * as path from "node:path";

import { isIpv4 } from "./config";
import { issueCertificate } from "./pki";

export interface TlsMaterial {
  caPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Loads <data>/tls, creating the CA and server certificate on first start and whenever the set of names changes. */
export function loadTls(dataDir: string, hostNames: readonly string[]): TlsMaterial {
  const dir = path.join(dataDir, "tls");
  const files = {
    ca: path.join(dir, "ca.pem"),
    cert: path.join(dir, "server.pem"),
    key: path.join(dir, "server.key.pem"),
    names: path.join(dir, "hostname"),
  };
  const names = [...new Set(["localhost", "127.0.0.1", ...hostNames.map((h) => h.toLowerCase())])].sort();
  const wanted = names.join("\n");
  const current = fs.existsSync(files.names) ? fs.readFileSync(files.names, "utf8") : undefined;
  if (current !== wanted || !fs.existsSync(files.cert) || !fs.existsSync(files.key) || !fs.existsSync(files.ca)) {
    const ca = issueCertificate({ commonName: "DPS Emulator Local CA", isCA: true, validDays: 3650 });
    const server = issueCertificate({
      commonName: hostNames[0] ?? "localhost",
      issuer: ca,
      dnsNames: names.filter((n) => !isIpv4(n)),
      ipAddresses: names.filter((n) => isIpv4(n)),
      validDays: 730,
    });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(files.ca, ca.certPem);
    fs.writeFileSync(files.cert, server.certPem);
    fs.writeFileSync(files.key, server.keyPem, { mode: 0o600 });
    fs.writeFileSync(files.names, wanted);
  }
  return {
    caPath: files.ca,
    caPem: fs.readFileSync(files.ca, "utf8"),
    certPem: fs.readFileSync(files.cert, "utf8"),
    keyPem: fs.readFileSync(files.key, "utf8"),
  };
}
