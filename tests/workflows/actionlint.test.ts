// actionlint as `npm test` runs it (dps::lint_workflows of scripts/toolchain.sh): built once from the Go module
// proxy into the cache, and failing with its finding on a workflow that puts untrusted event text into a script.
// Regression: findings named the workflow by whichever path was shorter (absolute here, ../../ in a clone under
// /tmp), so the exact-message tests failed on a fresh clone; they are now always .github/workflows/<file>.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { projectRoot } from "../../scripts/lib/pulumi-cli";

const toolchain = path.join(projectRoot, "scripts", "toolchain.sh");
const version = /^DPS_ACTIONLINT_VERSION="([^"]+)"/m.exec(fs.readFileSync(toolchain, "utf8"))?.[1];
const hasShellcheck = spawnSync("bash", ["-c", "command -v shellcheck"]).status === 0;

/** A project directory holding one workflow; returns the workflow's path. */
function projectWith(workflow: string): { root: string; file: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dps-actionlint-"));
  const file = path.join(root, ".github", "workflows", "check.yml");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, workflow);
  return { root, file, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

function lintWorkflows(root: string, env: NodeJS.ProcessEnv = process.env): ReturnType<typeof spawnSync> {
  return spawnSync("bash", ["-c", 'set -euo pipefail; source "$0"; dps::lint_workflows "$1"', toolchain, root], {
    encoding: "utf8",
    env,
  });
}

const injectable = `name: check
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
`;

test("the pinned actionlint is the one the toolchain provides", () => {
  const result = spawnSync("bash", ["-c", 'source "$0" && "$(dps::ensure_actionlint)" -version', toolchain], {
    encoding: "utf8",
  });
  expect(result.status).toBe(0);
  expect(result.stdout.split("\n")[0]).toBe(`v${version}`);
});

test("a pull request title in a run: script fails the check with actionlint's finding", () => {
  const project = projectWith(injectable);
  try {
    const result = lintWorkflows(project.root);

    expect(result.status).toBe(1);
    expect(String(result.stdout)).toContain(
      `.github/workflows/check.yml:8:24: "github.event.pull_request.title" is potentially untrusted. avoid using it directly ` +
        "in inline scripts. instead, pass it through an environment variable. see " +
        "https://docs.github.com/en/actions/reference/security/secure-use#good-practices-for-mitigating-script-" +
        "injection-attacks for more details [expression]",
    );
  } finally {
    project.cleanup();
  }
});

test("the same text passed through env: passes", () => {
  const project = projectWith(
    injectable.replace(
      '- run: echo "${{ github.event.pull_request.title }}"',
      '- run: echo "$TITLE"\n        env:\n          TITLE: ${{ github.event.pull_request.title }}',
    ),
  );
  try {
    const result = lintWorkflows(project.root);

    expect(String(result.stderr)).toContain(`[toolchain] workflows (actionlint v${version}`);
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  } finally {
    project.cleanup();
  }
});

(hasShellcheck ? test : test.skip)("with shellcheck on PATH, run: scripts are shellchecked", () => {
  const project = projectWith(
    injectable.replace('echo "${{ github.event.pull_request.title }}"', "cat $RUNNER_TEMP/x"),
  );
  try {
    const result = lintWorkflows(project.root);

    expect(result.status).toBe(1);
    expect(String(result.stderr)).toContain(`[toolchain] workflows (actionlint v${version}, with shellcheck)`);
    expect(String(result.stdout)).toContain(
      `.github/workflows/check.yml:8:9: shellcheck reported issue in this script: SC2086:info:1:5: ` +
        "Double quote to prevent globbing and word splitting [shellcheck]",
    );
  } finally {
    project.cleanup();
  }
});

test("without actionlint and without Go, the check is skipped and says why", () => {
  const project = projectWith(injectable);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "dps-cache-"));
  try {
    // Only bash's own tools: no go, no actionlint; an empty cache.
    const result = lintWorkflows(project.root, { PATH: "/usr/bin:/bin", DPS_CACHE_DIR: cache, HOME: cache });

    expect(result.status).toBe(0);
    expect(String(result.stderr).trim()).toBe(
      `[toolchain] actionlint skipped: actionlint v${version} is not on PATH and no Go toolchain is available to ` +
        "build it; .github/workflows is not checked (install Go from https://go.dev/dl/ and run this again)",
    );
  } finally {
    project.cleanup();
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
