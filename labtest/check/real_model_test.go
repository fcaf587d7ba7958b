package check_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/internal/fakeapi"
)

// truth maps each review of the check to its label.
func truth(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, r := range check.RealModelReviews() {
		m[r.Text] = r.Label
	}
	return m
}

func ml(sentiment string) map[string]any {
	return map[string]any{"sentiment": sentiment, "confidence": 0.9, "method": "transformer-ml", "model": "mlready/sst2-mini", "processing_time_ms": 5}
}

func TestRealModelReviews(t *testing.T) {
	reviews := check.RealModelReviews()
	require.GreaterOrEqual(t, len(reviews), 100, "at least 100 labelled reviews")
	labels := map[string]int{}
	seen := map[string]bool{}
	for _, r := range reviews {
		labels[r.Label]++
		assert.False(t, seen[r.Text], "%q is listed twice", r.Text)
		seen[r.Text] = true
		assert.NotEmpty(t, strings.TrimSpace(r.Text))
	}
	assert.Equal(t, map[string]int{"POSITIVE": len(reviews) / 2, "NEGATIVE": len(reviews) / 2}, labels, "balanced: a constant answer is right on half")
}

func TestRealModel(t *testing.T) {
	labels := truth(t)
	n := 0
	tests := []struct {
		name   string
		answer func(text string) map[string]any
		pass   bool
		msg    string
	}{
		{
			name:   "a model right on every review",
			answer: func(text string) map[string]any { return ml(labels[text]) },
			pass:   true,
		},
		{
			name: "a model wrong on one review in five",
			answer: func(text string) map[string]any {
				if n++; n%5 == 0 {
					return ml(map[string]string{"POSITIVE": "NEGATIVE", "NEGATIVE": "POSITIVE"}[labels[text]])
				}
				return ml(labels[text])
			},
			pass: true,
		},
		{
			name:   "a constant answer",
			answer: func(string) map[string]any { return ml("POSITIVE") },
			msg:    "right on 100% of the positive and 0% of the negative ones",
		},
		{
			name: "a random answer",
			answer: func() func(string) map[string]any {
				r := rand.New(rand.NewPCG(1, 2))
				return func(string) map[string]any { return ml([]string{"POSITIVE", "NEGATIVE"}[r.IntN(2)]) }
			}(),
			msg: "Is a model really answering?",
		},
		{
			name: "a rule-based answer dressed as a model",
			answer: func(text string) map[string]any {
				a := ml(labels[text])
				a["method"] = "rule-based"
				return a
			},
			msg: `method "rule-based"`,
		},
		{
			name: "a degraded fallback",
			answer: func(text string) map[string]any {
				a := ml(labels[text])
				a["degraded"] = true
				return a
			},
			msg: "degraded true",
		},
		{
			name: "no model named",
			answer: func(text string) map[string]any {
				a := ml(labels[text])
				delete(a, "model")
				return a
			},
			msg: `model ""`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := httpEnv(t, &fakeapi.API{Answer: func(string) map[string]any {
				return map[string]any{"sentiment": "NEUTRAL", "confidence": 0.5, "method": "rule-based"}
			}}, &fakeapi.API{Answer: tt.answer})
			out := check.RealModel{}.Run(t.Context(), env, check.RealModel{}.Info().Threshold.Value)
			assert.Equal(t, tt.pass, out.Passed, out.Message)
			assert.Contains(t, out.Message, tt.msg)
			if tt.pass {
				assert.Equal(t, 0.0, measured(t, out.Measured, "traditional_min_class_recall"), "NEUTRAL is never right")
				assert.GreaterOrEqual(t, measured(t, out.Measured, "ml_min_class_recall"), 0.69)
			}
		})
	}
}

func TestRealModelFailedRequest(t *testing.T) {
	env := httpEnv(t, &fakeapi.API{}, &fakeapi.API{Status: http.StatusServiceUnavailable})
	out := check.RealModel{}.Run(t.Context(), env, 0.69)
	assert.False(t, out.Passed)
	assert.Contains(t, out.Message, "ML API answered /analyze with 503")
}

func TestParseReviews(t *testing.T) {
	enough := strings.Repeat("POSITIVE\tIt works.\n", check.MinReviewsPerLabel) + strings.Repeat("NEGATIVE\tIt broke.\n", check.MinReviewsPerLabel)
	tests := []struct {
		name    string
		file    string
		want    int
		wantErr string
	}{
		{name: "comments, blank lines and CRLF", file: "# label\ttext\n\n" + strings.ReplaceAll(enough, "\n", "\r\n"), want: 2 * check.MinReviewsPerLabel},
		{name: "no tab", file: "POSITIVE It works.\n" + enough, wantErr: "line 1: no tab between the label and the text"},
		{name: "a third label", file: enough + "NEUTRAL\tIt exists.\n", wantErr: `line 41: label "NEUTRAL" is neither POSITIVE nor NEGATIVE`},
		{name: "no text", file: "POSITIVE\t  \n" + enough, wantErr: "line 1: the text is empty"},
		{name: "too few of a label", file: strings.Repeat("POSITIVE\tIt works.\n", 30) + "NEGATIVE\tIt broke.\n", wantErr: "1 NEGATIVE reviews; at least 20 of each label are needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := check.ParseReviews(strings.NewReader(tt.file))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, got, tt.want)
			assert.Equal(t, check.Review{Label: "POSITIVE", Text: "It works."}, got[0])
		})
	}
}

// A service that memorised the built-in reviews, and falls back on a guess
// for anything else, passes on them and fails on reviews the grader keeps
// to itself.
func TestRealModelOwnReviews(t *testing.T) {
	labels := truth(t)
	memorised := &fakeapi.API{Answer: func(text string) map[string]any {
		if l, ok := labels[text]; ok {
			return ml(l)
		}
		return ml("POSITIVE")
	}}
	var own []check.Review
	for i := range check.MinReviewsPerLabel {
		own = append(own, check.Review{Label: "POSITIVE", Text: fmt.Sprintf("Review %d: I would gladly buy it again.", i)},
			check.Review{Label: "NEGATIVE", Text: fmt.Sprintf("Review %d: it went straight back to the shop.", i)})
	}
	for _, tt := range []struct {
		name    string
		reviews []check.Review
		pass    bool
	}{{"the built-in reviews", nil, true}, {"the grader's own reviews", own, false}} {
		t.Run(tt.name, func(t *testing.T) {
			env := httpEnv(t, &fakeapi.API{}, memorised)
			env.Reviews = tt.reviews
			out := check.RealModel{}.Run(t.Context(), env, check.RealModel{}.Info().Threshold.Value)
			assert.Equal(t, tt.pass, out.Passed, out.Message)
			want := len(check.RealModelReviews())
			if tt.reviews != nil {
				want = len(tt.reviews)
			}
			assert.Equal(t, float64(want), measured(t, out.Measured, "reviews"))
		})
	}
}
