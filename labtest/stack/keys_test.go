package stack

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeysTableInReadme: the README tells a learner what the lab does with
// each compose key; it must say what keys.go does.
func TestKeysTableInReadme(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(b)
	names := map[treatment]string{applied: "applied", ignored: "ignored", refused: "refused"}
	for table, keys := range map[string]map[string]keyRule{"| service key |": serviceKeys, "| `build:` key |": buildKeys} {
		i := strings.Index(readme, table)
		require.GreaterOrEqual(t, i, 0, "the README has the table %s", table)
		rows := readme[i:]
		if end := strings.Index(rows, "\n\n"); end > 0 {
			rows = rows[:end]
		}
		for k, rule := range keys {
			assert.Contains(t, rows, "| `"+k+"` | "+names[rule.how]+" | "+rule.why+" |", "README row of %s", k)
		}
		assert.Equal(t, len(keys), strings.Count(rows, "\n| `"), "rows of %s", table)
	}
}
