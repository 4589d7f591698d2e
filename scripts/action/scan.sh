#!/usr/bin/env bash
# The scan step of the charterguard GitHub Action (action.yml), kept out of the YAML so it can
# be run and tested locally (tests/it/action.rs):
#
#   GITHUB_WORKSPACE=$PWD GITHUB_OUTPUT=out GITHUB_STEP_SUMMARY=summary.md RUNNER_TEMP=/tmp \
#   INPUT_PATHS=fixtures/platform CHARTERGUARD_BIN=target/debug/charterguard scripts/action/scan.sh
#
# Reads the action's inputs from INPUT_* variables (set by action.yml), scans from
# GITHUB_WORKSPACE so SARIF URIs are repository-relative, writes SARIF to
# $RUNNER_TEMP/charterguard.sarif, appends the markdown report to $GITHUB_STEP_SUMMARY, sets the
# outputs sarif-file, exit-code, findings and category in $GITHUB_OUTPUT, and exits with
# charterguard's exit code (0 with soft-fail): 1 for a violation at or above fail-on (or with
# fail-on-undecided, a finding of such a rule that could not decide), 2 when an input could not
# be read. Invalid action inputs always fail (exit 2).
set -uo pipefail

bin=${CHARTERGUARD_BIN:-charterguard}
workspace=${GITHUB_WORKSPACE:-$PWD}
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
output_file=${GITHUB_OUTPUT:-/dev/null}
summary_file=${GITHUB_STEP_SUMMARY:-/dev/null}
workdir=${INPUT_WORKING_DIRECTORY:-.}
fail_on=${INPUT_FAIL_ON:-error}

invalid() {
  echo "::error title=charterguard::$*"
  exit 2
}

boolean() { # NAME VALUE DEFAULT: sets $flag
  local value=${2:-$3}
  case "${value,,}" in
    true | yes | 1) flag=true ;;
    false | no | 0) flag=false ;;
    *) invalid "input $1 must be true or false, not '$2'" ;;
  esac
}

boolean soft-fail "${INPUT_SOFT_FAIL:-}" false
soft_fail=$flag
boolean no-inline-ignores "${INPUT_NO_INLINE_IGNORES:-}" false
no_inline_ignores=$flag
boolean download-modules "${INPUT_DOWNLOAD_MODULES:-}" false
download_modules=$flag
boolean fail-on-undecided "${INPUT_FAIL_ON_UNDECIDED:-}" false
fail_on_undecided=$flag
case "$fail_on" in
  error | warning | note | never) ;;
  *) invalid "input fail-on must be error, warning, note or never, not '$fail_on'" ;;
esac

cd "$workspace" || invalid "GITHUB_WORKSPACE $workspace is not a directory"

