// Package archtest holds the test that keeps Flotta's import rules, the
// "arrows point down" of ARCHITECTURE.md: which packages may use which, and
// which single package owns each outside system.
package archtest
