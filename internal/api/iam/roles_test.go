package iam_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// sessionClients are clients that sign with an assumed role's credentials.
func sessionClients(e *flottatest.Env, c *ststypes.Credentials) (*sts.Client, *ecs.Client) {
	creds := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	region := e.Server.Account().Region
	endpoint := aws.String(e.Server.Endpoint())
	s := sts.New(sts.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	c2 := ecs.New(ecs.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	return s, c2
}

// newUser makes a user with an inline policy (none when doc is "") and a
// key, and returns clients that sign as it.
func newUser(t *testing.T, admin *iam.Client, e *flottatest.Env, name, doc string) (*iam.Client, *sts.Client, *ecs.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if doc != "" {
		if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("own"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return clients(e, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
}

func allow(actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
}

func trustPolicy(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}

// TestGroupGrantsItsMembers: a group's inline and attached policies are its
// members' rights, for as long as they are members; a user in a group and a
// group with members or policies cannot be deleted.
func TestGroupGrantsItsMembers(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	admin, _, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	_, _, devECS := newUser(t, admin, e, "dev", "")
	if _, err := devECS.ListClusters(ctx, &ecs.ListClustersInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("ListClusters before joining: %v", err)
	}

	if _, err := admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); code(err) != "EntityAlreadyExists" {
		t.Fatalf("a second ops: %v", err)
	}
	if _, err := admin.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(allow("ecs:ListClusters"))}); err != nil {
		t.Fatal(err)
	}
	managed, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("describe"), PolicyDocument: aws.String(allow("ecs:DescribeClusters"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: managed.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if p, err := admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: managed.Policy.Arn}); err != nil || aws.ToInt32(p.Policy.AttachmentCount) != 1 {
		t.Fatalf("the attachment is not counted: %+v %v", p, err)
	}
	if _, err := admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("nobody")}); code(err) != "NoSuchEntity" {
		t.Fatalf("adding an unknown user: %v", err)
	}
	if _, err := admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}

	g, err := admin.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("ops")})
	if err != nil || len(g.Users) != 1 || aws.ToString(g.Users[0].UserName) != "dev" || !strings.HasPrefix(aws.ToString(g.Group.GroupId), "AGPA") ||
		aws.ToString(g.Group.Arn) != "arn:aws:iam::"+e.Server.Account().ID+":group/ops" {
		t.Fatalf("GetGroup: %+v %v", g, err)
	}
	if l, err := admin.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("dev")}); err != nil || len(l.Groups) != 1 {
		t.Fatalf("ListGroupsForUser: %+v %v", l, err)
	}
	if l, err := admin.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("ops")}); err != nil ||
		len(l.AttachedPolicies) != 1 || aws.ToString(l.AttachedPolicies[0].PolicyName) != "describe" {
		t.Fatalf("ListAttachedGroupPolicies: %+v %v", l, err)
	}
	if l, err := admin.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("ops")}); err != nil || len(l.PolicyNames) != 1 || l.PolicyNames[0] != "list" {
		t.Fatalf("ListGroupPolicies: %+v %v", l, err)
	}

	// The group's inline and attached policies now allow the member.
	if _, err := devECS.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ListClusters as a member: %v", err)
	}
	if _, err := devECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"default"}}); err != nil {
		t.Fatalf("DescribeClusters as a member: %v", err)
	}
	if _, err := devECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("x")}); code(err) != "AccessDeniedException" {
		t.Fatalf("CreateCluster, which no policy allows: %v", err)
	}
	if _, err := admin.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}); code(err) != "DeleteConflict" ||
		!strings.Contains(err.Error(), "Cannot delete entity, must remove users from group first.") {
		t.Fatalf("deleting a group with members: %v", err)
	}

	// Out of the group, the rights go.
	if _, err := admin.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	if _, err := devECS.ListClusters(ctx, &ecs.ListClustersInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("ListClusters after leaving: %v", err)
	}
	if _, err := admin.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("dev")}); code(err) != "NoSuchEntity" {
		t.Fatalf("removing a non-member: %v", err)
	}

	// A user in a group cannot be deleted.
	if _, err := admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("dev")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	if _, err := admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("dev"), AccessKeyId: keys.AccessKeyMetadata[0].AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dev")}); code(err) != "DeleteConflict" ||
		!strings.Contains(err.Error(), "Cannot delete entity, must remove users from group first.") {
		t.Fatalf("deleting a user in a group: %v", err)
	}
	if _, err := admin.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dev")}); err != nil {
		t.Fatalf("deleting a user in no group: %v", err)
	}
	if _, err := admin.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}); code(err) != "DeleteConflict" {
		t.Fatalf("deleting a group with policies: %v", err)
	}
	if _, err := admin.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: managed.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if p, err := admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: managed.Policy.Arn}); err != nil || aws.ToInt32(p.Policy.AttachmentCount) != 0 {
		t.Fatalf("the detachment is not counted: %+v %v", p, err)
	}
	if _, err := admin.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatalf("deleting the emptied group: %v", err)
	}
	if _, err := admin.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("ops")}); code(err) != "NoSuchEntity" {
		t.Fatalf("the deleted group: %v", err)
	}
}

