//go:build race

package httpapitest

// RaceDetector is true when the tests run under -race; see SkipUnderRace.
const RaceDetector = true
