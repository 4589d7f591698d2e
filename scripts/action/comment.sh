#!/usr/bin/env bash
# The pull-request comment step of the charterguard GitHub Action (action.yml, `comment: true`):
# keeps one comment on the pull request up to date with the markdown report, through the GitHub
# REST API with the job's token. The comment is found by a hidden marker (one per code scanning
# category, so several scans of one pull request keep a comment each), edited in place, and
# deleted when the scan is clean. For repositories without code scanning, the other way to
# show a pull request its findings. Tested by tests/it/action.rs against a recording server.
#
# Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH (the pull_request event),
# GITHUB_API_URL (https://api.github.com by default), MARKDOWN (the report file), FINDINGS and
# EXIT_CODE (the scan step's outputs), CATEGORY.
# A comment that cannot be written (a fork's read-only token) is a warning, never a failure.
set -uo pipefail

api=${GITHUB_API_URL:-https://api.github.com}
number=$(jq -r '.pull_request.number // .issue.number // empty' "${GITHUB_EVENT_PATH:-/dev/null}" 2>/dev/null)
if [[ -z "$number" ]]; then
  echo "charterguard: not a pull request event: no comment"
  exit 0
fi
marker="<!-- charterguard:comment ${CATEGORY:-charterguard} -->"
comments="$api/repos/$GITHUB_REPOSITORY/issues/$number/comments"

# Calls the API; the answer on stdout, a warning and status 1 when it fails.
call() {
  local method=$1 url=$2 body=${3:-}
  local args=(--silent --show-error --fail-with-body --location -X "$method"
    -H "Authorization: Bearer ${GITHUB_TOKEN:?GITHUB_TOKEN is the job token}"
    -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28")
  [[ -n "$body" ]] && args+=(-H "Content-Type: application/json" --data-binary "$body")
  if ! curl "${args[@]}" "$url"; then
    echo "::warning::charterguard could not $method $url (does the token have pull-requests: write?)" >&2
    return 1
  fi
}

# The id of the comment holding the marker, page by page (100 a page, at most 50 pages).
existing=""
for page in $(seq 1 50); do
  listed=$(call GET "$comments?per_page=100&page=$page") || exit 0
  existing=$(jq -r --arg marker "$marker" '[.[] | select(.body | contains($marker)) | .id][0] // empty' <<<"$listed")
  [[ -n "$existing" || $(jq length <<<"$listed") -lt 100 ]] && break
done

if [[ "${FINDINGS:-}" == 0 && "${EXIT_CODE:-}" == 0 ]]; then
  if [[ -n "$existing" ]]; then
    call DELETE "$api/repos/$GITHUB_REPOSITORY/issues/comments/$existing" >/dev/null && echo "charterguard: clean; comment $existing deleted"
  fi
  exit 0
fi

# GitHub refuses bodies over 65,536 characters: the report is cut with a note.
report=$(cat "${MARKDOWN:-/dev/null}" 2>/dev/null)
[[ -z "$report" ]] && report="The charterguard scan could not run (exit code ${EXIT_CODE:-unknown}): see the job log."
limit=60000
if ((${#report} > limit)); then
  report="${report:0:limit}

… the report is cut here; the job's step summary and code scanning have all of it."
fi
body=$(jq -n --arg body "$marker
$report" '{body: $body}')
if [[ -n "$existing" ]]; then
  call PATCH "$api/repos/$GITHUB_REPOSITORY/issues/comments/$existing" "$body" >/dev/null && echo "charterguard: comment $existing updated"
else
  call POST "$comments" "$body" >/dev/null && echo "charterguard: comment created"
fi
exit 0
