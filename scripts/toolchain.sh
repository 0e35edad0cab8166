# shellcheck shell=bash
# Toolchain bootstrap, sourced by scripts/run.sh.
#
# Gives every command of this project the same three things, on a laptop and on an offline CI machine alike:
#   1. Node.js >= 22.13: the machine's own when it is new enough, otherwise the official Node binary that the npm
#      registry ships as `node-<os>-<arch>`, kept in a per-user cache (never in the work tree).
#   2. node_modules matching package-lock.json (`npm ci`, skipped while the lock file is unchanged), with the
#      enrollment provider package (dynamic-providers/) built and installed as npm would install its tarball.
#   3. The Pulumi CLI at exactly the version of @pulumi/pulumi in the lock file, with a Node.js language host and the
#      dynamic-provider launcher beside it: the user's own CLI when it is that version, otherwise one built with
#      `go build` from the Go module proxy into the per-user cache, keyed by version.
#
# Everything slow is cached, so a second run costs seconds.

# Node.js release taken from the npm registry when the machine's node is older than 22.13 (node:sqlite without a
# flag, which the emulator needs).
DPS_NODE_VERSION="24.22.3"
DPS_MIN_NODE="22.13"

DPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DPS_CACHE="${DPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dps-enrollments}"

dps::log() { printf '[toolchain] %s\n' "$*" >&2; }
dps::die() {
  printf '[toolchain] error: %s\n' "$*" >&2
  exit 1
}

# Serialises concurrent bootstraps (two terminals, parallel CI jobs) on one cache entry.
dps::with_lock() {
  local name="$1"
  shift
  mkdir -p "$DPS_CACHE/locks"
  if command -v flock >/dev/null 2>&1; then
    (
      flock 9
      "$@"
    ) 9>"$DPS_CACHE/locks/$name.lock"
  else
    "$@"
  fi
}

# Whether the `node` on PATH is at least DPS_MIN_NODE (major.minor).
dps::node_recent() {
  node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    const [wantMajor, wantMinor] = process.argv[1].split(".").map(Number);
    process.exit(major > wantMajor || (major === wantMajor && minor >= wantMinor) ? 0 : 1);
  ' "$DPS_MIN_NODE" 2>/dev/null
}

dps::platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) dps::die "unsupported operating system $(uname -s); install Node.js ${DPS_MIN_NODE}+ yourself" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) dps::die "unsupported CPU $(uname -m); install Node.js ${DPS_MIN_NODE}+ yourself" ;;
  esac
  printf '%s-%s' "$os" "$arch"
}

dps::fetch_node() {
  local dir="$1" pkg="$2"
  [ -x "$dir/bin/node" ] && return 0
  command -v npm >/dev/null 2>&1 || dps::die "Node.js ${DPS_MIN_NODE}+ is required and npm is not available to fetch it: install Node.js ${DPS_MIN_NODE}+ from https://nodejs.org"
  dps::log "fetching Node.js $DPS_NODE_VERSION ($pkg) from the npm registry into $dir"
  local tmp
  tmp="$(mktemp -d "$DPS_CACHE/node/.fetch.XXXXXX")"
  (cd "$tmp" && npm pack --silent "$pkg@$DPS_NODE_VERSION" >/dev/null) ||
    dps::die "could not fetch $pkg@$DPS_NODE_VERSION from the npm registry"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/bin/node package/LICENSE
  mkdir -p "$tmp/out/bin"
  mv "$tmp/package/bin/node" "$tmp/out/bin/node"
  mv "$tmp/package/LICENSE" "$tmp/out/LICENSE"
  "$tmp/out/bin/node" --version >/dev/null || dps::die "the fetched Node.js binary does not run on this machine"
  rm -rf "$dir"
  mv "$tmp/out" "$dir"
  rm -rf "$tmp"
}

