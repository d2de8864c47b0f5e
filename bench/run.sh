#!/usr/bin/env bash
# Verification side by side: authgate, golang-jwt v5, keyfunc v3 + golang-jwt,
# go-oidc v3 (static keys), lestrrat-go/jwx v3 and the raw signature check
# (the floor), for the same RS256, ES256 and HS256 tokens, in one run.
#
# The test binary is built once; the sanity tests run first (every verifier
# accepts the token and refuses tampered, expired, foreign and wrong-alg
# ones); then COUNT rounds, each running every implementation once
# (-count 1), in forward order in odd rounds and reverse order in even ones,
# so host noise and warm-up hit all of them alike. cmd/ratios prints medians
# and ratios to the floor of the same algorithm, per round.
#
#   bench/run.sh                       # COUNT=6 BENCHTIME=300ms
#   COUNT=10 BENCHTIME=1s OUT=/tmp/v bench/run.sh
#
# Not part of `go test` or CI.
set -euo pipefail
cd "$(dirname "$0")"

COUNT="${COUNT:-6}"
BENCHTIME="${BENCHTIME:-300ms}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
impls=(floor authgate authgate_cached golangjwt keyfunc gooidc_static jwx)

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "go: $(go version)"
	echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'))"
	echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
	echo "args: COUNT=$COUNT BENCHTIME=$BENCHTIME"
	GOWORK=off go list -m all | grep -E 'golang-jwt|keyfunc|jwkset|go-oidc|go-jose|lestrrat-go/jwx' | sed 's/^/module: /'
} | tee "$OUT/env.txt"

# GOWORK=off: the versions bench/go.mod pins, whatever the workspace requires.
GOWORK=off go test -c -o "$OUT/bench.test" .
echo "== sanity tests"
"$OUT/bench.test" -test.run 'TestVerifiers' -test.count 1

echo "== $COUNT rounds"
: >"$OUT/bench.txt"
for ((round = 1; round <= COUNT; round++)); do
	order=("${impls[@]}")
	if ((round % 2 == 0)); then
		order=()
		for ((i = ${#impls[@]} - 1; i >= 0; i--)); do order+=("${impls[i]}"); done
	fi
	echo "-- round $round/$COUNT: ${order[*]}" >&2
	for impl in "${order[@]}"; do
		"$OUT/bench.test" -test.run '^$' -test.bench "^BenchmarkVerify\$/^alg=/^impl=$impl\$" \
			-test.benchmem -test.count 1 -test.benchtime "$BENCHTIME" | grep '^Benchmark' >>"$OUT/bench.txt"
	done
done
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)" | tee -a "$OUT/env.txt"
rm -f "$OUT/bench.test"

go run ./cmd/ratios "$OUT/bench.txt" | tee "$OUT/summary.md"
echo "raw: $OUT/bench.txt  summary: $OUT/summary.md"
