package labtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// machineLock makes labs on one machine run one at a time: they measure
// latency and memory side by side, and two at once on a 2-core machine would
// skew each other's numbers (go test runs packages in parallel).
type machineLock struct{ f *os.File }

// lockMachine takes the machine's lab lock, waiting for it as long as ctx
// allows; waiting, when set, is called once if another lab holds it, so
// that a person knows why nothing happens.
func lockMachine(ctx context.Context, waiting func()) (*machineLock, error) {
	path := filepath.Join(os.TempDir(), "mlready-lab.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open lab lock %s: %w", path, err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &machineLock{f: f}, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("take lab lock %s: %w", path, err)
		}
		if waiting != nil {
			waiting()
			waiting = nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another lab on this machine to finish: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (l *machineLock) release() {
	if l == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
