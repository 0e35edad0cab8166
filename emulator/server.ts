// The emulator as a running service: HTTPS for the service and device APIs, persistence, identity, TLS material and
// connection.json. `startEmulator` is what main.ts and the tests call.
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";

import { authenticateService } from "./auth";
import type { EmulatorConfig } from "./config";
import { loadEntraTrust, type EntraTrust } from "./entra";
import { DpsError, newTrackingId } from "./errors";
import { Registrar } from "./device/registrar";
import { createMqttBridge } from "./device/mqtt-bridge";
import { deviceRoutes } from "./handlers/device";
import type { Services } from "./handlers/services";
import { parseJsonBody, readBody, sendError, sendJson, type RequestContext } from "./http";
import { connectionString, loadIdentity, ownerPolicyName, type EmulatorIdentity } from "./identity";
import { FaultInjector, RequestLog, Throttle, type RequestLogEntry } from "./middleware";
import { apiVersions, matchRoute, serviceRoutes, type Route } from "./router";
import { SqliteStore } from "./store/sqlite-store";
import { loadTls } from "./tls";

/** What <data>/connection.json holds: everything a client needs. */
export interface ConnectionInfo {
  connectionString: string;
  endpoint: string;
  deviceEndpoint: string;
  mqttEndpoint: string;
  caCertificate: string;
  idScope: string;
  linkedHubs: string[];
  policies: { keyName: string; rights: string[]; connectionString: string }[];
}

export interface RunningEmulator {
  config: EmulatorConfig;
  identity: EmulatorIdentity;
  connection: ConnectionInfo;
  port: number;
  mqttPort: number;
  caPem: string;
  close(): Promise<void>;
}

/** The TLS client certificate chain, leaf first, for X.509 device attestation. */
function peerChain(req: IncomingMessage): X509Certificate[] {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== "function") return [];
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

function hostNameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return "";
  return hostHeader.startsWith("[") ? hostHeader.slice(0, hostHeader.indexOf("]") + 1) : hostHeader.split(":")[0];
}

export class Pipeline {
  private readonly throttle: Throttle;
  private readonly faults: FaultInjector;

  constructor(
    private readonly services: Services,
    private readonly routes: readonly Route[],
    private readonly log: RequestLog,
    /** Trusted Entra ID issuer, when bearer tokens are on. */
    private readonly entra?: EntraTrust,
  ) {
    this.throttle = new Throttle(services.config.throttlePerMinute);
    this.faults = new FaultInjector(services.config.faultRate, services.config.faultKinds);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const trackingId = newTrackingId();
    const url = new URL(req.url ?? "/", "https://emulator");
    const method = req.method ?? "GET";
    const entry: RequestLogEntry = {
      time: new Date().toISOString(),
      trackingId,
      api: "service",
      operation: "unknown",
      method,
      path: url.pathname,
      status: 0,
      durationMs: 0,
    };
    try {
      if (url.pathname === "/_emulator/health") {
        entry.api = "emulator";
        entry.operation = "Health";
        sendJson(res, 200, { status: "ok" });
        entry.status = 200;
        return;
      }
      const fault = this.faults.pick();
      if (fault) {
        entry.fault = fault;
        if (fault === "drop") {
          entry.status = 0;
          req.socket.destroy();
          return;
        }
        throw new DpsError(
          fault === "500" ? "InternalServerError" : "ServiceUnavailable",
          `injected fault (--faults): ${fault}`,
        );
      }
      let found;
      try {
        found = matchRoute(this.routes, method, url.pathname);
      } catch {
        throw new DpsError("ArgumentInvalid", "the request path is not correctly URL-encoded");
      }
      if (!found.match) {
        throw found.methodMismatch
          ? new DpsError("MethodNotAllowed", `${method} is not allowed on ${url.pathname}`)
          : new DpsError("ResourceNotFound", `no operation at ${method} ${url.pathname}`);
      }
      const { route, params } = found.match;
      entry.operation = route.operation;
      entry.api = route.auth.kind === "device" ? "device" : "service";
      const version = url.searchParams.get("api-version");
      const accepted = route.auth.kind === "device" ? apiVersions.device : apiVersions.service;
      if (!version || !accepted.includes(version)) {
        throw new DpsError(
          "InvalidApiVersion",
          `api-version ${version ? `'${version}' is not supported` : "is required"} (supported: ${accepted.join(", ")})`,
        );
      }
      this.throttle.take();
      const raw = await readBody(req);
      const ctx: RequestContext = {
        method,
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        body: parseJsonBody(raw, req.headers["content-type"]),
        trackingId,
        now: new Date(),
        peerCertificates: route.auth.kind === "device" ? peerChain(req) : [],
      };
      if (route.auth.kind === "service") {
        const hostNames = [this.services.config.hostName, hostNameOf(req.headers.host)];
        const principal = authenticateService(
          req.headers.authorization,
          hostNames,
          this.services.identity,
          route.auth.right,
          ctx.now,
          this.entra,
        );
        ctx.principal = principal.principal;
      }
      const result = await route.handler(ctx, this.services);
      entry.principal = ctx.principal;
      sendJson(res, result.status, result.body, result.headers);
      entry.status = result.status;
    } catch (err) {
      const error =
        err instanceof DpsError
          ? err
          : new DpsError("InternalServerError", "the emulator failed to handle the request");
      if (!(err instanceof DpsError)) {
        console.error(`[emulator] ${trackingId}:`, err);
      }
      if (!res.headersSent) {
        sendError(res, error, trackingId);
      }
      entry.status = error.status;
      entry.errorCode = error.errorCode;
    } finally {
      entry.durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.log.write(entry);
    }
  }
}