// TestAssumeRole: a role that trusts the account may be assumed by a user
// whose own policies allow sts:AssumeRole on it, not by one whose policies
// do not, nor through a role that trusts someone else; the session is the
// assumed-role principal, may do what the role's policies allow and no
// more, and less when a session policy narrows it.
func TestAssumeRole(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	acct := e.Server.Account().ID
	admin, adminSTS, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	_, aliceSTS, _ := newUser(t, admin, e, "alice", allow("sts:AssumeRole"))
	_, bobSTS, _ := newUser(t, admin, e, "bob", "")
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("blue")}); err != nil {
		t.Fatal(err)
	}

	root := "arn:aws:iam::" + acct + ":root"
	role, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustPolicy(root)),
		Description: aws.String("deploys")})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + acct + ":role/deployer"
	if aws.ToString(role.Role.Arn) != roleARN || aws.ToInt32(role.Role.MaxSessionDuration) != 3600 || !strings.HasPrefix(aws.ToString(role.Role.RoleId), "AROA") {
		t.Fatalf("CreateRole: %+v", role.Role)
	}
	for name, in := range map[string]*iam.CreateRoleInput{
		"EntityAlreadyExists":     {RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustPolicy(root))},
		"ValidationError":         {RoleName: aws.String("short"), AssumeRolePolicyDocument: aws.String(trustPolicy(root)), MaxSessionDuration: aws.Int32(3599)},
		"MalformedPolicyDocument": {RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(allow("sts:AssumeRole"))},
	} {
		if _, err := admin.CreateRole(ctx, in); code(err) != name {
			t.Errorf("CreateRole %s: %v", aws.ToString(in.RoleName), err)
		}
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(allow("ecs:ListClusters", "ecs:DescribeClusters"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("carols"),
		AssumeRolePolicyDocument: aws.String(trustPolicy("arn:aws:iam::" + acct + ":user/carol"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bobs"),
		AssumeRolePolicyDocument: aws.String(trustPolicy("arn:aws:iam::" + acct + ":user/bob"))}); err != nil {
		t.Fatal(err)
	}
	got, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deployer")})
	if err != nil || aws.ToString(got.Role.Description) != "deploys" {
		t.Fatalf("GetRole: %+v %v", got, err)
	}
	if l, err := admin.ListRoles(ctx, &iam.ListRolesInput{}); err != nil || len(l.Roles) != 3 {
		t.Fatalf("ListRoles: %+v %v", l, err)
	}

	denied := func(caller, role string) string {
		return "User: " + caller + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	assume := func(c *sts.Client, role, session string, duration int32, policy string) (*sts.AssumeRoleOutput, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String(session)}
		if duration != 0 {
			in.DurationSeconds = aws.Int32(duration)
		}
		if policy != "" {
			in.Policy = aws.String(policy)
		}
		return c.AssumeRole(ctx, in)
	}
	// Bob's own policies do not allow sts:AssumeRole; the other role
	// trusts only carol; the root user may assume no role.
	bob := "arn:aws:iam::" + acct + ":user/bob"
	if _, err := assume(bobSTS, roleARN, "ci", 0, ""); code(err) != "AccessDenied" || !strings.Contains(err.Error(), denied(bob, roleARN)) {
		t.Fatalf("bob assumes deployer: %v", err)
	}
	alice := "arn:aws:iam::" + acct + ":user/alice"
	carols := "arn:aws:iam::" + acct + ":role/carols"
	if _, err := assume(aliceSTS, carols, "ci", 0, ""); code(err) != "AccessDenied" || !strings.Contains(err.Error(), denied(alice, carols)) {
		t.Fatalf("alice assumes carol's role: %v", err)
	}
	if _, err := assume(aliceSTS, "arn:aws:iam::"+acct+":role/none", "ci", 0, ""); code(err) != "AccessDenied" {
		t.Fatalf("alice assumes a role that does not exist: %v", err)
	}
	if _, err := assume(adminSTS, roleARN, "ci", 0, ""); code(err) != "AccessDenied" {
		t.Fatalf("the root user assumes a role: %v", err)
	}
	// A trust policy that names bob himself needs nothing of his policies.
	if _, err := assume(bobSTS, "arn:aws:iam::"+acct+":role/bobs", "ci", 0, ""); err != nil {
		t.Fatalf("bob assumes the role that names him: %v", err)
	}
	for _, bad := range []struct {
		session  string
		duration int32
	}{{"a", 0}, {"has space", 0}, {"ci", 899}, {"ci", 3601}} {
		if _, err := assume(aliceSTS, roleARN, bad.session, bad.duration, ""); code(err) != "ValidationError" {
			t.Errorf("session %q for %d s: %v", bad.session, bad.duration, err)
		}
	}

	before := time.Now()
	out, err := assume(aliceSTS, roleARN, "ci", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	sessionARN := "arn:aws:sts::" + acct + ":assumed-role/deployer/ci"
	if !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") || aws.ToString(out.Credentials.SessionToken) == "" ||
		aws.ToString(out.AssumedRoleUser.Arn) != sessionARN || aws.ToString(out.AssumedRoleUser.AssumedRoleId) != aws.ToString(role.Role.RoleId)+":ci" {
		t.Fatalf("AssumeRole: %+v %+v", out.Credentials, out.AssumedRoleUser)
	}
	if exp := aws.ToTime(out.Credentials.Expiration); exp.Before(before.Add(59*time.Minute)) || exp.After(before.Add(61*time.Minute)) {
		t.Fatalf("the session expires at %v, not in an hour", exp)
	}
	asSTS, asECS := sessionClients(e, out.Credentials)
	me, err := asSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(me.Arn) != sessionARN || aws.ToString(me.UserId) != aws.ToString(role.Role.RoleId)+":ci" {
		t.Fatalf("the session's identity: %+v %v", me, err)
	}
	if _, err := asECS.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("the session lists clusters: %v", err)
	}
	blue := "arn:aws:ecs:" + e.Server.Account().Region + ":" + acct + ":cluster/blue"
	if _, err := asECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("blue")}); code(err) != "AccessDeniedException" ||
		!strings.Contains(err.Error(), "User: "+sessionARN+" is not authorized to perform: ecs:DeleteCluster on resource: "+blue) {
		t.Fatalf("the session deletes a cluster: %v", err)
	}

	// A session policy narrows the role's rights to what both allow.
	narrow, err := assume(aliceSTS, roleARN, "narrow", 900, allow("ecs:DescribeClusters", "ecs:DeleteCluster"))
	if err != nil {
		t.Fatal(err)
	}
	_, narrowECS := sessionClients(e, narrow.Credentials)
	if _, err := narrowECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"blue"}}); err != nil {
		t.Fatalf("the narrowed session describes: %v", err)
	}
	if _, err := narrowECS.ListClusters(ctx, &ecs.ListClustersInput{}); code(err) != "AccessDeniedException" ||
		!strings.Contains(err.Error(), "because no session policy allows the ecs:ListClusters action") {
		t.Fatalf("the narrowed session lists: %v", err)
	}
	if _, err := narrowECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("blue")}); code(err) != "AccessDeniedException" {
		t.Fatalf("the session policy granted what the role does not: %v", err)
	}

	// The role cannot go while it has policies; once gone, its sessions
	// may do nothing.
	if _, err := admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}); code(err) != "DeleteConflict" {
		t.Fatalf("deleting a role with a policy: %v", err)
	}
	if _, err := admin.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("read")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustPolicy(root))}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(allow("ecs:ListClusters"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := asECS.ListClusters(ctx, &ecs.ListClustersInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("a session of the deleted role, now a role of the same name: %v", err)
	}
}

// TestRoleManagedPolicies: a managed policy attached to a role is counted
// on the policy and grants the role's sessions.
func TestRoleManagedPolicies(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	acct := e.Server.Account().ID
	admin, _, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	_, aliceSTS, _ := newUser(t, admin, e, "alice", allow("sts:AssumeRole"))
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("/team/"),
		AssumeRolePolicyDocument: aws.String(trustPolicy(acct)), MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	p, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("list"), PolicyDocument: aws.String(allow("ecs:ListClusters"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: p.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if got, err := admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Policy.Arn}); err != nil || aws.ToInt32(got.Policy.AttachmentCount) != 1 {
		t.Fatalf("the attachment is not counted: %+v %v", got, err)
	}
	if l, err := admin.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("r")}); err != nil || len(l.AttachedPolicies) != 1 {
		t.Fatalf("ListAttachedRolePolicies: %+v %v", l, err)
	}
	out, err := aliceSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/team/r"),
		RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	_, asECS := sessionClients(e, out.Credentials)
	if _, err := asECS.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("the session lists clusters: %v", err)
	}
	if _, err := admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")}); code(err) != "DeleteConflict" {
		t.Fatalf("deleting a role with an attached policy: %v", err)
	}
	if _, err := admin.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: p.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if got, err := admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Policy.Arn}); err != nil || aws.ToInt32(got.Policy.AttachmentCount) != 0 {
		t.Fatalf("the detachment is not counted: %+v %v", got, err)
	}
	if _, err := asECS.ListClusters(ctx, &ecs.ListClustersInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("the session lists clusters after the detach: %v", err)
	}
	if _, err := admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"),
		PolicyDocument: aws.String(trustPolicy("arn:aws:iam::" + acct + ":user/carol"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := aliceSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/team/r"),
		RoleSessionName: aws.String("again")}); code(err) != "AccessDenied" {
		t.Fatalf("assuming the role after its trust policy left the account out: %v", err)
	}
}

