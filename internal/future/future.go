// Package future runs work in the background and hands its result to
// whoever asks for it, once it is there.
package future

// Go starts fn in a goroutine of its own and returns a function that waits
// for its result: the same result for every call, the calls made from one
// goroutine (or ordered by the caller).
func Go[T any](fn func() T) func() T {
	got := make(chan T, 1)
	go func() { got <- fn() }()
	var (
		v    T
		done bool
	)
	return func() T {
		if !done {
			v, done = <-got, true
		}
		return v
	}
}
