#!/usr/bin/env bash
# benches/run.sh: charterguard against Checkov on the shared corpus and the scale trees.
#
# What it does, in order:
#   1. builds charterguard (`cargo build --release --locked`) and installs Checkov
#      $CHECKOV_VERSION from PyPI into target/bench-venv (once; reused while the version matches);
#   2. prepares the trees:
#        1x      ../shared/corpus as it is
#        10x     gen_monorepo.py replicate --n 10          (the corpus ten times, renamed)
#        alt5000 gen_monorepo.py altscore --distributors 5000  (AltScore Phase-05 scale)
#      generated under $BENCH_TMP (default: a fresh mktemp -d, removed at the end unless KEEP=1);
#   3. runs, tree by tree, one after the other (never two at once: the machine has 2 cores):
#        parse_floor TREE       (examples/parse_floor.rs: the same files found and parsed,
#                                nothing evaluated: the floor every scan figure is compared with)
#        charterguard scan TREE --format json --fail-on never
#        timeout $CHECKOV_BUDGET checkov -d TREE --quiet --compact -o json --soft-fail
#                --skip-download --framework terraform,terraform_json,terraform_plan,kubernetes
#      each under `/usr/bin/time -f '%e %U %S %M'` (wall s, user s, sys s, max RSS KiB); the
#      floor and the scan $RUNS times in turn (floor, scan, floor, scan, ...), Checkov once;
#      charterguard's reports of every run are compared byte for byte (a difference is logged);
#      Checkov past its budget is killed (with its process group) and shown "> N s (stopped)";
#   4. prints a markdown table (and writes it to $OUT/results.md) with, per tree: files on disk,
#      the parse-only floor's wall and peak MB, charterguard wall / CPU (user+sys) / peak MB /
#      findings (medians of the runs) and its wall as a multiple of the floor (the median of each
#      run's scan over the floor run just before it: the machine's drift cancels), Checkov wall / CPU / peak MB /
#      failed checks, Checkov/charterguard wall ratio; then charterguard's 10x/1x wall ratio.
#
# Counting:
#   - charterguard findings = entries of the JSON report's `findings` (violations and
#     "could not decide"); the split is printed below the table.
#   - Checkov failed checks = sum of `summary.failed` over its per-framework reports.
#   - peak MB = GNU time's %M: the largest resident set of any single process (the process or
#     a waited-for child). charterguard is one process; Checkov forks workers, so its whole
#     footprint can be larger than this figure. The peak of a stopped Checkov run is a lower
#     bound (what ran before it was killed); its CPU is not shown (killed workers are not
#     reaped, so GNU time never sees their CPU).
#   - Checkov is limited to the frameworks charterguard reads (Terraform, .tf.json, plan JSON,
#     Kubernetes); it does not render Helm charts, nor does charterguard without --helm.
#
# Environment:
#   TREES="1x 10x alt5000"     trees to prepare and scan, in this order
#   CHECKOV_TREES="$TREES"     trees Checkov also runs on ("" = charterguard only)
#   RUNS=3                     runs of the floor and of charterguard per tree (medians)
#   CHECKOV_BUDGET=600         seconds per tree before Checkov is stopped
#   CHECKOV_VERSION=3.3.30     the pinned PyPI version
#   CARGO_FLAGS=""             extra `cargo build` flags, e.g. --features live: the scan does
#                              not use the live sources (default features off), whose AWS SDK
#                              dominates a cold build (the binary scans the same either way)
#   BENCH_TMP=<dir>            where generated trees go (reused if already there)
#   OUT=target/bench-results/<UTC timestamp>   raw outputs and results.md
#   KEEP=1                     keep $BENCH_TMP
#
# Usage: benches/run.sh                       (everything; can take over half an hour)
#        TREES="1x alt5000" CHECKOV_TREES=1x benches/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CORPUS=$(cd "$ROOT/../shared/corpus" && pwd)
GEN="$CORPUS/gen_monorepo.py"

TREES=${TREES:-"1x 10x alt5000"}
CHECKOV_TREES=${CHECKOV_TREES-$TREES}
CHECKOV_BUDGET=${CHECKOV_BUDGET:-600}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
RUNS=${RUNS:-3}
OUT=${OUT:-"$ROOT/target/bench-results/$(date -u +%Y%m%dT%H%M%SZ)"}
VENV="$ROOT/target/bench-venv"
CG="$ROOT/target/release/charterguard"
FLOOR="$ROOT/target/release/examples/parse_floor"
TIME=/usr/bin/time

