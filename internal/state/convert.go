package state

import "strconv"

func atoi(s string) (int, error) { return strconv.Atoi(s) }

func itoas(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return out
}
