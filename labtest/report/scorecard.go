package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteScorecard writes r for a terminal: one line per check with its
// points and its message, the lesson under each failed check, and the score.
func WriteScorecard(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Lab %s: %s\n", r.Lab, r.Target)
	if r.Error != "" {
		fmt.Fprintf(&b, "Could not run the checks: %s\n", r.Error)
	}
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "\n%s  %-16s %3d/%-3d %s\n", mark, c.ID, c.Points, c.MaxPoints, c.Title)
		fmt.Fprintf(&b, "      %s\n", c.Message)
		if !c.Passed {
			fmt.Fprintf(&b, "      Lesson: %s\n", c.Lesson)
			if c.File != "" {
				fmt.Fprintf(&b, "      Look at: %s\n", c.File)
			}
		}
	}
	for _, sv := range r.Services {
		if sv.Healthcheck == "" && sv.Health == "" {
			continue
		}
		ready := "never saw it ready"
		if sv.ReadySeconds > 0 {
			ready = fmt.Sprintf("saw it ready after %.2f s", sv.ReadySeconds)
		}
		fmt.Fprintf(&b, "\nHealthcheck of %s: %s; Docker says %s; the lab %s\n", sv.Name, orImage(sv.Healthcheck), orNone(sv.Health), ready)
	}
	fmt.Fprintf(&b, "\nScore: %d/%d (%s) in %.0f s\n", r.Score, r.MaxScore, verdict(r.Passed), r.DurationSeconds)
	_, err := io.WriteString(w, b.String())
	return err
}

func verdict(passed bool) string {
	if passed {
		return "all checks passed"
	}
	return "some checks failed"
}

func orImage(hc string) string {
	if hc == "" {
		return "the image's HEALTHCHECK"
	}
	return hc
}

func orNone(h string) string {
	if h == "" {
		return "nothing"
	}
	return h
}
