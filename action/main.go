// Command action grades a folder against the mlready lab: it builds and
// starts the folder's traditional and ML APIs as containers, runs the lab's
// checks, prints a scorecard and writes the JSON report. It is the program
// behind the repository's GitHub Action (action.yml) and the command a
// learner runs locally:
//
//	go run ./action -path .
//
// It also writes what other grading platforms read, from the same run:
// -classroom50 (result.json and release-body.md for Classroom50),
// -gradescope [FILE] (Gradescope's results.json) and -junit FILE; and it
// grades a folder of forks in turn with -forks DIR, or merges the reports
// of many single-fork runs with -merge DIR. Run with -h for the flags, the
// exit codes, the INPUT_* variables read in GitHub Actions and the check
// ids.
//
// -lab FILE is the grader's lab file, the policy (checks, points,
// thresholds, limits); the graded folder's mlready-lab.yaml may set its
// layout only.
//
// In GitHub Actions (GITHUB_ACTIONS=true) the program also writes a job
// summary, one error annotation per failed check, and the step's outputs,
// among them the result that GitHub Classroom's grading reporter reads.
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
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/check"
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
	// Ctrl-C, a cancelled job or a closed terminal ends grading; labtest
	// still removes everything it created. A reader that went away (`|
	// head`) would otherwise kill the grader at its next line of output,
	// leaving the run's containers and images behind: ignored, the write
	// fails instead and the grading ends as usual. (Not caught as a signal:
	// that would also cancel grading whenever a connection to a dying
	// container broke.)
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var code int
	switch {
	case cfg.Merge != "":
		code = mergeReports(cfg.Merge, os.Stdout, os.Stderr)
	case cfg.Forks != "":
		code = gradeForks(ctx, cfg, gha, os.Stdout, os.Stderr, labtest.Grade)
	default:
		code = grade(ctx, cfg, gha, os.Stdout, os.Stderr, labtest.Grade)
	}
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
	// Classroom50 writes result.json and release-body.md in the working
	// directory.
	Classroom50 bool
	// Gradescope is where to write Gradescope's results.json; "" for none.
	Gradescope string
	// JUnit is where to write a JUnit XML report; "" for none.
	JUnit string
	// Forks is a folder whose subfolders are graded one after the other
	// (batch mode); "" to grade Path alone.
	Forks string
	// ReportsDir is where batch mode writes its reports and summaries.
	ReportsDir string
	// Merge is a folder of reports to summarise (the per-fork reports of a
	// matrix workflow); "" for none.
	Merge string
}

// DefaultReport is where the JSON report goes unless told otherwise.
const DefaultReport = "mlready-report.json"

// DefaultReportsDir is where batch mode writes.
const DefaultReportsDir = "mlready-reports"

// inputs are the flags that fall back to an action input (INPUT_<NAME>)
// when not given; action.yml declares the same inputs.
func inputs() []string { return []string{"path", "lab", "min-score", "report", "junit"} }

// optionalPath is a flag that takes a path or stands alone for its
// default path, like -gradescope.
type optionalPath struct {
	path *string
	def  string
}

func (o optionalPath) String() string {
	if o.path == nil {
		return ""
	}
	return *o.path
}

func (o optionalPath) Set(v string) error {
	switch v {
	case "true":
		*o.path = o.def
	case "false":
		*o.path = ""
	default:
		*o.path = v
	}
	return nil
}

// IsBoolFlag lets the flag stand alone.
func (o optionalPath) IsBoolFlag() bool { return true }

