package check

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

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

// RealModelReviews returns the labelled reviews the real-model check sends.
func RealModelReviews() []Review {
	var out []Review
	sc := bufio.NewScanner(strings.NewReader(realModelTSV))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, text, _ := strings.Cut(line, "\t")
		out = append(out, Review{Label: label, Text: text})
	}
	return out
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
	reviews := RealModelReviews()
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
	for i, who := range []string{"traditional", "ml"} {
		pos, neg := recall(i, "POSITIVE"), recall(i, "NEGATIVE")
		worst[i] = min(pos, neg)
		measured = append(measured,
			report.Measure{Name: who + "_accuracy", Value: round(accuracy(i), 3), Unit: "ratio"},
			report.Measure{Name: who + "_positive_recall", Value: round(pos, 3), Unit: "ratio"},
			report.Measure{Name: who + "_negative_recall", Value: round(neg, 3), Unit: "ratio"},
			report.Measure{Name: who + "_min_class_recall", Value: round(worst[i], 3), Unit: "ratio"})
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
