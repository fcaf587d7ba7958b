package report

// ServiceTimeline is what one service under test did from the moment its
// container started: the phases it went through and what every round of
// start-up probes got back. Times are seconds since the container started.
type ServiceTimeline struct {
	// Role is "traditional" or "ml".
	Role string `json:"role"`
	// Service is the compose service name.
	Service string `json:"service"`
	// ReadySeconds is when /ready first answered 200; nil if it never did.
	ReadySeconds *float64 `json:"ready_seconds"`
	// Stopped says why watching ended early (the container exited, start-up
	// ran out of time); empty when the service became ready and served.
	Stopped string  `json:"stopped,omitempty"`
	Phases  []Phase `json:"phases"`
	Probes  []Probe `json:"probes"`
}

// Phase is a stretch of a start-up: "not listening" (no answer at all), a
// phase the service names in /health ("downloading", "loading",
// "warming", "ready"), or "starting"/"ready" from /ready alone.
type Phase struct {
	Name         string  `json:"name"`
	StartSeconds float64 `json:"start_seconds"`
	EndSeconds   float64 `json:"end_seconds"`
}

// Probe is one round of start-up probes: the HTTP status of each endpoint,
// 0 for no answer.
type Probe struct {
	AtSeconds float64 `json:"at_seconds"`
	Ready     int     `json:"ready"`
	Analyze   int     `json:"analyze"`
	Live      int     `json:"live"`
	Health    int     `json:"health"`
	// Phase is what /health named, if anything.
	Phase string `json:"phase,omitempty"`
	// Hung is true when a probe was accepted but not answered in time.
	Hung bool `json:"hung,omitempty"`
}
