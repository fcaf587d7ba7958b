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

	b.WriteString("| | Check | Points | Measured | Expected |\n|:-:|---|--:|---|---|\n")
	for _, c := range rep.Checks {
		mark := "✅"
		if !c.Passed {
			mark = "❌"
		}
		var measured []string
		for _, m := range c.Measured {
			measured = append(measured, m.Name+" "+quantity(m))
		}
		expected := ""
		if c.Threshold.Name != "" {
			th := c.Threshold
			expected = th.Name + " " + th.Symbol() + " " + quantity(report.Measure{Value: th.Value, Unit: th.Unit})
		}
		fmt.Fprintf(&b, "| %s | `%s`<br>%s | %d/%d | %s | %s |\n",
			mark, c.ID, cell(c.Title), c.Points, c.MaxPoints, strings.Join(measured, "<br>"), expected)
	}

	if failed > 0 && rep.Error == "" {
		b.WriteString("\n### What to fix\n")
		for _, c := range rep.Checks {
			if c.Passed {
				continue
			}
			fmt.Fprintf(&b, "\n**`%s`**: %s\n\n%s\n\n> Lesson: %s\n", c.ID, c.Title, c.Message, c.Lesson)
			if c.File != "" {
				fmt.Fprintf(&b, "\nLook at `%s`.\n", c.File)
			}
		}
	}

	if charts := charts(rep); charts != "" {
		b.WriteString("\n### Latency and memory\n" + charts)
	}
	return b.String()
}

// bar is one bar of a chart.
type bar struct {
	label string
	value float64
}

// charts draws what the checks measured on both APIs, one chart per check
// that measured it; "" when none did.
func charts(rep *report.Report) string {
	var b strings.Builder
	byID := map[string]report.Check{}
	for _, c := range rep.Checks {
		byID[c.ID] = c
	}
	apis := []struct{ prefix, name string }{{"traditional", "traditional"}, {"ml", "ML"}}
	if bars := pick(byID["latency-ratio"], apis, "_p50", ""); len(bars) == 2 {
		b.WriteString(chart("Median latency, one request at a time (ms)", "ms", bars))
	}
	var load []bar
	for _, q := range []string{"_p50", "_p95", "_p99"} {
		load = append(load, pick(byID["load-variance"], apis, q, " "+q[1:])...)
	}
	if len(load) == 6 {
		// Each API's p50, p95 and p99 side by side.
		load = []bar{load[0], load[2], load[4], load[1], load[3], load[5]}
		b.WriteString(chart("Latency under parallel load (ms)", "ms", load))
	}
	if bars := pick(byID["memory-ratio"], apis, "_memory", ""); len(bars) == 2 {
		b.WriteString(chart("Container memory (MiB)", "MiB", bars))
	}
	return b.String()
}

// pick returns a bar for each API whose measure <prefix><suffix> c has.
func pick(c report.Check, apis []struct{ prefix, name string }, suffix, label string) []bar {
	var bars []bar
	for _, api := range apis {
		if m, ok := c.Lookup(api.prefix + suffix); ok {
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
