package route53_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestHealthChecks: HTTP, HTTPS and TCP health checks with Route 53's
// defaults, idempotent on their caller reference, named by record sets,
// tagged, paged, counted and deleted.
func TestHealthChecks(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.R53()
	ctx := context.Background()
	create := func(ref string, cfg types.HealthCheckConfig) (*route53.CreateHealthCheckOutput, error) {
		return c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String(ref), HealthCheckConfig: &cfg})
	}
	web, err := create("web", types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("10.0.0.1"), ResourcePath: aws.String("/healthz")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := web.HealthCheck.HealthCheckConfig
	if len(aws.ToString(web.HealthCheck.Id)) != 36 || aws.ToInt32(cfg.Port) != 80 || aws.ToInt32(cfg.RequestInterval) != 30 || aws.ToInt32(cfg.FailureThreshold) != 3 ||
		aws.ToInt64(web.HealthCheck.HealthCheckVersion) != 1 || aws.ToString(web.Location) == "" {
		t.Fatalf("created %+v %+v", web.HealthCheck, cfg)
	}
	again, err := create("web", types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("10.0.0.1"), ResourcePath: aws.String("/healthz")})
	if err != nil || aws.ToString(again.HealthCheck.Id) != aws.ToString(web.HealthCheck.Id) {
		t.Fatalf("the same request again: %v %+v", err, again)
	}
	before := e.Revision(t)
	_, err = create("web", types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("10.0.0.2")})
	var exists *types.HealthCheckAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("the same reference, other settings: %v", err)
	}
	for name, cfg := range map[string]types.HealthCheckConfig{
		"TCP without a port":  {Type: types.HealthCheckTypeTcp, IPAddress: aws.String("10.0.0.1")},
		"no endpoint":         {Type: types.HealthCheckTypeHttp},
		"bad address":         {Type: types.HealthCheckTypeHttp, IPAddress: aws.String("10.0.0")},
		"interval 20":         {Type: types.HealthCheckTypeHttp, IPAddress: aws.String("10.0.0.1"), RequestInterval: aws.Int32(20)},
		"threshold 11":        {Type: types.HealthCheckTypeHttp, IPAddress: aws.String("10.0.0.1"), FailureThreshold: aws.Int32(11)},
		"string match":        {Type: types.HealthCheckTypeHttpStrMatch, IPAddress: aws.String("10.0.0.1"), SearchString: aws.String("ok")},
		"TCP with a path":     {Type: types.HealthCheckTypeTcp, IPAddress: aws.String("10.0.0.1"), Port: aws.Int32(5432), ResourcePath: aws.String("/")},
		"port out of range":   {Type: types.HealthCheckTypeTcp, IPAddress: aws.String("10.0.0.1"), Port: aws.Int32(70000)},
		"calculated children": {Type: types.HealthCheckTypeCalculated, ChildHealthChecks: []string{"x"}},
	} {
		if _, err := create("bad-"+name, cfg); code(err) != "InvalidInput" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused health checks wrote (revision %d to %d)", before, after)
	}
	tls, err := create("tls", types.HealthCheckConfig{Type: types.HealthCheckTypeHttps, FullyQualifiedDomainName: aws.String("api.example.com")})
	if err != nil || aws.ToInt32(tls.HealthCheck.HealthCheckConfig.Port) != 443 || !aws.ToBool(tls.HealthCheck.HealthCheckConfig.EnableSNI) {
		t.Fatalf("https: %v %+v", err, tls)
	}
	db, err := create("db", types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("10.0.0.3"), Port: aws.Int32(5432), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: db.HealthCheck.Id})
	if err != nil || got.HealthCheck.HealthCheckConfig.Type != types.HealthCheckTypeTcp || aws.ToInt32(got.HealthCheck.HealthCheckConfig.RequestInterval) != 10 {
		t.Fatalf("get: %v %+v", err, got)
	}
	var ids []string
	in := &route53.ListHealthChecksInput{MaxItems: aws.Int32(2)}
	for {
		page, err := c.ListHealthChecks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, hc := range page.HealthChecks {
			ids = append(ids, aws.ToString(hc.Id))
		}
		if !page.IsTruncated {
			break
		}
		in.Marker = page.NextMarker
	}
	if len(ids) != 3 {
		t.Fatalf("listed %v", ids)
	}
	if n, err := c.GetHealthCheckCount(ctx, &route53.GetHealthCheckCountInput{}); err != nil || aws.ToInt64(n.HealthCheckCount) != 3 {
		t.Fatalf("count: %v", err)
	}

	// A record set names a health check.
	zone := aws.ToString(mustZone(t, c, "example.com", "z").HostedZone.Id)
	rs := rrset("www.example.com", types.RRTypeA, 60, "10.0.0.1")
	rs.SetIdentifier, rs.Weight, rs.HealthCheckId = aws.String("a"), aws.Int64(1), web.HealthCheck.Id
	if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: batch(ch(types.ChangeActionCreate, rs))}); err != nil {
		t.Fatalf("a record set with a health check: %v", err)
	}
	sets := listAll(t, c, zone, 10)
	if aws.ToString(sets[2].HealthCheckId) != aws.ToString(web.HealthCheck.Id) {
		t.Fatalf("listed %+v", sets[2])
	}

	if _, err := c.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: db.HealthCheck.Id,
		AddTags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("db")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: db.HealthCheck.Id})
	if err != nil || len(tags.ResourceTagSet.Tags) != 1 || tags.ResourceTagSet.ResourceType != types.TagResourceTypeHealthcheck {
		t.Fatalf("tags: %v %+v", err, tags)
	}

	if _, err := c.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: db.HealthCheck.Id}); err != nil {
		t.Fatal(err)
	}
	var none *types.NoSuchHealthCheck
	if _, err := c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: db.HealthCheck.Id}); !errors.As(err, &none) {
		t.Fatalf("get a deleted health check: %v", err)
	}
	if _, err := c.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: db.HealthCheck.Id}); !errors.As(err, &none) {
		t.Fatalf("delete a deleted health check: %v", err)
	}
	// Its caller reference stays used.
	if _, err := create("db", types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("10.0.0.3"), Port: aws.Int32(5432), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(1)}); !errors.As(err, &exists) {
		t.Fatalf("a deleted health check's reference again: %v", err)
	}
}
