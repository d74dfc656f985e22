// Package dns is Flotta's authoritative DNS server: the data plane behind Cloud
// Map (service discovery) and Route 53 hosted zones.
//
// It owns the DNS wire protocol for Flotta: it is the only package that imports
// github.com/miekg/dns. It serves the zones that others hand it with
// [Server.SetZone] on UDP and TCP, answers authoritatively for them (routing
// among weighted, failover and multivalue record sets, honouring health),
// refuses or forwards every other name, and offers [Query], a small client used
// by the command line. It knows nothing of Cloud Map, Route 53 or the store:
// callers turn those into [Zone] values.
//
// Updates never block queries: SetZone builds an immutable index of the zone off
// to the side and swaps it in with one atomic pointer store.
package dns
