// The development certificate store, like the test certificates one would otherwise make with OpenSSL or the Azure
// IoT PowerShell scripts: a root CA, an intermediate CA signed by it, device certificates signed by the root (individual
// enrollments, CN = registration ID) and group device certificates signed by the intermediate (the X.509 group's
// signing certificate). Certificates go to the output folder (stacks/local/certs/, git-ignored: every checkout makes
// its own); private keys go to certs/private/ under the project, which git ignores. A certificate is made once and
// reused while its key, its issuer and its validity still fit; `npm start` makes the local stack's on first run.
//
//   npm run dev-certs -- [--out stacks/local/certs] [--device mydevice …] [--group-device group-device-01 …] [--days 365]
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { certificateFromPem, issueCertificate, type IssuedCertificate } from "../emulator/pki";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";

const projectRoot = path.resolve(__dirname, "..");

/** Where a checkout keeps the local stack's development certificates and their keys. */
export function localCertificateStoreIn(root: string): CertificateStore {
  return { certDir: path.join(root, "stacks", "local", "certs"), keyDir: path.join(root, "certs", "private") };
}

/** Where `npm start` keeps the local stack's development certificates and their keys. */
export const localCertificateStore: CertificateStore = localCertificateStoreIn(projectRoot);

/** The local stack's devices: its individual X.509 enrollment, and a device of its X.509 group. */
export const localDevices = ["mydevice"];
export const localGroupDevices = ["group-device-01"];

export interface CertificateStore {
  /** Certificates (`<name>.pem`): public, referenced by manifests. */
  certDir: string;
  /** Private keys (`<name>.key.pem`, mode 0600): never in git. */
  keyDir: string;
}

export interface StoredCertificate {
  name: string;
  certPath: string;
  keyPath: string;
  /** Made by this call (otherwise an existing one was reused). */
  created: boolean;
  /** Why a stored one was not reused. */
  replaced?: string;
}

const usage = `Usage: npm run dev-certs -- [--out DIR] [--device ID …] [--group-device ID …] [--days N]
  --out DIR            where the certificates go (default stacks/local/certs; private keys go to certs/private/)
  --device ID          a device certificate with CN = ID signed by the root CA (individual enrollments); repeat
  --group-device ID    a device certificate with CN = ID signed by the intermediate CA (the X.509 group); repeat
  --days N             validity of new device certificates in days (default 365)
  --help, -h           this list
With neither --device nor --group-device: the local stack's (${[...localDevices, ...localGroupDevices].join(", ")}).
Root CA (root-ca.pem) and intermediate CA (intermediate-ca.pem) are made when missing; existing valid certificates
are kept.`;

export interface DevCertificatesRequest {
  /** Device certificates signed by the root CA. */
  devices: string[];
  /** Device certificates signed by the intermediate CA. */
  groupDevices: string[];
  /** Validity of new device certificates. */
  days?: number;
}

interface Options extends DevCertificatesRequest {
  out: string;
}

function parse(argv: readonly string[]): Options | "help" {
  const flags = parseFlags(argv, {
    out: { type: "string" },
    device: { type: "string", multiple: true },
    "group-device": { type: "string", multiple: true },
    days: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  const none = flags.device.length === 0 && flags["group-device"].length === 0;
  return {
    out: path.resolve(flags.out ?? localCertificateStore.certDir),
    devices: none ? localDevices : flags.device,
    groupDevices: none ? localGroupDevices : flags["group-device"],
    days: flags.days === undefined ? 365 : integerFlag("--days", flags.days, 1, 36500),
  };
}

/** Why a stored certificate cannot be reused, or undefined when it can. */
export function unusableBecause(
  certPem: string,
  keyPem: string,
  issuer: X509Certificate | undefined,
): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return "its private key does not match it";
  } catch (err) {
    return `it cannot be read (${(err as Error).message})`;
  }
  if (issuer && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) return "its issuer was made again";
  // A day's margin: a certificate that expires during the run is as good as expired.
  if (Date.parse(cert.validTo) < Date.now() + 24 * 3600 * 1000) return `it expires ${cert.validTo}`;
  return undefined;
}

/**
 * The store for an output folder: the local stack's keys live in certs/private/, another folder's in a subfolder
 * named after it (so its root CA never replaces the local one's key), or beside it when it is outside the project.
 */
export function storeFor(out: string): CertificateStore {
  if (out === localCertificateStore.certDir) return localCertificateStore;
  const relative = path.relative(projectRoot, out);
  const inside = !relative.startsWith("..") && !path.isAbsolute(relative);
  return {
    certDir: out,
    keyDir: inside ? path.join(localCertificateStore.keyDir, relative) : path.join(out, "private"),
  };
}

