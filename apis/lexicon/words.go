package lexicon

// entry is what the scorer knows about one lowercased word.
type entry struct {
	valence float64 // signed sentiment weight on a -3..+3 scale
	factor  float64 // when non-zero, scales the next sentiment word
	flags   flag
}

// flag marks the words that steer the rules rather than carry sentiment.
type flag uint8

const (
	// negates flips the next few words: "not", "never", "without".
	negates flag = 1 << iota
	// contrasts gives the clause after it more weight than the one
	// before: "but", "however".
	contrasts
	// hedgeHead may start a two-word diminisher: "a", "kind", "sort".
	hedgeHead
	// hedgeTail completes a two-word diminisher: "bit", "little", "of".
	hedgeTail
	// blocksLike turns a following "like" into a comparison: "looks like".
	blocksLike
	// comparable marks the sentiment words that blocksLike neutralises.
	comparable
)

// newLexicon builds the word table. It is built once per Scorer and only
// read afterwards.
func newLexicon() map[string]entry {
	m := make(map[string]entry, 512)
	for w, v := range valences() {
		m[w] = entry{valence: v}
	}
	for w, f := range modifiers() {
		e := m[w]
		e.factor = f
		m[w] = e
	}
	mark := func(f flag, words ...string) {
		for _, w := range words {
			e := m[w]
			e.flags |= f
			m[w] = e
		}
	}
	mark(negates, "not", "no", "never", "without", "hardly", "barely",
		"scarcely", "nothing", "none", "nobody", "nor", "neither", "cannot",
		// Contractions typed without the apostrophe; "n't" forms with one
		// are recognised by their suffix.
		"dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
		"cant", "couldnt", "wont", "wouldnt", "shouldnt", "havent",
		"hasnt", "hadnt", "aint")
	mark(contrasts, "but", "however")
	mark(hedgeHead, "a", "kind", "sort")
	mark(hedgeTail, "bit", "little", "tad", "of")
	mark(blocksLike, "look", "looks", "looked", "looking", "feel", "feels",
		"felt", "seem", "seems", "seemed", "sound", "sounds", "sounded",
		"smell", "smells", "taste", "tastes", "something", "anything",
		"more", "less", "much", "exactly", "would", "i'd", "we'd",
		"is", "was", "are", "were", "it's", "that's")
	mark(comparable, "like")
	return m
}

// modifiers are the intensifiers (factor > 1) and diminishers (factor < 1)
// that scale the next sentiment word.
func modifiers() map[string]float64 {
	return map[string]float64{
		"very": 1.5, "really": 1.4, "extremely": 1.8, "so": 1.3,
		"absolutely": 1.7, "incredibly": 1.8, "super": 1.5, "totally": 1.5,
		"completely": 1.5, "highly": 1.5, "truly": 1.4, "utterly": 1.8,
		"exceptionally": 1.7, "especially": 1.3, "particularly": 1.3,
		"remarkably": 1.5, "too": 1.3, "quite": 1.2, "pretty": 1.2,
		"such": 1.3, "deeply": 1.5, "seriously": 1.4, "insanely": 1.7,
		"ridiculously": 1.6, "thoroughly": 1.5, "most": 1.3, "way": 1.3,
		"entirely": 1.5, "unbelievably": 1.8, "genuinely": 1.3, "much": 1.2,

		"slightly": 0.5, "somewhat": 0.6, "fairly": 0.7, "kinda": 0.6,
		"sorta": 0.6, "marginally": 0.5, "mildly": 0.6, "partly": 0.6,
		"rather": 0.8, "almost": 0.6, "relatively": 0.7, "reasonably": 0.8,
		"occasionally": 0.6, "moderately": 0.7, "bit": 0.7,
	}
}

