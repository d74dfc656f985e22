package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// TaskDefRecord is a stored task definition revision and its tags.
type TaskDefRecord struct {
	TaskDefinition model.TaskDefinition `json:"taskDefinition"`
	Tags           []model.Tag          `json:"tags,omitempty"`
}

// familyRecord remembers a family's last revision number, so that numbers are
// never reused, and how many revisions it has in each status.
type familyRecord struct {
	LastRevision int `json:"lastRevision"`
	Active       int `json:"active"`
	Inactive     int `json:"inactive"`
	Deleting     int `json:"deleting"`
}

func (f *familyRecord) add(status string, n int) {
	switch status {
	case model.TaskDefActive:
		f.Active += n
	case model.TaskDefInactive:
		f.Inactive += n
	case model.TaskDefDeleteInProgress:
		f.Deleting += n
	}
}

// Keys order revisions of a family by number, and families by name: "!" sorts
// before every character a family name may contain.
func revSuffix(family string, rev int) string { return fmt.Sprintf("%s!%010d", family, rev) }
func familyKey(family string) string          { return Root + "taskdef-families/" + family }
func taskDefKey(family string, rev int) string {
	return Root + "taskdefs/" + revSuffix(family, rev)
}
func statusIndexPrefix(status string) string { return Root + "taskdef-status/" + status + "/" }
func statusIndexKey(status, family string, rev int) string {
	return statusIndexPrefix(status) + revSuffix(family, rev)
}

// ErrTooManyConcurrentRevisions is ECS's answer when writers of one family
// keep colliding.
var errTooManyConcurrent = model.Client("Too many concurrent attempts to create a new revision of the specified family.")

