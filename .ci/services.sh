# Sourced by .ci/run: installs and starts what the interop tests need, and
# exports the variables that switch those tests on.

install_node_packages() {
	# Pinned by interop/package-lock.json.
	(cd interop && npm ci --no-audit --no-fund --loglevel=error)
	# The Firebase Auth emulator (~310 MB) has its own lock file.
	(cd interop/firebase && npm ci --no-audit --no-fund --loglevel=error)
	export AUTHGATE_INTEROP_DIR="$root/interop"
}

install_debian_packages() {
	local need=()
	[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null || need+=(python3-jwt python3-cryptography)
	[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
	[ -x /usr/sbin/nginx ] || need+=(nginx)   # cmd/authgate: serve behind real nginx auth_request
	[ -x /usr/bin/caddy ] || need+=(caddy)    # cmd/authgate: serve behind real Caddy forward_auth
	command -v redis-server >/dev/null || need+=(redis-server) # redis: deny-list and shared limiter
	# examples/webapp: the sign-in test drives Debian's headless Chromium
	# through the DevTools protocol (chromedp); it launches the browser itself.
	[ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
	# One update and one install for everything missing.
	if [ ${#need[@]} -gt 0 ]; then
		echo "apt-get install ${need[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
	export AUTHGATE_TEST_CHROMIUM=/usr/bin/chromium
}

PG_DATA=""
start_postgres() {
	local bin=/usr/lib/postgresql/15/bin port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	PG_DATA=$(mktemp -d)
	chown postgres "$PG_DATA"
	runuser -u postgres -- "$bin/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-sync >/dev/null
	runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/log" -w \
		-o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
	export AUTHGATE_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	echo "postgres on 127.0.0.1:$port"
}

REDIS_PID=""
start_redis() {
	# Debian's redis-server, on loopback only, without persistence: the
	# redis module's tests (deny-list, shared limiter) use it, and start
	# their own private one where they kill and restart it.
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	redis-server --port "$port" --bind 127.0.0.1 --save '' --daemonize no >/dev/null 2>&1 &
	REDIS_PID=$!
	for _ in $(seq 1 100); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.05
	done
	export AUTHGATE_TEST_REDIS_ADDR="127.0.0.1:$port"
	echo "redis on 127.0.0.1:$port"
}

stop_services() {
	if [ -n "$REDIS_PID" ]; then
		kill "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
	fi
	if [ -n "$PG_DATA" ]; then
		runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$PG_DATA"
	fi
}
