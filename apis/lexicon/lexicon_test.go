package lexicon_test

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/lexicon"
)

func TestScoreSentiment(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"strong praise", "I love this amazing product!", lexicon.Positive},
		{"superlative complaint", "This is the worst service ever.", lexicon.Negative},
		{"negated negative", "not bad at all", lexicon.Positive},
		{"n't negation", "I don't like it", lexicon.Negative},
		{"curly apostrophe", "I don’t like it", lexicon.Negative},
		{"apostrophe-less contraction", "i dont like it", lexicon.Negative},
		{"shouted", "I DON'T LIKE IT", lexicon.Negative},
		{"isn't", "The app isn't reliable.", lexicon.Negative},
		{"wasn't", "It wasn't terrible.", lexicon.Positive},
		{"never", "Never disappointed by this shop.", lexicon.Positive},
		{"without", "Installed without any problems.", lexicon.Positive},
		{"no issues", "No issues so far", lexicon.Positive},
		{"not worth", "Not worth the money.", lexicon.Negative},
		{"negation stops at punctuation", "Not cheap, but great.", lexicon.Positive},
		{"negation reaches three words", "I do not really enjoy it", lexicon.Negative},
		{"factual", "The table is brown.", lexicon.Neutral},
		{"but favours the verdict", "good but the battery is terrible", lexicon.Negative},
		{"but favours praise too", "Shipping was slow but the product is great", lexicon.Positive},
		{"comparison, not approval", "It looks like a phone.", lexicon.Neutral},
		{"would like", "I would like a receipt", lexicon.Neutral},
		{"kind of is a hedge", "kind of okay", lexicon.Positive},
		{"kind staff", "The staff were kind", lexicon.Positive},
		{"emoji", "arrived today 👍", lexicon.Positive},
		{"angry emoji", "arrived today 😡", lexicon.Negative},
		{"possessive", "The director's best work", lexicon.Positive},
		{"empty", "", lexicon.Neutral},
		{"only punctuation", "?!...", lexicon.Neutral},
		{"unknown script", "这是一个桌子", lexicon.Neutral},
	}
	s := lexicon.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Score(tt.text)
			assert.Equal(t, tt.want, got.Sentiment, "score %v", got.Score)
			switch tt.want {
			case lexicon.Positive:
				assert.Positive(t, got.Score)
				assert.Greater(t, got.Confidence, 0.5)
			case lexicon.Negative:
				assert.Negative(t, got.Score)
				assert.Greater(t, got.Confidence, 0.5)
			case lexicon.Neutral:
				assert.InDelta(t, 0.5, got.Confidence, 1e-9)
			}
		})
	}
}

func TestScoreNeutralHasZeroScore(t *testing.T) {
	got := lexicon.New().Score("The table is brown.")
	assert.Equal(t, lexicon.Result{Sentiment: lexicon.Neutral, Confidence: 0.5}, got)
}

// TestScoreConfidenceOrder checks that modifiers move confidence the way a
// reader would expect: the stronger text of each pair is more confident.
func TestScoreConfidenceOrder(t *testing.T) {
	tests := []struct {
		name     string
		stronger string
		weaker   string
	}{
		{"intensifier", "very good", "good"},
		{"stacked intensifiers", "very very good", "very good"},
		{"extremely", "extremely slow", "slow"},
		{"diminisher", "slow", "slightly slow"},
		{"two-word diminisher", "slow", "a bit slow"},
		{"kind of", "boring", "kind of boring"},
		{"exclamation", "Amazing!", "Amazing"},
		{"more exclamations", "Amazing!!!", "Amazing!"},
		{"strong word", "terrible", "bad"},
		{"not bad is only mildly good", "good", "not bad"},
		{"modifier reaches past one word", "really do love it", "do love it"},
	}
	s := lexicon.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			strong, weak := s.Score(tt.stronger), s.Score(tt.weaker)
			require.Equal(t, strong.Sentiment, weak.Sentiment)
			assert.Greater(t, strong.Confidence, weak.Confidence)
		})
	}
}

