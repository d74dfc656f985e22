package servicediscovery

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Operation is an operation as GetOperation tells of it.
type Operation struct {
	ID           string            `json:"Id"`
	Type         string            `json:"Type"`
	Status       string            `json:"Status"`
	ErrorMessage string            `json:"ErrorMessage,omitempty"`
	ErrorCode    string            `json:"ErrorCode,omitempty"`
	CreateDate   *model.Time       `json:"CreateDate"`
	UpdateDate   *model.Time       `json:"UpdateDate"`
	Targets      map[string]string `json:"Targets"`
	OwnerAccount string            `json:"OwnerAccount,omitempty"`
}

// GetOperationInput is GetOperation's request.
type GetOperationInput struct {
	OperationID string `json:"OperationId"`
}

// GetOperationOutput is GetOperation's answer.
type GetOperationOutput struct {
	Operation Operation `json:"Operation"`
}

// GetOperation tells how an asynchronous operation is going.
func (a *API) GetOperation(ctx context.Context, in *GetOperationInput) (*GetOperationOutput, error) {
	if err := requireID("OperationId", in.OperationID); err != nil {
		return nil, err
	}
	op, err := a.State.GetSDOperation(ctx, in.OperationID)
	if errors.Is(err, state.ErrNotFound) {
		return nil, errorf(codeOperationNotFound, "No operation exists with the specified ID: %s", in.OperationID)
	}
	if err != nil {
		return nil, err
	}
	return &GetOperationOutput{Operation: Operation{ID: op.ID, Type: op.Type, Status: op.Status, ErrorMessage: op.ErrorMessage,
		ErrorCode: op.ErrorCode, CreateDate: model.At(op.CreateDate), UpdateDate: model.At(op.UpdateDate), Targets: op.Targets,
		OwnerAccount: a.State.Scope.Account}}, nil
}

// ListOperationsInput is ListOperations' request.
type ListOperationsInput struct {
	MaxResults *int     `json:"MaxResults"`
	NextToken  string   `json:"NextToken"`
	Filters    []filter `json:"Filters"`
}

// OperationSummary is an operation as ListOperations tells of it.
type OperationSummary struct {
	ID     string `json:"Id"`
	Status string `json:"Status"`
}

// ListOperationsOutput is one page of ListOperations.
type ListOperationsOutput struct {
	Operations []OperationSummary `json:"Operations"`
	NextToken  string             `json:"NextToken,omitempty"`
}

var (
	opStatuses = []string{state.SDOpSubmitted, state.SDOpPending, state.SDOpSuccess, state.SDOpFail}
	opTypes    = []string{state.SDOpCreateNamespace, state.SDOpDeleteNamespace, state.SDOpUpdateNamespace,
		state.SDOpUpdateService, state.SDOpRegisterInstance, state.SDOpDeregisterInstance}
)

// ListOperations lists the operations, by id, filtered by NAMESPACE_ID,
// SERVICE_ID, STATUS, TYPE or UPDATE_DATE.
func (a *API) ListOperations(ctx context.Context, in *ListOperationsInput) (*ListOperationsOutput, error) {
	size, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	var from, to time.Time
	for i, f := range in.Filters {
		switch f.Name {
		case "NAMESPACE_ID", "SERVICE_ID":
			err = f.check("EQ")
		case "STATUS", "TYPE":
			err = f.check("EQ", "IN")
			allowed := opStatuses
			if f.Name == "TYPE" {
				allowed = opTypes
			}
			for _, v := range f.Values {
				if err == nil && !slices.Contains(allowed, v) {
					err = invalid("%s filter value %q is not valid.", f.Name, v)
				}
			}
		case "UPDATE_DATE":
			if err = f.check("BETWEEN"); err == nil {
				from, err = epoch(f.Values[0])
				if err == nil {
					to, err = epoch(f.Values[1])
				}
			}
		default:
			err = invalid("Filter name %q is not NAMESPACE_ID, SERVICE_ID, STATUS, TYPE or UPDATE_DATE.", f.Name)
		}
		if err != nil {
			return nil, err
		}
		if in.Filters[i].Condition == "" {
			in.Filters[i].Condition = "EQ"
		}
	}
	all, err := a.State.ListSDOperations(ctx)
	if err != nil {
		return nil, err
	}
	kept := all[:0]
	for _, op := range all {
		ok := true
		for _, f := range in.Filters {
			switch f.Name {
			case "NAMESPACE_ID":
				ok = ok && f.matches(op.Targets["NAMESPACE"])
			case "SERVICE_ID":
				ok = ok && f.matches(op.Targets["SERVICE"])
			case "STATUS":
				ok = ok && f.matches(op.Status)
			case "TYPE":
				ok = ok && f.matches(op.Type)
			case "UPDATE_DATE":
				ok = ok && !op.UpdateDate.Before(from) && !op.UpdateDate.After(to)
			}
		}
		if ok {
			kept = append(kept, op)
		}
	}
	got, next, err := page(kept, func(o state.SDOperation) string { return o.ID }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ListOperationsOutput{Operations: []OperationSummary{}, NextToken: next}
	for _, op := range got {
		out.Operations = append(out.Operations, OperationSummary{ID: op.ID, Status: op.Status})
	}
	return out, nil
}

// epoch reads an UPDATE_DATE filter value: Unix seconds, maybe with a fraction.
func epoch(v string) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, invalid("UPDATE_DATE filter value %q is not a time in Unix seconds.", v)
	}
	return time.Unix(0, int64(f*1e9)), nil
}