dps::ensure_node() {
  if dps::node_recent; then
    return 0
  fi
  local platform dir
  platform="$(dps::platform)"
  dir="$DPS_CACHE/node/$DPS_NODE_VERSION-$platform"
  mkdir -p "$DPS_CACHE/node"
  dps::with_lock node dps::fetch_node "$dir" "node-$platform"
  export PATH="$dir/bin:$PATH"
  dps::node_recent || dps::die "Node.js $DPS_NODE_VERSION from $dir did not take effect"
}

# The local package's dependencies are part of what npm installs; its sources are dps::ensure_package's.
dps::deps_stamp() {
  (cat "$DPS_ROOT/package.json" "$DPS_ROOT/package-lock.json" "$DPS_ROOT/dynamic-providers/package.json" &&
    node --version) | cksum | cut -d' ' -f1
}

dps::ensure_deps() {
  local stamp_file="$DPS_ROOT/node_modules/.dps-deps-stamp" want
  want="$(dps::deps_stamp)"
  if [ "$(cat "$stamp_file" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  dps::log "installing npm dependencies (npm ci)"
  (cd "$DPS_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || dps::die "npm ci failed"
  printf '%s' "$want" >"$stamp_file"
}

# A hash of the enrollment provider package's files (dynamic-providers/, less its build output and tests).
dps::package_stamp() {
  node -e '
    const fs = require("fs"), path = require("path"), hash = require("crypto").createHash("sha256");
    const root = process.argv[1];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (dir !== root || (entry.name !== "dist" && entry.name !== "node_modules")) walk(file);
        } else if (!entry.name.endsWith(".test.ts")) {
          hash.update(path.relative(root, file) + "\0").update(fs.readFileSync(file));
        }
      }
    };
    walk(root);
    process.stdout.write(hash.digest("hex"));
  ' "$DPS_ROOT/dynamic-providers"
}

# The enrollment provider package (dynamic-providers/, @dps-enrollments/enrollment-provider) is a `file:`
# dependency installed by copy (.npmrc install-links), so Pulumi sees it under node_modules. Its JavaScript is built
# by `npm pack` (prepack: tsc), never by `npm ci`: npm runs only `prepare` while installing a directory, and then
# typescript may not be installed yet. So after `npm ci`, and whenever its files change, it is packed and unpacked
# into node_modules, as npm installs a tarball; the next run of any command picks up an edit to its sources.
dps::ensure_package() {
  local stamp_file="$DPS_ROOT/node_modules/.dps-package-stamp" want target tmp started=$SECONDS
  want="$(dps::package_stamp)"
  if [ "$(cat "$stamp_file" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  dps::log "building the enrollment provider package (dynamic-providers: npm pack, tsc)"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/dps-package.XXXXXX")"
  (cd "$DPS_ROOT/dynamic-providers" && npm pack --silent --pack-destination "$tmp" >/dev/null) || {
    rm -rf "$tmp"
    dps::die "building dynamic-providers failed (npm pack)"
  }
  target="$DPS_ROOT/node_modules/@dps-enrollments/enrollment-provider"
  rm -rf "$target"
  mkdir -p "$target"
  tar -xzf "$tmp"/*.tgz -C "$target" --strip-components=1
  rm -rf "$tmp"
  printf '%s' "$want" >"$stamp_file"
  dps::log "built the enrollment provider package in $((SECONDS - started)) s"
}

# The @pulumi/pulumi version recorded in package-lock.json: the CLI must match it.
dps::pulumi_version() {
  node -e '
    const lock = require(process.argv[1]);
    const entry = lock.packages && lock.packages["node_modules/@pulumi/pulumi"];
    if (!entry || !entry.version) { console.error("package-lock.json has no node_modules/@pulumi/pulumi entry"); process.exit(1); }
    process.stdout.write(entry.version);
  ' "$DPS_ROOT/package-lock.json"
}

dps::source_stamp() {
  cat "$DPS_ROOT"/tools/pulumi-language-nodejs/*.go "$DPS_ROOT"/tools/pulumi-language-nodejs/go.mod | cksum | cut -d' ' -f1
}

# The non-local `replace` directives of a go.mod, one per line as "old => new version".
dps::remote_replaces() {
  awk '
    /^replace \(/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    /^replace / { sub(/^replace /, ""); print; next }
    block { print }
  ' "$1" | sed 's/^[[:space:]]*//' | grep -v '=> *\.' | grep -v '=> */' || true
}

