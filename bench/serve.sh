#!/usr/bin/env bash
# Forward auth under load, on loopback, with wrk: interleaved rounds of
#
#   pair=cache     authgate /verify, one RS256 token, cache on   vs its own /healthz
#                  with the same request (Authorization header included), so the
#                  ratio is the cost of authentication, not of a larger request
#   pair=uncached  authgate /verify, distinct RS256 tokens (a wrk Lua script
#                  cycling through pre-minted ones), no cache       vs a server doing
#                  only the raw signature check (cmd/loadfix floor), same tokens
#   pair=peer      authgate /verify, one RS256 token, no cache     vs oauth2-proxy
#                  v7.15.6 bearer-token /oauth2/auth, same token (oauth2-proxy has no
#                  verified-token cache); the cached authgate is listed there too
#
# Each round runs every case once, forward in odd rounds and reversed in even
# ones; cmd/ratios prints median req/s and the median of the per-round ratios,
# and the same for the server's CPU time per request (from /proc/PID/stat
# around each wrk run; lower is better), which the other loads of a shared
# machine disturb far less than req/s.
# wrk and the servers share the machine's cores, so absolute numbers depend
# on the machine and its load; compare ratios.
#
#   bench/serve.sh                          # ROUNDS=4 DURATION=10s
#   ROUNDS=6 DURATION=15s CONNS=64 bench/serve.sh
#   CASES="cache_healthz cache_verify" bench/serve.sh
#
# Installs wrk (Debian) when missing and, when the peer case runs, oauth2-proxy into a temporary GOBIN
# (kept in $O2P_GOBIN, default /tmp/authgate-bench-bin, for the next run).
# Every server listens on 127.0.0.1; all are stopped by pid at exit.
# Not part of `go test` or CI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

ROUNDS="${ROUNDS:-4}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
NTOKENS="${NTOKENS:-5000}"
PORT_BASE="${PORT_BASE:-19480}"
O2P_VERSION=v7.15.6
O2P_GOBIN="${O2P_GOBIN:-/tmp/authgate-bench-bin}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
all_cases="cache_healthz cache_verify uncached_verify uncached_floor peer_authgate peer_authgate_cached peer_oauth2proxy"
CASES="${CASES:-$all_cases}"

if ! command -v wrk >/dev/null; then
	echo "== installing wrk (Debian)"
	apt-get update
	apt-get install -y wrk
fi
need_o2p=false
[[ " $CASES " == *" peer_oauth2proxy "* ]] && need_o2p=true
if $need_o2p && [[ ! -x "$O2P_GOBIN/oauth2-proxy" ]]; then
	echo "== installing oauth2-proxy $O2P_VERSION into $O2P_GOBIN (a few minutes)"
	mkdir -p "$O2P_GOBIN"
	(cd "$O2P_GOBIN" && GOWORK=off GOBIN="$O2P_GOBIN" go install "github.com/oauth2-proxy/oauth2-proxy/v7@$O2P_VERSION")
fi

port_issuer=$PORT_BASE
port_cached=$((PORT_BASE + 1))
port_uncached=$((PORT_BASE + 2))
port_floor=$((PORT_BASE + 3))
port_o2p=$((PORT_BASE + 4))
for p in $port_issuer $port_cached $port_uncached $port_floor $port_o2p; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "port $p is in use: set PORT_BASE" >&2
		exit 1
	fi
done
issuer="http://127.0.0.1:$port_issuer"
audience="https://api.bench.test"

pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== building authgate and loadfix into $OUT"
go build -o "$OUT/authgate" ./cmd/authgate
(cd bench && go build -o "$OUT/loadfix" ./cmd/loadfix)
echo "== minting $NTOKENS RS256 tokens"
"$OUT/loadfix" mint -dir "$OUT" -issuer "$issuer" -audience "$audience" -n "$NTOKENS"
token=$(cat "$OUT/token.txt")

provider="{name: bench, type: static, keys: public.pem, algorithms: [RS256], issuer: \"$issuer\", audience: [$audience]"
printf 'listen: 127.0.0.1:%s\nlog: {level: warn}\nproviders:\n  - %s, cache_size: 10000}\n' "$port_cached" "$provider" >"$OUT/cached.yaml"
printf 'listen: 127.0.0.1:%s\nlog: {level: warn}\nproviders:\n  - %s}\n' "$port_uncached" "$provider" >"$OUT/uncached.yaml"

start() { # name command…
	local name=$1
	shift
	"$@" >"$OUT/$name.log" 2>&1 &
	pids+=($!)
	pid_of[$name]=$!
}
declare -A pid_of
start issuer "$OUT/loadfix" issuer -dir "$OUT" -issuer "$issuer" -listen "127.0.0.1:$port_issuer"
start floor "$OUT/loadfix" floor -dir "$OUT" -listen "127.0.0.1:$port_floor"
start cached "$OUT/authgate" serve --config "$OUT/cached.yaml"
start uncached "$OUT/authgate" serve --config "$OUT/uncached.yaml"

wait_ok() { # url [curl args…]: until the answer is 2xx, at most 10 s
	local url=$1
	shift
	for _ in $(seq 100); do
		if curl -fs -o /dev/null "$@" "$url"; then return 0; fi
		sleep 0.1
	done
	echo "no 2xx from $url" >&2
	return 1
}
wait_ok "$issuer/.well-known/openid-configuration"
cookie_secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
$need_o2p && start oauth2-proxy "$O2P_GOBIN/oauth2-proxy" --http-address="127.0.0.1:$port_o2p" \
	--provider=oidc --oidc-issuer-url="$issuer" --client-id=bench --client-secret=bench-not-a-secret \
	--cookie-secret="$cookie_secret" --cookie-secure=false --email-domain='*' \
	--skip-jwt-bearer-tokens --extra-jwt-issuers="$issuer=$audience" --upstream=static://200 \
	--request-logging=false --auth-logging=false --standard-logging=false
