// Go's clock on kiln's vDSO, built static with Debian's golang-go and run
// by tests/e2e/vdso.sh natively, under kiln and on kiln-vmm.  Go's runtime
// finds __vdso_clock_gettime@LINUX_2.6 itself (from AT_SYSINFO_EHDR, by
// DT_GNU_HASH or DT_HASH and the version tables) and calls it for
// time.Now and its monotonic reading: time.Now is after 2024, monotonic
// readings never go backward (also across goroutines on several threads),
// a 20 ms sleep takes at least 20 ms, and, under kiln, 100000 time.Now
// calls make no clock_gettime syscall (/proc/kiln/syscalls; skipped on
// Linux, which has no such file).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

var passed, failed int

func check(ok bool, what string) {
	if ok {
		passed++
		fmt.Println("ok -", what)
	} else {
		failed++
		fmt.Println("not ok -", what)
	}
}

// The times the program called clock_gettime, or -1 off kiln.
func clockSyscalls() int64 {
	f, err := os.Open("/proc/kiln/syscalls")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var name string
		var n int64
		if c, _ := fmt.Sscanf(s.Text(), "%s %d", &name, &n); c == 2 &&
			name == "clock_gettime" {
			return n
		}
	}
	return 0
}

func onKiln() bool {
	b, err := os.ReadFile("/proc/version")
	return err == nil && strings.Contains(string(b), "(kiln)")
}

func main() {
	t0 := time.Now()
	check(t0.Unix() > 1704067200, "time.Now is after 2024-01-01")

	backward := 0
	prev := time.Now()
	for i := 0; i < 10000; i++ {
		now := time.Now()
		if now.Sub(prev) < 0 {
			backward++
		}
		prev = now
	}
	check(backward == 0, "monotonic time.Now never goes backward (10000 reads)")

	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := time.Now()
			n := 0
			for i := 0; i < 5000; i++ {
				now := time.Now()
				if now.Sub(p) < 0 {
					n++
				}
				p = now
			}
			mu.Lock()
			bad += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	check(bad == 0, "monotonic across 8 goroutines")

	a := time.Now()
	time.Sleep(20 * time.Millisecond)
	check(time.Since(a) >= 20*time.Millisecond, "time.Sleep(20ms) takes >= 20 ms")

	if onKiln() {
		before := clockSyscalls()
		for i := 0; i < 100000; i++ {
			_ = time.Now()
		}
		after := clockSyscalls()
		check(before >= 0, "/proc/kiln/syscalls exists")
		check(after == before,
			fmt.Sprintf("100000 time.Now make no clock_gettime syscall (%d made)", after-before))
	} else {
		check(true, "no-syscall check skipped: not kiln")
	}
	fmt.Printf("guest go-clock: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
