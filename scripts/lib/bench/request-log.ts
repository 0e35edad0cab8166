// What the emulator's request log (JSON lines, one per request) says about a run: the DPS service operations it
// answered and the ones it refused with 429, which is how the throttled benchmark measures the achieved rate without
// trusting the client's own count.

export interface ServiceTraffic {
  /** Service API requests answered with anything but 429. */
  operations: number;
  /** Service API requests answered with 429. */
  throttled: number;
  /** Answers of 5xx or 4xx other than 404, 409 and 412, which the provider handles itself. */
  errors: number;
}

export function serviceTraffic(logText: string): ServiceTraffic {
  const traffic: ServiceTraffic = { operations: 0, throttled: 0, errors: 0 };
  for (const line of logText.split("\n")) {
    if (line.trim() === "") continue;
    const entry = JSON.parse(line) as { api?: string; status?: number };
    if (entry.api !== "service") continue;
    const status = entry.status ?? 0;
    if (status === 429) {
      traffic.throttled++;
      continue;
    }
    traffic.operations++;
    if (status >= 400 && ![404, 409, 412].includes(status)) traffic.errors++;
  }
  return traffic;
}
