// What every handler is given: the store, the settings and the identity. No handler reaches anything else.
import type { EmulatorConfig } from "../config";
import type { EmulatorIdentity } from "../identity";
import type { Store } from "../store/store";

export interface Services {
  store: Store;
  config: EmulatorConfig;
  identity: EmulatorIdentity;
}

export function linkedHubNames(services: Services): string[] {
  return services.config.linkedHubs.map((h) => h.hostName);
}