[ -x "$TIME" ] || { echo "needs GNU time at $TIME" >&2; exit 2; }
command -v timeout >/dev/null || { echo "needs coreutils timeout" >&2; exit 2; }

if [ -z "${BENCH_TMP:-}" ]; then
  BENCH_TMP=$(mktemp -d -t charterguard-bench.XXXXXX)
  [ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$BENCH_TMP"' EXIT
fi
mkdir -p "$OUT" "$BENCH_TMP"
log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

# --- 1. build and install ---------------------------------------------------------------------
CARGO_FLAGS=${CARGO_FLAGS:-}
log "cargo build --release --locked $CARGO_FLAGS"
# shellcheck disable=SC2086 # CARGO_FLAGS is a list of flags
cargo build --release --locked $CARGO_FLAGS
# shellcheck disable=SC2086
cargo build --release --locked $CARGO_FLAGS --example parse_floor
if [ "$CHECKOV_TREES" != "" ]; then
  if [ "$("$VENV/bin/checkov" --version 2>/dev/null || true)" != "$CHECKOV_VERSION" ]; then
    log "installing checkov==$CHECKOV_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  fi
  log "checkov $("$VENV/bin/checkov" --version)"
fi

# --- 2. trees ---------------------------------------------------------------------------------
tree_path() {
  case "$1" in
    1x) echo "$CORPUS" ;;
    10x) echo "$BENCH_TMP/mono10" ;;
    alt5000) echo "$BENCH_TMP/alt5000" ;;
    *) echo "unknown tree $1" >&2; exit 2 ;;
  esac
}
for t in $TREES; do
  p=$(tree_path "$t")
  [ -d "$p" ] && continue
  case "$t" in
    10x) log "generating $p"; python3 "$GEN" replicate --n 10 --out "$p" >&2 ;;
    alt5000) log "generating $p"; python3 "$GEN" altscore --distributors 5000 --out "$p" >&2 ;;
  esac
done

# --- 3. measure -------------------------------------------------------------------------------
# measure NAME CMD...: runs CMD with stdout to $OUT/NAME.out, stderr to $OUT/NAME.err, and
# prints "wall user sys maxrss_kib exit_code".
# median N...: the middle value (the mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

measure() {
  local name=$1; shift
  local rc=0
  "$TIME" -f '%e %U %S %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || rc=$?
  # GNU time writes "Command exited with non-zero status N" before the figures when N != 0.
  echo "$(tail -n 1 "$OUT/$name.time") $rc"
}

cg_findings() {  # total violations undecided
  python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["findings"]
und = sum(1 for x in f if x.get("outcome") not in (None, "violation", "fail", "failed"))
print(len(f), len(f) - und, und)
EOF
}

checkov_failed() {
  python3 - "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("?"); sys.exit()
reports = d if isinstance(d, list) else [d]
print(sum(r.get("summary", {}).get("failed", 0) for r in reports))
EOF
}

