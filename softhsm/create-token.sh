#!/bin/sh
# Create a private SoftHSM2 configuration and one initialised token in a folder of your choice.
#
#   softhsm/create-token.sh DIR LABEL PIN SO_PIN
#
# Writes DIR/softhsm2.conf and DIR/tokens/, initialises token LABEL with the given user PIN and
# security-officer PIN, and prints the line to export SOFTHSM2_CONF. Running it again with another
# LABEL adds a second token to the same folder. PINs on a command line are visible to other local
# users (ps): this is for tests and demos, not for tokens that guard real funds.
set -eu

if [ "$#" -ne 4 ]; then
    echo "usage: $0 DIR LABEL PIN SO_PIN" >&2
    exit 2
fi
dir=$1 label=$2 pin=$3 so_pin=$4

if ! command -v softhsm2-util >/dev/null 2>&1; then
    echo "softhsm2-util not found: install SoftHSM2 (Debian/Ubuntu: apt-get install softhsm2)" >&2
    exit 1
fi
case $dir in
    /*) ;;
    *) dir=$(pwd)/$dir ;;  # SoftHSM resolves the token folder from wherever the signer runs
esac
case $dir in
    *"|"*|*"
"*) echo "DIR must not contain '|' or a newline" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
umask 077  # token files hold key material (encrypted with the PIN, but still)
mkdir -p "$dir/tokens"
sed "s|@TOKENDIR@|$dir/tokens|" "$here/softhsm2.conf.template" >"$dir/softhsm2.conf"

export SOFTHSM2_CONF="$dir/softhsm2.conf"
# Labels are how the signer finds a token; a second token with the same label would be ambiguous.
if softhsm2-util --show-slots 2>/dev/null | sed -n 's/^ *Label: *//p' | sed 's/ *$//' | grep -qxF -- "$label"; then
    echo "a token labelled '$label' already exists in $dir" >&2
    exit 1
fi
softhsm2-util --init-token --free \
    --label "$label" --pin "$pin" --so-pin "$so_pin" >/dev/null

echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
