// Command relay forwards TCP connections from one port to one address. The
// lab runs it in a container on two networks: the lab network, which has no
// route out, and a network whose port Docker publishes on the grader's
// machine. It is how the lab's probes reach a service that itself can reach
// nothing outside the lab.
//
//	relay LISTEN_PORT TARGET_HOST:PORT
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: relay LISTEN_PORT TARGET_HOST:PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay: listen:", err)
		os.Exit(1)
	}
	target := os.Args[2]
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "relay: accept:", err)
			os.Exit(1)
		}
		go forward(c, target)
	}
}

// forward copies both ways until either side closes. A target that refuses
// closes the client's connection at once, as the service itself would.
func forward(c net.Conn, target string) {
	defer c.Close()
	t, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	defer t.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(t, c)
		closeWrite(t)
	}()
	go func() {
		defer wg.Done()
		io.Copy(c, t)
		closeWrite(c)
	}()
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
