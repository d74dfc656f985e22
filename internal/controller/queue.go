// Package controller holds Flotta's level-triggered controllers: each
// watches the store, re-reads the whole state of one object when anything
// about it changes (or on a periodic resync), decides what should change,
// and writes. They never call each other; they meet in the store.
package controller

import (
	"context"
	"sync"
)

// queue hands out keys to workers: a key waits while it is being worked on,
// and a key queued many times is worked on once.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	order   []string
	queued  map[string]bool
	working map[string]bool
	dirty   map[string]bool
	closed  bool
}

func newQueue() *queue {
	q := &queue{queued: map[string]bool{}, working: map[string]bool{}, dirty: map[string]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.working[key] {
		q.dirty[key] = true
		return
	}
	if !q.queued[key] {
		q.queued[key] = true
		q.order = append(q.order, key)
		q.cond.Signal()
	}
}

// get blocks for the next key; ok is false once the queue is closed.
func (q *queue) get() (key string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	key = q.order[0]
	q.order = q.order[1:]
	delete(q.queued, key)
	q.working[key] = true
	return key, true
}

// done ends work on a key; if it was added meanwhile, it is queued again.
func (q *queue) done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.working, key)
	if q.dirty[key] {
		delete(q.dirty, key)
		q.queued[key] = true
		q.order = append(q.order, key)
		q.cond.Signal()
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// runWorkers runs n workers on the queue until ctx ends.
func runWorkers(ctx context.Context, q *queue, n int, work func(ctx context.Context, key string)) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, ok := q.get()
				if !ok {
					return
				}
				work(ctx, key)
				q.done(key)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		q.close()
	}()
	return &wg
}
