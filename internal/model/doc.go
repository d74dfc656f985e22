// Package model holds Flotta's domain: the ECS resources (clusters, task
// definitions, and later tasks, services and container instances) as they are
// stored and as they travel on the wire, and the rules that make them valid.
//
// The JSON tags are ECS's member names, so a record read from the store is the
// answer an SDK expects. Validation here is pure: it returns *Error values in
// ECS's words (ClientException, InvalidParameterException, ...) and never does
// I/O. This package imports only the standard library.
package model