bearer=(-H "Authorization: Bearer $token")
wait_ok "http://127.0.0.1:$port_cached/verify" "${bearer[@]}"
wait_ok "http://127.0.0.1:$port_uncached/verify" "${bearer[@]}"
wait_ok "http://127.0.0.1:$port_floor/verify" "${bearer[@]}"
urls=("http://127.0.0.1:$port_cached/verify" "http://127.0.0.1:$port_uncached/verify" "http://127.0.0.1:$port_floor/verify")
if $need_o2p; then
	wait_ok "http://127.0.0.1:$port_o2p/oauth2/auth" "${bearer[@]}"
	urls+=("http://127.0.0.1:$port_o2p/oauth2/auth")
fi
# Every server must refuse a forged token, so each measures a real check.
forged="${token%.*}.$(printf 'x%.0s' $(seq 342))"
for url in "${urls[@]}"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $forged" "$url")
	if [[ "$code" != 401 ]]; then
		echo "$url answered $code to a forged token, want 401" >&2
		exit 1
	fi
done

# case → pair, impl and wrk arguments.
run_case() {
	local pair impl server args=()
	local lua=(-s "$root/bench/tokens.lua")
	case $1 in
	cache_healthz) pair=cache impl=healthz server=cached args=("${bearer[@]}" "http://127.0.0.1:$port_cached/healthz") ;;
	cache_verify) pair=cache impl=verify_cached server=cached args=("${bearer[@]}" "http://127.0.0.1:$port_cached/verify") ;;
	uncached_verify) pair=uncached impl=verify_distinct server=uncached args=("${lua[@]}" "http://127.0.0.1:$port_uncached/verify" -- "$OUT/tokens.txt") ;;
	uncached_floor) pair=uncached impl=sigcheck server=floor args=("${lua[@]}" "http://127.0.0.1:$port_floor/verify" -- "$OUT/tokens.txt") ;;
	peer_authgate) pair=peer impl=authgate server=uncached args=("${bearer[@]}" "http://127.0.0.1:$port_uncached/verify") ;;
	peer_authgate_cached) pair=peer impl=authgate_cached server=cached args=("${bearer[@]}" "http://127.0.0.1:$port_cached/verify") ;;
	peer_oauth2proxy) pair=peer impl=oauth2proxy server=oauth2-proxy args=("${bearer[@]}" "http://127.0.0.1:$port_o2p/oauth2/auth") ;;
	*)
		echo "unknown case $1" >&2
		return 1
		;;
	esac
	local log="$OUT/wrk-$1-$round.txt" cpu0 cpu1
	cpu0=$(cpu_ticks "${pid_of[$server]}")
	wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}" >"$log" 2>&1
	cpu1=$(cpu_ticks "${pid_of[$server]}")
	if grep -qE 'Non-2xx|Socket errors' "$log"; then
		echo "$1: wrk saw failed requests:" >&2
		cat "$log" >&2
		return 1
	fi
	local rps p99 n cpu
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$log")
	p99=$(awk '$1 == "99%" {print $2}' "$log")
	n=$(awk '/requests in/ {print $1}' "$log")
	# The server's CPU time per request (user + system), which the other
	# loads of a shared machine disturb far less than req/s.
	cpu=$(awk -v d=$((cpu1 - cpu0)) -v hz="$clk_tck" -v n="$n" 'BEGIN {printf "%.0f", d / hz * 1e9 / n}')
	echo "BenchmarkServe/pair=$pair/impl=$impl 1 $rps req/s" >>"$OUT/serve.txt"
	echo "BenchmarkServeCPU/pair=$pair/impl=$impl 1 $cpu ns/op" >>"$OUT/serve.txt"
	printf '  %-22s %10s req/s  p99 %-9s server CPU %6.1f µs/req\n' "$1" "$rps" "$p99" "$(awk -v c="$cpu" 'BEGIN {print c / 1000}')" >&2
}

# cpu_ticks prints a process's user + system CPU time in clock ticks.
cpu_ticks() {
	# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends
	# the command name (which may hold spaces).
	sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
clk_tck=$(getconf CLK_TCK)

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "go: $(go version)"
	echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'))"
	echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "wrk: $(wrk -v 2>&1 | head -1)"
	echo "oauth2-proxy: $O2P_VERSION"
	echo "args: ROUNDS=$ROUNDS DURATION=$DURATION THREADS=$THREADS CONNS=$CONNS NTOKENS=$NTOKENS"
} | tee "$OUT/env.txt"
read -r -a cases <<<"$CASES"
: >"$OUT/serve.txt"
for ((round = 1; round <= ROUNDS; round++)); do
	order=("${cases[@]}")
	if ((round % 2 == 0)); then
		order=()
		for ((i = ${#cases[@]} - 1; i >= 0; i--)); do order+=("${cases[i]}"); done
	fi
	echo "-- round $round/$ROUNDS" >&2
	for c in "${order[@]}"; do run_case "$c"; done
done
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/env.txt"
(cd bench && go run ./cmd/ratios -floor healthz,sigcheck,oauth2proxy "$OUT/serve.txt") | tee "$OUT/summary.md"
echo "raw: $OUT/serve.txt  summary: $OUT/summary.md  wrk output: $OUT/wrk-*.txt"
