#!/usr/bin/env bash
# Fuzz every native Go fuzz target in the repository, one after the other.
#   scripts/fuzz.sh [TIME]      TIME per target (go test -fuzztime), default 10s
# Targets are discovered: packages whose tests declare `func Fuzz...`, then
# `go test -list` in each. Prints the executions of every target and a
# summary; exits non-zero if any target found a failure (the failing input
# is saved under the package's testdata/fuzz/ by go test, and replays as a
# regular test from then on).
#   FUZZ_PARALLEL=N   fuzzing workers per target (default: GOMAXPROCS)
#   FUZZ_MATCH=regex  only targets whose name matches
set -uo pipefail
cd "$(dirname "$0")/.."
TIME=${1:-10s}
MATCH=${FUZZ_MATCH:-.}
PARALLEL=()
[ -n "${FUZZ_PARALLEL:-}" ] && PARALLEL=(-parallel "$FUZZ_PARALLEL")

mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
targets=()
for d in "${dirs[@]}"; do
	pkg="./${d#./}"
	while read -r name; do
		[[ "$name" == Fuzz* ]] && [[ "$name" =~ $MATCH ]] && targets+=("$pkg $name")
	done < <(go test -list '^Fuzz' "$pkg" 2>/dev/null)
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
echo "fuzz: ${#targets[@]} targets, $TIME each"

failed=()
summary=()
total=0
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	log=$(mktemp)
	start=$(date +%s)
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$TIME" "${PARALLEL[@]}" "$pkg" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	# The last progress line: "fuzz: elapsed: 10s, execs: 123456 (12345/sec), new interesting: 3 (total: 12)".
	line=$(grep -E 'fuzz: elapsed: .*execs: ' "$log" | tail -1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$line")
	rate=$(sed -nE 's/.*execs: [0-9]+ \(([0-9]+)\/sec\).*/\1/p' <<<"$line")
	interesting=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 new, \2 total/p' <<<"$line")
	execs=${execs:-0}
	total=$((total + execs))
	status=ok
	if [ $rc -ne 0 ]; then
		status=FAIL
		failed+=("$pkg $name")
		grep -vE '^fuzz: elapsed' "$log" | tail -30
	fi
	row=$(printf '%-4s %-42s %-32s %12s execs %8s/s  corpus %s  (%ss wall)' "$status" "${pkg#./}" "$name" "$execs" "${rate:-?}" "${interesting:-?}" "$secs")
	echo "$row"
	summary+=("$row")
	rm -f "$log"
done

echo
echo "fuzz summary ($TIME per target):"
printf '%s\n' "${summary[@]}"
echo "total executions: $total over ${#targets[@]} targets"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]}" >&2
	exit 1
fi
