// The closing line of `npm test`, in the plain form CI logs are read by. Suites that failed to run (an import that
// throws, a missing fixture) have no tests to count as failed: they are counted on their own, so such a run can
// never read as "0 failed".
import * as fs from "node:fs";

/** The counts of jest's --json report that the line shows. */
export interface JestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites: number;
}

export function summaryLine(report: JestReport): string {
  const suites = report.numRuntimeErrorTestSuites;
  return (
    `jest: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ` +
    `${report.numPendingTests + report.numTodoTests} skipped, ${suites} ${suites === 1 ? "suite" : "suites"} failed to run`
  );
}

if (require.main === module) {
  console.log(summaryLine(JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as JestReport));
}
