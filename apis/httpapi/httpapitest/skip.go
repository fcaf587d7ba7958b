package httpapitest

import "testing"

// Reasons to skip a test under -race: two dependencies race inside
// themselves, and neither lets the caller avoid it.
const (
	// ModelRace: gomlx v0.26.0's SimpleGo backend, under hugot's Go
	// session, races in every model run that has the backend to itself
	// (executeParallel reads execBuf.numUsed without its lock,
	// backends/simplego/exec.go:425), and hugot offers no way to make it
	// run the ops sequentially.
	ModelRace = "runs the model, and gomlx v0.26.0 SimpleGo's parallel executor races on its own bookkeeping (exec.go:425); run without -race"
	// DownloadRace: go-huggingface v0.3.1, under hugot.DownloadModel, bumps
	// its download counters from several goroutines without a lock.
	DownloadRace = "downloads, and go-huggingface v0.3.1 races on its own download counters (hub/files.go:229,248); run without -race"
)

// SkipUnderRace skips the test when the race detector is on, for reason.
func SkipUnderRace(t testing.TB, reason string) {
	t.Helper()
	if RaceDetector {
		t.Skip(reason)
	}
}
