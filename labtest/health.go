package labtest

import (
	"context"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// services reports each service under test's own healthcheck, Docker's
// verdict on it, and when the lab saw the service ready: a fork whose
// healthcheck says healthy long before /ready does (or never) shows it.
func (s *Session) services() []report.ServiceHealth {
	if s.stack == nil || s.env == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []report.ServiceHealth
	for _, r := range s.running {
		rs := report.ServiceHealth{Name: r.Name, Healthcheck: r.Healthcheck.String()}
		if h, err := r.Health(ctx); err == nil {
			rs.Health = h.Status
		}
		if s.env.ML != nil && s.env.ML.Name == r.Name && s.env.ML.Startup != nil && s.env.ML.Startup.Ready() {
			rs.ReadySeconds = s.env.ML.Startup.ReadyAt.Seconds()
		}
		if s.env.Traditional != nil && s.env.Traditional.Name == r.Name && s.env.Traditional.Startup != nil && s.env.Traditional.Startup.Ready() {
			rs.ReadySeconds = s.env.Traditional.Startup.ReadyAt.Seconds()
		}
		out = append(out, rs)
	}
	return out
}
