#!/usr/bin/env bash
# The install step of the charterguard GitHub Action (action.yml): puts a charterguard binary
# in $INSTALL_ROOT/bin and sets the step output `bin` to it.
#
# - INPUT_BINARY_URL: download this binary (a bare executable, or a .tar.gz holding
#   `charterguard`);
# - else INPUT_VERSION: download the release asset
#   https://github.com/altscore/charterguard/releases/download/<version>/charterguard-<arch>-unknown-linux-musl
#   (a static binary .github/workflows/release.yml builds; tests/it/workflows.rs keeps the names in step);
# - else build the action's own source (ACTION_PATH) with the toolchain it pins, into
#   CARGO_TARGET_DIR (cached by action.yml together with ~/.cargo, keyed on Cargo.lock),
#   with the default features, the static scanner alone: the action runs `scan` only.
set -euo pipefail

root=${INSTALL_ROOT:-${RUNNER_TEMP:-/tmp}/charterguard}
bin="$root/bin/charterguard"
mkdir -p "$root/bin"

url=${INPUT_BINARY_URL:-}
if [[ -z "$url" && -n "${INPUT_VERSION:-}" ]]; then
  arch=$(uname -m)
  url="https://github.com/altscore/charterguard/releases/download/${INPUT_VERSION}/charterguard-${arch}-unknown-linux-musl"
fi

if [[ -n "$url" ]]; then
  echo "downloading $url"
  download="$root/download"
  curl --fail --silent --show-error --location --retry 3 --output "$download" "$url"
  if [[ "$url" == *.tar.gz || "$url" == *.tgz ]]; then
    tar -xzf "$download" -C "$root/bin" --strip-components=0 charterguard 2>/dev/null ||
      tar -xzf "$download" -C "$root/bin" --wildcards --no-anchored --transform='s|.*/||' 'charterguard'
    rm -f "$download"
  else
    mv "$download" "$bin"
  fi
  chmod +x "$bin"
else
  cd "${ACTION_PATH:?ACTION_PATH is the action source to build}"
  # rustup reads rust-toolchain.toml here; newer rustup versions no longer install it implicitly.
  if command -v rustup >/dev/null; then
    rustup toolchain install 2>/dev/null || rustup show >/dev/null
  fi
  # The gate only scans code: the default features leave out the live sources' AWS SDK and
  # kube client, so the build takes minutes instead of half an hour.
  cargo install --locked --path . --root "$root" --force
fi

"$bin" --version
echo "bin=$bin" >>"${GITHUB_OUTPUT:-/dev/null}"
