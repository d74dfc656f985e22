package model

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestParseTaskCPUAndMemory(t *testing.T) {
	cpu := []struct {
		in   string
		want int
		ok   bool
	}{{"1024", 1024, true}, {"1 vCPU", 1024, true}, {"0.25 vcpu", 256, true}, {".5vCPU", 512, true}, {"2 VCPU", 2048, true},
		{"0.1 vCPU", 0, false}, {"-1", 0, false}, {"one", 0, false}, {"", 0, false}, {"99999999999999999999", 0, false}}
	for _, c := range cpu {
		got, err := ParseTaskCPU(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTaskCPU(%q) = %d, %v", c.in, got, err)
		}
	}
	mem := []struct {
		in   string
		want int
		ok   bool
	}{{"512", 512, true}, {"1 GB", 1024, true}, {"2GB", 2048, true}, {"0.5 gb", 512, true}, {"1 TB", 0, false}, {"1.0001 GB", 0, false}}
	for _, c := range mem {
		got, err := ParseTaskMemory(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTaskMemory(%q) = %d, %v", c.in, got, err)
		}
	}
}

func TestFargateSizes(t *testing.T) {
	valid := [][2]int{{256, 512}, {256, 2048}, {512, 4096}, {1024, 8192}, {2048, 16384}, {4096, 30720}, {8192, 16384}, {8192, 61440}, {16384, 122880}}
	invalid := [][2]int{{256, 4096}, {512, 512}, {1024, 1024}, {4096, 31744}, {8192, 20000}, {16384, 32769}, {128, 512}, {32768, 65536}}
	for _, v := range valid {
		if !ValidFargateSize(v[0], v[1]) {
			t.Errorf("%d CPU / %d MiB should be a Fargate size", v[0], v[1])
		}
	}
	for _, v := range invalid {
		if ValidFargateSize(v[0], v[1]) {
			t.Errorf("%d CPU / %d MiB should not be a Fargate size", v[0], v[1])
		}
	}
}

func TestPrepareIsIdempotent(t *testing.T) {
	var td TaskDefinition
	json.Unmarshal([]byte(`{"family":"f","networkMode":"awsvpc","cpu":"1 vCPU","memory":"2 GB",
		"containerDefinitions":[{"name":"a","image":"x","portMappings":[{"containerPort":80}],
		"healthCheck":{"command":["CMD","true"]}}]}`), &td)
	if err := PrepareTaskDefinition(&td); err != nil {
		t.Fatal(err)
	}
	again := td
	b, _ := json.Marshal(td)
	json.Unmarshal(b, &again)
	if err := PrepareTaskDefinition(&again); err != nil {
		t.Fatalf("a prepared definition must be valid: %v", err)
	}
	if !reflect.DeepEqual(td, again) {
		t.Fatalf("preparing twice changed the definition:\n%+v\n%+v", td, again)
	}
}

// FuzzPrepareTaskDefinition feeds arbitrary RegisterTaskDefinition bodies to
// the validator: it must never panic, must answer only in ECS's exception
// types, and whatever it accepts must stay valid when prepared again.
func FuzzPrepareTaskDefinition(f *testing.F) {
	f.Add(`{"family":"web","containerDefinitions":[{"name":"a","image":"x","memory":64}]}`)
	f.Add(`{"family":"f","networkMode":"awsvpc","cpu":"256","memory":"512","requiresCompatibilities":["FARGATE"],"containerDefinitions":[{"name":"a","image":"x","portMappings":[{"containerPort":80}]}]}`)
	f.Add(`{"family":"f","containerDefinitions":[{"name":"a","image":"x","memory":64,"dependsOn":[{"containerName":"b","condition":"START"}]},{"name":"b","image":"x","memory":64,"dependsOn":[{"containerName":"a","condition":"START"}]}]}`)
	f.Add(`{"family":"f","volumes":[{"name":"v","host":{"sourcePath":"/x"}}],"containerDefinitions":[{"name":"a","image":"x","memoryReservation":8,"mountPoints":[{"sourceVolume":"v","containerPath":"/v"}],"healthCheck":{"command":["CMD-SHELL","true"],"retries":3}}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var td TaskDefinition
		if json.Unmarshal([]byte(body), &td) != nil {
			return
		}
		err := PrepareTaskDefinition(&td)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || (e.Code != CodeClient && e.Code != CodeInvalidParameter) {
				t.Fatalf("refusal is not an ECS client error: %#v", err)
			}
			return
		}
		b, _ := json.Marshal(td)
		var again TaskDefinition
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("accepted definition does not re-decode: %v", err)
		}
		if err := PrepareTaskDefinition(&again); err != nil {
			t.Fatalf("accepted definition is refused when prepared again: %v", err)
		}
	})
}
