package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

const versionUsage = `usage: authgate version

Print the module version and the VCS revision authgate was built from
(also: authgate --version).
`

// buildRevision is the VCS revision when the build info holds none: a
// build in workspace mode (go.work), as this repository's, is not stamped
// with vcs.* settings, so the build script sets it with
// -ldflags "-X main.buildRevision=$(git rev-parse HEAD)".
var buildRevision string

func cmdVersion(e *env, args []string) int {
	fs := newFlagSet("version", versionUsage)
	if _, code, ok := parseFlags(e, fs, args, 0, 0); !ok {
		return code
	}
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprintln(e.stdout, versionLine(bi, ok, buildRevision))
	return exitOK
}

// versionLine describes a build: the main module's version ("devel" when
// it was not built from a module version), the VCS revision with its time
// and a "+dirty" mark when the work tree had changes, and the Go version.
// fallback is the revision to print when the build info has none. What
// neither holds is "unknown" (go build -buildvcs=false, a build outside a
// repository).
func versionLine(bi *debug.BuildInfo, ok bool, fallback string) string {
	if !ok || bi == nil {
		return "authgate unknown (no build information)"
	}
	version := bi.Main.Version
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "authgate %s", version)
	if rev == "" {
		rev = fallback
	}
	switch {
	case rev == "":
		b.WriteString(" revision unknown")
	default:
		fmt.Fprintf(&b, " revision %s", rev)
		if dirty {
			b.WriteString("+dirty")
		}
		if at != "" {
			fmt.Fprintf(&b, " (%s)", at)
		}
	}
	if bi.GoVersion != "" {
		fmt.Fprintf(&b, " %s", bi.GoVersion)
	}
	return b.String()
}
