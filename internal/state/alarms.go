package state

import (
	"context"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

// Alarm states, CloudWatch's words.
const (
	AlarmOK               = "OK"
	AlarmAlarm            = "ALARM"
	AlarmInsufficientData = "INSUFFICIENT_DATA"
	alarmStatesPrefix     = "alarm-states/"
)

// AlarmState is the state of a CloudWatch alarm as deployments read it
// (deploymentConfiguration.alarms): its name, state and why. The metrics
// issue's alarms write it when they change state (PutMetricAlarm,
// SetAlarmState, evaluation); a blue/green, canary or linear deployment
// whose alarms go to ALARM fails, and rolls back when asked to.
type AlarmState struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func alarmStateKey(name string) string { return Root + alarmStatesPrefix + name }

// PutAlarmState records an alarm's state.
func (s *State) PutAlarmState(ctx context.Context, a AlarmState) error {
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = s.Now()
	}
	_, err := s.db.Commit(ctx, nil, []store.Op{store.Put(alarmStateKey(a.Name), mustJSON(a))})
	return err
}

// AlarmStates reads the states of the alarms named; an alarm never
// recorded is missing from the answer.
func (s *State) AlarmStates(ctx context.Context, names []string) (map[string]AlarmState, error) {
	out := make(map[string]AlarmState, len(names))
	for _, n := range names {
		_, a, err := read[AlarmState](ctx, s.db, alarmStateKey(n))
		if err != nil {
			return nil, err
		}
		if a != nil {
			out[n] = *a
		}
	}
	return out, nil
}
