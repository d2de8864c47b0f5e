#!/usr/bin/env bash
# Every module's go.mod and go.sum must be what `go mod tidy` makes of
# them. cmd/authgate has no replace directives (so that `go install` works
# once released) and cannot be tidied on its own before the siblings it
# requires are published: it is tidied on a copy with replace directives
# added for them, which are then dropped again for the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
status=0
go list -m -f '{{.Path}} {{.Dir}}' >"${TMPDIR:-/tmp}/authgate-modules.$$"
while read -r path dir <&3; do
	rel=${dir#"$root"}
	# By module path, not directory: a checkout reached through a symlink
	# gives go list's directories another prefix than $root.
	if [ "$path" = github.com/authgate/authgate/cmd/authgate ]; then
		tmp=$(mktemp -d)
		cp "$dir/go.mod" "$tmp/go.mod"
		cp "$dir/go.sum" "$tmp/go.sum"
		siblings=$(cd "$dir" && go mod edit -json | python3 -c 'import json,sys; print("\n".join(r["Path"] for r in json.load(sys.stdin)["Require"] if r["Path"].startswith("github.com/authgate/authgate")))')
		for m in $siblings; do
			(cd "$dir" && go mod edit -modfile="$tmp/go.mod" -replace "$m=$root${m#github.com/authgate/authgate}")
		done
		(cd "$dir" && GOWORK=off go mod tidy -modfile="$tmp/go.mod")
		for m in $siblings; do
			(cd "$dir" && go mod edit -modfile="$tmp/go.mod" -dropreplace "$m")
		done
		if ! diff -u "$dir/go.mod" "$tmp/go.mod" || ! diff -u "$dir/go.sum" "$tmp/go.sum"; then
			echo ".$rel: go.mod/go.sum are not tidy"; status=1
		fi
		rm -rf "$tmp"
		continue
	fi
	if ! (cd "$dir" && GOWORK=off go mod tidy -diff); then
		echo ".$rel: go.mod/go.sum are not tidy (go mod tidy -diff)"; status=1
	fi
done 3<"${TMPDIR:-/tmp}/authgate-modules.$$"
rm -f "${TMPDIR:-/tmp}/authgate-modules.$$"
exit "$status"
