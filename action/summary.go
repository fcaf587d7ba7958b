package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mlready/mlready/labtest/report"
)

// summary renders the job summary in GitHub-flavoured Markdown: the score,
// a table of the checks with what each measured, what to fix, and bar
// charts (mermaid) of both APIs' latency and memory.
func summary(rep *report.Report, minScore int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## mlready lab %s: %d/%d\n\n", rep.Lab, rep.Score, rep.MaxScore)
	failed := 0
	for _, c := range rep.Checks {
		if !c.Passed {
			failed++
		}
	}
	switch {
	case failed == 0:
		b.WriteString("✅ All checks passed.\n\n")
	case rep.Score >= minScore:
		fmt.Fprintf(&b, "☑️ %d of %d checks failed; the score reaches the minimum of %d.\n\n", failed, len(rep.Checks), minScore)
	default:
		fmt.Fprintf(&b, "❌ %d of %d checks failed; the minimum score is %d.\n\n", failed, len(rep.Checks), minScore)
	}
	if rep.Error != "" {
		fmt.Fprintf(&b, "> [!CAUTION]\n> The lab could not run its checks: %s\n\n", cell(rep.Error))
	}

	b.WriteString(checksTable(rep))
	if failed > 0 && rep.Error == "" {
		b.WriteString("\n### What to fix\n" + whatToFix(rep))
	}

	if tl := startupMermaid(rep); tl != "" {
		b.WriteString("\n### Start-up\n" + tl)
	}
	if charts := charts(rep); charts != "" {
		b.WriteString("\n### Latency and memory\n" + charts)
	}
	return b.String()
}

// checksTable is a Markdown table of the checks: points, what each
// measured and what it expected.
func checksTable(rep *report.Report) string {
	var b strings.Builder
	b.WriteString("| | Check | Points | Measured | Expected |\n|:-:|---|--:|---|---|\n")
	for _, c := range rep.Checks {
		mark := "✅"
		if !c.Passed {
			mark = "❌"
		}
		fmt.Fprintf(&b, "| %s | `%s`<br>%s | %d/%d | %s | %s |\n",
			mark, c.ID, cell(c.Title), c.Points, c.MaxPoints, strings.Join(measured(c), "<br>"), expected(c))
	}
	return b.String()
}

// whatToFix gives, for each failed check, what it found, its lesson and the
// file to look at, in Markdown.
func whatToFix(rep *report.Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		if c.Passed {
			continue
		}
		fmt.Fprintf(&b, "\n**`%s`**: %s\n\n%s\n\n> Lesson: %s\n", c.ID, c.Title, c.Message, c.Lesson)
		if c.File != "" {
			fmt.Fprintf(&b, "\nLook at `%s`.\n", c.File)
		}
	}
	return b.String()
}

// measured lists what c measured: "ml_p50 7.31 ms".
func measured(c report.CheckResult) []string {
	var out []string
	for _, m := range c.Measured {
		out = append(out, m.Name+" "+quantity(m))
	}
	return out
}

// expected is what c expected: "min_median_ratio ≥ 10x"; "" when it has no
// threshold.
func expected(c report.CheckResult) string {
	th := c.Threshold
	if th.Name == "" {
		return ""
	}
	return th.Name + " " + th.Symbol() + " " + quantity(report.Measure{Value: th.Value, Unit: th.Unit})
}

// versus is measured against expected in one line, for the formats whose
// failure has a one-line message; the check's own message when it measured
// nothing (it did not run).
func versus(c report.CheckResult) string {
	m := measured(c)
	if len(m) == 0 {
		return oneLine(c.Message)
	}
	s := "measured " + strings.Join(m, ", ")
	if e := expected(c); e != "" {
		s += "; expected " + e
	}
	return s
}

// explanation is what a learner reads under a failed check in plain text:
// what was found, the lesson, and the file to look at.
func explanation(c report.CheckResult) string {
	s := c.Message
	if c.Passed {
		return s
	}
	if c.Lesson != "" {
		s += "\nLesson: " + c.Lesson
	}
	if c.File != "" {
		s += "\nLook at: " + c.File
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// bar is one bar of a chart.
type bar struct {
	label string
	value float64
}

// charts draws what the checks measured on both APIs, one chart per check
// that measured it; "" when none did.
func charts(rep *report.Report) string {
	var b strings.Builder
	byID := map[string]report.CheckResult{}
	for _, c := range rep.Checks {
		byID[c.ID] = c
	}
	apis := []struct{ api, name string }{{report.Traditional, "traditional"}, {report.ML, "ML"}}
	if bars := pick(byID["latency-ratio"], apis, "p50", ""); len(bars) == 2 {
		b.WriteString(chart("Median latency, one request at a time (ms)", "ms", bars))
	}
	var load []bar
	for _, q := range []string{"p50", "p95", "p99"} {
		load = append(load, pick(byID["load-variance"], apis, q, " "+q)...)
	}
	if len(load) == 6 {
		// Each API's p50, p95 and p99 side by side.
		load = []bar{load[0], load[2], load[4], load[1], load[3], load[5]}
		b.WriteString(chart("Latency under parallel load (ms)", "ms", load))
	}
	if bars := pick(byID["memory-ratio"], apis, "memory", ""); len(bars) == 2 {
		b.WriteString(chart("Container memory (MiB)", "MiB", bars))
	}
	return b.String()
}

// pick returns a bar for each API on which c measured what.
func pick(c report.CheckResult, apis []struct{ api, name string }, what, label string) []bar {
	var bars []bar
	for _, api := range apis {
		if m, ok := c.LookupOf(api.api, what); ok {
			bars = append(bars, bar{label: api.name + label + " " + quantity(m), value: m.Value})
		}
	}
	return bars
}

// chart is a mermaid bar chart, which GitHub renders in Markdown.
func chart(title, unit string, bars []bar) string {
	labels, values := make([]string, len(bars)), make([]string, len(bars))
	for i, br := range bars {
		labels[i] = strconv.Quote(br.label)
		values[i] = number(br.value)
	}
	return fmt.Sprintf("\n```mermaid\nxychart-beta\n    title %q\n    x-axis [%s]\n    y-axis %q\n    bar [%s]\n```\n",
		title, strings.Join(labels, ", "), unit, strings.Join(values, ", "))
}

// quantity writes a measure's value with its unit: "7.31 ms", "12.5x", "3".
func quantity(m report.Measure) string {
	switch m.Unit {
	case "", "count":
		return number(m.Value)
	case "x":
		return number(m.Value) + "x"
	default:
		return number(m.Value) + " " + m.Unit
	}
}

func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// cell makes text safe inside a Markdown table cell or a one-line quote.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "<br>")
}
