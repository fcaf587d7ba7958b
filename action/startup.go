package main

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/mlready/mlready/labtest/report"
)

// The start-up picture: for each service, from the moment its container
// started, a bar of the phases it went through and a row of dots per probe
// (/ready, /analyze), coloured by answer. The gap between "container
// running" at 0 and the first green /ready is the lesson.

// startupSVGPath is where the picture of the report at reportPath goes:
// next to it, "mlready-report.json" -> "mlready-report.startup.svg".
func startupSVGPath(reportPath string) string {
	return strings.TrimSuffix(reportPath, ".json") + ".startup.svg"
}

// phaseColor gives each phase its colour; an unknown phase is blue-grey.
func phaseColor(name string) string {
	switch name {
	case "not listening":
		return "#9e9e9e"
	case "hanging":
		return "#6d4c41"
	case "downloading":
		return "#5c6bc0"
	case "loading":
		return "#fb8c00"
	case "warming":
		return "#fdd835"
	case "starting":
		return "#ffb74d"
	case "ready":
		return "#43a047"
	case "failed":
		return "#e53935"
	default:
		return "#78909c"
	}
}

// statusColor colours one probe answer.
func statusColor(status int, hung bool) string {
	switch {
	case hung && status == 0:
		return "#212121"
	case status == 0:
		return "#cfd8dc"
	case status == 200:
		return "#2e7d32"
	case status == 503:
		return "#ef6c00"
	default:
		return "#c62828"
	}
}

// roleName is how people call a role.
func roleName(role string) string {
	if role == "ml" {
		return "ML API"
	}
	return "traditional API"
}

// startupEnd is the time the picture spans: the last probe of any service.
func startupEnd(rep *report.Report) float64 {
	end := 0.0
	for _, tl := range rep.Timeline {
		for _, p := range tl.Probes {
			end = math.Max(end, p.AtSeconds)
		}
		for _, ph := range tl.Phases {
			end = math.Max(end, ph.EndSeconds)
		}
	}
	if end <= 0 {
		end = 1
	}
	return end
}

// readyText says in words when a service became ready, or why it did not.
func readyText(tl report.ServiceTimeline) string {
	if tl.ReadySeconds == nil {
		if tl.Stopped != "" {
			return "never ready: " + tl.Stopped
		}
		return "never ready"
	}
	notReady := 0
	for _, p := range tl.Probes {
		if p.AtSeconds < *tl.ReadySeconds && p.Ready != 0 && p.Ready != 200 {
			notReady++
		}
	}
	return fmt.Sprintf("running at 0 s, ready after %.2f s (%d not-ready answers before)", *tl.ReadySeconds, notReady)
}

