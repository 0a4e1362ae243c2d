#!/usr/bin/env bash
# Provide the real Pulumi CLI and Python language host without the official
# installer, built with `go` from the Go module proxy (no Pulumi source is kept
# in this repository; modules are fetched at build time).
#
#   export PATH="$(scripts/install-pulumi.sh | tail -1):$PATH"
#
# The last line of stdout is always the directory that holds `pulumi`.
# If `pulumi` on PATH already reports $CLI_VERSION, that one is used as is.
# Otherwise the binaries are built once into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/faellesdrift/pulumi/v$CLI_VERSION/bin
# and later runs reuse them (stamp file + binaries present => no build).
#
# Versions:
#   SDK_VERSION  the `pulumi==X` pin in pyproject.toml; the Python scripts
#                (pulumi-language-python-exec, pulumi-resource-pulumi-python)
#                come from github.com/pulumi/pulumi/sdk/v3@vSDK_VERSION.
#   CLI_VERSION  github.com/pulumi/pulumi/pkg/v3 release for `pulumi`. The
#                module proxy here does not serve pkg/v3 v3.272.0, so the
#                nearest newer release is used (a newer CLI runs older SDKs).
#                Override with PULUMI_CLI_VERSION.
#   HOST_VERSION pulumi-language-python. Its own module
#                (sdk/python/cmd/pulumi-language-python/v3) is not served by
#                the proxy at all; v3.68.0 is the newest sdk/v3 release served
#                that still contains the host, so it is built from there.
#                That old host ignores Pulumi.yaml runtime options (the CLI no
#                longer passes them as flags) and cannot run Python policy
#                packs for this CLI (RunPlugin lacks the pack's path).
#
# Environment for running pulumi with these binaries:
#   PULUMI_PYTHON_CMD=/path/to/venv/bin/python        interpreter for programs and
#       dynamic providers (or put the venv's bin first on PATH); the
#       `virtualenv` runtime option in Pulumi.yaml is NOT honoured.
#   PULUMI_SKIP_UPDATE_CHECK=true                     no version check online
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true  never download plugins
#   PULUMI_CONFIG_PASSPHRASE=...                      for file:// backends
# Build knobs: GOMODCACHE/GOCACHE as usual (go env defaults), GOPROXY.
set -euo pipefail

die() { echo "install-pulumi: $*" >&2; exit 1; }
log() { echo "install-pulumi: $*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SDK_VERSION=$(sed -n 's/^[[:space:]]*"pulumi==\([0-9][0-9.]*\)".*/\1/p' "$repo/pyproject.toml" | head -1)
[[ -n $SDK_VERSION ]] || die "no \"pulumi==X.Y.Z\" pin found in $repo/pyproject.toml"
CLI_VERSION=${PULUMI_CLI_VERSION:-3.274.1}
HOST_VERSION=3.68.0

# 1. A pulumi already on PATH at the pinned version wins.
if existing=$(command -v pulumi 2>/dev/null) &&
    [[ $(PULUMI_SKIP_UPDATE_CHECK=true "$existing" version 2>/dev/null) == "v$CLI_VERSION" ]]; then
    echo "$(dirname "$existing")"
    exit 0
fi

bin=${XDG_CACHE_HOME:-$HOME/.cache}/faellesdrift/pulumi/v$CLI_VERSION/bin
stamp=$bin/.stamp
want="cli=v$CLI_VERSION sdk-scripts=v$SDK_VERSION language-host=v$HOST_VERSION"
tools=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

# 2. Cached build.
cached() {
    [[ -f $stamp && $(cat "$stamp") == "$want" ]] || return 1
    for t in "${tools[@]}"; do [[ -x $bin/$t ]] || return 1; done
}
if cached; then
    echo "$bin"
    exit 0
fi

# 3. Build.
command -v go >/dev/null || die "go is not on PATH (needed to build Pulumi; Debian: apt-get install golang, or a go >= the pkg/v3 go.mod 'go' line)"
export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Writable copy of module $1@$2 in $work/$3 (module cache copies are read-only
# and, for pkg/v3, carry a `replace ../sdk` that `go install` refuses).
fetch() {
    local dir
    dir=$(cd "$work" && go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p') || true
    [[ -n $dir && -d $dir ]] || die "could not download $1@$2 from the Go module proxy ($(go env GOPROXY))"
    cp -r "$dir" "$work/$3"
    chmod -R u+w "$work/$3"
}
ldflags() { echo "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$1"; }

log "building pulumi v$CLI_VERSION (github.com/pulumi/pulumi/pkg/v3); this takes a while"
fetch github.com/pulumi/pulumi/pkg/v3 "v$CLI_VERSION" pkg
(cd "$work/pkg" &&
    go mod edit -dropreplace=github.com/pulumi/pulumi/sdk/v3 &&
    go get "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION" &&   # also adds its go.sum lines
    go build -trimpath -ldflags "$(ldflags "$CLI_VERSION")" -o "$work/out/pulumi" ./cmd/pulumi) ||
    die "building pulumi failed"

log "building pulumi-language-python v$HOST_VERSION (github.com/pulumi/pulumi/sdk/v3)"
fetch github.com/pulumi/pulumi/sdk/v3 "v$HOST_VERSION" host
(cd "$work/host" &&
    go build -trimpath -ldflags "$(ldflags "$HOST_VERSION")" \
        -o "$work/out/pulumi-language-python" ./python/cmd/pulumi-language-python) ||
    die "building pulumi-language-python failed"

log "taking the Python scripts from github.com/pulumi/pulumi/sdk/v3@v$SDK_VERSION"
fetch github.com/pulumi/pulumi/sdk/v3 "v$SDK_VERSION" sdk
cp "$work/sdk/python/cmd/pulumi-language-python-exec" "$work/sdk/python/dist/pulumi-resource-pulumi-python" "$work/out/"
chmod 0755 "$work/out/"*   # the module zip drops the exec bit

mkdir -p "$bin"
rm -f "$stamp"
cp "$work/out/"* "$bin/"
echo "$want" >"$stamp"
got=$(PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" version) || die "built pulumi does not run"
[[ $got == "v$CLI_VERSION" ]] || die "built pulumi reports $got, expected v$CLI_VERSION"
log "installed $want into $bin"
echo "$bin"
