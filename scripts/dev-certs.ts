// Development certificates, like the test certificates one would otherwise make with OpenSSL or the Azure IoT
// PowerShell scripts: a root CA and device certificates signed by it (CN = registration ID). Certificates go to the
// output folder; private keys go to certs/private/ under the project, which git ignores.
//
//   npm run dev-certs -- --out stacks/local/certs --device mydevice [--device other] [--days 365]
import * as fs from "node:fs";
import * as path from "node:path";

import * as forge from "node-forge";

import { issueCertificate, type IssuedCertificate } from "../emulator/pki";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";

const projectRoot = path.resolve(__dirname, "..");
export const privateKeyDir = path.join(projectRoot, "certs", "private");

const usage = `Usage: npm run dev-certs -- --out DIR --device ID [--device ID …] [--days N]
  --out DIR     where the certificates go (private keys go to certs/private/)
  --device ID   a device certificate with CN = ID (the registration ID); repeat for more
  --days N      validity of the device certificates in days (default 365)
  --help, -h    this list`;

interface Options {
  out: string;
  devices: string[];
  days: number;
}

function parse(argv: readonly string[]): Options | "help" {
  const flags = parseFlags(argv, {
    out: { type: "string" },
    device: { type: "string", multiple: true },
    days: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  if (!flags.out) throw new FlagError("--out DIR is required");
  if (flags.device.length === 0) throw new FlagError("--device ID is required (at least one)");
  return {
    out: path.resolve(flags.out),
    devices: flags.device,
    days: flags.days === undefined ? 365 : integerFlag("--days", flags.days, 1, 36500),
  };
}

/** Writes a root CA (reused when its key is present) and one certificate per device; returns their paths. */
export function makeDevCertificates(out: string, devices: string[], days = 365): Record<string, string> {
  fs.mkdirSync(out, { recursive: true });
  fs.mkdirSync(privateKeyDir, { recursive: true, mode: 0o700 });
  const caCertPath = path.join(out, "root-ca.pem");
  const caKeyPath = path.join(privateKeyDir, "root-ca.key.pem");
  let ca: IssuedCertificate;
  if (fs.existsSync(caCertPath) && fs.existsSync(caKeyPath)) {
    const certPem = fs.readFileSync(caCertPath, "utf8");
    const keyPem = fs.readFileSync(caKeyPath, "utf8");
    const cert = forge.pki.certificateFromPem(certPem);
    ca = {
      certPem,
      keyPem,
      cert,
      key: forge.pki.privateKeyFromPem(keyPem),
      der: Buffer.alloc(0),
    };
  } else {
    ca = issueCertificate({ commonName: "DPS Enrollments Dev Root CA", isCA: true, validDays: 3650 });
    fs.writeFileSync(caCertPath, ca.certPem);
    fs.writeFileSync(caKeyPath, ca.keyPem, { mode: 0o600 });
  }
  const written: Record<string, string> = { ca: caCertPath };
  for (const device of devices) {
    const cert = issueCertificate({ commonName: device, issuer: ca, clientAuth: true, validDays: days });
    const certPath = path.join(out, `${device}.pem`);
    fs.writeFileSync(certPath, cert.certPem);
    fs.writeFileSync(path.join(privateKeyDir, `${device}.key.pem`), cert.keyPem, { mode: 0o600 });
    written[device] = certPath;
  }
  return written;
}

if (require.main === module) {
  try {
    const options = parse(process.argv.slice(2));
    if (options === "help") {
      console.log(usage);
      process.exit(0);
    }
    const written = makeDevCertificates(options.out, options.devices, options.days);
    for (const [name, file] of Object.entries(written)) console.log(`${name}: ${path.relative(process.cwd(), file)}`);
    console.log(`private keys: ${path.relative(process.cwd(), privateKeyDir)}/ (git-ignored)`);
  } catch (err) {
    console.error(`dev-certs: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof FlagError) console.error("npm run dev-certs -- --help lists every flag");
    process.exit(1);
  }
}
