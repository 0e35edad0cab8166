import { serviceTraffic } from "./request-log";

test("counts the service API's answers: 429 apart, errors the provider does not handle itself", () => {
  const log = [
    { api: "service", status: 200 },
    { api: "service", status: 429, errorCode: 429001 },
    { api: "service", status: 409 },
    { api: "service", status: 412 },
    { api: "service", status: 404 },
    { api: "service", status: 500 },
    { api: "service", status: 400 },
    { api: "device", status: 200 },
    { api: "emulator", status: 200 },
  ]
    .map((entry) => JSON.stringify(entry))
    .join("\n");
  expect(serviceTraffic(`${log}\n\n`)).toEqual({ operations: 6, throttled: 1, errors: 2 });
  expect(serviceTraffic("")).toEqual({ operations: 0, throttled: 0, errors: 0 });
});
