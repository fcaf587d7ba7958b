package classifier

import (
	"errors"
	"strings"
	"testing"
)

// FuzzClassify sends arbitrary text through the model's whole text path
// (clean, tokenize, run): hugot must never see input that crashes it, and
// every answer is a known label with a score in [0, 1]. Run it longer with
//
//	go test -run=^$ -fuzz=FuzzClassify -fuzztime=60s ./apis/ml/classifier
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"I love this amazing product!",
		"\xff\xfe\xfd invalid utf-8",
		"nul \x00 byte",
		"\x00\x01\x02",
		"😀🔥👍🏽 emoji only",
		"مرحبا 你好 привет mixed scripts",
		"Café naïve résumé",
		strings.Repeat("a", 2000),
		strings.Repeat("word ", 600),
		"   \t\n  ",
		"\u200b\u200b zero width",
		"[CLS] [SEP] [PAD] [UNK] [MASK]",
	} {
		f.Add(s)
	}
	c := loaded(f)
	f.Fuzz(func(t *testing.T, text string) {
		preds, err := c.Classify([]string{text})
		if errors.Is(err, ErrEmptyText) {
			return
		}
		if err != nil {
			t.Fatalf("Classify(%q): %v", text, err)
		}
		if len(preds) != 1 || (preds[0].Label != "POSITIVE" && preds[0].Label != "NEGATIVE") || preds[0].Score < 0 || preds[0].Score > 1 {
			t.Fatalf("Classify(%q) = %+v", text, preds)
		}
	})
}
