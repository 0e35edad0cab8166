// The IoT Hub registry and twin operations the emulated hubs serve, one handler per REST operation
// (api-version 2021-04-12, what azure-iothub's Registry sends): devices get, list, create or update, delete; twins
// get and update. Handlers see the store and the request, nothing else.
import type { LinkedHub } from "../config";
import type { HubAccessRight } from "../identity";
import { pathPattern, type RoutePattern } from "../router";
import type { Store } from "../store/store";
import { deviceFromBody, deviceView, isDeviceId, twinView, type HubDevice } from "./device";
import { HubError } from "./errors";
import { newTwin, patchTwin, twinEtag } from "./twin";

export interface HubRequest {
  hub: LinkedHub;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The If-Match header, when sent. */
  ifMatch: string | undefined;
  body: unknown;
  /** Timestamp in IoT Hub's form (seven fractional digits). */
  now: string;
}

export interface HubResult {
  status: number;
  body?: unknown;
}

export type HubHandler = (request: HubRequest, store: Store) => HubResult;

export interface HubRoute extends RoutePattern {
  operation: string;
  right: HubAccessRight;
  handler: HubHandler;
}

/** The api-version values the hubs accept: the Node SDK's 2021-04-12 and the earlier stable ones. */
export const hubApiVersions = ["2021-04-12", "2020-09-30", "2020-03-13", "2019-10-01", "2019-03-30", "2018-06-30"];

function hubLabel(hub: LinkedHub): string {
  return hub.name === hub.hostName ? hub.hostName : `${hub.name} (${hub.hostName})`;
}

function deviceIdOf(request: HubRequest): string {
  const id = request.params.id;
  if (!isDeviceId(id)) {
    throw new HubError(
      "ArgumentInvalid",
      `device ID '${id}' is invalid: up to 128 letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '`,
    );
  }
  return id;
}

function existingDevice(request: HubRequest, store: Store): HubDevice {
  const id = deviceIdOf(request);
  const device = store.getHubDevice(request.hub.hostName, id);
  if (!device) {
    throw new HubError("DeviceNotFound", `device '${id}' does not exist on hub ${hubLabel(request.hub)}`);
  }
  return device;
}

/** If-Match against an etag: absent and `*` match anything; etags compare ignoring one layer of quotes. */
function checkIfMatch(ifMatch: string | undefined, etag: string, what: string): void {
  const unquote = (value: string): string => value.replace(/^"(.*)"$/, "$1");
  if (ifMatch === undefined || unquote(ifMatch) === "*" || unquote(ifMatch) === unquote(etag)) {
    return;
  }
  throw new HubError("PreconditionFailed", `${what} etag is "${etag}", not ${ifMatch}: read it again`);
}

function getDevice(request: HubRequest, store: Store): HubResult {
  return { status: 200, body: deviceView(existingDevice(request, store)) };
}

function listDevices(request: HubRequest, store: Store): HubResult {
  const top = request.query.get("top");
  const limit = top === null ? 1000 : /^\d+$/.test(top) ? Number(top) : NaN;
  if (!(limit >= 1 && limit <= 1000)) {
    throw new HubError("ArgumentInvalid", `top ${JSON.stringify(top)} must be a whole number from 1 to 1000`);
  }
  return { status: 200, body: store.listHubDevices(request.hub.hostName, limit).map(deviceView) };
}

function putDevice(request: HubRequest, store: Store): HubResult {
  const id = deviceIdOf(request);
  const existing = store.getHubDevice(request.hub.hostName, id);
  if (existing && request.ifMatch === undefined) {
    throw new HubError(
      "DeviceAlreadyExists",
      `device '${id}' already exists on hub ${hubLabel(request.hub)}: send If-Match to update it`,
    );
  }
  if (!existing && request.ifMatch !== undefined) {
    throw new HubError("DeviceNotFound", `device '${id}' does not exist on hub ${hubLabel(request.hub)}`);
  }
  if (existing) checkIfMatch(request.ifMatch, existing.etag, "the device's");
  const device = deviceFromBody(
    request.body,
    id,
    request.hub.hostName,
    existing,
    () => newTwin(undefined, request.now),
    request.now,
  );
  store.putHubDevice(device);
  return { status: 200, body: deviceView(device) };
}

function deleteDevice(request: HubRequest, store: Store): HubResult {
  const device = existingDevice(request, store);
  checkIfMatch(request.ifMatch, device.etag, "the device's");
  store.deleteHubDevice(device.hub, device.deviceId);
  return { status: 204 };
}

function getTwin(request: HubRequest, store: Store): HubResult {
  return { status: 200, body: twinView(existingDevice(request, store)) };
}

function updateTwin(request: HubRequest, store: Store): HubResult {
  const device = existingDevice(request, store);
  checkIfMatch(request.ifMatch, twinEtag(device.twin), "the twin's");
  const updated: HubDevice = { ...device, twin: patchTwin(device.twin, request.body, request.now) };
  store.putHubDevice(updated);
  return { status: 200, body: twinView(updated) };
}

function route(
  operation: string,
  method: string,
  template: string,
  right: HubAccessRight,
  handler: HubHandler,
): HubRoute {
  return { operation, method, ...pathPattern(template), right, handler };
}

export const hubRoutes: HubRoute[] = [
  route("Devices_GetDevices", "GET", "/devices", "RegistryRead", listDevices),
  route("Devices_GetIdentity", "GET", "/devices/{id}", "RegistryRead", getDevice),
  route("Devices_CreateOrUpdateIdentity", "PUT", "/devices/{id}", "RegistryWrite", putDevice),
  route("Devices_DeleteIdentity", "DELETE", "/devices/{id}", "RegistryWrite", deleteDevice),
  route("Devices_GetTwin", "GET", "/twins/{id}", "ServiceConnect", getTwin),
  route("Devices_UpdateTwin", "PATCH", "/twins/{id}", "ServiceConnect", updateTwin),
];
