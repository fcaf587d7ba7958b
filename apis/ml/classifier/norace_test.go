//go:build !race

package classifier

// raceDetector is true when the tests run under -race; see skipUnderRace.
const raceDetector = false