# Runs a command and, while it runs, says every DPS_PROGRESS_INTERVAL seconds (default 30) what it is doing and for
# how long: a cold build of the CLI takes minutes, and silence reads as a hang.
dps::with_progress() {
  local what="$1" started=$SECONDS ticker status
  shift
  dps::log "$what"
  (
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "${DPS_PROGRESS_INTERVAL:-30}" &
      sleeper=$!
      wait "$sleeper"
      dps::log "$what: $((SECONDS - started)) s so far"
    done
  ) >/dev/null &
  ticker=$!
  if "$@"; then status=0; else status=$?; fi
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  return "$status"
}

dps::build_pulumi() {
  local version="$1" dir="$2"
  if [ -x "$dir/bin/pulumi" ] && [ "$("$dir/bin/pulumi" version 2>/dev/null)" = "v$version" ]; then
    return 0
  fi
  local started=$SECONDS work gomod_file
  work="$dir/build"
  dps::log "building the Pulumi CLI v$version from the Go module proxy (first time only; about 10 minutes on 2 cores)"
  rm -rf "$work"
  mkdir -p "$work" "$dir/bin"
  gomod_file="$(cd "$work" && dps::with_progress "1/3 downloading github.com/pulumi/pulumi/pkg/v3@v$version" \
    env GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}process.stdout.write(j.GoMod)})')" ||
    dps::die "the Go module proxy does not serve github.com/pulumi/pulumi/pkg/v3@v$version"
  # Upstream's go.mod carries replace directives, which `go install pkg@version` refuses; a wrapper module that
  # requires the pinned modules and repeats the non-local replaces builds the same binary.
  {
    echo "module dps-enrollments/pulumi-cli"
    echo
    grep -m1 '^go ' "$gomod_file"
    echo
    echo "require ("
    echo "	github.com/pulumi/pulumi/pkg/v3 v$version"
    echo "	github.com/pulumi/pulumi/sdk/v3 v$version"
    echo ")"
    echo
    dps::remote_replaces "$gomod_file" | sed 's/^/replace /'
    echo
    echo "tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
  } >"$work/go.mod"
  (cd "$work" && dps::with_progress "2/3 downloading the CLI's dependencies (go mod tidy)" go mod tidy) ||
    dps::die "go mod tidy failed for the Pulumi CLI wrapper module in $work"
  (cd "$work" && dps::with_progress "3/3 compiling the CLI (go build)" go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
    -o "$dir/bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || dps::die "go build of the Pulumi CLI failed"
  mv "$dir/bin/pulumi.tmp" "$dir/bin/pulumi"
  dps::log "built pulumi v$version in $((SECONDS - started)) s"
}

# The language host is keyed by its source: each checkout gets the host of its own tools/pulumi-language-nodejs,
# so two checkouts (branches, worktrees, CI jobs) sharing the cache never swap each other's host mid-run. The engine
# looks for bundled plugins next to the running `pulumi`, so each host directory holds a hard link of the CLI too.
dps::host_dir() {
  printf '%s/hosts/%s-%s' "$1" "$(dps::source_stamp)" "$2"
}

dps::build_language_host() {
  local version="$1" dir="$2" host
  host="$(dps::host_dir "$dir" "$version")/bin"
  if [ -x "$host/pulumi-language-nodejs" ] && [ -x "$host/pulumi" ]; then
    return 0
  fi
  mkdir -p "$host"
  (cd "$DPS_ROOT/tools/pulumi-language-nodejs" &&
    dps::with_progress "building pulumi-language-nodejs from tools/pulumi-language-nodejs" \
      env GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X main.version=v$version" \
      -o "$host/pulumi-language-nodejs.tmp" .) || dps::die "go build of pulumi-language-nodejs failed"
  mv "$host/pulumi-language-nodejs.tmp" "$host/pulumi-language-nodejs"
  ln -f "$dir/bin/pulumi" "$host/pulumi.tmp" 2>/dev/null || cp "$dir/bin/pulumi" "$host/pulumi.tmp"
  mv "$host/pulumi.tmp" "$host/pulumi"
}

dps::install_dynamic_provider_launcher() {
  local bin="$1"
  # The launcher the Pulumi CLI ships for dynamic providers: run @pulumi/pulumi's dynamic-provider host with the
  # node on PATH, resolved from the program's directory (the engine starts plugins there).
  cat >"$bin/pulumi-resource-pulumi-nodejs.tmp" <<'EOF'
#!/bin/sh
PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")
if [ -n "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" ]; then
    exec node "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" "$@"
fi
EOF
  chmod +x "$bin/pulumi-resource-pulumi-nodejs.tmp"
  mv "$bin/pulumi-resource-pulumi-nodejs.tmp" "$bin/pulumi-resource-pulumi-nodejs"
}

dps::ensure_pulumi() {
  local version ambient
  version="$(dps::pulumi_version)"
  export DPS_PULUMI_VERSION="$version"
  # A CLI installed the official way ships its language host and launcher beside it: use it as it is.
  if ambient="$(command -v pulumi 2>/dev/null)" && [ "$(pulumi version 2>/dev/null)" = "v$version" ] &&
    command -v pulumi-language-nodejs >/dev/null 2>&1; then
    DPS_PULUMI_BIN="$(dirname "$ambient")"
    export DPS_PULUMI_BIN
    return 0
  fi
  local dir="$DPS_CACHE/pulumi/v$version" host
  host="$(dps::host_dir "$dir" "$version")/bin"
  if ! command -v go >/dev/null 2>&1; then
    if [ ! -x "$host/pulumi" ] || [ ! -x "$host/pulumi-language-nodejs" ]; then
      dps::die "the Pulumi CLI v$version is not installed and no Go toolchain is available to build it. Either install the CLI v$version the official way (https://www.pulumi.com/docs/iac/download-install/ , e.g. 'curl -fsSL https://get.pulumi.com | sh -s -- --version $version') or install Go (https://go.dev/dl/) and run this again: setup then builds the CLI from the Go module proxy."
    fi
  else
    dps::with_lock "pulumi-v$version" dps::build_pulumi "$version" "$dir"
    dps::with_lock "pulumi-v$version" dps::build_language_host "$version" "$dir"
  fi
  dps::install_dynamic_provider_launcher "$host"
  export DPS_PULUMI_BIN="$host"
  export PATH="$host:$PATH"
}

# actionlint, which checks .github/workflows in `npm run lint` / `npm test`: built like the Pulumi CLI, from the Go
# module proxy into the per-user cache, once per version. Not part of dps::bootstrap: only lint needs it.
DPS_ACTIONLINT_VERSION="1.7.12"

dps::build_actionlint() {
  local dir="$1"
  [ -x "$dir/bin/actionlint" ] && return 0
  local started=$SECONDS
  dps::log "building actionlint v$DPS_ACTIONLINT_VERSION from the Go module proxy (first time only)"
  rm -rf "$dir/bin.tmp"
  mkdir -p "$dir/bin"
  # `go install pkg@version` builds outside any module; GOFLAGS of the caller (e.g. -mod=vendor) must not apply.
  (cd "$dir" && GOFLAGS="" GOBIN="$dir/bin.tmp" go install "github.com/rhysd/actionlint/cmd/actionlint@v$DPS_ACTIONLINT_VERSION") ||
    dps::die "go install of actionlint v$DPS_ACTIONLINT_VERSION failed"
  mv "$dir/bin.tmp/actionlint" "$dir/bin/actionlint"
  rm -rf "$dir/bin.tmp"
  dps::log "built actionlint v$DPS_ACTIONLINT_VERSION in $((SECONDS - started)) s"
}

# Prints the actionlint to run: one of the pinned version on PATH, else the cached build (built now when Go is
# there). Without either it prints nothing and says why: workflows are then not checked on this machine.
dps::ensure_actionlint() {
  local dir="$DPS_CACHE/actionlint/v$DPS_ACTIONLINT_VERSION" ambient
  if ambient="$(command -v actionlint 2>/dev/null)" &&
    [ "$(actionlint -version 2>/dev/null | head -n1)" = "v$DPS_ACTIONLINT_VERSION" ]; then
    printf '%s' "$ambient"
    return 0
  fi
  if [ ! -x "$dir/bin/actionlint" ]; then
    if ! command -v go >/dev/null 2>&1; then
      dps::log "actionlint skipped: actionlint v$DPS_ACTIONLINT_VERSION is not on PATH and no Go toolchain is available to build it; .github/workflows is not checked (install Go from https://go.dev/dl/ and run this again)"
      return 0
    fi
    dps::with_lock "actionlint-v$DPS_ACTIONLINT_VERSION" dps::build_actionlint "$dir"
  fi
  printf '%s' "$dir/bin/actionlint"
}

# actionlint over DIR/.github/workflows (exit status 1 and its findings when any). actionlint runs shellcheck on every
# `run:` script when shellcheck is on PATH (GitHub's Ubuntu runners have it); it is not required here, so without it
# the scripts go unchecked and this says so.
dps::lint_workflows() {
  local root="$1" actionlint
  actionlint="$(dps::ensure_actionlint)"
  [ -n "$actionlint" ] || return 0
  if command -v shellcheck >/dev/null 2>&1; then
    dps::log "workflows (actionlint v$DPS_ACTIONLINT_VERSION, with shellcheck)"
  else
    dps::log "workflows (actionlint v$DPS_ACTIONLINT_VERSION; shellcheck not on PATH: run: scripts are not checked)"
  fi
  # From inside the project, so findings name .github/workflows/<file> wherever it is checked out (actionlint
  # otherwise prints whichever of the absolute and the cwd-relative path is shorter).
  (
    cd "$root" || exit 1
    local workflows=()
    shopt -s nullglob
    workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
    shopt -u nullglob
    [ ${#workflows[@]} -gt 0 ] || exit 0
    "$actionlint" -no-color "${workflows[@]}"
  )
}

# Environment every Pulumi invocation of this project runs with: local file state in the project, no network.
dps::export_pulumi_env() {
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$DPS_ROOT/.pulumi-state}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  # `npm test` type-checks the program (tsc); Pulumi runs need not do it again (≈ 3 s of every preview/up).
  export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
  # Go lets a heap grow to twice what is live before collecting: a no-change preview of 10,000 enrollments peaked at
  # 1.2 GiB in the CLI with about 600 MiB live. A soft limit makes Go collect sooner near it, and only then (README,
  # Performance); `GOMEMLIMIT=off` or any other value of the caller's wins.
  export GOMEMLIMIT="${GOMEMLIMIT:-850MiB}"
  export PATH="$DPS_PULUMI_BIN:$PATH"
  case "$PULUMI_BACKEND_URL" in
    file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;;
  esac
}

# The `local` stack describes this machine's emulator, so `npm start` keeps it in the checkout's file backend even
# when PULUMI_BACKEND_URL points at the team's shared state (README, "Team state and CI"): one team-wide `local` stack
# would have every checkout overwrite the others' emulator records.
dps::use_local_backend() {
  local local_backend="file://$DPS_ROOT/.pulumi-state"
  if [ -n "${PULUMI_BACKEND_URL:-}" ] && [ "$PULUMI_BACKEND_URL" != "$local_backend" ]; then
    dps::log "the local stack stays in .pulumi-state: PULUMI_BACKEND_URL is for the team's stacks and is not used here"
  fi
  export PULUMI_BACKEND_URL="$local_backend"
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
}

dps::bootstrap() {
  mkdir -p "$DPS_CACHE"
  dps::ensure_node
  dps::ensure_deps
  dps::ensure_package
  dps::ensure_pulumi
  dps::export_pulumi_env
}
