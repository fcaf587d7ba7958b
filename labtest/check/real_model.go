package check

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// RealModel checks that the ML API answers like a trained sentiment model:
// its accuracy on labelled reviews that a word list gets wrong, and that its
// answers say a model gave them. Latency, memory and a loading phase can all
// be faked; understanding a sentence without a cue word cannot be faked
// cheaply.
type RealModel struct{}

// Info implements Check. The threshold is the ML API's recall on the
// positive reviews or on the negative ones, whichever is lower: a NEUTRAL
// answer counts as wrong, and a service cannot reach it by answering one
// label whenever it is unsure (a word list that says POSITIVE when it finds
// no cue is right on every positive review, and no better on the others).
func (RealModel) Info() Info {
	return Info{
		ID:     "real-model",
		Title:  "The ML API answers like a trained model",
		Lesson: "An ML service earns its memory and latency by understanding text a rule cannot: check what it answers, not only that it answers.",
		Threshold: report.Threshold{Name: "min_class_recall", Value: 0.69, Unit: "ratio", Direction: report.AtLeast,
			Min: 0.55, Max: 1},
	}
}

//go:embed realmodel_reviews.tsv
var realModelTSV string

// Review is one labelled sentence.
type Review struct {
	Label string
	Text  string
}

// RealModelReviews returns the labelled reviews the real-model check sends
// unless the lab gives its own (Env.Reviews).
func RealModelReviews() []Review {
	reviews, err := ParseReviews(strings.NewReader(realModelTSV))
	if err != nil {
		// The file is embedded and tested (TestRealModelReviews).
		panic("realmodel_reviews.tsv: " + err.Error())
	}
	return reviews
}

// MinReviewsPerLabel is the fewest reviews of each label a review file
// holds: with fewer, one answer moves a class's recall by more than 5
// points.
const MinReviewsPerLabel = 20

// ParseReviews reads a review file: one review a line, its label
// (POSITIVE or NEGATIVE) and its text separated by a tab; blank lines and
// lines starting with # are skipped. It names the first bad line, and
// refuses a file with fewer than MinReviewsPerLabel reviews of a label.
func ParseReviews(r io.Reader) ([]Review, error) {
	var out []Review
	count := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, text, ok := strings.Cut(line, "\t")
		text = strings.TrimSpace(text)
		switch {
		case !ok:
			return nil, fmt.Errorf("line %d: no tab between the label and the text", n)
		case label != "POSITIVE" && label != "NEGATIVE":
			return nil, fmt.Errorf("line %d: label %q is neither POSITIVE nor NEGATIVE", n, label)
		case text == "":
			return nil, fmt.Errorf("line %d: the text is empty", n)
		case !utf8.ValidString(text):
			return nil, fmt.Errorf("line %d: the text is not UTF-8", n)
		}
		count[label]++
		out = append(out, Review{Label: label, Text: text})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, label := range []string{"POSITIVE", "NEGATIVE"} {
		if count[label] < MinReviewsPerLabel {
			return nil, fmt.Errorf("%d %s reviews; at least %d of each label are needed", count[label], label, MinReviewsPerLabel)
		}
	}
	return out, nil
}

// modelAnswer is the part of an /analyze answer this check reads.
type modelAnswer struct {
	Sentiment string `json:"sentiment"`
	Method    string `json:"method"`
	Model     string `json:"model"`
	Degraded  bool   `json:"degraded"`
}

// Run implements Check.
func (RealModel) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	reviews := env.Reviews
	if reviews == nil {
		reviews = RealModelReviews()
	}
	// right and total count, per API, the right answers per true label.
	right := [2]map[string]int{{}, {}}
	total := map[string]int{}
	var notModel []string
	model := ""
	for _, r := range reviews {
		total[r.Label]++
		for i, s := range []*API{env.Traditional, env.ML} {
			a := observe.Analyze(ctx, env.Client, s.URL, r.Text)
			who := []string{"traditional API", "ML API"}[i]
			if err := observe.OK(who, a); err != nil {
				return failed(fmt.Sprintf("Sending the reviews failed: %v.", err))
			}
			var got modelAnswer
			if err := json.Unmarshal(a.Body, &got); err != nil {
				return failed(fmt.Sprintf("The %s answered /analyze with a body that is not the contract's JSON (%v): %.200s", who, err, a.Body))
			}
			if strings.EqualFold(got.Sentiment, r.Label) {
				right[i][r.Label]++
			}
			if i == 1 {
				if model == "" {
					model = got.Model
				}
				if (got.Method != "transformer-ml" || got.Model == "" || got.Degraded) && len(notModel) == 0 {
					notModel = append(notModel, fmt.Sprintf("method %q, model %q, degraded %t", got.Method, got.Model, got.Degraded))
				}
			}
		}
	}
	recall := func(i int, label string) float64 { return float64(right[i][label]) / float64(total[label]) }
	accuracy := func(i int) float64 {
		return float64(right[i]["POSITIVE"]+right[i]["NEGATIVE"]) / float64(len(reviews))
	}
	var measured []report.Measure
	var worst [2]float64
	for i, who := range []string{report.Traditional, report.ML} {
		pos, neg := recall(i, "POSITIVE"), recall(i, "NEGATIVE")
		worst[i] = min(pos, neg)
		measured = append(measured,
			ratio("accuracy", accuracy(i)).Of(who), ratio("positive_recall", pos).Of(who),
			ratio("negative_recall", neg).Of(who), ratio("min_class_recall", worst[i]).Of(who))
	}
	ml, trad := worst[1], worst[0]
	out := Outcome{Measured: append(measured, count("reviews", len(reviews))), File: env.ML.File}
	switch {
	case len(notModel) > 0:
		out.Message = fmt.Sprintf("The ML API's answers do not say that a model gave them (%s): each answer must carry \"method\": \"transformer-ml\" and the \"model\" that ran.", notModel[0])
	case ml < threshold:
		out.Message = fmt.Sprintf("On %d labelled reviews, the ML API was right on %.0f%% of the positive and %.0f%% of the negative ones (the traditional API: %.0f%% and %.0f%%); a trained sentiment model gets at least %.0f%% of each. Is a model really answering?",
			len(reviews), 100*recall(1, "POSITIVE"), 100*recall(1, "NEGATIVE"), 100*recall(0, "POSITIVE"), 100*recall(0, "NEGATIVE"), 100*threshold)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("On %d labelled reviews, the ML API (%s) was right on %.0f%% of the positive and %.0f%% of the negative ones, the traditional API on %.0f%% of the worse kind, %.0f%% of the other (at least %.0f%% of each expected).",
			len(reviews), model, 100*recall(1, "POSITIVE"), 100*recall(1, "NEGATIVE"), 100*trad, 100*max(recall(0, "POSITIVE"), recall(0, "NEGATIVE")), 100*threshold)
	}
	return out
}
