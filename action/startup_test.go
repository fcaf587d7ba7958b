package main

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/report"
)

// startupReport is a report whose ML API took 4 s to become ready, with a
// traditional API ready at once.
func startupReport() *report.Report {
	rep := cannedReport("fixtures/forks/good")
	mlReady, tradReady := 4.0, 0.1
	ml := report.ServiceTimeline{Role: "ml", Service: "ml-api", ReadySeconds: &mlReady, Phases: []report.Phase{
		{Name: "not listening", StartSeconds: 0, EndSeconds: 0.2},
		{Name: "downloading", StartSeconds: 0.2, EndSeconds: 1},
		{Name: "loading", StartSeconds: 1, EndSeconds: 3.5},
		{Name: "warming", StartSeconds: 3.5, EndSeconds: 4},
		{Name: "ready", StartSeconds: 4, EndSeconds: 4.2},
	}}
	for at := 0.1; at < 4.25; at += 0.1 {
		p := report.Probe{AtSeconds: at}
		switch {
		case at >= 4:
			p.Ready, p.Analyze, p.Live, p.Health, p.Phase = 200, 200, 200, 200, "ready"
		case at >= 0.2:
			p.Ready, p.Analyze, p.Live, p.Health, p.Phase = 503, 503, 200, 200, "loading"
		}
		ml.Probes = append(ml.Probes, p)
	}
	trad := report.ServiceTimeline{Role: "traditional", Service: "traditional-api", ReadySeconds: &tradReady,
		Phases: []report.Phase{{Name: "ready", StartSeconds: 0, EndSeconds: 0.2}},
		Probes: []report.Probe{{AtSeconds: 0.1, Ready: 200, Analyze: 200, Live: 200, Health: 200}, {AtSeconds: 0.2, Ready: 200, Analyze: 200, Live: 200, Health: 200}}}
	rep.Timeline = []report.ServiceTimeline{ml, trad}
	return rep
}

// svgShape is what the test reads back from the picture.
type svgShape struct {
	XMLName xml.Name `xml:"svg"`
	Rects   []struct {
		Fill  string `xml:"fill,attr"`
		Title string `xml:"title"`
	} `xml:"rect"`
	Texts []string `xml:"text"`
	Lines []struct {
		Dash string `xml:"stroke-dasharray,attr"`
	} `xml:"line"`
}

func TestStartupSVG(t *testing.T) {
	svg := startupSVG(startupReport())

	var shape svgShape
	dec := xml.NewDecoder(strings.NewReader(svg))
	require.NoError(t, dec.Decode(&shape), "the picture is well-formed XML")

	byTitle := map[string]string{}
	for _, r := range shape.Rects {
		byTitle[r.Title] = r.Fill
	}
	// Each phase is a bar of its colour; each probe answer a mark.
	assert.Equal(t, phaseColor("loading"), byTitle["loading 1.00–3.50 s"])
	assert.Equal(t, phaseColor("downloading"), byTitle["downloading 0.20–1.00 s"])
	assert.Equal(t, statusColor(0, false), byTitle["/ready at 0.10 s: no answer"])
	assert.Equal(t, statusColor(503, false), byTitle["/ready at 2.00 s: 503"])
	assert.Equal(t, statusColor(200, false), byTitle["/analyze at 4.10 s: 200"])
	text := strings.Join(shape.Texts, "\n")
	assert.Contains(t, text, "ML API")
	assert.Contains(t, text, "ml-api: running at 0 s, ready after 4.00 s (38 not-ready answers before)")
	assert.Contains(t, text, "ready 4.00 s")
	assert.Contains(t, text, `0 s = the container started (Docker says "running")`)
	dashed := 0
	for _, l := range shape.Lines {
		if l.Dash != "" {
			dashed++
		}
	}
	assert.Equal(t, 2, dashed, "one ready line per service")
}

func TestStartupSVGNeverReady(t *testing.T) {
	rep := startupReport()
	rep.Timeline[0].ReadySeconds = nil
	rep.Timeline[0].Stopped = "the container exited with code 1 <oops>"

	svg := startupSVG(rep)

	require.NoError(t, xml.Unmarshal([]byte(svg), &svgShape{}), "text from the report is escaped")
	assert.Contains(t, svg, "never ready: the container exited with code 1 &lt;oops&gt;")
}

func TestStartupSVGPath(t *testing.T) {
	assert.Equal(t, "mlready-report.startup.svg", startupSVGPath("mlready-report.json"))
	assert.Equal(t, "out/alice.startup.svg", startupSVGPath("out/alice.json"))
	assert.Equal(t, "report.txt.startup.svg", startupSVGPath("report.txt"))
}

func TestStartupMermaid(t *testing.T) {
	got := startupMermaid(startupReport())

	assert.Contains(t, got, "```mermaid\ngantt\n    title Start-up: container running is not service ready\n    dateFormat x\n")
	assert.Contains(t, got, "    section ML API\n    not listening :crit, 0, 200\n    downloading :active, 200, 1000\n    loading :active, 1000, 3500\n    warming :active, 3500, 4000\n    ready :done, 4000, 4200\n")
	assert.Contains(t, got, "    section traditional API\n    ready :done, 0, 200\n")
	assert.Contains(t, got, "- **ML API** (`ml-api`): running at 0 s, ready after 4.00 s (38 not-ready answers before)\n")
	assert.Empty(t, startupMermaid(cannedReport("f")), "no timeline, no chart")
	assert.Contains(t, summary(startupReport(), 100), "### Start-up\n")
}
