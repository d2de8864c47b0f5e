#!/usr/bin/env bash
# Builds the authgate binary exactly as the Dockerfile's build stage does
# (that stage runs this script): static (CGO_ENABLED=0), -trimpath, the
# VCS revision stamped for "authgate version". Usage:
#   .ci/build-binary.sh OUT [REVISION]
# REVISION defaults to the checkout's HEAD. Workspace builds (go.work) carry
# no vcs.* build settings, hence -X main.buildRevision.
set -euo pipefail
out=${1:?usage: build-binary.sh OUT [REVISION]}
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
cd "$(dirname "$0")/.."
rev=${2:-$(git rev-parse HEAD 2>/dev/null || true)}
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.buildRevision=${rev}" \
	-o "$out" ./cmd/authgate
