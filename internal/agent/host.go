package agent

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
)

// reservedPorts are host ports ECS keeps off limits on every instance.
var reservedPorts = []int{22, 2375, 2376, 51678, 51679}

// listeningPorts reads the TCP and UDP ports the host listens on from /proc,
// so that tasks are not placed on ports that are already taken.
func listeningPorts() (tcp, udp []int) {
	read := func(files []string, listenState string) []int {
		var out []int
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(fh)
			sc.Scan() // header
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				if len(fields) < 4 || (listenState != "" && fields[3] != listenState) {
					continue
				}
				_, portHex, ok := strings.Cut(fields[1], ":")
				if i := strings.LastIndex(fields[1], ":"); i >= 0 {
					portHex, ok = fields[1][i+1:], true
				}
				if !ok {
					continue
				}
				if p, err := strconv.ParseInt(portHex, 16, 32); err == nil && !slices.Contains(out, int(p)) {
					out = append(out, int(p))
				}
			}
			fh.Close()
		}
		slices.Sort(out)
		return out
	}
	// State 0A is LISTEN for TCP; UDP sockets bound to a port have state 07.
	return read([]string{"/proc/net/tcp", "/proc/net/tcp6"}, "0A"), read([]string{"/proc/net/udp", "/proc/net/udp6"}, "07")
}

func portStrings(ports ...[]int) []string {
	var all []int
	for _, ps := range ports {
		for _, p := range ps {
			if !slices.Contains(all, p) {
				all = append(all, p)
			}
		}
	}
	slices.Sort(all)
	out := make([]string, len(all))
	for i, p := range all {
		out[i] = strconv.Itoa(p)
	}
	return out
}
