// Package policy owns the IAM policy language: it parses and validates policy
// documents (identity-based, trust and other resource-based policies) in
// IAM's words, and evaluates a request against the policies that apply to it
// as AWS documents for a single account: an explicit deny anywhere wins, then
// an allow from an identity-based or resource-based policy, intersected with
// the permissions boundary and the session policies when there are any; else
// an implicit deny.
//
// The package is pure: no I/O and no clock. The request carries its time and
// its source address; the caller fetches the policies and decides what the
// answer means for the API. It imports only the standard library and model
// (for Error, the one type of every API refusal).
package policy
