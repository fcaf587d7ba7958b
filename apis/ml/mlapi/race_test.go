//go:build race

package mlapi_test

// raceDetector is true when the tests run under -race; see skipUnderRace.
const raceDetector = true
