// Package lexicon scores the sentiment of English text with a hand-written
// word list and a handful of rules (negation, intensifiers, "but", "!").
//
// It is the "traditional" baseline of the lab: no model, no I/O, and well
// under a millisecond per review, so its latency and its mistakes can be set
// against those of the model-backed API.
package lexicon

import (
	"bytes"
	"math"
	"unicode"
	"unicode/utf8"
)

// Sentiment labels carried by Result.Sentiment.
const (
	// Positive marks text whose cues add up to a positive score.
	Positive = "POSITIVE"
	// Negative marks text whose cues add up to a negative score.
	Negative = "NEGATIVE"
	// Neutral marks text with no sentiment cue, or cues that cancel out.
	Neutral = "NEUTRAL"
)

// Tuning of the rules. The values follow VADER's spirit (Hutto & Gilbert,
// 2014) but are rounded: the scorer is a baseline, not a reproduction.
const (
	// negationSpan is how many words after "not" (or "n't", "never", ...)
	// have their sentiment flipped, unless punctuation comes first.
	negationSpan = 3
	// negatedPositive and negatedNegative flip and damp a negated word.
	// They are asymmetric because "not good" reads as clearly negative
	// while "not bad" is only mildly positive.
	negatedPositive = -0.8
	negatedNegative = -0.5
	// modifierReach is how many words an intensifier or diminisher waits
	// for a sentiment word before it lapses ("really do love").
	modifierReach = 2
	// minFactor and maxFactor bound stacked modifiers so that 64 KiB of
	// "very" cannot overflow the score.
	minFactor = 0.25
	maxFactor = 4
	// hedgeFactor scales the word after "a bit", "a little", "kind of".
	hedgeFactor = 0.6
	// beforeContrast and afterContrast weigh the clauses around "but": the
	// writer's verdict is usually the part after it.
	beforeContrast = 0.5
	afterContrast  = 1.5
	// bangBoost amplifies the score per "!" up to maxBangs of them.
	bangBoost = 0.1
	maxBangs  = 3
	// neutralBand is the |score| under which cues are taken to cancel out.
	neutralBand = 0.05
	// confidenceScale is the |score| at which confidence has covered 63 %
	// of its way from 0.5 to 1; a single "good" (1.5) gives about 0.76.
	confidenceScale = 2
	// neutralConfidence is reported for every Neutral result: the scorer
	// cannot tell a factual sentence from a sentiment it does not know.
	neutralConfidence = 0.5
	// maxWordBytes bounds the word buffer; no lexicon entry is longer, so a
	// longer run of letters is a word the scorer ignores.
	maxWordBytes = 32
)

// Result is the verdict on one text.
type Result struct {
	// Sentiment is Positive, Negative or Neutral.
	Sentiment string
	// Confidence lies in [0, 1]: 0.5 for Neutral, and from 0.5 towards 1
	// as the magnitude of Score grows for Positive and Negative.
	Confidence float64
	// Score is the signed sum of the weighted sentiment cues; 0 when there
	// is none. A single strong word such as "love" weighs 3.
	Score float64
}

// Scorer scores text against a fixed English sentiment lexicon. It is never
// modified after New, so one Scorer is safe for concurrent use.
type Scorer struct {
	words map[string]entry
}

// New returns a Scorer with the built-in lexicon.
func New() *Scorer {
	return &Scorer{words: newLexicon()}
}

// Score rates the sentiment of text. Any input is accepted: invalid UTF-8 is
// read as replacement characters, and words the lexicon does not know, in any
// script, are neutral.
func (s *Scorer) Score(text string) Result {
	sc := scan{words: s.words, weight: 1, factor: 1}
	var buf [maxWordBytes]byte
	word, long := buf[:0], false
	flush := func() {
		if long {
			sc.other()
		} else if len(word) > 0 {
			sc.word(bytes.TrimRight(word, "'"))
		}
		word, long = buf[:0], false
	}
	for _, r := range text {
		switch {
		case r == '\'' || r == '’' || r == 'ʼ':
			// Inside a word it is part of a contraction ("don't");
			// anywhere else it is a quote and separates nothing.
			if len(word) > 0 && !long {
				word = append(word, '\'')
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			r = unicode.ToLower(r)
			if len(word)+utf8.RuneLen(r) > maxWordBytes {
				long = true
			}
			if !long {
				word = utf8.AppendRune(word, r)
			}
		case unicode.Is(unicode.So, r):
			// Emoji and other pictographs are words of their own.
			flush()
			sc.word(utf8.AppendRune(buf[:0], r))
		case isClauseBreak(r):
			flush()
			sc.clauseBreak(r == '!' || r == '！')
		default:
			flush()
		}
	}
	flush()
	return sc.result()
}

// isClauseBreak reports whether r ends the reach of a negation or modifier.
func isClauseBreak(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '…',
		'。', '，', '；', '：', '！', '？', '、', '؟', '،', '؛':
		return true
	}
	return false
}

