import { createPrivateKey, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  deviceCredentials,
  ensureDevCertificates,
  localCertificateStore,
  storeFor,
  type CertificateStore,
  type StoredCertificate,
} from "./dev-certs";

let root: string;
let store: CertificateStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "dps-dev-certs-"));
  store = { certDir: path.join(root, "certs"), keyDir: path.join(root, "private") };
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const request = { devices: ["mydevice"], groupDevices: ["group-device-01"] };
const cert = (name: string): X509Certificate =>
  new X509Certificate(fs.readFileSync(path.join(store.certDir, `${name}.pem`)));
const summary = (stored: StoredCertificate[]) =>
  stored.map(({ name, created, replaced }) => ({ name, created, ...(replaced ? { replaced } : {}) }));

test("first run: root CA → intermediate CA → group device, and the root signs the individual device", () => {
  expect(summary(ensureDevCertificates(store, request))).toEqual([
    { name: "root-ca", created: true },
    { name: "intermediate-ca", created: true },
    { name: "mydevice", created: true },
    { name: "group-device-01", created: true },
  ]);
  const [rootCa, intermediate, device, groupDevice] = ["root-ca", "intermediate-ca", "mydevice", "group-device-01"].map(
    cert,
  );
  expect([rootCa.subject, intermediate.subject, device.subject, groupDevice.subject]).toEqual([
    "CN=DPS Enrollments Dev Root CA",
    "CN=DPS Enrollments Dev Intermediate CA",
    "CN=mydevice",
    "CN=group-device-01",
  ]);
  expect([rootCa.ca, intermediate.ca, device.ca, groupDevice.ca]).toEqual([true, true, false, false]);
  expect(intermediate.checkIssued(rootCa) && intermediate.verify(rootCa.publicKey)).toBe(true);
  expect(groupDevice.checkIssued(intermediate) && groupDevice.verify(intermediate.publicKey)).toBe(true);
  expect(device.checkIssued(rootCa) && device.verify(rootCa.publicKey)).toBe(true);
  // Private keys only in the key folder, readable by their owner only.
  expect(fs.readdirSync(store.certDir).sort()).toEqual([
    "group-device-01.pem",
    "intermediate-ca.pem",
    "mydevice.pem",
    "root-ca.pem",
  ]);
  for (const name of ["root-ca", "intermediate-ca", "mydevice", "group-device-01"]) {
    expect(fs.statSync(path.join(store.keyDir, `${name}.key.pem`)).mode & 0o777).toBe(0o600);
  }
});

test("later runs keep every certificate that still fits", () => {
  ensureDevCertificates(store, request);
  const before = fs.readdirSync(store.certDir).map((f) => fs.readFileSync(path.join(store.certDir, f), "utf8"));
  expect(summary(ensureDevCertificates(store, request)).map((c) => c.created)).toEqual([false, false, false, false]);
  expect(fs.readdirSync(store.certDir).map((f) => fs.readFileSync(path.join(store.certDir, f), "utf8"))).toEqual(
    before,
  );
});

test("a certificate without its key (a clone of a checkout that committed it) is made again", () => {
  ensureDevCertificates(store, request);
  fs.rmSync(path.join(store.keyDir, "mydevice.key.pem"));
  expect(summary(ensureDevCertificates(store, request))).toEqual([
    { name: "root-ca", created: false },
    { name: "intermediate-ca", created: false },
    { name: "mydevice", created: true, replaced: "its private key is missing" },
    { name: "group-device-01", created: false },
  ]);
  expect(
    cert("mydevice").checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(store.keyDir, "mydevice.key.pem")))),
  ).toBe(true);
});

test("a new root CA makes everything under it again", () => {
  ensureDevCertificates(store, request);
  fs.rmSync(path.join(store.keyDir, "root-ca.key.pem"));
  expect(summary(ensureDevCertificates(store, request))).toEqual([
    { name: "root-ca", created: true, replaced: "its private key is missing" },
    { name: "intermediate-ca", created: true, replaced: "its issuer was made again" },
    { name: "mydevice", created: true, replaced: "its issuer was made again" },
    { name: "group-device-01", created: true, replaced: "its issuer was made again" },
  ]);
  expect(cert("group-device-01").verify(cert("intermediate-ca").publicKey)).toBe(true);
});

test("a device certificate within a day of expiry is made again", () => {
  ensureDevCertificates(store, { ...request, days: 1 });
  const [device, groupDevice] = [cert("mydevice").validTo, cert("group-device-01").validTo];
  expect(summary(ensureDevCertificates(store, request)).slice(2)).toEqual([
    { name: "mydevice", created: true, replaced: `it expires ${device}` },
    { name: "group-device-01", created: true, replaced: `it expires ${groupDevice}` },
  ]);
});

test("a key that is not the certificate's is refused and the pair made again", () => {
  ensureDevCertificates(store, request);
  fs.copyFileSync(path.join(store.keyDir, "mydevice.key.pem"), path.join(store.keyDir, "group-device-01.key.pem"));
  expect(summary(ensureDevCertificates(store, request))[3]).toEqual({
    name: "group-device-01",
    created: true,
    replaced: "its private key does not match it",
  });
});

test("a group device presents its certificate and the intermediate; an individual one its certificate only", () => {
  ensureDevCertificates(store, request);
  const read = (name: string) => fs.readFileSync(path.join(store.certDir, `${name}.pem`), "utf8");
  const key = (name: string) => fs.readFileSync(path.join(store.keyDir, `${name}.key.pem`), "utf8");
  expect(deviceCredentials(store, "group-device-01", "leaf+intermediate")).toEqual({
    certPem: read("group-device-01") + read("intermediate-ca"),
    keyPem: key("group-device-01"),
  });
  expect(deviceCredentials(store, "mydevice", "leaf")).toEqual({ certPem: read("mydevice"), keyPem: key("mydevice") });
  expect(() => deviceCredentials(store, "other-device", "leaf")).toThrow(
    `${path.relative(process.cwd(), path.join(store.certDir, "other-device.pem"))} does not exist: run npm run dev-certs`,
  );
});

test("keys of another output folder never share the local stack's key folder", () => {
  const projectRoot = path.resolve(__dirname, "..");
  expect(storeFor(localCertificateStore.certDir)).toBe(localCertificateStore);
  expect(storeFor(path.join(projectRoot, "stacks", "dev", "certs"))).toEqual({
    certDir: path.join(projectRoot, "stacks", "dev", "certs"),
    keyDir: path.join(projectRoot, "certs", "private", "stacks", "dev", "certs"),
  });
  expect(storeFor("/tmp/elsewhere")).toEqual({ certDir: "/tmp/elsewhere", keyDir: "/tmp/elsewhere/private" });
});
