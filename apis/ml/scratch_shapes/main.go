package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/mlready/mlready/apis/ml/classifier"
)

func main() {
	clf, err := classifier.Load("fixtures/models/sst2-mini", classifier.WithMaxBatch(1))
	if err != nil {
		panic(err)
	}
	defer clf.Close()
	f, _ := os.Open(os.Args[1])
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, t, _ := strings.Cut(sc.Text(), "\t")
		n, _ := clf.Tokens(t)
		fmt.Printf("%d\t%d\t%.60s\n", n, len(strings.Fields(t)), t)
	}
}
