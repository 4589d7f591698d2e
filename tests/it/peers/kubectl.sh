#!/bin/sh
# Prints the path of kubectl, installing Debian's `kubernetes-client` first when it is missing
# (CI runs as root with the Debian repositories reachable). Test binaries may call this
# concurrently: the install runs under a lock. Any failure exits non-zero with apt's output on
# stderr, so the calling test fails instead of skipping.
set -eu
if command -v kubectl >/dev/null 2>&1; then
    command -v kubectl
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "kubectl is not installed and this is not root: run apt-get install -y kubernetes-client" >&2
        exit 1
    fi
else
    SUDO=""
fi
lock="${TMPDIR:-/tmp}/charterguard-kubectl-install.lock"
(
    flock -w 900 9 || { echo "timed out waiting for $lock" >&2; exit 1; }
    if ! command -v kubectl >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -q >&2 || true
        $SUDO apt-get install -y -q --no-install-recommends kubernetes-client >&2
    fi
) 9>"$lock"
command -v kubectl || { echo "kubectl still not on PATH after apt-get install" >&2; exit 1; }
