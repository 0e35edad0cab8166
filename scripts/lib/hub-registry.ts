// Microsoft's IoT hub registry client (azure-iothub's Registry) for a hub connection string, able to reach an
// emulator hub that is not on port 443 or whose CA is not among the default ones: the SDK always connects to port 443
// of the HostName and has no port setting, so its Http gets an agent that connects to the port, and the CA. The
// client's requests are otherwise unchanged.
import * as tls from "node:tls";

import { ConnectionString, Registry, SharedAccessSignature } from "azure-iothub";
import { Http } from "azure-iothub/dist/common-http/http";
import { RestApiClient } from "azure-iothub/dist/common-http/rest_api_client";

import { PortAgent } from "./port-agent";

export interface HubRegistryOptions {
  /** `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…` of a hub policy (connection.json's hubs[].connectionString). */
  connectionString: string;
  /** TCP port when not 443 (an emulator hub: the port of connection.json's hubs[].endpoint). */
  port?: number;
  /** Extra CA certificate (PEM) to trust besides the default ones. */
  ca?: string;
}

export function createHubRegistry(options: HubRegistryOptions): Registry {
  if (options.port === undefined && options.ca === undefined) {
    return Registry.fromConnectionString(options.connectionString);
  }
  const {
    HostName: host,
    SharedAccessKeyName: keyName,
    SharedAccessKey: key,
  } = ConnectionString.parse(options.connectionString);
  if (!host || !keyName || !key) {
    throw new Error("the hub connection string must have HostName, SharedAccessKeyName and SharedAccessKey");
  }
  const config: Registry.TransportConfig = {
    host,
    // The RestApiClient extends the expiry on every request, as with fromConnectionString's token.
    sharedAccessSignature: SharedAccessSignature.create(host, keyName, key, Math.ceil(Date.now() / 1000) + 3600),
  };
  const fixed = {
    ...(options.ca === undefined ? {} : { ca: [...tls.rootCertificates, options.ca] }),
    ...(options.port === undefined || options.port === 443 ? {} : { http: { agent: new PortAgent(options.port) } }),
  };
  // The Registry's constructor replaces the Http options with a keep-alive agent of its own: these stay instead.
  class EndpointHttp extends Http {
    setOptions(): void {
      super.setOptions(fixed);
    }
  }
  const http = new EndpointHttp();
  http.setOptions();
  return new Registry(config, new RestApiClient(config, "dps-enrollments/0.1.0", http));
}
