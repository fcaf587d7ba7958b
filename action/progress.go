package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// progress prints labtest's progress for people, one line per step with
// the time since grading began: "[  12.3s] building image service=ml-api".
// It is there to show that something is happening while images build and
// containers start. In GitHub Actions each step's line opens a log group,
// and what the step writes (the image build's output) folds into it.
type progress struct {
	mu      *sync.Mutex
	w       io.Writer
	start   time.Time
	now     func() time.Time
	groups  bool
	inGroup *bool
	// last is the message of the latest step, to tell where grading stopped.
	last *string
}

func newProgress(w io.Writer, groups bool, now func() time.Time) *progress {
	return &progress{mu: &sync.Mutex{}, w: w, start: now(), now: now, groups: groups, inGroup: new(bool), last: new(string)}
}

// logger is the slog.Logger to hand to labtest.
func (p *progress) logger() *slog.Logger { return slog.New(&progressHandler{p: p}) }

// line prints one step.
func (p *progress) line(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	text := fmt.Sprintf("[%6.1fs] %s", p.now().Sub(p.start).Seconds(), msg)
	if p.groups {
		if *p.inGroup {
			io.WriteString(p.w, "::endgroup::\n")
		}
		io.WriteString(p.w, "::group::"+text+"\n")
		*p.inGroup = true
		return
	}
	io.WriteString(p.w, text+"\n")
}

// end closes the open log group, if any.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *p.inGroup {
		io.WriteString(p.w, "::endgroup::\n")
		*p.inGroup = false
	}
}

// lastStep is the message of the latest step.
func (p *progress) lastStep() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return *p.last
}

// detail is a writer for a step's own output (a build log): each line
// indented, so that nothing a tested folder prints can pass for a workflow
// command, which GitHub reads only at the start of a line.
func (p *progress) detail() io.Writer { return &indenter{p: p} }

type indenter struct {
	p       *progress
	partial []byte
}

func (d *indenter) Write(b []byte) (int, error) {
	d.partial = append(d.partial, b...)
	for {
		i := strings.IndexByte(string(d.partial), '\n')
		if i < 0 {
			break
		}
		d.p.mu.Lock()
		_, err := io.WriteString(d.p.w, "  "+string(d.partial[:i+1]))
		d.p.mu.Unlock()
		d.partial = d.partial[i+1:]
		if err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

// progressHandler is the slog.Handler behind progress.logger.
type progressHandler struct {
	p     *progress
	attrs []slog.Attr
}

func (h *progressHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *progressHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		val := a.Value.Resolve()
		if val.Kind() == slog.KindDuration {
			// Milliseconds are as fine as a person reads.
			val = slog.DurationValue(val.Duration().Round(time.Millisecond))
		}
		v := val.String()
		if v == "" || strings.ContainsAny(v, " \t\n\"") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	h.p.mu.Lock()
	*h.p.last = r.Message
	h.p.mu.Unlock()
	h.p.line(b.String())
	return nil
}

func (h *progressHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &progressHandler{p: h.p, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

// WithGroup keeps the handler as it is: progress lines are flat.
func (h *progressHandler) WithGroup(string) slog.Handler { return h }

// tail keeps the last n lines written to it.
type tail struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  string
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	parts := strings.Split(t.part+string(b), "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.n {
		t.lines = append([]string{}, t.lines[len(t.lines)-t.n:]...)
	}
	return len(b), nil
}

// Lines returns the kept lines, an unfinished last line included.
func (t *tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string{}, t.lines...)
	if t.part != "" {
		out = append(out, t.part)
	}
	if len(out) > t.n {
		out = out[len(out)-t.n:]
	}
	return out
}
