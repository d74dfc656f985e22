package route53

import (
	"encoding/xml"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// The XML shapes of the operations served, as Route 53's API reference
// names their elements. Requests are decoded with encoding/xml (unknown
// elements ignored); answers are encoded with it, each root in Namespace.

// TimeFormat is how answers write timestamps (ISO 8601 with milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Timestamp is a time in TimeFormat.
type Timestamp time.Time

// MarshalText writes the time in TimeFormat.
func (t Timestamp) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(TimeFormat)), nil
}

// VPC is a VPC of a private zone.
type VPC struct {
	VPCRegion string `xml:"VPCRegion,omitempty"`
	VPCId     string `xml:"VPCId,omitempty"`
}

// HostedZoneConfig is a zone's comment and privacy.
type HostedZoneConfig struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone *bool  `xml:"PrivateZone"`
}

// HostedZone is a zone as answers show it.
type HostedZone struct {
	ID                     string           `xml:"Id"`
	Name                   string           `xml:"Name"`
	CallerReference        string           `xml:"CallerReference"`
	Config                 HostedZoneConfig `xml:"Config"`
	ResourceRecordSetCount int64            `xml:"ResourceRecordSetCount"`
}

// ChangeInfo is a change's state.
type ChangeInfo struct {
	ID          string    `xml:"Id"`
	Status      string    `xml:"Status"`
	SubmittedAt Timestamp `xml:"SubmittedAt"`
	Comment     string    `xml:"Comment,omitempty"`
}

// DelegationSet is a public zone's name servers.
type DelegationSet struct {
	NameServers []string `xml:"NameServers>NameServer"`
}

// CreateHostedZoneRequest is CreateHostedZone's body.
type CreateHostedZoneRequest struct {
	XMLName          xml.Name          `xml:"CreateHostedZoneRequest"`
	Name             *string           `xml:"Name"`
	VPC              *VPC              `xml:"VPC"`
	CallerReference  *string           `xml:"CallerReference"`
	HostedZoneConfig *HostedZoneConfig `xml:"HostedZoneConfig"`
	DelegationSetID  string            `xml:"DelegationSetId"`
}

// CreateHostedZoneResponse is CreateHostedZone's answer.
type CreateHostedZoneResponse struct {
	XMLName       xml.Name       `xml:"CreateHostedZoneResponse"`
	Xmlns         string         `xml:"xmlns,attr"`
	HostedZone    HostedZone     `xml:"HostedZone"`
	ChangeInfo    ChangeInfo     `xml:"ChangeInfo"`
	DelegationSet *DelegationSet `xml:"DelegationSet"`
	VPC           *VPC           `xml:"VPC"`
}

// GetHostedZoneResponse is GetHostedZone's answer.
type GetHostedZoneResponse struct {
	XMLName       xml.Name       `xml:"GetHostedZoneResponse"`
	Xmlns         string         `xml:"xmlns,attr"`
	HostedZone    HostedZone     `xml:"HostedZone"`
	DelegationSet *DelegationSet `xml:"DelegationSet"`
	VPCs          []VPC          `xml:"VPCs>VPC"`
}

// ListHostedZonesResponse is ListHostedZones's answer.
type ListHostedZonesResponse struct {
	XMLName     xml.Name     `xml:"ListHostedZonesResponse"`
	Xmlns       string       `xml:"xmlns,attr"`
	HostedZones []HostedZone `xml:"HostedZones>HostedZone"`
	Marker      string       `xml:"Marker"`
	IsTruncated bool         `xml:"IsTruncated"`
	NextMarker  string       `xml:"NextMarker,omitempty"`
	MaxItems    int          `xml:"MaxItems"`
}

// ListHostedZonesByNameResponse is ListHostedZonesByName's answer.
type ListHostedZonesByNameResponse struct {
	XMLName          xml.Name     `xml:"ListHostedZonesByNameResponse"`
	Xmlns            string       `xml:"xmlns,attr"`
	HostedZones      []HostedZone `xml:"HostedZones>HostedZone"`
	DNSName          string       `xml:"DNSName,omitempty"`
	HostedZoneID     string       `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool         `xml:"IsTruncated"`
	NextDNSName      string       `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string       `xml:"NextHostedZoneId,omitempty"`
	MaxItems         int          `xml:"MaxItems"`
}

