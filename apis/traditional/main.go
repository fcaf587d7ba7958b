// Command traditional is the lab's rule-based sentiment API: no model, ready
// as soon as it listens. On SIGTERM it turns /ready 503, finishes the
// requests in flight and exits. `traditional healthcheck` probes /ready.
package main

import (
	"os"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/traditional/traditionalapi"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(httpapi.Healthcheck(os.Getenv))
	}
	os.Exit(traditionalapi.Main(os.Getenv))
}
