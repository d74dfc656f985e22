package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"
)

// TaskDefCommand is `flotta taskdef`.
func TaskDefCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "taskdef", Short: "Register, list, describe and deregister task definitions"}
	cmd.AddCommand(taskDefRegister(o), taskDefList(o), taskDefDescribe(o), taskDefDeregister(o))
	return cmd
}

// readTaskDefinition reads a RegisterTaskDefinition input from JSON, in the
// shape of `aws ecs register-task-definition --cli-input-json` or of a
// DescribeTaskDefinition answer ({"taskDefinition": {...}}).
func readTaskDefinition(data []byte) (*ecs.RegisterTaskDefinitionInput, error) {
	var wrapped struct {
		TaskDefinition json.RawMessage `json:"taskDefinition"`
		Tags           json.RawMessage `json:"tags"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	in := &ecs.RegisterTaskDefinitionInput{}
	body := data
	if len(wrapped.TaskDefinition) > 0 {
		body = wrapped.TaskDefinition
	}
	// The SDK's input types have no JSON tags; encoding/json matches ECS's
	// lowerCamelCase member names to their fields case-insensitively.
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(in); err != nil {
		return nil, fmt.Errorf("not a task definition: %w", err)
	}
	if len(wrapped.TaskDefinition) > 0 && len(wrapped.Tags) > 0 {
		if err := json.Unmarshal(wrapped.Tags, &in.Tags); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
	}
	return in, nil
}

func taskDefRegister(o *Options) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "register -f FILE.json",
		Short: "Register a task definition from a JSON file ('-' reads standard input)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return fmt.Errorf("name the task definition file with -f FILE.json")
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = readAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			in, err := readTaskDefinition(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.RegisterTaskDefinition(cmd.Context(), in)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printTaskDefs(cmd, []types.TaskDefinition{*out.TaskDefinition})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "task definition JSON file")
	return cmd
}

func taskDefList(o *Options) *cobra.Command {
	var family, status string
	var desc bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List task definition revisions",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			in := &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatus(strings.ToUpper(status))}
			if family != "" {
				in.FamilyPrefix = aws.String(family)
			}
			if desc {
				in.Sort = types.SortOrderDesc
			}
			var arns []string
			p := ecs.NewListTaskDefinitionsPaginator(client, in)
			for p.HasMorePages() {
				page, err := p.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				arns = append(arns, page.TaskDefinitionArns...)
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{"taskDefinitionArns": arns})
			}
			rows := make([][]string, 0, len(arns))
			for _, arn := range arns {
				name := arn[strings.LastIndex(arn, "/")+1:]
				fam, rev, _ := strings.Cut(name, ":")
				rows = append(rows, []string{fam, rev, arn})
			}
			return table(cmd.OutOrStdout(), []string{"FAMILY", "REVISION", "ARN"}, rows)
		},
	}
	cmd.Flags().StringVar(&family, "family", "", "only this family")
	cmd.Flags().StringVar(&status, "status", "ACTIVE", "ACTIVE, INACTIVE or DELETE_IN_PROGRESS")
	cmd.Flags().BoolVar(&desc, "desc", false, "newest first")
	return cmd
}

func taskDefDescribe(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe FAMILY[:REVISION]|ARN",
		Short: "Describe a task definition (a family alone means its latest ACTIVE revision)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.DescribeTaskDefinition(cmd.Context(), &ecs.DescribeTaskDefinitionInput{
				TaskDefinition: aws.String(args[0]), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			td := out.TaskDefinition
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Family:      %s\nRevision:    %d\nStatus:      %s\nARN:         %s\n", str(td.Family), td.Revision, td.Status, str(td.TaskDefinitionArn))
			fmt.Fprintf(w, "Network:     %s\nCPU:         %s\nMemory:      %s\nRegistered:  %s\n", orDefault(string(td.NetworkMode), "bridge"), str(td.Cpu), str(td.Memory), when(td.RegisteredAt))
			rows := make([][]string, 0, len(td.ContainerDefinitions))
			for _, c := range td.ContainerDefinitions {
				var ports []string
				for _, p := range c.PortMappings {
					ports = append(ports, fmt.Sprintf("%d/%s", aws.ToInt32(p.ContainerPort), p.Protocol))
				}
				mem := "-"
				if c.Memory != nil {
					mem = strconv.Itoa(int(*c.Memory))
				} else if c.MemoryReservation != nil {
					mem = strconv.Itoa(int(*c.MemoryReservation)) + " (soft)"
				}
				rows = append(rows, []string{str(c.Name), str(c.Image), strconv.Itoa(int(c.Cpu)), mem,
					strconv.FormatBool(aws.ToBool(c.Essential)), orDefault(strings.Join(ports, ","), "-")})
			}
			fmt.Fprintln(w)
			return table(w, []string{"CONTAINER", "IMAGE", "CPU", "MEMORY", "ESSENTIAL", "PORTS"}, rows)
		},
	}
}

func taskDefDeregister(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "deregister FAMILY:REVISION|ARN",
		Short: "Deregister a task definition revision (it becomes INACTIVE)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.DeregisterTaskDefinition(cmd.Context(), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(args[0])})
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printTaskDefs(cmd, []types.TaskDefinition{*out.TaskDefinition})
		},
	}
}

func printTaskDefs(cmd *cobra.Command, tds []types.TaskDefinition) error {
	rows := make([][]string, 0, len(tds))
	for _, td := range tds {
		rows = append(rows, []string{str(td.Family), strconv.Itoa(int(td.Revision)), string(td.Status),
			strconv.Itoa(len(td.ContainerDefinitions)), str(td.TaskDefinitionArn)})
	}
	return table(cmd.OutOrStdout(), []string{"FAMILY", "REVISION", "STATUS", "CONTAINERS", "ARN"}, rows)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
