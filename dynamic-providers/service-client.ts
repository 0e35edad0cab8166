// Microsoft's ProvisioningServiceClient, reachable at any endpoint: the SDK always connects to port 443 of the
// connection string's HostName and trusts only the default CAs, so an emulator on another port (or with its own CA)
// needs a RestApiClient whose Http adds the port and CA (and the host of an endpoint override). The client's wire
// behaviour is otherwise unchanged. With `pacing`, every request the client makes (any operation, every query page)
// waits for its DPS's pacer first and waits again on 429 (enrollment/pacing.ts): the one place where pacing happens.
import * as path from "node:path";
import * as tls from "node:tls";

import type { TokenCredential } from "@azure/core-auth";
import type * as HttpBase from "azure-iot-http-base";
import { ProvisioningServiceClient } from "azure-iot-provisioning-service";

import { pacedSend, type PacingOptions } from "./enrollment/pacing";
import { providerVersion } from "./enrollment/version";

type HttpBaseModule = typeof HttpBase;

export interface ServiceClientOptions {
  /** `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`. */
  connectionString?: string;
  /** DPS service host name, with `credential` (Microsoft Entra ID). */
  hostName?: string;
  credential?: TokenCredential;
  /** Host to connect to (and check the certificate of) when not the DPS host name: an endpoint override. */
  host?: string;
  /** TCP port when not 443 (the emulator). */
  port?: number;
  /** Extra CA certificate (PEM) to trust besides the default ones. */
  ca?: string;
}

/** A client's options, and the pacer every one of its requests goes through (without it, requests are not paced). */
export type PacedClientOptions = ServiceClientOptions & { pacing?: Omit<PacingOptions, "host"> };

export const entraScope = "https://azure-devices-provisioning.net/.default";

/** The directory of package `name` as code in `fromDir` resolves it (npm may nest a pinned copy there). */
function packageDir(name: string, fromDir: string): string {
  return path.dirname(require.resolve(`${name}/package.json`, { paths: [fromDir] }));
}

/** http-base exactly as the service package pins it, and common as that http-base pins it. */
function sdkModules(): { httpBase: HttpBaseModule; common: typeof import("azure-iot-common") } {
  const serviceDir = packageDir("azure-iot-provisioning-service", __dirname);
  const httpBaseDir = packageDir("azure-iot-http-base", serviceDir);
  const commonDir = packageDir("azure-iot-common", httpBaseDir);
  // Computed paths: only require() can load the copies the service package itself uses.
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    httpBase: require(httpBaseDir) as HttpBaseModule,
    common: require(commonDir) as typeof import("azure-iot-common"),
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function parseConnectionString(value: string): { hostName: string; keyName: string; key: string } {
  const fields = new Map(
    value.split(";").map((part) => {
      const eq = part.indexOf("=");
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const;
    }),
  );
  const hostName = fields.get("HostName");
  const keyName = fields.get("SharedAccessKeyName");
  const key = fields.get("SharedAccessKey");
  if (!hostName || !keyName || !key) {
    throw new Error("the DPS connection string must have HostName, SharedAccessKeyName and SharedAccessKey");
  }
  return { hostName, keyName, key };
}

/** The DPS service host name a client's options address (its connection string's HostName, or hostName). */
export function serviceHostName(options: ServiceClientOptions): string {
  if (options.connectionString) return parseConnectionString(options.connectionString).hostName;
  if (options.hostName) return options.hostName;
  throw new Error("a DPS client needs a connection string, or a host name and a Microsoft Entra ID credential");
}

type ApiCall = Parameters<HttpBase.RestApiClient["executeApiCall"]>;
type ResponseCallback = HttpBase.RestApiClient.ResponseCallback;

export function createServiceClient(options: PacedClientOptions): ProvisioningServiceClient {
  const { httpBase, common } = sdkModules();

  let config: HttpBase.RestApiClient.TransportConfig;
  if (options.connectionString) {
    const cs = parseConnectionString(options.connectionString);
    // The expiry is extended on every request by the RestApiClient.
    const sas = common.SharedAccessSignature.create(
      cs.hostName,
      cs.keyName,
      cs.key,
      Math.ceil(Date.now() / 1000) + 3600,
    );
    // Same class at runtime; the type differs only because npm may install two copies of azure-iot-common.
    config = {
      host: cs.hostName,
      sharedAccessSignature: sas as unknown as HttpBase.RestApiClient.TransportConfig["sharedAccessSignature"],
    };
  } else if (options.hostName && options.credential) {
    config = { host: options.hostName, tokenCredential: options.credential, tokenScope: entraScope };
  } else {
    throw new Error("a DPS client needs a connection string, or a host name and a Microsoft Entra ID credential");
  }

  const { host: endpointHost, port } = options;
  class EndpointHttp extends httpBase.Http {
    buildRequest(
      method: Parameters<HttpBase.Http["buildRequest"]>[0],
      requestPath: string,
      headers: Parameters<HttpBase.Http["buildRequest"]>[2],
      host: Parameters<HttpBase.Http["buildRequest"]>[3],
      requestOptions: Parameters<HttpBase.Http["buildRequest"]>[4],
      done?: Parameters<HttpBase.Http["buildRequest"]>[5],
    ): ReturnType<HttpBase.Http["buildRequest"]> {
      const target = endpointHost ?? host;
      if (typeof requestOptions === "function") {
        return super.buildRequest(method, requestPath, headers, target, { port }, requestOptions);
      }
      return super.buildRequest(method, requestPath, headers, target, { ...requestOptions, port }, done);
    }
  }
  const overridden = (port !== undefined && port !== 443) || endpointHost !== undefined;
  const http = overridden ? new EndpointHttp() : new httpBase.Http();
  if (options.ca) {
    // `ca` replaces the default roots for these requests: keep them and add ours.
    http.setOptions({ ca: [...tls.rootCertificates, options.ca] });
  }
  const userAgent = `dps-enrollments/${providerVersion}`;
  const pacing = options.pacing && { ...options.pacing, host: serviceHostName(options) };
  // Every operation of ProvisioningServiceClient is one executeApiCall: the request is sent in its pacer's turn.
  class PacedRestApiClient extends httpBase.RestApiClient {
    executeApiCall(...args: ApiCall): void {
      const [method, requestPath, headers] = args;
      const body = args[3] as unknown;
      let [timeout, requestOptions, done] = [args[4], args[5], args[6]];
      // The SDK's optional arguments, sorted as the base class sorts them: the callback is the last one given.
      if (done === undefined && typeof timeout === "function")
        [done, timeout, requestOptions] = [timeout, undefined, undefined];
      if (done === undefined && typeof requestOptions === "function")
        [done, requestOptions] = [requestOptions, undefined];
      if (!pacing || !done) {
        super.executeApiCall(...args);
        return;
      }
      const callback = done;
      const send = (): Promise<Parameters<ResponseCallback>> =>
        new Promise((resolve, reject) =>
          super.executeApiCall(method, requestPath, headers, body, timeout, requestOptions, (err, result, response) =>
            err ? reject(err) : resolve([err, result, response]),
          ),
        );
      pacedSend(send, pacing).then(
        (answer) => callback(...answer),
        (err: Error) => callback(err),
      );
    }
  }
  const rest = pacing
    ? new PacedRestApiClient(config, userAgent, http)
    : new httpBase.RestApiClient(config, userAgent, http);
  return new ProvisioningServiceClient(config, rest);
}
