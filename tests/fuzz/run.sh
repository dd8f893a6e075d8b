#!/bin/sh
# run.sh BUILD SECONDS - runs every libFuzzer target of BUILD/fuzz for
# SECONDS each (FUZZ_JOBS at a time, default 2), starting from its corpus
# tests/fuzz/corpus/TARGET (read only: new inputs go to a scratch
# directory). A crash, leak or timeout leaves its input in
# BUILD/crashes/TARGET-*; then add that file to the corpus, fix the bug,
# and the unit suite replays it for ever (test_hostile_corpus).
# Exit status: non-zero if a target failed or none ran.
set -u

build=${1:?usage: run.sh BUILD SECONDS}
seconds=${2:-20}
jobs=${FUZZ_JOBS:-2}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd) || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/acme-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$build/crashes"

# one target: prints "name ok" or "name FAILED" (and the fuzzer's tail)
one() {
	name=${1##*/fuzz_}
	mkdir -p "$tmp/$name"
	"$1" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$build/crashes/$name-" \
	    "$tmp/$name" "$here/corpus/$name" >"$tmp/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$tmp/$name.log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "-- fuzz $name: ok, ${runs:-?} runs in ${seconds}s"
	else
		tail -n 40 "$tmp/$name.log"
		echo "-- fuzz $name: FAILED (exit $rc), input in $build/crashes"
	fi
	return "$rc"
}

targets=$(ls "$build"/fuzz/fuzz_* 2>/dev/null)
if [ -z "$targets" ]; then
	echo "run.sh: no fuzz targets in $build/fuzz" >&2
	exit 1
fi
failed=0
set --
for t in $targets; do
	one "$t" >"$tmp/${t##*/}.out" &
	set -- "$@" "$!:${t##*/}"
	if [ "$#" -ge "$jobs" ]; then
		for j in "$@"; do
			wait "${j%%:*}" || failed=$((failed + 1))
			cat "$tmp/${j#*:}.out"
		done
		set --
	fi
done
for j in "$@"; do
	wait "${j%%:*}" || failed=$((failed + 1))
	cat "$tmp/${j#*:}.out"
done
n=$(echo "$targets" | wc -w)
echo "fuzz: $n targets, $failed failed"
[ "$failed" -eq 0 ]