/** One line per certificate: where it is, and whether it is new (and why) or kept. */
export function describeCertificate(c: StoredCertificate): string {
  const state = !c.created ? "kept" : c.replaced ? `new: the stored one was not reusable, ${c.replaced}` : "new";
  return `${c.name}: ${path.relative(process.cwd(), c.certPath)} (${state})`;
}

function readIfPresent(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

/** A store's certificate `name`: the stored one when still good, else a new one from `issue`. */
function ensureCertificate(
  store: CertificateStore,
  name: string,
  issuer: IssuedCertificate | undefined,
  issue: () => IssuedCertificate,
): { stored: StoredCertificate; issued: IssuedCertificate } {
  const certPath = path.join(store.certDir, `${name}.pem`);
  const keyPath = path.join(store.keyDir, `${name}.key.pem`);
  const certPem = readIfPresent(certPath);
  const keyPem = readIfPresent(keyPath);
  const issuerCert = issuer && new X509Certificate(issuer.certPem);
  let replaced: string | undefined;
  if (certPem !== undefined && keyPem !== undefined) {
    replaced = unusableBecause(certPem, keyPem, issuerCert);
    if (replaced === undefined) {
      return { stored: { name, certPath, keyPath, created: false }, issued: certificateFromPem(certPem, keyPem) };
    }
  } else if (certPem !== undefined) {
    replaced = "its private key is missing";
  }
  const issued = issue();
  // The key first: a certificate on disk always has its key beside it.
  fs.writeFileSync(keyPath, issued.keyPem, { mode: 0o600 });
  fs.writeFileSync(certPath, issued.certPem);
  return { stored: { name, certPath, keyPath, created: true, ...(replaced ? { replaced } : {}) }, issued };
}

/**
 * Makes what is missing of the store: root CA, intermediate CA, and the requested device certificates; reuses what
 * is there and still fits. Returns every certificate of the request, CAs first.
 */
export function ensureDevCertificates(store: CertificateStore, request: DevCertificatesRequest): StoredCertificate[] {
  fs.mkdirSync(store.certDir, { recursive: true });
  fs.mkdirSync(store.keyDir, { recursive: true, mode: 0o700 });
  const days = request.days ?? 365;
  const root = ensureCertificate(store, "root-ca", undefined, () =>
    issueCertificate({ commonName: "DPS Enrollments Dev Root CA", isCA: true, validDays: 3650 }),
  );
  const intermediate = ensureCertificate(store, "intermediate-ca", root.issued, () =>
    issueCertificate({
      commonName: "DPS Enrollments Dev Intermediate CA",
      issuer: root.issued,
      isCA: true,
      validDays: 1825,
    }),
  );
  const leaf = (issuer: IssuedCertificate) => (id: string) =>
    ensureCertificate(store, id, issuer, () =>
      issueCertificate({ commonName: id, issuer, clientAuth: true, validDays: days }),
    ).stored;
  return [
    root.stored,
    intermediate.stored,
    ...request.devices.map(leaf(root.issued)),
    ...request.groupDevices.map(leaf(intermediate.issued)),
  ];
}

/**
 * What a device presents in its TLS handshake: its certificate followed by the intermediate CA when it is a group
 * device (DPS builds the chain up to the group's signing certificate from what the device sends), and its key.
 */
export function deviceCredentials(
  store: CertificateStore,
  registrationId: string,
  chain: "leaf" | "leaf+intermediate",
): { certPem: string; keyPem: string } {
  const read = (file: string): string => {
    if (!fs.existsSync(file)) {
      throw new Error(`${path.relative(process.cwd(), file)} does not exist: run npm run dev-certs`);
    }
    return fs.readFileSync(file, "utf8");
  };
  const certPem = read(path.join(store.certDir, `${registrationId}.pem`));
  return {
    certPem: chain === "leaf" ? certPem : certPem + read(path.join(store.certDir, "intermediate-ca.pem")),
    keyPem: read(path.join(store.keyDir, `${registrationId}.key.pem`)),
  };
}

if (require.main === module) {
  try {
    const options = parse(process.argv.slice(2));
    if (options === "help") {
      console.log(usage);
      process.exit(0);
    }
    const store = storeFor(options.out);
    for (const c of ensureDevCertificates(store, options)) console.log(describeCertificate(c));
    console.log(`private keys: ${path.relative(process.cwd(), store.keyDir)}/ (git-ignored)`);
  } catch (err) {
    console.error(`dev-certs: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof FlagError) console.error("npm run dev-certs -- --help lists every flag");
    process.exit(1);
  }
}
