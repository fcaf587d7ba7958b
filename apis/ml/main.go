// Command ml is the lab's ML sentiment API: a transformer model served with
// hugot's pure-Go backend. It listens at once and becomes ready only once its
// model is downloaded, loaded and warmed up; then it batches concurrent
// requests for the model. On SIGTERM it turns /ready 503, finishes the
// requests in flight and exits. `ml healthcheck` probes /ready.
package main

import (
	"os"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/ml/mlapi"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(httpapi.Healthcheck(os.Getenv))
	}
	os.Exit(mlapi.Main(os.Getenv))
}