declare -A ROW
for t in $TREES; do
  p=$(tree_path "$t")
  files=$(find "$p" -type f | wc -l)
  # The floor and the scan take turns, RUNS times: each run's scan is compared with the floor
  # measured just before it, so the machine's drift cancels out of the ratio.
  fl_walls=(); fl_mbs=(); cg_walls=(); cg_cpus=(); cg_mbs=(); overs=()
  for i in $(seq "$RUNS"); do
    read -r w u s m rc <<<"$(measure "floor-$t.$i" "$FLOOR" "$p")"
    fl_walls+=("$w"); fl_mbs+=("$((m / 1024))"); flw=$w
    log "$t: floor run $i: ${w}s wall, $((m / 1024)) MB ($(cat "$OUT/floor-$t.$i.out"))"
    read -r w u s m rc <<<"$(measure "cg-$t.$i" "$CG" scan "$p" --format json --fail-on never)"
    cg_walls+=("$w"); cg_cpus+=("$(echo "$u + $s" | bc)"); cg_mbs+=("$((m / 1024))")
    overs+=("$(echo "scale=2; $w / $flw" | bc)")
    log "$t: charterguard run $i: ${w}s wall, $((m / 1024)) MB, exit $rc"
    if [ "$i" -gt 1 ] && ! cmp -s "$OUT/cg-$t.1.out" "$OUT/cg-$t.$i.out"; then
      log "$t: run $i's report differs from run 1's (reports are meant to be byte-identical)"
    fi
  done
  flw=$(median "${fl_walls[@]}"); flmb=$(median "${fl_mbs[@]}")
  # Exit 2 with a report is a tree with input errors (the corpus holds three configurations
  # Terraform itself rejects): its findings count; no report is a failed run.
  if [ "$rc" -le 2 ] && counted=$(cg_findings "$OUT/cg-$t.1.out" 2>/dev/null); then
    read -r total viol und <<<"$counted"
    cgf=$total; split="$viol violations + $und could not decide"
    [ "$rc" = 2 ] && split="$split (exit 2: input errors, see cg-$t.1.err)"
  else
    log "charterguard exited $rc on $t; see $OUT/cg-$t.1.err"
    cgf="error $rc"; split="-"
  fi
  cgw=$(median "${cg_walls[@]}"); cgcpu=$(median "${cg_cpus[@]}"); cgmb=$(median "${cg_mbs[@]}")
  over=$(median "${overs[@]}")
  log "$t: charterguard median ${cgw}s wall (${over}x the floor), ${cgcpu}s CPU, ${cgmb} MB, $cgf findings"

  ckw="-"; ckcpu="-"; ckmb="-"; ckf="-"; ratio="-"
  if [[ " $CHECKOV_TREES " == *" $t "* ]]; then
    log "$t: checkov (budget ${CHECKOV_BUDGET}s)"
    read -r w u s m rc <<<"$(measure "checkov-$t" timeout --kill-after=10 "$CHECKOV_BUDGET" \
      "$VENV/bin/checkov" -d "$p" --quiet --compact -o json --soft-fail --skip-download \
      --framework terraform,terraform_json,terraform_plan,kubernetes)"
    ckcpu=$(echo "$u + $s" | bc); ckmb=$((m / 1024))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      # Workers still running when it is killed are never reaped, so their CPU is not in
      # GNU time's figure: print none rather than a misleading lower bound.
      ckw="> $CHECKOV_BUDGET s (stopped)"; ckf="-"; ckcpu="-"; ckmb="≥ $ckmb"
      ratio="> $(echo "scale=1; $CHECKOV_BUDGET / $cgw" | bc)"
    elif [ "$rc" != 0 ]; then
      ckw="error $rc"; log "checkov exited $rc on $t; see $OUT/checkov-$t.err"
    else
      ckw=$w; ckf=$(checkov_failed "$OUT/checkov-$t.out")
      ratio=$(echo "scale=1; $w / $cgw" | bc)
    fi
    log "$t: checkov $ckw wall, $ckcpu CPU, $ckmb MB, $ckf failed"
  fi
  ROW[$t]="| $t | $files | $flw | $flmb | $cgw | $over | $cgcpu | $cgmb | $cgf | $ckw | $ckcpu | $ckmb | $ckf | $ratio |"
  ROW[$t.split]="- $t: charterguard findings = $split"
  ROW[$t.wall]=$cgw
done

# --- 4. report --------------------------------------------------------------------------------
{
  ck="checkov $CHECKOV_VERSION"; [ -n "$CHECKOV_TREES" ] || ck="checkov not run"
  echo "charterguard $(git -C "$ROOT" rev-parse --short HEAD), $ck, $(nproc) cores, $(date -u +%Y-%m-%d), medians of $RUNS runs (Checkov: one), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| tree | files | parse floor wall s | floor peak MB | charterguard wall s | × floor | CPU s | peak MB | findings | Checkov wall s | CPU s | peak MB | failed checks | Checkov/charterguard wall |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for t in $TREES; do echo "${ROW[$t]}"; done
  echo
  for t in $TREES; do echo "${ROW[$t.split]}"; done
  if [ -n "${ROW[1x.wall]:-}" ] && [ -n "${ROW[10x.wall]:-}" ]; then
    echo "- charterguard 10x/1x wall ratio: $(echo "scale=2; ${ROW[10x.wall]} / ${ROW[1x.wall]}" | bc) (10 = linear)"
  fi
} | tee "$OUT/results.md"
log "raw outputs in $OUT"
