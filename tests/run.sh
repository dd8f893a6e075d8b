#!/bin/sh
# run.sh BUILD [unit] - run the unit suites (BUILD/tests/test_*, cmocka) and,
# unless "unit" is given, the integration suite (tests/integration, pytest on
# the real stack). The last line is always
#	total: N passed, M failed
# and the exit status is non-zero if anything failed or if no test ran.
set -u

build=${1:?usage: run.sh BUILD [unit]}
mode=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd) || { echo "run.sh: no build directory $1" >&2;
	echo "total: 0 passed, 1 failed"; exit 1; }
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/acme-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# sum of the numbers in the cmocka summary lines "[  PASSED  ] N test(s)."
# (one per group of tests; 0 if none)
count() {
	sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test.*/\1/p" "$2" |
	    awk '{ n += $1 } END { print n + 0 }'
}

echo "== unit tests"
nunit=0
for t in "$build"/tests/test_*; do
	case ${t##*/} in *.*) continue ;; esac
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		continue
	fi
	nunit=$((nunit + 1))
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$tmp/out" 2>&1
	rc=$?
	p=$(count PASSED "$tmp/out")
	f=$(count FAILED "$tmp/out")
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed or exited before its summary: count it as one failure
		f=1
	fi
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		cat "$tmp/out"
		echo "-- $name: $p passed, $f failed (exit $rc)"
	else
		echo "-- $name: $p passed"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
[ "$nunit" -gt 0 ] || echo "-- no unit test binaries in $build/tests"

if [ "$mode" != unit ]; then
	echo "== integration tests"
	xml="$tmp/junit.xml"
	ACME_BUILD="$build" /usr/bin/python3 -m pytest -v -p no:cacheprovider \
	    --junitxml="$xml" -o junit_family=xunit2 "$here/integration"
	rc=$?
	counts=$(/usr/bin/python3 - "$xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0")
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = s = 0
for su in suites:
    t += int(su.get("tests", 0))
    f += int(su.get("failures", 0)) + int(su.get("errors", 0))
    s += int(su.get("skipped", 0))
print(t, f, s)
PY
)
	# shellcheck disable=SC2086 # three numbers, split on purpose
	set -- $counts
	total=$1
	fail=$2
	skip=$3
	if [ "$skip" -gt 0 ]; then
		echo "-- $skip integration test(s) skipped: a skip is a failure here"
	fi
	fail=$((fail + skip))
	pass=$((total - fail))
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "-- pytest exited with status $rc without a failed test"
		fail=1
	fi
	passed=$((passed + pass))
	failed=$((failed + fail))
fi

echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
