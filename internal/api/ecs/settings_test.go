package ecs_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func TestAccountSettings(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	root := e.Server.Account().Scope().RootARN()
	role := "arn:aws:iam::" + e.Server.Account().ID + ":role/deployer"

	def, err := e.ECS.PutAccountSettingDefault(ctx, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(def.Setting.PrincipalArn) != root || aws.ToString(def.Setting.Value) != "enabled" || def.Setting.Type != types.SettingTypeUser {
		t.Fatalf("default %+v", def.Setting)
	}
	own, err := e.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameAwsvpcTrunking, Value: aws.String("disabled"), PrincipalArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(own.Setting.PrincipalArn) != role {
		t.Fatalf("principal setting %+v", own.Setting)
	}

	effective := func(principal string) map[string]string {
		t.Helper()
		out := map[string]string{}
		p := ecs.NewListAccountSettingsPaginator(e.ECS, &ecs.ListAccountSettingsInput{EffectiveSettings: true, PrincipalArn: aws.String(principal), MaxResults: 4})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.Settings {
				out[string(s.Name)] = aws.ToString(s.Value)
			}
		}
		return out
	}
	if got := effective(role); got["awsvpcTrunking"] != "disabled" || got["taskLongArnFormat"] != "enabled" || len(got) != 11 {
		t.Fatalf("role's effective settings %v", got)
	}
	other := "arn:aws:iam::" + e.Server.Account().ID + ":user/ops"
	if got := effective(other); got["awsvpcTrunking"] != "enabled" {
		t.Fatalf("a principal without its own setting takes the account default: %v", got)
	}
	explicit, err := e.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{PrincipalArn: aws.String(role)})
	if err != nil || len(explicit.Settings) != 1 {
		t.Fatalf("explicit settings %+v %v", explicit, err)
	}
	del, err := e.ECS.DeleteAccountSetting(ctx, &ecs.DeleteAccountSettingInput{Name: types.SettingNameAwsvpcTrunking, PrincipalArn: aws.String(role)})
	if err != nil || aws.ToString(del.Setting.Value) != "disabled" {
		t.Fatalf("delete %+v %v", del, err)
	}
	if got := effective(role); got["awsvpcTrunking"] != "enabled" {
		t.Fatalf("after delete the role takes the default: %v", got)
	}

	unchanged(t, e, func() {
		_, err := e.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameTaskLongArnFormat, Value: aws.String("ENABLED")})
		wantAPIError(t, err, "InvalidParameterException", "Invalid setting 'value'")
		_, err = e.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: "favouriteColour", Value: aws.String("blue")})
		wantAPIError(t, err, "InvalidParameterException", "Invalid setting 'name'")
		_, err = e.ECS.PutAccountSettingDefault(ctx, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameGuardDutyActivate, Value: aws.String("on")})
		wantAPIError(t, err, "InvalidParameterException", "managed")
		_, err = e.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameTaskLongArnFormat, Value: aws.String("enabled"), PrincipalArn: aws.String("arn:aws:iam::000000000000:role/x")})
		wantAPIError(t, err, "InvalidParameterException", "principalArn")
		_, err = e.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{MaxResults: 11})
		wantAPIError(t, err, "InvalidParameterException", "maxResults")
		_, err = e.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{Value: aws.String("enabled")})
		wantAPIError(t, err, "InvalidParameterException", "value")
	})
}
