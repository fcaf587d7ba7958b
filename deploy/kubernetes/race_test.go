//go:build race

package kubernetes_test

// raceDetector is true under -race: the model's Go backend races inside
// itself (see apis/ml/mlapi), so the ML probes are then checked unloaded only.
const raceDetector = true
