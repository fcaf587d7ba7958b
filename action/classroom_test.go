package main

import (
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeResult(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err, "the result is standard base64, as the reporter decodes it")
	return string(b)
}

// TestClassroomResult pins the exact JSON that
// classroom-resources/autograding-grading-reporter reads: the reporter sums
// the tests' score out of max_score and fails the job on status "fail".
func TestClassroomResult(t *testing.T) {
	rep := cannedReport("/work/fork", "cold-start")

	got := decodeResult(t, classroomResult(rep, false))

	test := func(name, status string, score int, msg, code, file string) string {
		return `{"name":"` + name + `","status":"` + status + `","score":` + strconv.Itoa(score) + `,"max_score":20,"message":"` + msg +
			`","test_code":"` + code + `","filename":"` + file + `","line_no":0,"duration":1250}`
	}
	assert.JSONEq(t, `{"version":1,"status":"fail","max_score":100,"tests":[`+
		test("Container running is not service ready", "pass", 20, "readiness-delay passed.", "", "")+","+
		test("Requests during a cold start get 503 with Retry-After", "fail", 0, "cold-start failed | badly.",
			// The reporter prints only test_code under a failed test.
			`cold-start: measured not_ready_503 58, server_errors 0; expected min_not_ready_answers ≥ 3\ncold-start failed | badly.\n`+
				`Lesson: the lesson of cold-start\nLook at: ml/Dockerfile`, "ml/Dockerfile")+","+
		test("ML inference is much slower than a rule", "pass", 20, "latency-ratio passed.", "", "")+","+
		test("An ML service needs far more memory", "pass", 20, "memory-ratio passed.", "", "")+","+
		test("ML latency spreads under parallel load", "pass", 20, "load-variance passed.", "", "")+
		`]}`, got)
}

func TestClassroomResultStatusFollowsTheVerdict(t *testing.T) {
	// With a minimum score of 80, one failed check still passes the run;
	// the failed check itself stays "fail".
	got := decodeResult(t, classroomResult(cannedReport("/work/fork", "cold-start"), true))

	assert.Contains(t, got, `{"version":1,"status":"pass","max_score":100,`)
	assert.Contains(t, got, `"status":"fail","score":0`)
}

func TestClassroomResultNamesAnUnknownCheckByID(t *testing.T) {
	rep := cannedReport("/work/fork")
	rep.Checks[0].Title = ""

	assert.Contains(t, decodeResult(t, classroomResult(rep, true)), `"name":"readiness-delay"`)
}
