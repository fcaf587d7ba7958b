package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
)

// validateClassroom50 checks a result.json against every rule of
// Classroom50's classroom50/result/v1 (schemas/result-v1.schema.json in
// foundation50/classroom50) and the cross-field rules its runner.py and
// collect_scores.py add: required fields, no other top-level field, the
// schema constant, non-empty strings, the assignment_type enum, the
// submit/ pattern, the datetime format, integer scores (a literal integer:
// Python's json reads 20.0 as a float, which the runner refuses), score <=
// max-score for the result and for each test, and the optional
// submitted_by and graded_at. It returns every violation found.
func validateClassroom50(doc []byte) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	required := []string{"schema", "classroom", "assignment", "assignment_type", "owner", "submission", "commit", "release", "review", "datetime", "score", "max-score", "tests"}
	optional := []string{"graded_at", "submitted_by"}
	for _, k := range required {
		if _, ok := top[k]; !ok {
			bad("missing required field %q", k)
		}
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			bad("top-level field %q is not allowed", k)
		}
	}
	if v, ok := top["schema"]; ok && v != classroom50Schema {
		bad("schema is %v, want %q", v, classroom50Schema)
	}
	for _, k := range []string{"classroom", "assignment", "owner", "commit", "release", "review"} {
		if v, ok := top[k]; ok {
			if s, isStr := v.(string); !isStr || s == "" {
				bad("%s must be a non-empty string, got %#v", k, v)
			}
		}
	}
	if v, ok := top["assignment_type"]; ok && v != "individual" && v != "group" {
		bad("assignment_type %#v is not individual or group", v)
	}
	if v, ok := top["submission"]; ok {
		if s, isStr := v.(string); !isStr || !regexp.MustCompile(`^submit/`).MatchString(s) {
			bad("submission %#v does not match ^submit/", v)
		}
	}
	stamp := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$`)
	for _, k := range []string{"datetime", "graded_at"} {
		if v, ok := top[k]; ok {
			if s, isStr := v.(string); !isStr || !stamp.MatchString(s) {
				bad("%s %#v is not YYYY-MM-DDTHH:MM:SSZ", k, v)
			}
		}
	}
	score, scoreOK := wholeNumber(top["score"])
	maxScore, maxOK := wholeNumber(top["max-score"])
	if _, ok := top["score"]; ok && !scoreOK {
		bad("score %v is not a non-negative integer", top["score"])
	}
	if _, ok := top["max-score"]; ok && !maxOK {
		bad("max-score %v is not a non-negative integer", top["max-score"])
	}
	if scoreOK && maxOK && score > maxScore {
		bad("score %d > max-score %d", score, maxScore)
	}
	if v, ok := top["tests"]; ok {
		tests, isList := v.([]any)
		if !isList {
			bad("tests is not an array")
		}
		for i, raw := range tests {
			t, isObj := raw.(map[string]any)
			if !isObj {
				bad("tests[%d] is not an object", i)
				continue
			}
			for _, k := range []string{"test-name", "passed", "score", "max-score"} {
				if _, ok := t[k]; !ok {
					bad("tests[%d] is missing %q", i, k)
				}
			}
			if s, isStr := t["test-name"].(string); !isStr || s == "" {
				bad("tests[%d].test-name must be a non-empty string", i)
			}
			if _, isBool := t["passed"].(bool); !isBool {
				bad("tests[%d].passed must be a boolean", i)
			}
			ts, tsOK := wholeNumber(t["score"])
			tm, tmOK := wholeNumber(t["max-score"])
			if !tsOK {
				bad("tests[%d].score %v is not a non-negative integer", i, t["score"])
			}
			if !tmOK {
				bad("tests[%d].max-score %v is not a non-negative integer", i, t["max-score"])
			}
			if tsOK && tmOK && ts > tm {
				bad("tests[%d].score %d > max-score %d", i, ts, tm)
			}
		}
	}
	if v, ok := top["submitted_by"]; ok {
		sb, isObj := v.(map[string]any)
		if !isObj {
			bad("submitted_by must be an object")
		} else {
			for k := range sb {
				if k != "username" && k != "id" {
					bad("submitted_by.%s is not allowed", k)
				}
			}
			if s, isStr := sb["username"].(string); !isStr || s == "" {
				bad("submitted_by.username must be a non-empty string")
			}
			if id, ok := sb["id"]; ok && id != nil {
				if _, whole := wholeNumber(id); !whole {
					bad("submitted_by.id must be an integer or null")
				}
			}
		}
	}
	return errs
}

// wholeNumber reads a JSON number written as a non-negative integer
// literal.
func wholeNumber(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok || !regexp.MustCompile(`^\d+$`).MatchString(n.String()) {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}
