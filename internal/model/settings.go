package model

import (
	"slices"
	"sort"
	"strings"
)

// Account setting types.
const (
	SettingTypeUser       = "user"
	SettingTypeAWSManaged = "aws_managed"
)

// Setting is an account setting, for one principal or as the account default.
type Setting struct {
	Name         string `json:"name"`
	Value        string `json:"value"`
	PrincipalArn string `json:"principalArn,omitempty"`
	Type         string `json:"type,omitempty"`
}

type settingSpec struct {
	values   []string
	fallback string
	// managed settings are shown but cannot be changed by users.
	managed bool
	// rootOnly settings can only be set for the whole account.
	rootOnly bool
}

var accountSettings = map[string]settingSpec{
	"serviceLongArnFormat":            {values: []string{"enabled", "disabled"}, fallback: "enabled"},
	"taskLongArnFormat":               {values: []string{"enabled", "disabled"}, fallback: "enabled"},
	"containerInstanceLongArnFormat":  {values: []string{"enabled", "disabled"}, fallback: "enabled"},
	"awsvpcTrunking":                  {values: []string{"enabled", "disabled"}, fallback: "disabled"},
	"containerInsights":               {values: []string{"enabled", "disabled", "enhanced"}, fallback: "disabled"},
	"fargateFIPSMode":                 {values: []string{"enabled", "disabled"}, fallback: "disabled"},
	"tagResourceAuthorization":        {values: []string{"on", "off"}, fallback: "on"},
	"fargateTaskRetirementWaitPeriod": {values: []string{"0", "7", "14"}, fallback: "7", rootOnly: true},
	"guardDutyActivate":               {values: []string{"on", "off"}, fallback: "off", managed: true},
	"defaultLogDriverMode":            {values: []string{"blocking", "non-blocking"}, fallback: "non-blocking"},
	"fargateEventWindows":             {values: []string{"enabled", "disabled"}, fallback: "disabled"},
}

// AccountSettingNames lists every account setting, sorted.
func AccountSettingNames() []string {
	names := make([]string, 0, len(accountSettings))
	for n := range accountSettings {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ValidateSettingName checks that name is an account setting.
func ValidateSettingName(name string) error {
	if _, ok := accountSettings[name]; !ok {
		return InvalidParameter("Invalid setting 'name': %q is not an account setting. Valid names: %s.", Truncate(name, 100), strings.Join(AccountSettingNames(), ", "))
	}
	return nil
}

// ValidateAccountSetting checks a name and value that a user wants to set.
// forAccount says whether it is set for the whole account (root or default).
func ValidateAccountSetting(name, value string, forAccount bool) error {
	if err := ValidateSettingName(name); err != nil {
		return err
	}
	spec := accountSettings[name]
	if spec.managed {
		return InvalidParameter("The %s setting is managed by the service and cannot be changed.", name)
	}
	if spec.rootOnly && !forAccount {
		return InvalidParameter("The %s setting can only be set for the whole account, by the root user or with PutAccountSettingDefault.", name)
	}
	if !slices.Contains(spec.values, value) {
		return InvalidParameter("Invalid setting 'value': %s must be one of %s, not %q.", name, strings.Join(spec.values, ", "), Truncate(value, 100))
	}
	return nil
}

// SettingFallback is a setting's value when neither the principal nor the
// account has set it.
func SettingFallback(name string) string { return accountSettings[name].fallback }

// SettingManaged says whether a setting is managed by the service.
func SettingManaged(name string) bool { return accountSettings[name].managed }
