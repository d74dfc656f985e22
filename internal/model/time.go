package model

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Time is a timestamp as AWS JSON protocols carry it: a number of seconds
// since the epoch, with a fractional part for sub-second precision.
type Time struct{ time.Time }

// At wraps t, rounded to milliseconds as ECS reports them.
func At(t time.Time) *Time { return &Time{t.UTC().Round(time.Millisecond)} }

// MarshalJSON writes epoch seconds.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads epoch seconds.
func (t *Time) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return nil
}
