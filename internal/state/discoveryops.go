package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

// Cloud Map's asynchronous operations. The API submits one (SUBMITTED);
// the completer marks it PENDING and then CompleteSDOperation carries it
// out and records SUCCESS or FAIL in the same transaction as its effect, so
// an operation never says SUCCESS for a change that was not made, nor the
// other way round.

// The ErrorCode of an operation that failed, for each refusal.
const (
	SDOpErrNamespaceNotFound = "NAMESPACE_NOT_FOUND"
	SDOpErrServiceNotFound   = "SERVICE_NOT_FOUND"
	SDOpErrResourceInUse     = "RESOURCE_IN_USE"
	SDOpErrLimitExceeded     = "RESOURCE_LIMIT_EXCEEDED"
)

// SubmitSDNamespace writes a CREATE_NAMESPACE operation (op.Namespace is
// the namespace) and claims the namespace's name, in one transaction. A
// name already claimed comes back as *SDNameTakenError (naming the
// operation that claimed it); ErrSDLimit says MaxSDNamespaces are claimed.
func (s *State) SubmitSDNamespace(ctx context.Context, op SDOperation) error {
	ns := op.Namespace
	if ns == nil {
		return errors.New("a CREATE_NAMESPACE operation without its namespace")
	}
	nameKey := sdNSNamesPrefix + SDNameKey(ns.Name)
	return retry(ctx, func() error {
		kv, c, err := read[sdClaim](ctx, s.db, nameKey)
		if err != nil {
			return err
		}
		if c != nil {
			return &SDNameTakenError{ID: c.ID, CreatorRequestID: c.CreatorRequestID, OperationID: c.OperationID}
		}
		n, rev, err := s.db.Count(ctx, sdNSNamesPrefix)
		if err != nil {
			return err
		}
		if n >= MaxSDNamespaces {
			return ErrSDLimit
		}
		_, err = s.db.Commit(ctx,
			[]store.Guard{{Key: nameKey, ModRev: kv.ModRev}, {Key: sdNSNamesPrefix, ModRev: rev, Prefix: true}, {Key: sdOperationsPrefix + op.ID}},
			[]store.Op{
				store.Put(nameKey, mustJSON(sdClaim{ID: ns.ID, CreatorRequestID: ns.CreatorRequestID, OperationID: op.ID})),
				store.Put(sdOperationsPrefix+op.ID, mustJSON(op)),
			})
		return err
	})
}

// SubmitSDOperation writes any other operation, SUBMITTED.
func (s *State) SubmitSDOperation(ctx context.Context, op SDOperation) error {
	return s.create(ctx, sdOperationsPrefix+op.ID, op)
}

// GetSDOperation reads an operation; ErrNotFound when there is none.
func (s *State) GetSDOperation(ctx context.Context, id string) (*SDOperation, error) {
	return getOrNotFound[SDOperation](ctx, s, sdOperationsPrefix+id)
}

// ListSDOperations reads every operation, by id.
func (s *State) ListSDOperations(ctx context.Context) ([]SDOperation, error) {
	return listAll[SDOperation](ctx, s.db, sdOperationsPrefix)
}

// WatchSDOperations follows the operations' ids, for the completer.
func (s *State) WatchSDOperations(ctx context.Context, after int64) (<-chan []string, <-chan error) {
	return watchAs(ctx, s.db, sdOperationsPrefix, after, func(ev store.Event) (string, bool) {
		return ev.KV.Key[len(sdOperationsPrefix):], !ev.Deleted
	})
}

// MarkSDOperationPending moves a SUBMITTED operation to PENDING and
// returns it; an operation in any other status comes back unchanged.
func (s *State) MarkSDOperationPending(ctx context.Context, id string) (*SDOperation, error) {
	key := sdOperationsPrefix + id
	var out *SDOperation
	err := retry(ctx, func() error {
		kv, op, err := read[SDOperation](ctx, s.db, key)
		if err != nil {
			return err
		}
		if op == nil {
			return fmt.Errorf("operation %s: %w", id, ErrNotFound)
		}
		out = op
		if op.Status != SDOpSubmitted {
			return nil // nothing written: a watcher of operations sees no echo
		}
		op.Status, op.UpdateDate = SDOpPending, s.Now()
		_, err = s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(op))})
		return err
	})
	return out, err
}

// CompleteSDOperation carries out a SUBMITTED or PENDING operation and
// records its outcome with it, in one transaction. An operation already
// done comes back as it is.
func (s *State) CompleteSDOperation(ctx context.Context, id string) (*SDOperation, error) {
	key := sdOperationsPrefix + id
	var out *SDOperation
	err := retry(ctx, func() error {
		kv, op, err := read[SDOperation](ctx, s.db, key)
		if err != nil {
			return err
		}
		if op == nil {
			return fmt.Errorf("operation %s: %w", id, ErrNotFound)
		}
		out = op
		if op.Status == SDOpSuccess || op.Status == SDOpFail {
			return nil
		}
		guards, ops, unlock, failCode, failMsg, err := s.sdOperationEffect(ctx, op)
		if err != nil {
			return err
		}
		defer unlock()
		op.UpdateDate = s.Now()
		if failCode != "" {
			op.Status, op.ErrorCode, op.ErrorMessage = SDOpFail, failCode, failMsg
			guards, ops = nil, nil
			if op.Type == SDOpCreateNamespace && op.Namespace != nil {
				// Give the name back.
				ops = append(ops, store.Del(sdNSNamesPrefix+SDNameKey(op.Namespace.Name)))
			}
		} else {
			op.Status = SDOpSuccess
		}
		guards = append(guards, store.Guard{Key: key, ModRev: kv.ModRev})
		ops = append(ops, store.Put(key, mustJSON(op)))
		_, err = s.db.Commit(ctx, guards, ops)
		return err
	})
	return out, err
}

