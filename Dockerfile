# authgate serve in a container: a static binary on distroless, run as a
# non-root user, with no shell. From the repository root:
#   docker build --build-arg REVISION=$(git rev-parse HEAD) -t authgate .
# The build stage runs .ci/build-binary.sh, which CI runs too (.ci/run), so
# the binary CI tests is the one the image holds.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
ARG REVISION=""
RUN .ci/build-binary.sh /out/authgate "$REVISION" && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authgate /authgate
# The API-key store of deploy/authgate.yaml (a volume in compose.yaml).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
EXPOSE 9000
ENTRYPOINT ["/authgate"]
CMD ["serve", "--config", "/etc/authgate/authgate.yaml"]
