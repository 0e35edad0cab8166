#!/usr/bin/env bash
# Single entry point behind the npm scripts: bootstraps the toolchain (scripts/toolchain.sh), then runs one job.
#
#   run.sh setup            install/verify Node, npm dependencies and the Pulumi CLI; print what is in use
#   run.sh main [args]      the main job (scripts/main.ts)
#   run.sh test [jest args] type check, lint, format check, workflow check, then the whole jest suite
#   run.sh lint             type check, lint, format check and workflow check (actionlint) only
#   run.sh pulumi [args]    the pinned Pulumi CLI with this project's local settings
#   run.sh exec CMD [args]  any command inside the toolchain environment
set -euo pipefail

# shellcheck source=scripts/toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"

# Passphrase of the `local` stack's secrets, documented in the README. The local stack only ever holds keys of the
# local emulator; every other stack needs the user's own PULUMI_CONFIG_PASSPHRASE (or another secrets provider).
DPS_LOCAL_STACK_PASSPHRASE="local-emulator-only"

# The stack a `pulumi` command line targets: --stack/-s, the NAME of `stack init|select|rm NAME`, or the selected one.
dps::target_stack() {
  local previous="" arg verb=""
  for arg in "$@"; do
    case "$arg" in
      --stack=* | -s=*)
        printf '%s' "${arg#*=}"
        return 0
        ;;
    esac
    if [ "$previous" = "--stack" ] || [ "$previous" = "-s" ]; then
      printf '%s' "$arg"
      return 0
    fi
    if [ -n "$verb" ] && [ "${arg#-}" = "$arg" ]; then
      printf '%s' "$arg"
      return 0
    fi
    if [ "$previous" = "stack" ]; then
      case "$arg" in init | select | rm) verb="$arg" ;; esac
    fi
    previous="$arg"
  done
  (cd "$DPS_ROOT" && pulumi stack --show-name 2>/dev/null) || true
}

# Sets the documented passphrase when the command targets the `local` stack and the user has not chosen one.
dps::local_stack_passphrase() {
  if [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ] || [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    return 0
  fi
  if [ "$(dps::target_stack "$@")" = "local" ]; then
    export PULUMI_CONFIG_PASSPHRASE="$DPS_LOCAL_STACK_PASSPHRASE"
  fi
}

# A stack's `dps-enrollments:platform` from stacks/Pulumi.<stack>.yaml; emulator (Pulumi.yaml's default) when absent.
# The same rule as scripts/lib/checkpoints.ts's stackPlatform.
dps::stack_platform() {
  local file="$DPS_ROOT/stacks/Pulumi.$1.yaml" value=""
  if [ -f "$file" ]; then
    value="$(sed -nE 's/^[[:space:]]+(dps-enrollments:)?platform:[[:space:]]*"?([A-Za-z]+)"?[[:space:]]*(#.*)?$/\2/p' "$file" | head -n 1)"
  fi
  printf '%s' "${value:-emulator}"
}

# Linear by default: PULUMI_SKIP_CHECKPOINTS=true for stacks that hold only enrollments (their ownership markers in
# DPS recover a run killed before it saved), never for platform azure; an explicit setting wins (README Performance).
dps::checkpoint_default() {
  [ -z "${PULUMI_SKIP_CHECKPOINTS+set}" ] || return 0
  local stack
  stack="$(dps::target_stack "$@")"
  [ -n "$stack" ] || return 0
  if [ "$(dps::stack_platform "$stack")" != "azure" ]; then
    export PULUMI_SKIP_CHECKPOINTS=true
  fi
}

dps::lint() {
  cd "$DPS_ROOT"
  dps::log "type check (tsc --noEmit)"
  npx --no-install tsc --noEmit -p tsconfig.json
  dps::log "lint (eslint)"
  npx --no-install eslint --max-warnings 0 .
  dps::log "format check (prettier)"
  npx --no-install prettier --check --log-level warn .
  dps::log "Go vet (tools/pulumi-language-nodejs)"
  if command -v go >/dev/null 2>&1; then
    (cd tools/pulumi-language-nodejs && GOFLAGS=-mod=mod go vet ./...)
  fi
  dps::lint_workflows "$DPS_ROOT"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  setup)
    started=$SECONDS
    dps::bootstrap
    dps::log "node     $(command -v node) $(node --version)"
    dps::log "npm      $(npm --version)"
    dps::log "pulumi   $(command -v pulumi) $(pulumi version)"
    dps::log "language $(command -v pulumi-language-nodejs)"
    dps::log "backend  $PULUMI_BACKEND_URL"
    dps::log "setup finished in $((SECONDS - started)) s"
    ;;
  main)
    dps::bootstrap
    dps::use_local_backend
    cd "$DPS_ROOT"
    export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$DPS_LOCAL_STACK_PASSPHRASE}"
    exec npx --no-install tsx scripts/main.ts "$@"
    ;;
  test)
    dps::bootstrap
    dps::lint
    cd "$DPS_ROOT"
    dps::log "tests (jest)"
    report="$(mktemp "${TMPDIR:-/tmp}/dps-jest-report.XXXXXX")"
    set +e
    npx --no-install jest --json --outputFile="$report" "$@"
    status=$?
    set -e
    # One closing line in the plain form CI logs are read by (suites that failed to run counted too).
    npx --no-install tsx scripts/lib/jest-summary.ts "$report" || true
    rm -f "$report"
    exit "$status"
    ;;
  lint)
    dps::bootstrap
    dps::lint
    ;;
  pulumi)
    dps::bootstrap
    dps::local_stack_passphrase "$@"
    dps::checkpoint_default "$@"
    cd "$DPS_ROOT"
    exec pulumi "$@"
    ;;
  exec)
    [ $# -gt 0 ] || dps::die "usage: scripts/run.sh exec COMMAND [ARGS...]"
    dps::bootstrap
    cd "$DPS_ROOT"
    exec "$@"
    ;;
  *)
    dps::die "usage: scripts/run.sh setup | main | test | lint | pulumi ARGS | exec COMMAND"
    ;;
esac
