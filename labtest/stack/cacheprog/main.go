// Command cacheprog is a Go build cache for the lab's pre-build container
// (GOCACHEPROG, see cmd/go/internal/cacheprog): it reads the grader's own
// build cache, mounted read-only, and writes new entries to a folder of the
// run's. A fork's build is then as quick as on the grader's machine, and
// cannot plant compiled code that the grader's own builds would later use.
//
//	cacheprog READ_ONLY_GOCACHE WRITABLE_DIR
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// request and response are cmd/go/internal/cacheprog's Request and
// Response.
type request struct {
	ID       int64
	Command  string
	ActionID []byte `json:",omitempty"`
	OutputID []byte `json:",omitempty"`
	BodySize int64  `json:",omitempty"`
}

type response struct {
	ID            int64
	Err           string     `json:",omitempty"`
	KnownCommands []string   `json:",omitempty"`
	Miss          bool       `json:",omitempty"`
	OutputID      []byte     `json:",omitempty"`
	Size          int64      `json:",omitempty"`
	Time          *time.Time `json:",omitempty"`
	DiskPath      string     `json:",omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cacheprog READ_ONLY_GOCACHE WRITABLE_DIR")
		os.Exit(2)
	}
	ro, rw := os.Args[1], os.Args[2]
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	dec := json.NewDecoder(in)
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(response{KnownCommands: []string{"get", "put", "close"}}); err != nil {
		os.Exit(1)
	}
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if err == io.EOF {
				return
			}
			fmt.Fprintln(os.Stderr, "cacheprog: read request:", err)
			os.Exit(1)
		}
		var res response
		switch req.Command {
		case "get":
			res = get(ro, rw, req.ActionID)
		case "put":
			var body []byte
			if req.BodySize > 0 {
				// The body is a base64 JSON string on the next line.
				if err := dec.Decode(&body); err != nil {
					fmt.Fprintln(os.Stderr, "cacheprog: read body:", err)
					os.Exit(1)
				}
			}
			res = put(rw, req, body)
		case "close":
			res = response{}
		default:
			res = response{Err: "unknown command " + req.Command}
		}
		res.ID = req.ID
		if err := out.Encode(res); err != nil {
			os.Exit(1)
		}
		if req.Command == "close" {
			return
		}
	}
}

// file is where cmd/go's disk cache keeps id's entry of the given kind
// ("a" for an action, "d" for an output).
func file(dir string, id []byte, kind string) string {
	h := hex.EncodeToString(id)
	if len(h) < 2 {
		return filepath.Join(dir, "invalid")
	}
	return filepath.Join(dir, h[:2], h+"-"+kind)
}

// get looks the action up in the writable folder, then in the grader's
// cache; each action entry is "v1 <id> <out> <size> <time>".
func get(ro, rw string, actionID []byte) response {
	for _, dir := range []string{rw, ro} {
		b, err := os.ReadFile(file(dir, actionID, "a"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) != 5 || f[0] != "v1" || f[1] != hex.EncodeToString(actionID) {
			continue
		}
		outID, err1 := hex.DecodeString(f[2])
		size, err2 := strconv.ParseInt(f[3], 10, 64)
		nanos, err3 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		path := file(dir, outID, "d")
		if st, err := os.Stat(path); err != nil || st.Size() != size {
			continue
		}
		t := time.Unix(0, nanos)
		return response{OutputID: outID, Size: size, Time: &t, DiskPath: path}
	}
	return response{Miss: true}
}

// put stores the output and its action entry in the writable folder.
func put(rw string, req request, body []byte) response {
	path := file(rw, req.OutputID, "d")
	if err := write(path, body); err != nil {
		return response{Err: err.Error()}
	}
	entry := fmt.Sprintf("v1 %x %x %20d %20d\n", req.ActionID, req.OutputID, len(body), time.Now().UnixNano())
	if err := write(file(rw, req.ActionID, "a"), []byte(entry)); err != nil {
		return response{Err: err.Error()}
	}
	return response{DiskPath: path}
}

// write replaces path's content atomically, so that a reader never sees
// half a file.
func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