// sdOperationEffect is the guards and writes that carry an operation out,
// or the reason it fails.
func (s *State) sdOperationEffect(ctx context.Context, op *SDOperation) (guards []store.Guard, ops []store.Op, unlock func(), failCode, failMsg string, err error) {
	unlock = func() {}
	switch op.Type {
	case SDOpCreateNamespace:
		ns := op.Namespace
		if ns == nil {
			return nil, nil, unlock, "INTERNAL_FAILURE", "The operation names no namespace.", nil
		}
		key := sdNamespacesPrefix + ns.ID
		return []store.Guard{{Key: key}}, []store.Op{store.Put(key, mustJSON(ns))}, unlock, "", "", nil

	case SDOpUpdateNamespace:
		key := sdNamespacesPrefix + op.Targets["NAMESPACE"]
		kv, ns, err := read[SDNamespace](ctx, s.db, key)
		if err != nil {
			return nil, nil, unlock, "", "", err
		}
		if ns == nil {
			return nil, nil, unlock, SDOpErrNamespaceNotFound, "No namespace exists with the specified ID.", nil
		}
		if u := op.NamespaceUpdate; u != nil {
			if u.Description != nil {
				ns.Description = *u.Description
			}
			if u.SOATTL != nil {
				ns.SOATTL = *u.SOATTL
			}
		}
		return []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(ns))}, unlock, "", "", nil

	case SDOpDeleteNamespace:
		id := op.Targets["NAMESPACE"]
		key := sdNamespacesPrefix + id
		kv, ns, err := read[SDNamespace](ctx, s.db, key)
		if err != nil {
			return nil, nil, unlock, "", "", err
		}
		if ns == nil {
			return nil, nil, unlock, SDOpErrNamespaceNotFound, "No namespace exists with the specified ID.", nil
		}
		n, rev, err := s.db.Count(ctx, sdSvcNamesPrefix+id+"/")
		if err != nil {
			return nil, nil, unlock, "", "", err
		}
		if n > 0 {
			return nil, nil, unlock, SDOpErrResourceInUse, "The namespace has services; delete them first.", nil
		}
		return []store.Guard{{Key: key, ModRev: kv.ModRev}, {Key: sdSvcNamesPrefix + id + "/", ModRev: rev, Prefix: true}},
			[]store.Op{store.Del(key), store.Del(sdNSNamesPrefix + SDNameKey(ns.Name))}, unlock, "", "", nil

	case SDOpUpdateService:
		key := sdServicesPrefix + op.Targets["SERVICE"]
		kv, svc, err := read[SDService](ctx, s.db, key)
		if err != nil {
			return nil, nil, unlock, "", "", err
		}
		if svc == nil {
			return nil, nil, unlock, SDOpErrServiceNotFound, "No service exists with the specified ID.", nil
		}
		if u := op.ServiceUpdate; u != nil {
			if u.Description != nil {
				svc.Description = *u.Description
			}
			for _, r := range u.DnsRecords {
				for i := range svc.DnsRecords {
					if svc.DnsRecords[i].Type == r.Type {
						svc.DnsRecords[i].TTL = r.TTL
					}
				}
			}
			if u.HealthCheckConfig != nil {
				svc.HealthCheckConfig = u.HealthCheckConfig
			}
		}
		return []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(svc))}, unlock, "", "", nil

	case SDOpRegisterInstance:
		if op.Instance == nil {
			return nil, nil, unlock, "INTERNAL_FAILURE", "The operation names no instance.", nil
		}
		inst := *op.Instance
		inst.UpdateDate = s.Now()
		guards, ops, unlockQuota, err := s.putInstanceTxn(ctx, inst)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, nil, unlock, SDOpErrServiceNotFound, "No service exists with the specified ID.", nil
		case errors.Is(err, ErrSDLimit):
			return nil, nil, unlock, SDOpErrLimitExceeded, fmt.Sprintf("The service has the most instances it may have (%d).", MaxSDInstancesPerService), nil
		case err != nil:
			return nil, nil, unlock, "", "", err
		}
		return guards, ops, unlockQuota, "", "", nil

	case SDOpDeregisterInstance:
		// An instance already gone is deregistered: success.
		guards, ops, err := s.deleteInstanceTxn(ctx, op.Targets["SERVICE"], op.Targets["INSTANCE"])
		return guards, ops, unlock, "", "", err
	}
	return nil, nil, unlock, "INTERNAL_FAILURE", "Unknown operation type " + op.Type + ".", nil
}

// PurgeSDOperations deletes the operations that finished (SUCCESS or
// FAIL) before before, and says how many.
func (s *State) PurgeSDOperations(ctx context.Context, before time.Time) (int, error) {
	page, err := s.db.List(ctx, sdOperationsPrefix, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, kv := range page.KVs {
		op, err := decode[SDOperation](kv)
		if err != nil {
			return n, err
		}
		if (op.Status != SDOpSuccess && op.Status != SDOpFail) || !op.UpdateDate.Before(before) {
			continue
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: kv.Key, ModRev: kv.ModRev}}, []store.Op{store.Del(kv.Key)})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
