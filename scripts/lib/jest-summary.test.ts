import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { projectRoot } from "./pulumi-cli";
import { summaryLine, type JestReport } from "./jest-summary";

// Regression: a clone without ../shared/specs printed "jest: 282 passed, 0 failed, 0 skipped" while two suites had
// failed to load. A real jest run with one suite that cannot load must say so.
test("a suite that fails to load is counted in the closing line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-jest-summary-"));
  try {
    fs.writeFileSync(path.join(dir, "passes.test.js"), 'test("passes", () => expect(1 + 1).toBe(2));\n');
    fs.writeFileSync(path.join(dir, "skips.test.js"), 'test.skip("skipped", () => undefined);\n');
    fs.writeFileSync(
      path.join(dir, "cannot-load.test.js"),
      'require("./missing-fixture");\ntest("never", () => {});\n',
    );
    const report = path.join(dir, "report.json");
    const jest = spawnSync(
      process.execPath,
      [
        path.join(projectRoot, "node_modules", "jest", "bin", "jest.js"),
        "--config",
        JSON.stringify({ rootDir: dir, testEnvironment: "node" }),
        "--json",
        `--outputFile=${report}`,
      ],
      { cwd: dir, encoding: "utf8" },
    );
    expect(jest.status).toBe(1);
    expect(summaryLine(JSON.parse(fs.readFileSync(report, "utf8")) as JestReport)).toBe(
      "jest: 1 passed, 0 failed, 1 skipped, 1 suite failed to run",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