// valences are the sentiment words, weighted for product, service and movie
// reviews. Words whose polarity depends on context ("cheap", "hard",
// "cold") are left out on purpose.
func valences() map[string]float64 {
	return map[string]float64{
		// Strongly positive.
		"love": 3, "loved": 3, "loves": 3, "loving": 3, "adore": 3,
		"adored": 3, "amazing": 3, "amazingly": 3, "awesome": 3,
		"excellent": 3, "outstanding": 3, "fantastic": 3, "perfect": 3,
		"perfectly": 2.5, "superb": 3, "wonderful": 3, "wonderfully": 3,
		"brilliant": 3, "incredible": 3, "exceptional": 3, "masterpiece": 3,
		"best": 3, "greatest": 3, "flawless": 3, "flawlessly": 3,
		"phenomenal": 3, "stellar": 3, "magnificent": 3, "spectacular": 3,

		// Positive.
		"beautiful": 2.5, "beautifully": 2.5, "gorgeous": 2.5,
		"delightful": 2.5, "delighted": 2.5, "thrilled": 2.5,
		"impressive": 2.5, "impressed": 2.5, "terrific": 2.5,
		"fabulous": 2.5, "lovely": 2.5, "favorite": 2.5, "favourite": 2.5,
		"marvelous": 2.5, "marvellous": 2.5, "breathtaking": 2.5,
		"stunning": 2.5, "exquisite": 2.5, "delicious": 2.5,
		"heartwarming": 2.5, "superior": 2, "great": 2, "happy": 2,
		"glad": 2, "pleased": 2, "enjoy": 2, "enjoyed": 2, "enjoying": 2,
		"enjoys": 2, "enjoyable": 2, "recommend": 2, "recommended": 2,
		"recommending": 2, "fun": 2, "charming": 2, "satisfied": 2,
		"satisfying": 2, "satisfaction": 2, "reliable": 2, "helpful": 2,
		"friendly": 2, "polite": 2, "courteous": 2, "elegant": 2,
		"hilarious": 2, "entertaining": 2, "engaging": 2, "gripping": 2,
		"exciting": 2, "excited": 2, "grateful": 2, "thankful": 2,
		"appreciate": 2, "appreciated": 2, "success": 2, "successful": 2,
		"winner": 2, "tasty": 2, "valuable": 2, "pleasure": 2,
		"pleasant": 2, "pleasantly": 2, "yay": 2, "comfortable": 2,
		"good": 1.5, "nice": 1.5, "nicely": 1.5, "like": 1.5, "liked": 1.5,
		"likes": 1.5, "solid": 1.5, "smooth": 1.5, "easy": 1.5,
		"easily": 1.5, "sturdy": 1.5, "fast": 1.5, "quick": 1.5,
		"quickly": 1.5, "efficient": 1.5, "worth": 1.5, "worthwhile": 1.5,
		"professional": 1.5, "responsive": 1.5, "affordable": 1.5,
		"bargain": 1.5, "durable": 1.5, "intuitive": 1.5, "stylish": 1.5,
		"funny": 1.5, "moving": 1.5, "touching": 1.5, "clever": 1.5,
		"smart": 1.5, "thank": 1.5, "thanks": 1.5, "win": 1.5, "wins": 1.5,
		"improved": 1.5, "improvement": 1.5, "accurate": 1.5,
		"powerful": 1.5, "convenient": 1.5, "spacious": 1.5, "cozy": 1.5,
		"better": 1.5, "wow": 1.5, "resolved": 1.5, "kind": 1.5,
		"premium": 1.5, "positive": 1.5, "attentive": 1.5, "prompt": 1.5,
		"promptly": 1.5, "knowledgeable": 1.5, "handy": 1.5,
		"secure": 1, "safe": 1, "correct": 1,
		"clean": 1, "fresh": 1, "quiet": 1, "cool": 1, "decent": 1,
		"fixed": 1, "works": 1, "upgrade": 1, "fine": 0.8,
		"acceptable": 0.8, "work": 0.5, "worked": 0.5, "working": 0.5,
		"ok": 0.5, "okay": 0.5, "adequate": 0.5, "fair": 0.5,

		// Strongly negative.
		"hate": -3, "hated": -3, "hates": -3, "terrible": -3,
		"terribly": -3, "awful": -3, "awfully": -2.5, "worst": -3,
		"horrible": -3, "horribly": -3, "horrendous": -3, "atrocious": -3,
		"abysmal": -3, "disgusting": -3, "disgusted": -3, "dreadful": -3,
		"pathetic": -3, "useless": -3, "garbage": -3, "trash": -3,
		"scam": -3, "fraud": -3, "furious": -3, "nightmare": -3,
		"appalling": -3, "disaster": -3, "disastrous": -3, "worthless": -3,
		"rubbish": -3, "ripoff": -3, "unusable": -3, "unwatchable": -3,
		"inedible": -3,

		// Negative.
		"unacceptable": -2.5, "disappointing": -2.5, "disappointed": -2.5,
		"disappointment": -2.5, "crap": -2.5, "waste": -2.5,
		"wasted": -2.5, "regret": -2.5, "regrets": -2.5, "avoid": -2.5,
		"beware": -2.5, "dishonest": -2.5, "incompetent": -2.5,
		"hostile": -2.5, "sucks": -2.5, "sucked": -2.5, "lousy": -2.5,
		"shoddy": -2.5, "disrespectful": -2.5, "stinks": -2.5,
		"liar": -2.5, "bad": -2, "broken": -2, "broke": -2, "rude": -2,
		"defective": -2, "faulty": -2, "junk": -2, "annoying": -2,
		"annoyed": -2, "angry": -2, "upset": -2, "sad": -2, "unhappy": -2,
		"unhelpful": -2, "dissatisfied": -2, "fail": -2, "failed": -2,
		"fails": -2, "failure": -2, "fake": -2, "overpriced": -2,
		"flimsy": -2, "ugly": -2, "boring": -2, "dirty": -2,
		"unreliable": -2, "uncomfortable": -2, "frustrating": -2,
		"frustrated": -2, "buggy": -2, "crash": -2, "crashes": -2,
		"crashed": -2, "crashing": -2, "damaged": -2, "cracked": -2,
		"dead": -2, "subpar": -2, "inferior": -2, "worse": -2,
		"misleading": -2, "lied": -2, "unprofessional": -2, "ignored": -2,
		"painful": -2, "stupid": -2, "dumb": -2, "ridiculous": -2,
		"pointless": -2, "tedious": -2, "cringe": -2, "cringey": -2,
		"suck": -2, "sloppy": -2, "irritating": -2, "unfriendly": -2,
		"impolite": -2, "greedy": -2, "smelly": -2, "poor": -2,
		"poorly": -2, "badly": -2, "glitchy": -2, "malfunction": -2,
		"cheaply": -1.5, "dull": -1.5, "bland": -1.5, "stale": -1.5,
		"noisy": -1.5, "confusing": -1.5, "problem": -1.5,
		"problems": -1.5, "bug": -1.5, "bugs": -1.5, "error": -1.5,
		"errors": -1.5, "glitch": -1.5, "laggy": -1.5, "sluggish": -1.5,
		"delayed": -1.5, "missing": -1.5, "leak": -1.5, "leaks": -1.5,
		"leaking": -1.5, "scratched": -1.5, "complaint": -1.5, "complaints": -1.5,
		"complain": -1.5, "mistake": -1.5, "wrong": -1.5, "lacking": -1.5,
		"lacks": -1.5, "mediocre": -1.5, "weak": -1.5,
		"unfortunately": -1.5, "sadly": -1.5, "lie": -1.5, "clunky": -1.5,
		"messy": -1.5, "mess": -1.5, "pain": -1.5, "hurt": -1.5,
		"absurd": -1.5, "cliched": -1.5, "forgettable": -1.5,
		"overrated": -1.5, "inaccurate": -1.5, "unstable": -1.5,
		"careless": -1.5, "cancelled": -1.5, "canceled": -1.5,
		"hassle": -1.5, "headache": -1.5, "overcooked": -1.5,
		"undercooked": -1.5, "soggy": -1.5, "refund": -1.5, "slow": -1,
		"slowly": -1, "late": -1, "delay": -1, "issue": -1, "issues": -1,
		"lag": -1, "stopped": -1, "return": -1, "returned": -1,
		"returning": -1, "refunded": -1, "meh": -1, "expensive": -1,
		"pricey": -1, "outdated": -1, "ignore": -1, "awkward": -1,
		"predictable": -1, "cliche": -1, "shallow": -1, "difficult": -1,
		"complicated": -1, "loud": -1, "greasy": -1, "cancel": -1,
		"unclear": -1,

		// Emoji, which reviews use as words.
		"😀": 2, "😃": 2, "😄": 2, "😁": 2, "😊": 2, "🙂": 1, "😍": 3,
		"🥰": 3, "❤": 3, "♥": 3, "💕": 3, "👍": 2, "👌": 2, "🎉": 2,
		"☺": 2, "🙁": -2, "☹": -2, "😞": -2, "😢": -2, "😭": -2.5,
		"😠": -2.5, "😡": -3, "🤬": -3, "👎": -2, "💩": -2.5, "🤮": -3,
		"😒": -1.5, "😤": -2,
	}
}
