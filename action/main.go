// Command action grades a folder against the mlready lab: it builds and
// starts the folder's traditional and ML APIs as containers, runs the lab's
// checks, prints a scorecard and writes the JSON report. It is the program
// behind the repository's GitHub Action (action.yml) and the command a
// learner runs locally:
//
//	go run ./action -path .
//
// Flags:
//
//	-path DIR        the folder to grade (default ".")
//	-lab FILE        the grader's lab file: the policy (default: the lab's own);
//	                 DIR/mlready-lab.yaml may set the folder's layout only
//	-min-score N     exit 1 below N points (default: all points)
//	-report FILE     where to write the JSON report (default "mlready-report.json")
//
// In GitHub Actions (GITHUB_ACTIONS=true) each flag that is not given is
// read from its input (INPUT_PATH, INPUT_LAB, INPUT_MIN-SCORE, INPUT_REPORT),
// and the program also writes a job summary, one error annotation per failed
// check, and the step's outputs, among them the result that GitHub
// Classroom's grading reporter reads.
//
// Exit codes: 0 at or above the minimum score, 1 below it, 2 when grading
// could not happen at all (no Docker engine, a bad lab spec, bad flags).
// Only such errors go to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlready/mlready/labtest"
)

func main() {
	gha := githubactions.New()
	cfg, err := configure(os.Args[1:], gha, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mlready: %v (run with -h for help)\n", err)
		os.Exit(2)
	}
	// Ctrl-C or a cancelled job ends grading; labtest still removes every
	// container it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := grade(ctx, cfg, gha, os.Stdout, os.Stderr, labtest.Run)
	stop()
	os.Exit(code)
}

// config is what to grade and how to judge it.
type config struct {
	// Path is the folder to grade.
	Path string
	// Lab is a lab spec file; empty means the folder's own or the defaults.
	Lab string
	// MinScore is the lowest passing score; negative means all points.
	MinScore int
	// KeepImages keeps at most this many images built for graded forks;
	// 0 removes them after the run.
	KeepImages int
	// Report is where the JSON report is written.
	Report string
}

// DefaultReport is where the JSON report goes unless told otherwise.
const DefaultReport = "mlready-report.json"

// configure reads the flags; each flag not given falls back to the action
// input of the same name, then to its default. Help goes to stdout.
func configure(args []string, gha *githubactions.Action, stdout io.Writer) (config, error) {
	cfg := config{Path: ".", MinScore: -1, Report: DefaultReport}
	fs := flag.NewFlagSet("mlready", flag.ContinueOnError)
	// The flag package would print errors and usage to stderr; main prints
	// one line instead, and -h prints usage to stdout.
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Path, "path", cfg.Path, "the folder to grade")
	fs.StringVar(&cfg.Lab, "lab", "", "the grader's lab file: checks, points, thresholds, limits (default: the lab's own); the folder's "+labtest.SpecFile+" may set its layout only")
	minScore := fs.String("min-score", "", "exit 1 below this score (default: all points)")
	fs.StringVar(&cfg.Report, "report", cfg.Report, "where to write the JSON report")
	fs.IntVar(&cfg.KeepImages, "keep-images", 0, "keep at most N images built for graded forks, the oldest removed first (default: remove them after the run)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "Usage: go run ./action [-path DIR] [-lab FILE] [-min-score N] [-report FILE] [-keep-images N]")
			fs.PrintDefaults()
		}
		return config{}, err
	}
	if cfg.KeepImages < 0 {
		return config{}, fmt.Errorf("keep-images %d is not a number of images", cfg.KeepImages)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, dst := range map[string]*string{"path": &cfg.Path, "lab": &cfg.Lab, "min-score": minScore, "report": &cfg.Report} {
		if v := gha.GetInput(name); v != "" && !given[name] {
			*dst = v
		}
	}
	if *minScore != "" {
		n, err := strconv.Atoi(*minScore)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("min-score %q is not a whole number of points", *minScore)
		}
		cfg.MinScore = n
	}
	return cfg, nil
}
