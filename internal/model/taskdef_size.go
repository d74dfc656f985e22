package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// EC2 task-level CPU bounds, in CPU units (1024 per vCPU).
const (
	MinTaskCPU = 128
	MaxTaskCPU = 196608
	// MinContainerMemory is Docker's smallest memory limit, in MiB.
	MinContainerMemory = 6
)

var (
	unitsRE = regexp.MustCompile(`^[0-9]+$`)
	vcpuRE  = regexp.MustCompile(`(?i)^([0-9]*\.?[0-9]+)\s*vcpu$`)
	gbRE    = regexp.MustCompile(`(?i)^([0-9]*\.?[0-9]+)\s*gb$`)
)

// ParseTaskCPU turns a task-level cpu ("1024", "1 vCPU", "0.25 vcpu") into CPU units.
func ParseTaskCPU(s string) (int, error) {
	return parseSize(s, vcpuRE, "CPU units", `"1024"`, `"1 vCPU"`)
}

// ParseTaskMemory turns a task-level memory ("2048", "2 GB", "0.5GB") into MiB.
func ParseTaskMemory(s string) (int, error) {
	return parseSize(s, gbRE, "MiB", `"2048"`, `"2 GB"`)
}

// parseSize reads a whole number of base units, or a (fractional) number of a
// unit worth 1024 of them, as large matches.
func parseSize(s string, large *regexp.Regexp, base, baseExample, largeExample string) (int, error) {
	s = strings.TrimSpace(s)
	if unitsRE.MatchString(s) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%q is too large", s)
		}
		return n, nil
	}
	if m := large.FindStringSubmatch(s); m != nil {
		f, err := strconv.ParseFloat(m[1], 64)
		if err != nil || f*1024 != float64(int(f*1024)) {
			return 0, fmt.Errorf("%q is not a whole number of %s", s, base)
		}
		return int(f * 1024), nil
	}
	return 0, fmt.Errorf("%q is neither a number of %s (%s) nor like %s", s, base, baseExample, largeExample)
}

// fargateSizes lists, for each Fargate task cpu, the memory values it accepts.
var fargateSizes = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

// ValidFargateSize says whether cpu units and memory MiB are one of Fargate's
// task sizes.
func ValidFargateSize(cpu, memory int) bool {
	for _, m := range fargateSizes[cpu] {
		if m == memory {
			return true
		}
	}
	return false
}

func fargateSizeError(cpu, memory int) *Error {
	return Client("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", cpu, memory)
}