// startupSVG draws rep's timeline as a self-contained SVG.
func startupSVG(rep *report.Report) string {
	const (
		width, left, right = 960.0, 110.0, 20.0
		top                = 56.0
		laneHeight         = 100.0
	)
	plot := width - left - right
	end := startupEnd(rep)
	x := func(s float64) float64 { return left + plot*s/end }
	height := top + laneHeight*float64(len(rep.Timeline)) + 86

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>` + "\n")
	b.WriteString(`<text x="8" y="22" font-size="15" font-weight="bold">Start-up: container running is not service ready</text>` + "\n")
	fmt.Fprintf(&b, `<text x="8" y="38" fill="#616161">graded folder %s, lab %s</text>`+"\n", html.EscapeString(rep.Target), html.EscapeString(rep.Lab))

	for i, tl := range rep.Timeline {
		y := top + laneHeight*float64(i)
		fmt.Fprintf(&b, `<text x="8" y="%.0f" font-weight="bold">%s</text>`+"\n", y+14, roleName(tl.Role))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="#424242">%s: %s</text>`+"\n", left, y+8, html.EscapeString(tl.Service), html.EscapeString(readyText(tl)))
		// Phases.
		fmt.Fprintf(&b, `<text x="8" y="%.0f">phase</text>`+"\n", y+30)
		for _, ph := range tl.Phases {
			w := math.Max(x(ph.EndSeconds)-x(ph.StartSeconds), 1)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="18" fill="%s"><title>%s %.2f–%.2f s</title></rect>`+"\n",
				x(ph.StartSeconds), y+16, w, phaseColor(ph.Name), html.EscapeString(ph.Name), ph.StartSeconds, ph.EndSeconds)
			if w > 60 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" fill="#ffffff">%s</text>`+"\n", x(ph.StartSeconds)+4, y+29, html.EscapeString(ph.Name))
			}
		}
		// Probe answers.
		for j, row := range []struct {
			name string
			of   func(report.Probe) int
		}{{"/ready", func(p report.Probe) int { return p.Ready }}, {"/analyze", func(p report.Probe) int { return p.Analyze }}} {
			ry := y + 42 + float64(j)*16
			fmt.Fprintf(&b, `<text x="8" y="%.0f">%s</text>`+"\n", ry+10, row.name)
			for _, p := range tl.Probes {
				st := row.of(p)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="3" height="12" fill="%s"><title>%s at %.2f s: %s</title></rect>`+"\n",
					x(p.AtSeconds)-1.5, ry, statusColor(st, p.Hung), row.name, p.AtSeconds, statusText(st, p.Hung))
			}
		}
		if tl.ReadySeconds != nil {
			rx := x(*tl.ReadySeconds)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#1b5e20" stroke-width="2" stroke-dasharray="4 3"/>`+"\n", rx, y+12, rx, y+78)
			// The label goes on the side of the line that has room.
			anchor, tx := "start", rx+4
			if rx > left+plot*0.8 {
				anchor, tx = "end", rx-4
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" fill="#1b5e20" text-anchor="%s">ready %.2f s</text>`+"\n", tx, y+88, anchor, *tl.ReadySeconds)
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#000000" stroke-width="2"/>`+"\n", left, y+12, left, y+78)
	}

	// Axis.
	ay := top + laneHeight*float64(len(rep.Timeline)) + 4
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#616161"/>`+"\n", left, ay, left+plot, ay)
	step := niceStep(end)
	for s := 0.0; s <= end+1e-9; s += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#616161"/><text x="%.1f" y="%.0f" text-anchor="middle">%s s</text>`+"\n",
			x(s), ay, x(s), ay+4, x(s), ay+17, number(math.Round(s*100)/100))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="#424242">0 s = the container started (Docker says "running")</text>`+"\n", left, ay+34)
	// Legends: the answers, then the phases the picture shows.
	legend := func(y float64, title string, items []struct{ label, color string }) {
		fmt.Fprintf(&b, `<text x="8" y="%.0f">%s</text>`+"\n", y+9, title)
		lx := left
		for _, l := range items {
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx, y, l.color, lx+14, y+9, html.EscapeString(l.label))
			lx += 28 + 7*float64(len(l.label))
		}
	}
	legend(ay+44, "answers", []struct{ label, color string }{
		{"200", statusColor(200, false)}, {"503", statusColor(503, false)}, {"other status", statusColor(500, false)},
		{"no answer", statusColor(0, false)}, {"hung", statusColor(0, true)},
	})
	var phases []struct{ label, color string }
	seen := map[string]bool{}
	for _, tl := range rep.Timeline {
		for _, ph := range tl.Phases {
			if !seen[ph.Name] {
				seen[ph.Name] = true
				phases = append(phases, struct{ label, color string }{ph.Name, phaseColor(ph.Name)})
			}
		}
	}
	legend(ay+62, "phases", phases)
	b.WriteString("</svg>\n")
	return b.String()
}

func statusText(status int, hung bool) string {
	switch {
	case hung && status == 0:
		return "no answer in time (hung)"
	case status == 0:
		return "no answer"
	default:
		return fmt.Sprint(status)
	}
}

// niceStep is a tick spacing giving five to ten ticks over end seconds.
func niceStep(end float64) float64 {
	raw := end / 8
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// startupMermaid is rep's timeline as a mermaid Gantt chart for the job
// summary, one section per service, with a sentence per service under it.
func startupMermaid(rep *report.Report) string {
	if len(rep.Timeline) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n```mermaid\ngantt\n    title Start-up: container running is not service ready\n    dateFormat x\n    axisFormat %M:%S\n")
	for _, tl := range rep.Timeline {
		fmt.Fprintf(&b, "    section %s\n", mermaidText(roleName(tl.Role)))
		for _, ph := range tl.Phases {
			start, stop := math.Round(ph.StartSeconds*1000), math.Round(ph.EndSeconds*1000)
			if stop <= start {
				stop = start + 1
			}
			tag := ""
			switch ph.Name {
			case "ready":
				tag = "done, "
			case "not listening", "hanging", "failed":
				tag = "crit, "
			default:
				tag = "active, "
			}
			fmt.Fprintf(&b, "    %s :%s%.0f, %.0f\n", mermaidText(ph.Name), tag, start, stop)
		}
	}
	b.WriteString("```\n\n")
	for _, tl := range rep.Timeline {
		fmt.Fprintf(&b, "- **%s** (`%s`): %s\n", roleName(tl.Role), tl.Service, cell(readyText(tl)))
	}
	return b.String()
}

// mermaidText keeps a name from breaking a Gantt line.
func mermaidText(s string) string {
	return strings.NewReplacer(":", " ", "#", " ", ";", " ", "\n", " ").Replace(s)
}
