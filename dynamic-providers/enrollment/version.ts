// The provider's version: this package's, recorded in every enrollment's state (`providerVersion`), so an upgrade
// shows in a preview as what it is, and a state written by a newer provider is not handled by an older one.
import * as fs from "node:fs";
import * as path from "node:path";

import { EnrollmentError } from "./errors";

export const packageName = "@dps-enrollments/enrollment-provider";

/** The package's root: the nearest directory above this file with its package.json (in the sources and in dist/). */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string };
      if (manifest.name === packageName) return dir;
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the package.json of ${packageName} above ${from}`);
  }
}

/** The version in this package's package.json. */
export const providerVersion: string = (
  JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }
).version;

/** Compares `major.minor.patch` numerically (a pre-release suffix is ignored): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] =>
    v
      .split("-")[0]
      .split(".")
      .map((n) => Number(n) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}

/** Set to `true` to let an older provider handle state a newer one wrote (the README says when that is safe). */
export const allowOlderProviderVariable = "DPS_ENROLLMENTS_ALLOW_OLDER_PROVIDER";

/**
 * Refuses state that a newer provider wrote: an older one may not understand it, and would silently run other
 * code than the one that created it.
 */
export function refuseNewerState(what: string, written: string | undefined, running = providerVersion): void {
  if (written === undefined || compareVersions(written, running) <= 0) return;
  if (process.env[allowOlderProviderVariable] === "true") return;
  throw new EnrollmentError(
    `${what} was last written by ${packageName} ${written}, and this is ${running}, which may not understand it. ` +
      `Install ${packageName} ${written} or newer in this program, or set ` +
      `${allowOlderProviderVariable}=true to run ${running} anyway.`,
  );
}