// joinOptionalPaths turns "-gradescope FILE" into "-gradescope=FILE": the
// flag package takes a flag that may stand alone to have no value.
func joinOptionalPaths(args []string, names ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && slices.Contains(names, name) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// configure reads the flags; each flag not given falls back to the action
// input of the same name, then to its default. Help goes to stdout.
func configure(args []string, gha *githubactions.Action, stdout io.Writer) (config, error) {
	cfg := config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir}
	fs := flag.NewFlagSet("mlready", flag.ContinueOnError)
	// The flag package would print errors and usage to stderr; main prints
	// one line instead, and -h prints usage to stdout.
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Path, "path", cfg.Path, "the `DIR` to grade")
	fs.StringVar(&cfg.Lab, "lab", "", "the grader's lab `FILE`: checks, points, thresholds, limits (default: the lab's own); the folder's "+labtest.SpecFile+" may set its layout only")
	minScore := fs.String("min-score", "", "exit 1 below `N` points (default: all points)")
	fs.StringVar(&cfg.Report, "report", cfg.Report, "where to write the JSON report (`FILE`); its start-up picture goes next to it as .startup.svg")
	fs.BoolVar(&cfg.Classroom50, "classroom50", false, "write Classroom50's result.json and release-body.md in the working directory")
	fs.Var(optionalPath{&cfg.Gradescope, DefaultGradescope}, "gradescope", "write Gradescope's results.json to `FILE` (alone: "+DefaultGradescope+")")
	fs.StringVar(&cfg.JUnit, "junit", "", "write a JUnit XML report to `FILE`, one testcase per check")
	fs.StringVar(&cfg.Forks, "forks", "", "grade each subfolder of `DIR` in turn; reports and summaries go to "+DefaultReportsDir+"/")
	fs.StringVar(&cfg.Merge, "merge", "", "write summary.csv and summary.md from the reports (*.json) in `DIR`, grading nothing")
	fs.IntVar(&cfg.KeepImages, "keep-images", 0, "keep at most `N` images built for graded forks, the oldest removed first (default: remove them after the run)")
	if err := fs.Parse(joinOptionalPaths(args, "gradescope")); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			writeHelp(stdout, fs)
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
	dst := map[string]*string{"path": &cfg.Path, "lab": &cfg.Lab, "min-score": minScore, "report": &cfg.Report, "junit": &cfg.JUnit}
	for _, name := range inputs() {
		if v := gha.GetInput(name); v != "" && !given[name] {
			*dst[name] = v
		}
	}
	if *minScore != "" {
		n, err := strconv.Atoi(*minScore)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("min-score %q is not a whole number of points", *minScore)
		}
		cfg.MinScore = n
	}
	if cfg.Forks != "" && cfg.Merge != "" {
		return config{}, errors.New("-forks and -merge do not go together: -forks writes its own summaries")
	}
	if cfg.Forks != "" || cfg.Merge != "" {
		for _, f := range []string{"path", "report", "classroom50", "gradescope", "junit"} {
			if given[f] {
				return config{}, fmt.Errorf("-forks and -merge write summaries of many folders; -%s is for grading one", f)
			}
		}
	}
	return cfg, nil
}

// writeHelp prints the usage, the exit codes, the action inputs read when
// a flag is not given, and the ids of the checks a lab spec may choose.
func writeHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage: go run ./action [-path DIR] [-lab FILE] [-min-score N] [-report FILE]")
	fmt.Fprintln(w, "                       [-classroom50] [-gradescope [FILE]] [-junit FILE]")
	fmt.Fprintln(w, "       go run ./action -forks DIR [-lab FILE] [-min-score N]")
	fmt.Fprintln(w, "       go run ./action -merge DIR")
	fmt.Fprintln(w, "\nFlags:")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nExit codes:\n")
	fmt.Fprintf(w, "  %d  graded, at or above the minimum score (-forks: every fork)\n", exitPassed)
	fmt.Fprintf(w, "  %d  graded, below the minimum score (-forks: some fork)\n", exitBelowMin)
	fmt.Fprintf(w, "  %d  not graded: no Docker engine, a bad lab spec, bad flags, missing Classroom50\n", exitNoGrade)
	fmt.Fprintf(w, "     environment, Ctrl-C (-forks: a fork could not be graded at all)\n")
	fmt.Fprintf(w, "\nIn GitHub Actions (GITHUB_ACTIONS=true), a flag that is not given is read from:\n")
	for _, name := range inputs() {
		fmt.Fprintf(w, "  INPUT_%-10s -%s\n", strings.ToUpper(name), name)
	}
	fmt.Fprintf(w, "\nCheck ids a lab spec (%s) may list:\n", labtest.SpecFile)
	for _, c := range check.All() {
		fmt.Fprintf(w, "  %-16s %s\n", c.Info().ID, c.Info().Title)
	}
}