// GetHostedZoneCountResponse is GetHostedZoneCount's answer.
type GetHostedZoneCountResponse struct {
	XMLName         xml.Name `xml:"GetHostedZoneCountResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	HostedZoneCount int64    `xml:"HostedZoneCount"`
}

// UpdateHostedZoneCommentRequest is UpdateHostedZoneComment's body.
type UpdateHostedZoneCommentRequest struct {
	XMLName xml.Name `xml:"UpdateHostedZoneCommentRequest"`
	Comment string   `xml:"Comment"`
}

// UpdateHostedZoneCommentResponse is UpdateHostedZoneComment's answer.
type UpdateHostedZoneCommentResponse struct {
	XMLName    xml.Name   `xml:"UpdateHostedZoneCommentResponse"`
	Xmlns      string     `xml:"xmlns,attr"`
	HostedZone HostedZone `xml:"HostedZone"`
}

// DeleteHostedZoneResponse is DeleteHostedZone's answer.
type DeleteHostedZoneResponse struct {
	XMLName    xml.Name   `xml:"DeleteHostedZoneResponse"`
	Xmlns      string     `xml:"xmlns,attr"`
	ChangeInfo ChangeInfo `xml:"ChangeInfo"`
}

// ResourceRecordSet is a record set as the API writes it.
type ResourceRecordSet struct {
	Name                    *string          `xml:"Name"`
	Type                    *string          `xml:"Type"`
	SetIdentifier           *string          `xml:"SetIdentifier"`
	Weight                  *int64           `xml:"Weight"`
	Region                  *string          `xml:"Region"`
	GeoLocation             *struct{}        `xml:"GeoLocation"`
	GeoProximityLocation    *struct{}        `xml:"GeoProximityLocation"`
	CidrRoutingConfig       *struct{}        `xml:"CidrRoutingConfig"`
	Failover                *string          `xml:"Failover"`
	MultiValueAnswer        *bool            `xml:"MultiValueAnswer"`
	TTL                     *int64           `xml:"TTL"`
	ResourceRecords         []ResourceRecord `xml:"ResourceRecords>ResourceRecord"`
	AliasTarget             *AliasTarget     `xml:"AliasTarget"`
	HealthCheckID           *string          `xml:"HealthCheckId"`
	TrafficPolicyInstanceID *string          `xml:"TrafficPolicyInstanceId"`
}

// ResourceRecord is one value of a record set.
type ResourceRecord struct {
	Value string `xml:"Value"`
}

// AliasTarget is an alias record's target.
type AliasTarget struct {
	HostedZoneID         *string `xml:"HostedZoneId"`
	DNSName              *string `xml:"DNSName"`
	EvaluateTargetHealth *bool   `xml:"EvaluateTargetHealth"`
}

// Change is one change of a batch.
type Change struct {
	Action            *string            `xml:"Action"`
	ResourceRecordSet *ResourceRecordSet `xml:"ResourceRecordSet"`
}

// ChangeBatch is ChangeResourceRecordSets's batch.
type ChangeBatch struct {
	Comment *string  `xml:"Comment"`
	Changes []Change `xml:"Changes>Change"`
}

// ChangeResourceRecordSetsRequest is ChangeResourceRecordSets's body.
type ChangeResourceRecordSetsRequest struct {
	XMLName     xml.Name     `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *ChangeBatch `xml:"ChangeBatch"`
}

// ChangeResourceRecordSetsResponse is ChangeResourceRecordSets's answer.
type ChangeResourceRecordSetsResponse struct {
	XMLName    xml.Name   `xml:"ChangeResourceRecordSetsResponse"`
	Xmlns      string     `xml:"xmlns,attr"`
	ChangeInfo ChangeInfo `xml:"ChangeInfo"`
}

