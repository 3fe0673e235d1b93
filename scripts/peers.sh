#!/usr/bin/env bash
# Build the real go-ethereum peers the tests and the demo run against, with `go install` from the Go
# module proxy, into a cache outside the repository (never committed):
#   geth v1.13.15  the last geth whose miner seals clique through --signer
#   clef v1.17.3   the last clef release, the reference implementation of the signer
#   geth v1.17.10  a current --signer client (transactions, eth_sign)
# Each binary lands in $SEALWARD_PEERS/<name>-<version>/<name> and is rebuilt only when missing.
# Exit status 0 when every peer is there; 1 (with the reason) when Go or the proxy is missing or a
# build fails, and the tests that need a missing peer then skip naming it.
#   bash scripts/peers.sh                  build what is missing
#   bash scripts/peers.sh geth@v1.13.15    only that peer
#   bash scripts/peers.sh --print          only say where each peer is (or that it is missing)
#   bash scripts/peers.sh --progress ...   also print a line every 50 packages the build compiles
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS_DIR=${SEALWARD_PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/sealward-peers}
# name version extra-go-flags
PEERS=(
    "geth v1.13.15 -ldflags=-checklinkname=0"
    "clef v1.17.3 -"
    "geth v1.17.10 -"
)
MODULE=github.com/ethereum/go-ethereum

print_only=0
progress=0
wanted=()
for arg in "$@"; do
    case $arg in
        --print) print_only=1 ;;
        --progress) progress=1 ;;
        *@v*) wanted+=("$arg") ;;
        *) echo "usage: $0 [--print] [--progress] [NAME@VERSION ...]" >&2; exit 2 ;;
    esac
done

missing=0
for entry in "${PEERS[@]}"; do
    read -r name version flags <<<"$entry"
    if ((${#wanted[@]})) && [[ " ${wanted[*]} " != *" $name@$version "* ]]; then
        continue
    fi
    dest="$PEERS_DIR/$name-$version"
    if [[ -x "$dest/$name" ]]; then
        echo "peers: $name $version ready: $dest/$name"
        continue
    fi
    if ((print_only)); then
        echo "peers: $name $version missing (run scripts/peers.sh)"
        missing=1
        continue
    fi
    if ! command -v go >/dev/null 2>&1; then
        echo "peers: cannot build $name $version: no 'go' on PATH (install Go >= 1.22)" >&2
        missing=1
        continue
    fi
    if ! command -v gcc >/dev/null 2>&1; then
        echo "peers: cannot build $name $version: go-ethereum needs cgo and there is no gcc" >&2
        missing=1
        continue
    fi
    mkdir -p "$dest"
    echo "peers: building $name $version with $(go version | cut -d' ' -f3) (first time only; a few minutes)..."
    started=$SECONDS
    args=(install -trimpath)
    [[ "$flags" != "-" ]] && args+=("$flags")
    ((progress)) && args+=(-v)  # one line per package compiled: counted below
    # GOTOOLCHAIN=local: build with the Go that is installed, never download another toolchain.
    if ! GOBIN="$dest.tmp" GOTOOLCHAIN=local CGO_ENABLED=1 go "${args[@]}" "$MODULE/cmd/$name@$version" 2>&1 |
        tee "$dest/build.log" |
        { if ((progress)); then
              awk -v what="$name $version" 'NR % 50 == 0 { printf "peers:   %s: %d packages compiled (%ds)\n", what, NR, systime() - start; fflush() }
                                            BEGIN { start = systime() }'
          else cat >/dev/null; fi; }; then
        tail -n 25 "$dest/build.log" >&2
        echo "peers: building $name $version failed (full log: $dest/build.log)" >&2
        rm -rf "$dest.tmp"
        missing=1
        continue
    fi
    mv "$dest.tmp/$name" "$dest/$name"
    rm -rf "$dest.tmp"
    echo "peers: $name $version built in $((SECONDS - started)) s: $dest/$name"
done
exit "$missing"
