package check

// DefaultTexts are the sentences the checks send to /analyze: short, plain
// reviews of the kind the lab's APIs are meant for.
var DefaultTexts = []string{
	"I love this amazing product!",
	"This is the worst service ever.",
	"The delivery was fast and the packaging was perfect.",
	"The app keeps crashing and support never answers.",
	"Great value for the price, I would buy it again.",
	"The room was dirty and the staff were rude.",
	"Setup took two minutes and everything just worked.",
	"The battery dies after an hour, very disappointing.",
	"Friendly staff and delicious food, highly recommended.",
	"I waited forty minutes and the order was still wrong.",
	"The sound quality is excellent for such a small speaker.",
	"Nothing works as described and the refund took weeks.",
}
