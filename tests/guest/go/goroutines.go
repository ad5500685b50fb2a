// A Go program for kiln's threads and signals (issue 5), built static with
// Debian's golang-go (CGO_ENABLED=0; rule in tests/tests.mk) and run by
// tests/e2e/go.sh natively, under kiln and on kiln-vmm.  Go's runtime
// needs clone threads, futexes, sigaltstack per thread, SIGURG sent with
// tgkill for asynchronous preemption (the handler edits the ucontext to
// inject a call), SIGSEGV turned into a panic, and PROT_NONE reservations.
//
// Without arguments it prints tap-style lines and a summary; with one
// argument it ends the way the argument says (tests of exit statuses):
// "panic" panics (2), "exit" calls os.Exit(2), "nil" dereferences nil
// without recovering (2, with the runtime's SIGSEGV report).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
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

type node struct{ next *node }

// Many goroutines over several threads: a mutex-protected counter and a
// channel fan-in must both come out exact.
func fanIn() {
	const workers, each = 1000, 1000
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	results := make(chan int, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			sum := 0
			for j := 0; j < each; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
				sum += j % (n + 1)
				if j%100 == 0 {
					runtime.Gosched()
				}
			}
			results <- sum
		}(i)
	}
	wg.Wait()
	close(results)
	total := 0
	for s := range results {
		total += s
	}
	want := 0
	for n := 0; n < workers; n++ {
		for j := 0; j < each; j++ {
			want += j % (n + 1)
		}
	}
	check(counter == workers*each, "1000 goroutines x 1000 locked increments")
	check(total == want, "channel fan-in of 1000 results is exact")
}

// A goroutine that spins without any call can only be stopped by
// asynchronous preemption (SIGURG to its thread) when GOMAXPROCS is 1.
func preemption() {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop atomic.Bool
	done := make(chan uint64)
	go func() {
		var n uint64
		for !stop.Load() {
			n++
		}
		done <- n
	}()
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	n := <-done
	check(n > 0, "a spinning goroutine is preempted (SIGURG) on one P")
}

// A goroutine blocked in a read on a pipe hands its P to others.
func blockingRead() {
	r, w, err := os.Pipe()
	if err != nil {
		check(false, "os.Pipe: "+err.Error())
		return
	}
	got := make(chan string)
	go func() {
		buf := make([]byte, 16)
		n, _ := r.Read(buf)
		got <- string(buf[:n])
	}()
	time.Sleep(20 * time.Millisecond)
	w.Write([]byte("through"))
	check(<-got == "through", "a goroutine blocked in read gets the bytes")
	r.Close()
	w.Close()
}

func nilDeref() (msg string) {
	defer func() {
		if e := recover(); e != nil {
			msg = fmt.Sprint(e)
		}
	}()
	var p *node
	_ = p.next
	return "no panic"
}

// Timers from many goroutines.
func timers() {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i%10) * time.Millisecond)
		}(i)
	}
	wg.Wait()
	check(time.Since(start) >= 9*time.Millisecond, "100 sleeping goroutines all woke")
}

func main() {
	if len(os.Args) > 1 {
		fmt.Println("go-goroutines: ending by", os.Args[1])
		switch os.Args[1] {
		case "panic":
			panic("kiln test panic")
		case "exit":
			os.Exit(2)
		case "nil":
			var p *node
			fmt.Println(p.next)
		}
		fmt.Println("go-goroutines: still alive")
		os.Exit(3)
	}
	runtime.GOMAXPROCS(4) // four Ps, so four threads run goroutines
	fanIn()
	preemption()
	blockingRead()
	timers()
	msg := nilDeref()
	check(msg == "runtime error: invalid memory address or nil pointer dereference",
		"a nil dereference (SIGSEGV) becomes a recoverable panic")
	fmt.Printf("guest go-goroutines: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
