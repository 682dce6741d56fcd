#!/usr/bin/env bash
# Fuzz every native Go fuzz target in the repository, one after the other.
#   scripts/fuzz.sh [TIME]      TIME per target (go test -fuzztime), default 10s
# Targets are discovered: packages whose tests declare `func Fuzz...`, then
# `go test -list` in each. Each package's instrumented test binary is built
# once (go test -c -fuzz) and run for each of its targets, with go test's
# corpus cache, so that the time goes to fuzzing rather than to linking.
# Prints the executions of every target and a summary; exits non-zero if a
# target found a failure (the input is saved under the package's
# testdata/fuzz/ and replays as a regular test from then on).
#   FUZZ_PARALLEL=N   fuzzing workers per target (default: GOMAXPROCS)
#   FUZZ_MATCH=regex  only targets whose name matches
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TIME=${1:-10s}
MATCH=${FUZZ_MATCH:-.}
PARALLEL=()
[ -n "${FUZZ_PARALLEL:-}" ] && PARALLEL=(-test.parallel "$FUZZ_PARALLEL")
CACHE="$(go env GOCACHE)/fuzz"
BINS=$(mktemp -d)
trap 'rm -rf "$BINS"' EXIT

mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sed 's|^\./||' | sort -u)
declare -A names
count=0
for d in "${dirs[@]}"; do
	while read -r name; do
		if [[ "$name" == Fuzz* ]] && [[ "$name" =~ $MATCH ]]; then
			names[$d]+="$name "
			count=$((count + 1))
		fi
	done < <(go test -list '^Fuzz' "./$d" 2>/dev/null)
done
[ "$count" -gt 0 ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
echo "fuzz: $count targets in ${#names[@]} packages, $TIME each"

failed=()
summary=()
total=0
for d in "${dirs[@]}"; do
	[ -n "${names[$d]:-}" ] || continue
	pkg=$(go list "./$d")
	bin="$BINS/$(echo "$d" | tr / _).test"
	if ! go test -c -fuzz . -o "$bin" "./$d"; then
		failed+=("$d (build)")
		continue
	fi
	for name in ${names[$d]}; do
		log=$(mktemp)
		start=$(date +%s)
		note=""
		for attempt in 1 2; do
			(cd "$ROOT/$d" && "$bin" -test.run '^$' -test.fuzz "^${name}\$" -test.fuzztime "$TIME" \
				-test.fuzzcachedir "$CACHE/$pkg" "${PARALLEL[@]}") >"$log" 2>&1
			rc=$?
			# A worker that answers the coordinator late on a busy machine ends
			# the run with "context deadline exceeded" and no failing input: the
			# engine's hiccup, not a finding. Run the target once more.
			if [ $rc -ne 0 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log" && [ $attempt -eq 1 ]; then
				note=" (rerun after a fuzzing-engine timeout)"
				continue
			fi
			break
		done
		secs=$(($(date +%s) - start))
		# The last progress line: "fuzz: elapsed: 10s, execs: 123456 (12345/sec), new interesting: 3 (total: 12)".
		line=$(grep -E 'fuzz: elapsed: .*execs: ' "$log" | tail -1)
		execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$line")
		elapsed=$(sed -nE 's/.*elapsed: ([0-9]+)s.*/\1/p' <<<"$line")
		interesting=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 new, \2 in corpus/p' <<<"$line")
		execs=${execs:-0}
		rate=$((execs / (${elapsed:-1} > 0 ? ${elapsed:-1} : 1)))
		total=$((total + execs))
		status=ok
		if [ $rc -ne 0 ]; then
			status=FAIL
			failed+=("$d $name")
			grep -vE '^fuzz: elapsed' "$log" | tail -30
		fi
		row=$(printf '%-4s %-24s %-30s %10s execs %7s/s  %-24s %3ss%s' "$status" "$d" "$name" "$execs" "$rate" "${interesting:-}" "$secs" "$note")
		echo "$row"
		summary+=("$row")
		rm -f "$log"
	done
done

echo
echo "fuzz summary ($TIME per target; execs/s averaged over the run):"
printf '%s\n' "${summary[@]}"
echo "total: $total executions over $count targets"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]}" >&2
	exit 1
fi
