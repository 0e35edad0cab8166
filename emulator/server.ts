// The emulator as a running service: HTTPS for the service and device APIs and for the linked hubs' registry API
// (told apart by Host), persistence, identity, TLS material and connection.json. `startEmulator` is what main.ts and
// the tests call.
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";

import { authenticateService } from "./auth";
import { hubProblems, type EmulatorConfig } from "./config";
import { loadEntraTrust, type EntraTrust } from "./entra";
import { DpsError } from "./errors";
import { Registrar } from "./device/registrar";
import { createMqttBridge } from "./device/mqtt-bridge";
import { deviceRoutes } from "./handlers/device";
import type { Services } from "./handlers/services";
import { parseJsonBody, readBody, sendError, sendJson, type RequestContext } from "./http";
import { HubPipeline } from "./hub/pipeline";
import {
  connectionString,
  hubOwnerPolicyName,
  hubPolicies,
  loadIdentity,
  ownerPolicyName,
  type EmulatorIdentity,
} from "./identity";
import { listenAll, type Listening } from "./listeners";
import { beginRequest, endRequest, FaultInjector, RequestCounters, RequestLog, Throttle } from "./middleware";
import { apiVersions, matchRoute, serviceRoutes, type Route } from "./router";
import { SqliteStore } from "./store/sqlite-store";
import { loadTls } from "./tls";

/** A linked hub as connection.json lists it. */
export interface HubConnectionInfo {
  /** What manifests may call it. */
  name: string;
  hostName: string;
  /** Where its registry API answers: https://HOST, with :PORT unless 443. */
  endpoint: string;
  /** The hub's `iothubowner` connection string (a secret: connection.json is readable by its owner only). */
  connectionString: string;
}

/** What <data>/connection.json holds: everything a client needs. */
export interface ConnectionInfo {
  connectionString: string;
  endpoint: string;
  deviceEndpoint: string;
  mqttEndpoint: string;
  caCertificate: string;
  idScope: string;
  linkedHubs: string[];
  hubs: HubConnectionInfo[];
  policies: { keyName: string; rights: string[]; connectionString: string }[];
}

export interface RunningEmulator {
  config: EmulatorConfig;
  identity: EmulatorIdentity;
  connection: ConnectionInfo;
  port: number;
  mqttPort: number;
  caPem: string;
  /** What did not work out but need not stop the emulator (a hub address this machine does not have). */
  warnings: string[];
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
  private readonly counters = new RequestCounters();

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
    const start = beginRequest(req, "service");
    const { trackingId, url, method, entry } = start;
    try {
      if (url.pathname === "/_emulator/health") {
        entry.api = "emulator";
        entry.operation = "Health";
        sendJson(res, 200, { status: "ok" });
        entry.status = 200;
        return;
      }
      if (url.pathname === "/_emulator/stats") {
        // Counters for tests and benchmarks (e.g. how many requests the throttle answered 429); no secret in them.
        entry.api = "emulator";
        entry.operation = "Stats";
        sendJson(res, 200, this.counters.snapshot());
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
      if (entry.api !== "emulator") this.counters.record(entry);
      endRequest(this.log, start);
    }
  }
}

export function writeConnectionInfo(dataDir: string, info: ConnectionInfo): void {
  const file = path.join(dataDir, "connection.json");
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export async function startEmulator(config: EmulatorConfig): Promise<RunningEmulator> {
  const problems = hubProblems(config);
  if (problems.length > 0) {
    throw new Error(`linked hubs: ${problems.join("; ")}`);
  }
  // First: a bad --entra-key stops the start before anything is created.
  const entra = config.entra ? loadEntraTrust(config.entra) : undefined;
  fs.mkdirSync(config.dataDir, { recursive: true });
  const hubHosts = config.linkedHubs.map((h) => h.hostName);
  const identity = loadIdentity(config.dataDir, hubHosts);
  const tls = loadTls(config.dataDir, [config.hostName, ...hubHosts]);
  const store = new SqliteStore(config.dataDir);
  const services: Services = { store, config, identity };
  const log = new RequestLog(config.requestLog);
  const registrar = new Registrar(services);
  const pipeline = new Pipeline(services, [...serviceRoutes, ...deviceRoutes(registrar)], log, entra);
  const hubPipeline = new HubPipeline(store, identity, log);
  const hubsByHost = new Map(config.linkedHubs.map((h) => [h.hostName.toLowerCase(), h]));

  const server = https.createServer(
    { key: tls.keyPem, cert: tls.certPem, requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 60_000 },
    (req, res) => {
      const hub = hubsByHost.get(hostNameOf(req.headers.host).toLowerCase());
      void (hub ? hubPipeline.handle(hub, req, res) : pipeline.handle(req, res));
    },
  );
  let listening: Listening;
  try {
    listening = await listenAll(server, config);
  } catch (err) {
    await log.close();
    store.close();
    throw err;
  }
  const port = listening.port;
  const stopHttps = async (): Promise<void> => {
    await listening.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  let mqttPort = config.mqttPort;
  const mqtt = mqttPort < 0 ? undefined : createMqttBridge(registrar, log, { key: tls.keyPem, cert: tls.certPem });
  if (mqtt) {
    try {
      mqttPort = await mqtt.listen(config.mqttPort, config.host);
    } catch (err) {
      await stopHttps();
      await log.close();
      store.close();
      throw new Error(`cannot listen for MQTT on ${config.host}:${config.mqttPort}: choose another --mqtt-port`, {
        cause: err,
      });
    }
  }

  const withPort = (host: string): string => (port === 443 ? host : `${host}:${port}`);
  const owner = identity.policies.find((p) => p.keyName === ownerPolicyName) ?? identity.policies[0];
  const connection: ConnectionInfo = {
    connectionString: connectionString(config.hostName, owner),
    endpoint: `https://${withPort(config.hostName)}`,
    deviceEndpoint: `https://${withPort(config.hostName)}`,
    mqttEndpoint: mqttPort < 0 ? "" : `mqtts://${config.hostName}:${mqttPort}`,
    caCertificate: tls.caPath,
    idScope: identity.idScope,
    linkedHubs: hubHosts,
    hubs: config.linkedHubs.map((hub) => {
      const policies = hubPolicies(identity, hub.hostName);
      const hubOwner = policies.find((p) => p.keyName === hubOwnerPolicyName) ?? policies[0];
      return {
        name: hub.name,
        hostName: hub.hostName,
        endpoint: `https://${withPort(hub.hostName)}`,
        connectionString: connectionString(hub.hostName, hubOwner),
      };
    }),
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
    warnings: listening.warnings,
    close: async () => {
      await mqtt?.close();
      await stopHttps();
      await log.close();
      store.close();
    },
  };
}
