// Emulator-only inspection (not a DPS operation): the device identity and initial twin a registration left on a
// linked hub, since there is no real IoT hub to look at. Needs RegistrationStatusRead.
import { DpsError } from "../errors";
import type { HandlerResult, RequestContext } from "../http";
import type { Services } from "./services";

export function getHubDevice(ctx: RequestContext, services: Services): HandlerResult {
  const device = services.store.getHubDevice(ctx.params.hub.toLowerCase(), ctx.params.deviceId);
  if (!device) {
    throw new DpsError("ResourceNotFound", `no device '${ctx.params.deviceId}' on hub '${ctx.params.hub}'`);
  }
  return { status: 200, body: device };
}
