package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		ok       bool
		fallback string
		want     string
	}{
		{name: "no build info", want: "authgate unknown (no build information)"},
		{
			name: "module version and revision",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"},
				Settings: vcs("vcs", "git", "vcs.revision", "0123abcd", "vcs.time", "2026-11-30T10:00:00Z", "vcs.modified", "false")},
			ok: true, want: "authgate v1.4.0 revision 0123abcd (2026-11-30T10:00:00Z) go1.26.0",
		},
		{
			name: "work tree with changes",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "0123abcd", "vcs.modified", "true")},
			ok:   true, want: "authgate devel revision 0123abcd+dirty go1.26.0",
		},
		{
			name: "built with -buildvcs=false",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			ok:   true, want: "authgate devel revision unknown go1.26.0",
		},
		{
			name: "workspace build, revision set by the linker",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			ok:   true, fallback: "89abcdef", want: "authgate devel revision 89abcdef go1.26.0",
		},
		{
			name: "the build info's revision wins",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}, Settings: vcs("vcs.revision", "0123abcd")},
			ok:   true, fallback: "89abcdef", want: "authgate v1.4.0 revision 0123abcd go1.26.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.bi, tt.ok, tt.fallback); got != tt.want {
				t.Errorf("versionLine() = %q, want %q", got, tt.want)
			}
		})
	}
}
