package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store/postgres"
)

// The leader of a background job is a whole process that dies (SIGKILL: no
// Release, no Close): another node takes the job over. The leader here is
// this test binary run again as a helper process.
func TestLeaderProcessKilled(t *testing.T) {
	if u := os.Getenv("RAMPART_LEASE_HELPER"); u != "" {
		leaseHelper(u, os.Getenv("RAMPART_LEASE_NAME"))
		return
	}
	if testing.Short() {
		t.Skip("runs a helper process")
	}
	u := newSchema(t)
	b := open(t, u, postgres.WithPingInterval(200*time.Millisecond))
	for round := range 3 {
		name := fmt.Sprintf("kms-sweep-%d", round)
		cmd := exec.Command(os.Args[0], "-test.run=^TestLeaderProcessKilled$")
		cmd.Env = append(os.Environ(), "RAMPART_LEASE_HELPER="+u, "RAMPART_LEASE_NAME="+name)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		leading := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.TrimSpace(sc.Text()) == "LEADING" {
					leading <- true
				}
			}
			close(leading)
		}()
		select {
		case ok := <-leading:
			if !ok {
				t.Fatal("the helper exited without leading")
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the helper did not lead within 30s")
		}
		if _, ok := tryLead(t, b, name); ok {
			t.Fatal("two leaders: this node leads while the helper does")
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t0 := time.Now()
		lease := waitLead(t, b, name)
		t.Logf("round %d: took over %s after the leader's SIGKILL", round, time.Since(t0).Round(time.Millisecond))
		lease.Release()
	}
}

// leaseHelper leads name, says so, and waits to be killed.
func leaseHelper(u, name string) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	for {
		_, ok, err := s.TryLead(ctx, name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		if ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("LEADING")
	select {}
}
