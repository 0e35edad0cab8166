// Cheaper stack captures while the Pulumi SDK constructs one of our resources. The SDK captures `new Error().stack`
// many times per resource: four times per property (`debuggablePromise`, only to say where a leaked promise was
// made) and once with unlimited depth for the stack trace the state keeps. In a Pulumi program each capture is
// formatted by source-map-support, frame by frame: about 20 ms per enrollment, more than everything else the program
// does for it. Inside the window opened here, captures at the default depth take no frames, and a deeper capture
// (the state's stack trace) formats only its first `keep` frames, through the same formatter as before, so the
// positions the state records stay source-mapped: the resource's constructor and the program's lines that called
// it, not the module loader and SDK frames beneath them.

/** The V8 formatter of `error.stack` (Node's own when nothing replaced it). */
type Formatter = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/** V8's format, `    at name (file:line:column)`, for when no formatter was installed. */
function defaultFormat(error: Error, frames: NodeJS.CallSite[]): string {
  const line = (f: NodeJS.CallSite): string =>
    `    at ${f.getFunctionName() ?? "<anonymous>"} (${f.getFileName() ?? "<anonymous>"}:${f.getLineNumber() ?? 0}:${f.getColumnNumber() ?? 0})`;
  return [String(error), ...frames.map(line)].join("\n");
}

/**
 * Opens the window: synchronous code until the returned function is called captures no frames at the default
 * depth and at most `keep` formatted frames at any depth. Always call the returned function (try/finally).
 */
export function shallowStacks(keep: number): () => void {
  // Node's typings declare the hook always present; it may be unset (V8's built-in formatting then).
  const errors = Error as { stackTraceLimit: number; prepareStackTrace?: Formatter };
  const limit = errors.stackTraceLimit;
  const format = errors.prepareStackTrace;
  errors.stackTraceLimit = 0;
  errors.prepareStackTrace = (error, frames) => (format ?? defaultFormat)(error, frames.slice(0, keep));
  return () => {
    errors.stackTraceLimit = limit;
    errors.prepareStackTrace = format;
  };
}
