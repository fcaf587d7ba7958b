package stack

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/stretchr/testify/assert"
)

// frames multiplexes payloads as the Docker engine streams a container's
// log: an 8-byte header (stream, size) before each.
func frames(stream stdcopy.StdType, payloads ...[]byte) *bytes.Buffer {
	var b bytes.Buffer
	for _, p := range payloads {
		h := make([]byte, 8)
		h[0] = byte(stream)
		binary.BigEndian.PutUint32(h[4:], uint32(len(p)))
		b.Write(h)
		b.Write(p)
	}
	return &b
}

// TestLogBudgetCountsWhatTheServiceWrote: exactly LogBudget bytes of
// output, on stdout and stderr together, is within the budget (frame headers
// do not count); one byte more spends it.
func TestLogBudgetCountsWhatTheServiceWrote(t *testing.T) {
	line := bytes.Repeat([]byte("x"), 1<<10)
	var half [][]byte
	for range LogBudget / 2 / len(line) {
		half = append(half, line)
	}
	for _, tt := range []struct {
		name  string
		extra []byte
		want  error
	}{
		{"exactly the budget", nil, nil},
		{"one byte more", []byte("!"), errLogBudget},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stream := frames(stdcopy.Stdout, half...)
			stream.Write(frames(stdcopy.Stderr, half...).Bytes())
			if tt.extra != nil {
				stream.Write(frames(stdcopy.Stderr, tt.extra).Bytes())
			}
			b := &logBudget{left: LogBudget}
			_, err := stdcopy.StdCopy(b, b, stream)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}
