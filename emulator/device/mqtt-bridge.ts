// The device API over MQTT: the `$dps/registrations/…` topics of the device SDK's MQTT transport, answered by the
// same Registrar as HTTPS. User name `{idScope}/registrations/{registrationId}/api-version=…`, password the SAS
// (symmetric key) or a TLS client certificate (X.509).
import { X509Certificate } from "node:crypto";

import { DpsError, newTrackingId } from "../errors";
import type { RequestLog } from "../middleware";
import { MqttServer, type ConnectResult, type MqttConnectInfo, type MqttSession } from "../mqtt/server";
import { apiVersions } from "../router";
import type { DeviceCredentials, Registrar } from "./registrar";

const registerTopic = /^\$dps\/registrations\/PUT\/iotdps-register\/\?(.*)$/;
const statusTopic = /^\$dps\/registrations\/GET\/iotdps-get-operationstatus\/\?(.*)$/;

/** `{idScope}/registrations/{registrationId}/api-version=…&ClientVersion=…`, or undefined when malformed. */
export function parseUserName(
  userName: string | undefined,
): { idScope: string; registrationId: string; apiVersion?: string } | undefined {
  const m = /^([^/]+)\/registrations\/([^/]+)\/(.*)$/.exec(userName ?? "");
  if (!m) return undefined;
  const apiVersion = new URLSearchParams(m[3]).get("api-version") ?? undefined;
  return { idScope: m[1], registrationId: m[2], apiVersion };
}

function credentials(info: MqttConnectInfo): DeviceCredentials | undefined {
  const user = parseUserName(info.username);
  if (!user) return undefined;
  return {
    idScope: user.idScope,
    registrationId: user.registrationId,
    sas: info.password ? info.password.toString("utf8") : undefined,
    peerCertificates: info.peerCertificates.map((der) => new X509Certificate(der)),
  };
}

export function createMqttBridge(
  registrar: Registrar,
  log: RequestLog,
  tlsOptions: { key: string; cert: string },
): MqttServer {
  const reply = (session: MqttSession, status: number, rid: string, body: unknown, retryAfter?: number): void => {
    const extra = retryAfter === undefined ? "" : `&retry-after=${retryAfter}`;
    session.publish(`$dps/registrations/res/${status}/?$rid=${rid}${extra}`, JSON.stringify(body));
  };

  const handle = async (session: MqttSession, topic: string, payload: Buffer): Promise<void> => {
    const register = registerTopic.exec(topic);
    const status = register ? undefined : statusTopic.exec(topic);
    if (!register && !status) return;
    const query = new URLSearchParams((register ?? status)?.[1] ?? "");
    const rid = query.get("$rid") ?? "";
    const started = process.hrtime.bigint();
    const trackingId = newTrackingId();
    const operation = register ? "RuntimeRegistration_RegisterDevice" : "RuntimeRegistration_OperationStatusLookup";
    let code = 200;
    let errorCode: number | undefined;
    try {
      const creds = credentials(session.info);
      if (!creds)
        throw new DpsError("Unauthorized", "the MQTT user name is not {idScope}/registrations/{registrationId}/…");
      const match = registrar.authenticate(creds);
      if (register) {
        let body: { registrationId?: unknown; payload?: unknown } = {};
        try {
          body = JSON.parse(payload.toString("utf8") || "{}") as typeof body;
        } catch {
          throw new DpsError("InvalidRequestBody", "the registration request is not valid JSON");
        }
        const result = await registrar.register(creds, match, body.payload);
        code = 202;
        reply(session, code, rid, { operationId: result.operationId, status: "assigning" }, 1);
      } else {
        reply(session, code, rid, registrar.operation(creds.registrationId, query.get("operationId") ?? ""));
      }
    } catch (err) {
      const error = err instanceof DpsError ? err : new DpsError("InternalServerError", "the emulator failed");
      code = error.status;
      errorCode = error.errorCode;
      reply(session, code, rid, error.body(trackingId));
    } finally {
      log.write({
        time: new Date().toISOString(),
        trackingId,
        api: "device",
        operation: `${operation} (MQTT)`,
        method: "PUBLISH",
        path: topic.split("?")[0],
        status: code,
        errorCode,
        principal: session.clientId,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      });
    }
  };

  return new MqttServer({
    tls: { ...tlsOptions, requestCert: true, rejectUnauthorized: false },
    authenticate: (info): ConnectResult => {
      const user = parseUserName(info.username);
      if (!user || (user.apiVersion !== undefined && !apiVersions.device.includes(user.apiVersion))) {
        return { accepted: false, returnCode: 4 };
      }
      const creds = credentials(info);
      try {
        registrar.authenticate(creds as DeviceCredentials);
        return { accepted: true };
      } catch {
        return { accepted: false, returnCode: 5 };
      }
    },
    onPublish: handle,
  });
}
