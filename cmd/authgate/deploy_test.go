package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployFiles checks that compose.yaml, the Dockerfile and the files
// in deploy/ fit together: the configuration parses, every address and
// path one names is the one the other uses, and the image is the static,
// non-root, shell-less build CI makes with .ci/build-binary.sh.
func TestDeployFiles(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	cfg, err := ParseConfig("../../deploy/authgate.yaml", []byte(read("../../deploy/authgate.yaml")), func(string) string { return "" })
	if err != nil {
		t.Fatalf("deploy/authgate.yaml: %v", err)
	}
	var compose struct {
		Services map[string]struct {
			Image   string
			Build   any
			Volumes []string
			Command []string
			Ports   []string
		}
	}
	if err := yaml.Unmarshal([]byte(read("../../compose.yaml")), &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	nginx, authgate, backend := compose.Services["nginx"], compose.Services["authgate"], compose.Services["backend"]
	conf := read(nginxConfPath)
	docker := read("../../Dockerfile")
	checks := []struct {
		name string
		ok   bool
	}{
		{"authgate listens on the port nginx.conf names", strings.HasSuffix(cfg.Listen, ":9000") && strings.Contains(conf, "server authgate:9000;")},
		{"the backend listens on the port nginx.conf names", slices.Equal(backend.Command, []string{"--port", "8080"}) && strings.Contains(conf, "server backend:8080;")},
		{"nginx runs deploy/nginx.conf", slices.Contains(nginx.Volumes, "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro")},
		{"nginx is the only published service", len(nginx.Ports) == 1 && len(authgate.Ports) == 0 && len(backend.Ports) == 0 && strings.Contains(conf, "listen 8080;")},
		{"authgate runs deploy/authgate.yaml where the image looks", slices.Contains(authgate.Volumes, "./deploy/authgate.yaml:/etc/authgate/authgate.yaml:ro") && strings.Contains(docker, `CMD ["serve", "--config", "/etc/authgate/authgate.yaml"]`)},
		{"the store is on the data volume", strings.Contains(read("../../deploy/authgate.yaml"), `store: "sqlite:/data/authgate.db"`) && slices.Contains(authgate.Volumes, "authgate-data:/data")},
		{"the failure limit reads the address nginx sets", strings.Contains(read("../../deploy/authgate.yaml"), "client_ip_header: X-Real-IP") && strings.Contains(conf, "proxy_set_header X-Real-IP $remote_addr;")},
		{"authgate is built from the Dockerfile", authgate.Build != nil},
		{"the build stage is .ci/build-binary.sh", strings.Contains(docker, "RUN .ci/build-binary.sh /out/authgate")},
		{"no shell, non-root", strings.Contains(docker, "FROM gcr.io/distroless/static-debian12:nonroot") && strings.Contains(docker, "USER 65532:65532")},
		{"the build script is static and trimmed", strings.Contains(read("../../.ci/build-binary.sh"), "CGO_ENABLED=0 go build -trimpath")},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.ok {
				t.Error("does not hold")
			}
		})
	}
}
