#!/bin/sh
# Prints the path of Debian's Chromium, installing it first when it is missing
# (`apt-get install -y chromium`; CI runs as root with the Debian repositories reachable).
# Test binaries may call this concurrently: the install runs under a lock. Any failure exits
# non-zero with apt's output on stderr, so the calling test fails instead of skipping.
set -eu
find_chromium() {
    for name in chromium chromium-browser; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}
if find_chromium; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "chromium is not installed and this is not root: run apt-get install -y chromium" >&2
        exit 1
    fi
else
    SUDO=""
fi
lock="${TMPDIR:-/tmp}/charterguard-chromium-install.lock"
(
    flock -w 900 9 || { echo "timed out waiting for $lock" >&2; exit 1; }
    if ! find_chromium >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -q >&2 || true
        $SUDO apt-get install -y -q --no-install-recommends chromium >&2
    fi
) 9>"$lock"
find_chromium || { echo "chromium still not on PATH after apt-get install" >&2; exit 1; }
