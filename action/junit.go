package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// JUnit XML as the common readers take it (Jenkins' junit plugin, GitLab's
// test reports, dorny/test-reporter, mikepenz/action-junit-report): a
// <testsuites> root with one <testsuite>, one <testcase> per check, and a
// <failure> whose message attribute is the one line that lists show.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemErr  string          `xml:"system-err,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	// File is read by the GitHub reporters to annotate that file.
	File      string        `xml:"file,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// junitProblem is a <failure> or <error>: a one-line message, a type, and
// the whole story as text.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds3(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

// newJUnit is rep as JUnit: each check a testcase, a failed one with its
// measures against what was expected as the failure's message.
func newJUnit(rep *report.Report, finished time.Time) junitSuites {
	suite := junitSuite{
		Name: "mlready lab " + rep.Lab, Tests: len(rep.Checks), Time: seconds3(rep.DurationSeconds),
		Timestamp: finished.Add(-time.Duration(rep.DurationSeconds * float64(time.Second))).UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"target", rep.Target}, {"score", strconv.Itoa(rep.Score)}, {"max_score", strconv.Itoa(rep.MaxScore)},
		},
		SystemErr: rep.Error,
	}
	for _, c := range rep.Checks {
		tc := junitCase{Name: c.ID + ": " + c.Title, Classname: "mlready." + rep.Lab, Time: seconds3(c.DurationSeconds)}
		if c.File != "" && !c.Passed {
			tc.File = filepath.ToSlash(filepath.Join(rep.Target, c.File))
		}
		if c.Passed {
			tc.SystemOut = c.Message
		} else {
			suite.Failures++
			tc.Failure = &junitProblem{Message: versus(c), Type: c.ID, Text: explanation(c)}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return junitSuites{Name: "mlready", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
}

// junitError is the document for a grading that could not happen: one
// testcase in error, so that a test-report view says why instead of
// showing nothing.
func junitError(err error) junitSuites {
	suite := junitSuite{Name: "mlready lab", Tests: 1, Errors: 1, Time: seconds3(0), Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05"),
		Cases: []junitCase{{Name: "mlready lab", Classname: "mlready", Time: seconds3(0),
			Error: &junitProblem{Message: oneLine(err.Error()), Type: "grading-error", Text: err.Error()}}}}
	return junitSuites{Name: "mlready", Tests: 1, Errors: 1, Time: suite.Time, Suites: []junitSuite{suite}}
}

// writeJUnit writes doc to path, creating its folder.
func writeJUnit(path string, doc junitSuites) error {
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the JUnit report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644); err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	return nil
}