// ResourceRecordSetOut is a record set as answers show it.
type ResourceRecordSetOut struct {
	Name             string           `xml:"Name"`
	Type             string           `xml:"Type"`
	SetIdentifier    string           `xml:"SetIdentifier,omitempty"`
	Weight           *int64           `xml:"Weight"`
	Failover         string           `xml:"Failover,omitempty"`
	MultiValueAnswer *bool            `xml:"MultiValueAnswer"`
	TTL              *int64           `xml:"TTL"`
	ResourceRecords  []ResourceRecord `xml:"ResourceRecords>ResourceRecord,omitempty"`
	AliasTarget      *AliasTargetOut  `xml:"AliasTarget"`
	HealthCheckID    string           `xml:"HealthCheckId,omitempty"`
}

// AliasTargetOut is an alias target as answers show it.
type AliasTargetOut struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

// ListResourceRecordSetsResponse is ListResourceRecordSets's answer.
type ListResourceRecordSetsResponse struct {
	XMLName              xml.Name               `xml:"ListResourceRecordSetsResponse"`
	Xmlns                string                 `xml:"xmlns,attr"`
	ResourceRecordSets   []ResourceRecordSetOut `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool                   `xml:"IsTruncated"`
	NextRecordName       string                 `xml:"NextRecordName,omitempty"`
	NextRecordType       string                 `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string                 `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             int                    `xml:"MaxItems"`
}

// GetChangeResponse is GetChange's answer.
type GetChangeResponse struct {
	XMLName    xml.Name   `xml:"GetChangeResponse"`
	Xmlns      string     `xml:"xmlns,attr"`
	ChangeInfo ChangeInfo `xml:"ChangeInfo"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// ChangeTagsForResourceRequest is ChangeTagsForResource's body.
type ChangeTagsForResourceRequest struct {
	XMLName       xml.Name `xml:"ChangeTagsForResourceRequest"`
	AddTags       []Tag    `xml:"AddTags>Tag"`
	RemoveTagKeys []string `xml:"RemoveTagKeys>Key"`
}

// ChangeTagsForResourceResponse is ChangeTagsForResource's (empty) answer.
type ChangeTagsForResourceResponse struct {
	XMLName xml.Name `xml:"ChangeTagsForResourceResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

// ListTagsForResourceResponse is ListTagsForResource's answer.
type ListTagsForResourceResponse struct {
	XMLName        xml.Name       `xml:"ListTagsForResourceResponse"`
	Xmlns          string         `xml:"xmlns,attr"`
	ResourceTagSet ResourceTagSet `xml:"ResourceTagSet"`
}

// ResourceTagSet is a resource's tags.
type ResourceTagSet struct {
	ResourceType string `xml:"ResourceType"`
	ResourceID   string `xml:"ResourceId"`
	Tags         []Tag  `xml:"Tags>Tag"`
}

// zoneOut is a zone as answers show it.
func zoneOut(z *state.R53Zone) HostedZone {
	private := z.Private
	return HostedZone{ID: "/hostedzone/" + z.ID, Name: z.Name, CallerReference: z.CallerReference,
		Config: HostedZoneConfig{Comment: z.Comment, PrivateZone: &private}, ResourceRecordSetCount: z.RecordCount}
}

// changeOut is a change as answers show it.
func changeOut(c state.R53ChangeRecord, status string) ChangeInfo {
	return ChangeInfo{ID: "/change/" + c.ID, Status: status, SubmittedAt: Timestamp(c.SubmittedAt), Comment: c.Comment}
}

// recordOut is a record set as answers show it.
func recordOut(rs *state.R53RecordSet) ResourceRecordSetOut {
	out := ResourceRecordSetOut{Name: rs.Name, Type: rs.Type, SetIdentifier: rs.SetIdentifier, Weight: rs.Weight,
		Failover: rs.Failover, MultiValueAnswer: rs.MultiValueAnswer, HealthCheckID: rs.HealthCheckID}
	if rs.Alias != nil {
		out.AliasTarget = &AliasTargetOut{HostedZoneID: rs.Alias.HostedZoneID, DNSName: rs.Alias.DNSName, EvaluateTargetHealth: rs.Alias.EvaluateTargetHealth}
		return out
	}
	ttl := rs.TTL
	out.TTL = &ttl
	for _, v := range rs.Values {
		out.ResourceRecords = append(out.ResourceRecords, ResourceRecord{Value: v})
	}
	return out
}