// scan is the state of one Score call, fed one word at a time.
type scan struct {
	words   map[string]entry
	score   float64
	weight  float64 // clause weight, raised after "but"
	factor  float64 // pending intensifier or diminisher
	modLeft int     // words the pending factor still waits
	negLeft int     // words still under negation
	cues    int     // sentiment words that counted
	bangs   int
	prev    entry   // previous word, for "kind of" and "looks like"
	last    float64 // what the previous word added to score
}

// word applies one lowercased word (or emoji) to the scan.
func (sc *scan) word(w []byte) {
	e, ok := sc.words[string(w)]
	if !ok {
		switch {
		case bytes.HasSuffix(w, []byte("n't")):
			e = entry{flags: negates}
		case bytes.HasSuffix(w, []byte("'s")):
			e = sc.words[string(w[:len(w)-2])]
		}
	}
	prev, last := sc.prev, sc.last
	sc.prev, sc.last = e, 0

	switch {
	case e.flags&contrasts != 0:
		sc.score *= beforeContrast
		sc.weight = afterContrast
		sc.negLeft, sc.factor, sc.modLeft = 0, 1, 0
	case e.flags&negates != 0:
		sc.negLeft = negationSpan
		sc.tickModifier()
	case e.flags&hedgeTail != 0 && prev.flags&hedgeHead != 0:
		// "kind of" hedges; it does not praise kindness.
		if last != 0 {
			sc.score -= last
			sc.cues--
		}
		sc.scale(hedgeFactor)
	case e.factor != 0:
		sc.scale(e.factor)
		sc.tickNegation()
	case e.valence != 0 && !(e.flags&comparable != 0 && prev.flags&blocksLike != 0):
		v := e.valence * sc.factor
		if sc.negLeft > 0 {
			if v > 0 {
				v *= negatedPositive
			} else {
				v *= negatedNegative
			}
		}
		v *= sc.weight
		sc.score += v
		sc.last = v
		sc.cues++
		sc.factor, sc.modLeft = 1, 0
		sc.tickNegation()
	default:
		sc.tickNegation()
		sc.tickModifier()
	}
}

// other applies a word that carries no cue.
func (sc *scan) other() {
	sc.prev, sc.last = entry{}, 0
	sc.tickNegation()
	sc.tickModifier()
}

// clauseBreak applies a punctuation mark.
func (sc *scan) clauseBreak(bang bool) {
	if bang {
		sc.bangs++
	}
	sc.negLeft, sc.factor, sc.modLeft = 0, 1, 0
	sc.prev, sc.last = entry{}, 0
}

// scale stacks a modifier onto the pending factor.
func (sc *scan) scale(f float64) {
	sc.factor = min(max(sc.factor*f, minFactor), maxFactor)
	sc.modLeft = modifierReach
}

func (sc *scan) tickNegation() {
	if sc.negLeft > 0 {
		sc.negLeft--
	}
}

func (sc *scan) tickModifier() {
	if sc.modLeft > 0 {
		sc.modLeft--
		if sc.modLeft == 0 {
			sc.factor = 1
		}
	}
}

// result turns the accumulated score into a labelled Result.
func (sc *scan) result() Result {
	if sc.cues == 0 {
		return Result{Sentiment: Neutral, Confidence: neutralConfidence}
	}
	score := sc.score * (1 + bangBoost*float64(min(sc.bangs, maxBangs)))
	if math.Abs(score) < neutralBand {
		return Result{Sentiment: Neutral, Confidence: neutralConfidence, Score: score}
	}
	conf := 0.5 + 0.5*(1-math.Exp(-math.Abs(score)/confidenceScale))
	if score > 0 {
		return Result{Sentiment: Positive, Confidence: conf, Score: score}
	}
	return Result{Sentiment: Negative, Confidence: conf, Score: score}
}
