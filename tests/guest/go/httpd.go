// A Go net/http server for tests/e2e/go_http.sh: the runtime's netpoller
// (epoll, non-blocking sockets, a wake-up pipe) on kiln's network, with
// many goroutines answering at once over several threads while one
// goroutine spins in user mode without ever making a syscall (so only
// preemption lets the others run).  Usage: httpd [ADDR] (default :8080).
//
//	GET /          "hello from go on kiln\n"
//	GET /sum?n=N   the sum 0+1+...+N-1, computed by N goroutines
//	GET /sleep     answers after 100 ms (timers while serving)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var spins atomic.Uint64

func sum(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 || n > 100000 {
		http.Error(w, "bad n", http.StatusBadRequest)
		return
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			total.Add(int64(i))
		}(i)
	}
	wg.Wait()
	fmt.Fprintf(w, "%d\n", total.Load())
}

func main() {
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	runtime.GOMAXPROCS(4)
	go func() {
		for {
			spins.Add(1)
		}
	}()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from go on kiln")
	})
	http.HandleFunc("/sum", sum)
	http.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		fmt.Fprintln(w, "slept")
	})
	// "serving" only once the socket listens: the tests connect as
	// soon as they see it.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("go-httpd:", err)
		os.Exit(1)
	}
	fmt.Println("go-httpd: serving on", addr)
	if err := http.Serve(ln, nil); err != nil {
		fmt.Println("go-httpd:", err)
		os.Exit(1)
	}
}