function listen(server: https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function writeConnectionInfo(dataDir: string, info: ConnectionInfo): void {
  const file = path.join(dataDir, "connection.json");
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export async function startEmulator(config: EmulatorConfig): Promise<RunningEmulator> {
  // First: a bad --entra-key stops the start before anything is created.
  const entra = config.entra ? loadEntraTrust(config.entra) : undefined;
  fs.mkdirSync(config.dataDir, { recursive: true });
  const identity = loadIdentity(config.dataDir);
  const tls = loadTls(config.dataDir, config.hostName);
  const store = new SqliteStore(config.dataDir);
  const services: Services = { store, config, identity };
  const log = new RequestLog(config.requestLog);
  const registrar = new Registrar(services);
  const pipeline = new Pipeline(services, [...serviceRoutes, ...deviceRoutes(registrar)], log, entra);

  const server = https.createServer(
    { key: tls.keyPem, cert: tls.certPem, requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 60_000 },
    (req, res) => void pipeline.handle(req, res),
  );
  let port: number;
  try {
    port = await listen(server, config.port, config.host);
  } catch (err) {
    store.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES") {
      throw new Error(
        `cannot listen on ${config.host}:${config.port}: permission denied (ports below 1024 need root or ` +
          `sysctl net.ipv4.ip_unprivileged_port_start=${config.port}); choose another --port`,
        { cause: err },
      );
    }
    if (code === "EADDRINUSE") {
      throw new Error(`cannot listen on ${config.host}:${config.port}: the port is in use; choose another --port`, {
        cause: err,
      });
    }
    throw err;
  }

  let mqttPort = config.mqttPort;
  const mqtt = mqttPort < 0 ? undefined : createMqttBridge(registrar, log, { key: tls.keyPem, cert: tls.certPem });
  if (mqtt) {
    try {
      mqttPort = await mqtt.listen(config.mqttPort, config.host);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
      throw new Error(`cannot listen for MQTT on ${config.host}:${config.mqttPort}: choose another --mqtt-port`, {
        cause: err,
      });
    }
  }

  const hostPort = port === 443 ? config.hostName : `${config.hostName}:${port}`;
  const owner = identity.policies.find((p) => p.keyName === ownerPolicyName) ?? identity.policies[0];
  const connection: ConnectionInfo = {
    connectionString: connectionString(config.hostName, owner),
    endpoint: `https://${hostPort}`,
    deviceEndpoint: `https://${hostPort}`,
    mqttEndpoint: mqttPort < 0 ? "" : `mqtts://${config.hostName}:${mqttPort}`,
    caCertificate: tls.caPath,
    idScope: identity.idScope,
    linkedHubs: config.linkedHubs.map((h) => h.hostName),
    policies: identity.policies.map((p) => ({
      keyName: p.keyName,
      rights: p.rights,
      connectionString: connectionString(config.hostName, p),
    })),
  };
  writeConnectionInfo(config.dataDir, connection);

  return {
    config,
    identity,
    connection,
    port,
    mqttPort,
    caPem: tls.caPem,
    close: async () => {
      await mqtt?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await log.close();
      store.close();
    },
  };
}