func TestScoreExclamationsAreCapped(t *testing.T) {
	s := lexicon.New()
	assert.Equal(t, s.Score("good!!!"), s.Score("good!!!!!!!!!!"))
}

func hostileInputs() map[string]string {
	return map[string]string{
		"invalid utf-8":      "\xff\xfe\xfd good \xc3\x28 \xe2\x82",
		"nul":                "\x00",
		"nul inside words":   "go\x00od n\x00t bad",
		"64 KiB of a":        strings.Repeat("a", 65536),
		"64 KiB of love":     strings.Repeat("love ", 13108),
		"64 KiB of very":     strings.Repeat("very ", 13107) + "good",
		"64 KiB of slightly": strings.Repeat("slightly ", 7282) + "bad",
		"64 KiB of but":      "great " + strings.Repeat("but ", 16383),
		"64 KiB of bangs":    "bad" + strings.Repeat("!", 65536),
		"64 KiB apostrophes": "x" + strings.Repeat("'", 65536),
		"emoji":              "🔥🔥🔥 😍👍🏽❤️ 🤮",
		"chinese and arabic": "这个产品很好 هذا المنتج رائع great",
		"lone n't":           "n't 'n't' ''' '",
		"combining marks":    "g\u0301o\u0308od",
	}
}

func TestScoreHostileInput(t *testing.T) {
	s := lexicon.New()
	for name, text := range hostileInputs() {
		t.Run(name, func(t *testing.T) {
			var got lexicon.Result
			require.NotPanics(t, func() { got = s.Score(text) })
			assert.Contains(t, []string{lexicon.Positive, lexicon.Negative, lexicon.Neutral}, got.Sentiment)
			assert.GreaterOrEqual(t, got.Confidence, 0.0)
			assert.LessOrEqual(t, got.Confidence, 1.0)
			assert.False(t, math.IsNaN(got.Score), "score is NaN")
		})
	}
}

// TestScoreConcurrent is meant for -race: one Scorer serves many requests.
func TestScoreConcurrent(t *testing.T) {
	s := lexicon.New()
	want := s.Score("I love it but the battery is terrible!")
	var wg sync.WaitGroup
	results := make([]lexicon.Result, 16)
	for i := range results {
		wg.Go(func() {
			for range 100 {
				results[i] = s.Score("I love it but the battery is terrible!")
			}
		})
	}
	wg.Wait()
	for _, got := range results {
		assert.Equal(t, want, got)
	}
}

func FuzzScore(f *testing.F) {
	for _, seed := range []string{
		"", "\x00", "\xff\xfe", "\xc3\x28", "I love this amazing product!",
		"not bad at all", "I don't like it", "never not without hardly",
		"very very slightly a bit kind of", "good but bad but good",
		"🤮👍🏽❤️", "这个产品很好 هذا المنتج رائع", "wasn't!!!?", "'n't'",
	} {
		f.Add(seed)
	}
	s := lexicon.New()
	f.Fuzz(func(t *testing.T, text string) {
		got := s.Score(text)
		switch got.Sentiment {
		case lexicon.Positive, lexicon.Negative, lexicon.Neutral:
		default:
			t.Fatalf("Score(%q).Sentiment = %q", text, got.Sentiment)
		}
		if !(got.Confidence >= 0 && got.Confidence <= 1) {
			t.Fatalf("Score(%q).Confidence = %v, want in [0, 1]", text, got.Confidence)
		}
		if math.IsNaN(got.Score) {
			t.Fatalf("Score(%q).Score is NaN", text)
		}
	})
}

func BenchmarkScore(b *testing.B) {
	const review = "I really wanted to love this blender, but it is loud, " +
		"the lid leaks and customer service was not helpful at all!"
	s := lexicon.New()
	b.ReportAllocs()
	for b.Loop() {
		s.Score(review)
	}
}