// TestExpiredSession: a session's credentials are refused once it expires,
// with ExpiredTokenException.
func TestExpiredSession(t *testing.T) {
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	e := flottatest.StartServer(t, flottatest.Options{Now: now})
	ctx := context.Background()
	acct := e.Server.Account().ID
	admin, _, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	_, aliceSTS, _ := newUser(t, admin, e, "alice", allow("sts:AssumeRole"))
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustPolicy("arn:aws:iam::" + acct + ":root"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(allow("ecs:ListClusters"))}); err != nil {
		t.Fatal(err)
	}
	out, err := aliceSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/r"),
		RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK signs with the wall clock; Flotta's own client signs with the
	// server's, so that the signature is current when the session is not.
	c := &flottaapi.Client{Endpoint: e.Server.Endpoint(), Region: e.Server.Account().Region, HTTP: e.HTTP, Now: now,
		Credentials: flottaapi.Static(flottaapi.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
			SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)})}
	list := func() error {
		r, err := c.Send(ctx, flottaapi.ECSTarget+".ListClusters", []byte("{}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Err()
	}
	skew.Store(int64(14 * time.Minute))
	if err := list(); err != nil {
		t.Fatalf("a session a minute from its end: %v", err)
	}
	skew.Store(int64(15*time.Minute + time.Second))
	var refusal *model.Error
	if err := list(); !errors.As(err, &refusal) || refusal.Code != "ExpiredTokenException" {
		t.Fatalf("an expired session: %v", err)
	}
}

// TestTrustPoliciesSeeRequestKeys: a trust policy may test the request's
// keys as in AWS: sts:RoleSessionName and aws:SourceIp (the tests call from
// 127.0.0.1).
func TestTrustPoliciesSeeRequestKeys(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	acct := e.Server.Account().ID
	admin, _, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	_, ciSTS, _ := newUser(t, admin, e, "ci", allow("sts:AssumeRole"))
	trust := func(condition string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/ci"},"Action":"sts:AssumeRole","Condition":` + condition + `}]}`
	}
	for name, doc := range map[string]string{
		"deploy":  trust(`{"StringLike":{"sts:RoleSessionName":"build-*"},"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`),
		"offsite": trust(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`),
	} {
		if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	assume := func(role, session string) error {
		_, err := ciSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/" + role), RoleSessionName: aws.String(session)})
		return err
	}
	if err := assume("deploy", "build-42"); err != nil {
		t.Fatalf("a session named build-* from loopback: %v", err)
	}
	if err := assume("deploy", "laptop"); code(err) != "AccessDenied" {
		t.Fatalf("a session not named build-*: %v", err)
	}
	if err := assume("offsite", "build-43"); code(err) != "AccessDenied" {
		t.Fatalf("a trust policy for 10.0.0.0/8, called from loopback: %v", err)
	}
}
