package secretsmanager

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// value is a secret value as a request gives it: text, or bytes.
type value struct {
	data   string
	binary bool
}

// valueOf reads SecretString and SecretBinary; ok is false when neither
// was given.
func valueOf(str *string, bin []byte) (v value, ok bool, err error) {
	switch {
	case str != nil && bin != nil:
		return value{}, false, invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil:
		if len(*str) > maxValueBytes {
			return value{}, false, invalidParameter("SecretString must be at most %d bytes long.", maxValueBytes)
		}
		return value{data: *str}, true, nil
	case bin != nil:
		if len(bin) > maxValueBytes {
			return value{}, false, invalidParameter("SecretBinary must be at most %d bytes long.", maxValueBytes)
		}
		return value{data: string(bin), binary: true}, true, nil
	}
	return value{}, false, nil
}

// checkToken validates a ClientRequestToken (the new version's id).
func checkToken(token string) error {
	if token != "" && (len(token) < 32 || len(token) > 64) {
		return invalidParameter("ClientRequestToken must be between 32 and 64 characters long.")
	}
	return nil
}

func checkDescription(d *string) error {
	if d != nil && utf8.RuneCountInString(*d) > maxDescriptionLen {
		return invalidParameter("Description must be at most %d characters long.", maxDescriptionLen)
	}
	return nil
}

// open decrypts a version's value.
func (a *API) open(s *state.Secret, v *state.SecretVersion) (value, error) {
	plain, err := a.Box.Open(v.SealedValue, s.Name)
	if err != nil {
		return value{}, fmt.Errorf("open version %s of secret %s: %w", v.VersionID, s.Name, err)
	}
	return value{data: plain, binary: v.Binary}, nil
}

// addVersion adds val to s as version id with the given staging labels
// (AWSCURRENT when none), taking each label from the version that had it;
// when AWSCURRENT moves, AWSPREVIOUS goes to the version it left. A retry
// (a version with this id and the same value) changes nothing and says so;
// the same id with another value is a ResourceExistsException.
func (a *API) addVersion(s *state.Secret, id string, val value, stages []string, now time.Time) (added bool, err error) {
	if id == "" {
		id = newVersionID()
	}
	for i := range s.Versions {
		v := &s.Versions[i]
		if v.VersionID != id {
			continue
		}
		old, err := a.open(s, v)
		if err != nil {
			return false, err
		}
		if old != val {
			return false, model.Errorf(codeExists, "You can't modify an existing version, you can only create a new version.")
		}
		return false, nil
	}
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	if len(s.Versions) == 0 && !slices.Contains(stages, StageCurrent) {
		// The first version is always the current one.
		stages = append(slices.Clone(stages), StageCurrent)
	}
	if slices.Contains(stages, StageCurrent) {
		if prev := stageHolder(s, StageCurrent); prev != nil {
			removeStage(s, StagePrevious)
			prev.Stages = append(prev.Stages, StagePrevious)
		}
	}
	for _, st := range stages {
		removeStage(s, st)
	}
	s.Versions = append(s.Versions, state.SecretVersion{
		VersionID:   id,
		Stages:      slices.Clone(stages),
		SealedValue: a.Box.Seal(val.data, s.Name),
		Binary:      val.binary,
		CreatedDate: now,
	})
	s.LastChangedDate = now
	prune(s)
	return true, nil
}

// stageHolder is the version that carries a staging label, nil if none.
func stageHolder(s *state.Secret, stage string) *state.SecretVersion {
	for i := range s.Versions {
		if slices.Contains(s.Versions[i].Stages, stage) {
			return &s.Versions[i]
		}
	}
	return nil
}

func removeStage(s *state.Secret, stage string) {
	for i := range s.Versions {
		s.Versions[i].Stages = slices.DeleteFunc(s.Versions[i].Stages, func(x string) bool { return x == stage })
	}
}

// prune keeps at most maxVersions versions, forgetting the oldest of those
// that carry no staging label (deprecated ones) first.
func prune(s *state.Secret) {
	for len(s.Versions) > maxVersions {
		i := slices.IndexFunc(s.Versions, func(v state.SecretVersion) bool { return len(v.Stages) == 0 })
		if i < 0 {
			return
		}
		s.Versions = slices.Delete(s.Versions, i, i+1)
	}
}

// pickVersion finds the version a VersionId and/or VersionStage names
// (AWSCURRENT when neither is given).
func pickVersion(s *state.Secret, id, stage string) (*state.SecretVersion, error) {
	if id == "" && stage == "" {
		stage = StageCurrent
	}
	for i := range s.Versions {
		v := &s.Versions[i]
		if (id == "" || v.VersionID == id) && (stage == "" || slices.Contains(v.Stages, stage)) {
			return v, nil
		}
	}
	switch {
	case id != "" && stage != "":
		return nil, model.Errorf(codeNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s and staging label: %s", model.Truncate(id, 64), model.Truncate(stage, 256))
	case id != "":
		return nil, model.Errorf(codeNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", model.Truncate(id, 64))
	}
	return nil, model.Errorf(codeNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", model.Truncate(stage, 256))
}

// versionsToStages maps each version that carries a staging label to its
// labels (versions without one are deprecated and not listed).
func versionsToStages(s *state.Secret) map[string][]string {
	m := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[v.VersionID] = v.Stages
		}
	}
	return m
}
