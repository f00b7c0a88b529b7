#!/usr/bin/env bash
# Compares two versions of the extender's hot path on a noisy machine: builds the benchmark program of each into its
# own directory, then alternates their runs (A, B, A, B, ...) so that both see the same drift in machine load.
#
#   tests/SchedExt.Benchmarks/compare.sh A B MODE VERB CANDIDATES ARG [ROUNDS]
#
#   A, B        git commits (anything `git worktree add` takes), or `.` for the working tree as it is
#   MODE        verb-loop (ARG = seconds per run) or http-loop (ARG = requests per run); see Program.cs
#   ROUNDS      how many A/B pairs to run (default 3)
#
# Example: tests/SchedExt.Benchmarks/compare.sh HEAD~1 . verb-loop filter 5000 4 3
# Each run prints the benchmark program's own line(s); read the pairs side by side, not one run alone.
set -euo pipefail

if [[ $# -lt 6 ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

a=$1 b=$2 mode=$3 verb=$4 candidates=$5 arg=$6 rounds=${7:-3}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/schedext-compare.XXXXXX")
trap 'for d in "$work"/*/; do [[ -d $d ]] && git -C "$root" worktree remove --force "$d" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

# Prints the directory holding the built benchmark program of version $1.
build() {
  local version=$1 name=$2 dir
  if [[ $version == . ]]; then
    dir=$root
  else
    dir=$work/$name
    git -C "$root" worktree add --detach -q "$dir" "$version"
  fi
  dotnet build "$dir/tests/SchedExt.Benchmarks" -c Release -v quiet -nologo >&2
  echo "$dir/tests/SchedExt.Benchmarks/bin/Release/net10.0"
}

dir_a=$(build "$a" a)
dir_b=$(build "$b" b)
for ((round = 1; round <= rounds; round++)); do
  for side in a b; do
    if [[ $side == a ]]; then dir=$dir_a label=$a; else dir=$dir_b label=$b; fi
    # The shipped runtime setting (see docs/benchmarks.md, "Tiered compilation").
    line=$(cd "$dir" && DOTNET_TC_CallCountingDelayMs=0 dotnet SchedExt.Benchmarks.dll "$mode" "$verb" "$candidates" "$arg" 2>&1 | grep -E 'µs' | tr '\n' ' ')
    echo "round $round  $label: $line"
  done
done
