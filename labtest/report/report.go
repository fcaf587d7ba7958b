// Package report defines the result of grading a lab: the JSON document that
// the GitHub Action and other tools consume, and its scorecard for terminals.
package report

// Measure is one number with its unit, e.g. {"ml_p50", 12.5, "ms"}. A
// measure of one API says which: {Name: "ml_p50", API: ML, Quantity: "p50"}.
type Measure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// API is the API measured, Traditional or ML; empty for a measure of
	// both (a ratio) or of the lab (a count of rounds).
	API string `json:"api,omitempty"`
	// Quantity is what was measured on API, e.g. "p50"; Name is then
	// API_Quantity. Empty when API is.
	Quantity string `json:"quantity,omitempty"`
}

// The two APIs a measure can belong to.
const (
	Traditional = "traditional"
	ML          = "ml"
)

// Of returns m as a measure of api: its name is prefixed with api and
// becomes its quantity.
func (m Measure) Of(api string) Measure {
	m.API, m.Quantity, m.Name = api, m.Name, api+"_"+m.Name
	return m
}

// Direction says which side of a threshold passes.
type Direction string

// The two directions a threshold can face.
const (
	AtLeast Direction = "at_least"
	AtMost  Direction = "at_most"
)

// Threshold is what a check's measure must reach: at least or at most
// Value. Min and Max bound the values a lab policy may set, so that no
// policy turns a check into one that cannot fail (or cannot pass).
type Threshold struct {
	Name      string    `json:"name"`
	Value     float64   `json:"value"`
	Unit      string    `json:"unit"`
	Direction Direction `json:"direction"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
}

// Symbol is the threshold's comparison for people: "≥" or "≤".
func (t Threshold) Symbol() string {
	if t.Direction == AtMost {
		return "≤"
	}
	return "≥"
}

// Passes reports whether v is on the passing side of the threshold.
func (t Threshold) Passes(v float64) bool {
	if t.Direction == AtMost {
		return v <= t.Value
	}
	return v >= t.Value
}

// CheckResult is the outcome of one lab check.
type CheckResult struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Passed    bool      `json:"passed"`
	Points    int       `json:"points"`
	MaxPoints int       `json:"max_points"`
	Measured  []Measure `json:"measured"`
	Threshold Threshold `json:"threshold"`
	Message   string    `json:"message"`
	// Lesson is the lab lesson behind the check, in one line.
	Lesson string `json:"lesson"`
	// File is the file of the tested folder a learner should look at when
	// the check fails, relative to the folder; empty when none is known.
	File            string  `json:"file,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// Schema is the value of every report's schema field: the version of the
// report's layout, described by the JSON Schema in SchemaFile. A change that
// a consumer could trip over (a field removed, renamed or retyped) gets a
// new version; new optional fields do not.
const Schema = "mlready/report/v1"

// SchemaFile is where the JSON Schema of the report is published, relative
// to the repository's root.
const SchemaFile = "schemas/report-v1.schema.json"

// Report is the outcome of grading one folder against one lab.
type Report struct {
	// Schema is always the constant Schema.
	Schema string `json:"schema"`
	Lab    string `json:"lab"`
	// Target is the graded folder, relative to where the grader ran (with
	// forward slashes), or absolute when it is not below it.
	Target   string        `json:"target"`
	Score    int           `json:"score"`
	MaxScore int           `json:"max_score"`
	Passed   bool          `json:"passed"`
	Checks   []CheckResult `json:"checks"`
	// Error is set when the lab could not run its checks at all (an image
	// that does not build, a service that never starts); each check then
	// failed with that cause.
	Error           string  `json:"error,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Timeline is how each service under test started, from its container
	// starting; empty when none was started.
	Timeline []ServiceTimeline `json:"timeline,omitempty"`
	// Services are the services under test, with their own healthcheck
	// next to what the lab measured.
	Services []ServiceHealth `json:"services,omitempty"`
}

// ServiceHealth is what a fork says of one service's health, and what the lab saw.
type ServiceHealth struct {
	Name string `json:"name"`
	// Healthcheck is the compose file's healthcheck as written; empty when
	// it has none (an image's HEALTHCHECK still shows in Health).
	Healthcheck string `json:"healthcheck,omitempty"`
	// Health is Docker's verdict on that healthcheck when the checks ended:
	// starting, healthy or unhealthy; empty without a healthcheck.
	Health string `json:"health,omitempty"`
	// ReadySeconds is when the lab saw /ready answer 200, from container
	// start; 0 when it never did.
	ReadySeconds float64 `json:"ready_seconds"`
}

// Lookup returns the measure called name and whether there is one.
func (c CheckResult) Lookup(name string) (Measure, bool) {
	for _, m := range c.Measured {
		if m.Name == name {
			return m, true
		}
	}
	return Measure{}, false
}

// LookupOf returns the measure of quantity on api and whether there is one.
func (c CheckResult) LookupOf(api, quantity string) (Measure, bool) {
	for _, m := range c.Measured {
		if m.API == api && m.Quantity == quantity {
			return m, true
		}
	}
	return Measure{}, false
}

// Tally sets Score, MaxScore and Passed from the checks.
func (r *Report) Tally() {
	r.Score, r.MaxScore, r.Passed = 0, 0, true
	for _, c := range r.Checks {
		r.Score += c.Points
		r.MaxScore += c.MaxPoints
		if !c.Passed {
			r.Passed = false
		}
	}
}
