package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMissingModules: a pre-build that needs a module the grader's cache
// lacks is told which one, as the go command reports it with GOPROXY=off.
func TestMissingModules(t *testing.T) {
	tests := []struct{ out, want string }{
		{"go: github.com/acme/x@v1.2.3: module lookup disabled by GOPROXY=off", "module github.com/acme/x@v1.2.3, which is not in the grader's Go module cache"},
		{"ml/main.go:5:2: cannot find module providing package github.com/acme/y: module lookup disabled by GOPROXY=off", "module github.com/acme/y, which"},
		{"go: downloading example.com/nowhere v1.0.0\nmain.go:3:8: mkdir /gomodcache/cache/download/example.com: read-only file system", "module example.com/nowhere@v1.0.0, which"},
		{"ml/main.go:9: undefined: x", ""},
	}
	for _, tt := range tests {
		got := missingModules(tt.out)
		if tt.want == "" {
			assert.Empty(t, got)
			continue
		}
		assert.Contains(t, got, tt.want)
		assert.Contains(t, got, "no network, GOPROXY=off")
	}
}