# A path input relative to working-directory, as a path relative to the workspace (where
# charterguard runs, so that reports name files from the repository root).
resolve() {
  local path=$1 dir=${workdir%/}
  dir=${dir#./}
  case "$path" in
    /*) echo "$path" ;;
    *)
      path=${path#./}
      if [[ -z "$dir" || "$dir" == "." ]]; then
        echo "${path:-.}"
      elif [[ -z "$path" || "$path" == "." ]]; then
        echo "$dir"
      else
        echo "$dir/$path"
      fi
      ;;
  esac
}

# Newline-separated list (values files, var files: a name may hold spaces).
lines() {
  local line
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [[ -n "$line" ]] && echo "$line"
  done <<<"$1"
}

args=(scan)
targets=()
set -f # paths are split on whitespace, never globbed
for path in ${INPUT_PATHS-.}; do
  path=$(resolve "$path")
  [[ "$path" != / ]] && path=${path%/}
  args+=("$path")
  targets+=("$path")
done
set +f
if [[ -n "${INPUT_HELM_CHART:-}" ]]; then
  chart=$(resolve "$INPUT_HELM_CHART")
  args+=(--helm "$chart")
  targets+=("helm:${chart%/}")
  while IFS= read -r file; do args+=(-f "$(resolve "$file")"); done < <(lines "${INPUT_HELM_VALUES:-}")
elif [[ -n "$(lines "${INPUT_HELM_VALUES:-}")" ]]; then
  invalid "input helm-values needs helm-chart"
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  args+=("$(resolve .)")
  targets+=("$(resolve .)")
fi
while IFS= read -r file; do args+=(--var-file "$(resolve "$file")"); done < <(lines "${INPUT_VAR_FILES:-}")
[[ -n "${INPUT_CONFIG:-}" ]] && args+=(--config "$(resolve "$INPUT_CONFIG")")
[[ -n "${INPUT_BASELINE:-}" ]] && args+=(--baseline "$(resolve "$INPUT_BASELINE")")
[[ "$no_inline_ignores" == true ]] && args+=(--no-inline-ignores)
# Modules no `terraform init` step installed: fetched into the user's module cache
# (CHARTERGUARD_MODULE_CACHE moves it), else noted at each call.
[[ "$download_modules" == true ]] && args+=(--download-modules)
args+=(--fail-on "$fail_on")
[[ "$fail_on_undecided" == true ]] && args+=(--fail-on-undecided)

# The default category names what was scanned, sorted, so it is the same on every run of the
# same configuration and distinct for two scans of different folders of one repository.
category=${INPUT_CATEGORY:-}
if [[ -z "$category" ]]; then
  category="charterguard/$(printf '%s\n' "${targets[@]}" | LC_ALL=C sort -u | paste -sd, -)"
fi

sarif="$tmp/charterguard.sarif"
markdown="$tmp/charterguard.md"
errors="$tmp/charterguard.stderr"
rm -f "$sarif" "$markdown"

# One scan writes both reports: SARIF for code scanning, markdown for the step summary.
echo "charterguard ${args[*]} --format sarif --report markdown=..."
"$bin" "${args[@]}" --format sarif --output "$sarif" --report "markdown=$markdown" 2> >(tee "$errors" >&2)
code=$?
wait # for tee

findings=""
if [[ -s "$sarif" ]]; then
  # Unsuppressed results (violations and could-not-decide), plus any left out of the SARIF
  # for GitHub's result limit.
  query='.runs[0] as $r | ([$r.results[]? | select((.suppressions // []) | length == 0)] | length)
         + (($r.properties.omittedResults.total // 0) - ($r.properties.omittedResults.suppressed // 0))'
  if command -v jq >/dev/null; then
    findings=$(jq -r "$query" "$sarif")
  elif command -v python3 >/dev/null; then
    findings=$(python3 -c '
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
omitted = run.get("properties", {}).get("omittedResults", {})
print(sum(1 for r in run.get("results", []) if not r.get("suppressions"))
      + omitted.get("total", 0) - omitted.get("suppressed", 0))' "$sarif")
  fi
fi

{
  if [[ -s "$markdown" ]]; then
    cat "$markdown"
  else
    echo "## charterguard"
    echo
    echo "The scan could not run (exit code $code):"
    echo
    echo '```'
    cat "$errors" 2>/dev/null
    echo '```'
  fi
  echo
} >>"$summary_file"

{
  [[ -s "$sarif" ]] && echo "sarif-file=$sarif"
  [[ -s "$markdown" ]] && echo "markdown-file=$markdown"
  echo "exit-code=$code"
  echo "findings=$findings"
  echo "category=$category"
} >>"$output_file"

case "$code" in
  0) ;;
  1)
    failing="violations"
    [[ "$fail_on_undecided" == true ]] && failing="violations or could-not-decide findings"
    echo "::error title=charterguard::$failing at or above fail-on ($fail_on): see the step summary and code scanning"
    ;;
  *) echo "::error title=charterguard::an input could not be read or parsed (exit code $code): see the log above" ;;
esac
if [[ "$soft_fail" == true ]]; then
  [[ "$code" != 0 ]] && echo "soft-fail: not failing the job (charterguard exited $code)"
  exit 0
fi
exit "$code"
