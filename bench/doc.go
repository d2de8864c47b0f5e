// Package bench compares authgate's token verification with the Go
// libraries its users would otherwise pick (golang-jwt v5, keyfunc v3 with
// golang-jwt, go-oidc v3 with static keys, lestrrat-go/jwx v3) and with the
// raw signature check of the same token (the floor), in one process.
//
// It is a module of its own so that none of those libraries enters
// authgate's go.mod. Everything runs from _test.go files: the tests prove
// that every verifier accepts the benchmark's token and refuses a tampered,
// expired, foreign-issuer, foreign-audience and wrong-algorithm one, so each
// benchmark measures a full, strict verification. run.sh runs the
// benchmarks interleaved and prints ratios to the floor; serve.sh measures
// `authgate serve` under wrk. See docs/peers.md.
package bench