// RegisterTaskDefinition stores td (already validated and prepared) as the
// next revision of its family and returns the stored record.
func (s *State) RegisterTaskDefinition(ctx context.Context, td model.TaskDefinition, tags []model.Tag, registeredBy string) (*TaskDefRecord, error) {
	fkey := familyKey(td.Family)
	// Writers of one family in this process take turns, so that they do not
	// spend their optimistic retries on each other; guards still protect
	// against other servers.
	unlock := s.lockFamily(td.Family)
	defer unlock()
	var rec *TaskDefRecord
	err := retry(ctx, func() error {
		kv, fam, err := read[familyRecord](ctx, s.db, fkey)
		if err != nil {
			return err
		}
		if fam == nil {
			fam = &familyRecord{}
		}
		if fam.LastRevision >= s.Quotas().RevisionsPerFamily {
			return model.Client("Task definition revisions per family limit exceeded: family %s has had %d revisions, the most a family can have.", td.Family, fam.LastRevision)
		}
		fam.LastRevision++
		fam.add(model.TaskDefActive, 1)
		r := TaskDefRecord{TaskDefinition: td, Tags: tags}
		t := &r.TaskDefinition
		t.Revision = fam.LastRevision
		t.TaskDefinitionArn = s.Scope.TaskDefinitionARN(td.Family, t.Revision)
		t.Status = model.TaskDefActive
		t.RegisteredAt = model.At(s.Now())
		t.RegisteredBy = registeredBy
		t.DeregisteredAt, t.DeleteRequestedAt = nil, nil
		_, err = s.db.Commit(ctx, []store.Guard{{Key: fkey, ModRev: kv.ModRev}}, []store.Op{
			store.Put(fkey, mustJSON(fam)),
			store.Put(taskDefKey(td.Family, t.Revision), mustJSON(r)),
			store.Put(statusIndexKey(model.TaskDefActive, td.Family, t.Revision), nil),
		})
		if err != nil {
			return err
		}
		rec = &r
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, errTooManyConcurrent
	}
	return rec, err
}

// GetTaskDefinition reads one revision; revision 0 means the family's latest
// ACTIVE revision. It returns nil when there is none.
func (s *State) GetTaskDefinition(ctx context.Context, family string, revision int) (*TaskDefRecord, error) {
	if revision == 0 {
		page, err := s.db.List(ctx, statusIndexPrefix(model.TaskDefActive)+family+"!",
			store.ListOptions{Limit: 1, Descending: true, KeysOnly: true})
		if err != nil {
			return nil, err
		}
		if len(page.KVs) == 0 {
			return nil, nil
		}
		_, revision = splitRevKey(page.KVs[0].Key)
	}
	_, r, err := read[TaskDefRecord](ctx, s.db, taskDefKey(family, revision))
	return r, err
}

func splitRevKey(key string) (family string, rev int) {
	i := strings.LastIndexByte(key, '!')
	j := strings.LastIndexByte(key[:i], '/')
	rev, _ = strconv.Atoi(key[i+1:])
	return key[j+1 : i], rev
}

// updateTaskDefinition applies a change to one revision together with its
// family counts and status index, atomically.
func (s *State) updateTaskDefinition(ctx context.Context, family string, revision int, fn func(r *TaskDefRecord) (changed bool, err error)) (*TaskDefRecord, error) {
	key, fkey := taskDefKey(family, revision), familyKey(family)
	unlock := s.lockFamily(family)
	defer unlock()
	var out *TaskDefRecord
	err := retry(ctx, func() error {
		kvs, err := s.db.GetMany(ctx, []string{key, fkey})
		if err != nil {
			return err
		}
		r, err := decode[TaskDefRecord](kvs[key])
		if err != nil {
			return err
		}
		if r == nil {
			out = nil
			return nil
		}
		fam, err := decode[familyRecord](kvs[fkey])
		if err != nil {
			return err
		}
		before := r.TaskDefinition.Status
		changed, err := fn(r)
		if err != nil || !changed {
			out = r
			return err
		}
		after := r.TaskDefinition.Status
		ops := []store.Op{store.Put(key, mustJSON(r))}
		if before != after {
			fam.add(before, -1)
			fam.add(after, 1)
			ops = append(ops, store.Put(fkey, mustJSON(fam)),
				store.Del(statusIndexKey(before, family, revision)),
				store.Put(statusIndexKey(after, family, revision), nil))
		}
		guards := []store.Guard{{Key: key, ModRev: kvs[key].ModRev}, {Key: fkey, ModRev: kvs[fkey].ModRev}}
		if _, err := s.db.Commit(ctx, guards, ops); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// DeregisterTaskDefinition marks an ACTIVE revision INACTIVE. A revision that
// is already INACTIVE or being deleted is returned as it is. nil means unknown.
func (s *State) DeregisterTaskDefinition(ctx context.Context, family string, revision int) (*TaskDefRecord, error) {
	return s.updateTaskDefinition(ctx, family, revision, func(r *TaskDefRecord) (bool, error) {
		if r.TaskDefinition.Status != model.TaskDefActive {
			return false, nil
		}
		r.TaskDefinition.Status = model.TaskDefInactive
		r.TaskDefinition.DeregisteredAt = model.At(s.Now())
		return true, nil
	})
}

// DeleteTaskDefinition moves an INACTIVE revision to DELETE_IN_PROGRESS. An
// ACTIVE revision is refused with a ClientException.
func (s *State) DeleteTaskDefinition(ctx context.Context, family string, revision int) (*TaskDefRecord, error) {
	return s.updateTaskDefinition(ctx, family, revision, func(r *TaskDefRecord) (bool, error) {
		switch r.TaskDefinition.Status {
		case model.TaskDefActive:
			return false, model.Client("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
		case model.TaskDefDeleteInProgress:
			return false, nil
		}
		r.TaskDefinition.Status = model.TaskDefDeleteInProgress
		r.TaskDefinition.DeleteRequestedAt = model.At(s.Now())
		return true, nil
	})
}

// UpdateTaskDefinitionTags changes a revision's tags with fn; nil means unknown.
func (s *State) UpdateTaskDefinitionTags(ctx context.Context, family string, revision int, fn func(tags *[]model.Tag) error) (*TaskDefRecord, error) {
	return s.updateTaskDefinition(ctx, family, revision, func(r *TaskDefRecord) (bool, error) {
		return true, fn(&r.Tags)
	})
}

// ListTaskDefinitions lists revision ARNs in one status, optionally of one
// family, ordered by family then revision (reversed when desc).
func (s *State) ListTaskDefinitions(ctx context.Context, family, status string, desc bool, token string, limit int) ([]string, string, error) {
	prefix := statusIndexPrefix(status)
	if family != "" {
		prefix += family + "!"
	}
	return scan(ctx, s.db, prefix, token, limit, desc, func(kv store.KV) (string, bool, error) {
		f, rev := splitRevKey(kv.Key)
		return s.Scope.TaskDefinitionARN(f, rev), true, nil
	})
}

// ListTaskDefinitionFamilies lists family names starting with prefix. status
// ACTIVE keeps families with an ACTIVE revision, INACTIVE those without one,
// ALL every family.
func (s *State) ListTaskDefinitionFamilies(ctx context.Context, namePrefix, status, token string, limit int) ([]string, string, error) {
	base := Root + "taskdef-families/"
	return scan(ctx, s.db, base+namePrefix, token, limit, false, func(kv store.KV) (string, bool, error) {
		f, err := decode[familyRecord](kv)
		if err != nil {
			return "", false, err
		}
		name := strings.TrimPrefix(kv.Key, base)
		switch status {
		case model.TaskDefActive:
			return name, f.Active > 0, nil
		case model.TaskDefInactive:
			return name, f.Active == 0, nil
		default:
			return name, true, nil
		}
	})
}
