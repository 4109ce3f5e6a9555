package audit

import (
	"testing"
	"time"
)

func TestChangeKeepsOnlyDifferences(t *testing.T) {
	type view struct {
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		Enabled bool     `json:"enabled"`
	}
	before := view{Name: "a", Scopes: []string{"r"}, Enabled: true}
	after := view{Name: "a", Scopes: []string{"r", "w"}, Enabled: false}
	ev, err := Change(Actor{ID: "key_1", IP: "192.0.2.1"}, time.Unix(1, 0), "key.update", "key", "key_2", before, after)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(ev.Before), `{"enabled":true,"scopes":["r"]}`; got != want {
		t.Errorf("Before = %s, want %s", got, want)
	}
	if got, want := string(ev.After), `{"enabled":false,"scopes":["r","w"]}`; got != want {
		t.Errorf("After = %s, want %s", got, want)
	}
	if ev.Actor != "key_1" || ev.ClientIP != "192.0.2.1" || ev.Action != "key.update" || ev.TargetID != "key_2" {
		t.Errorf("event = %+v", ev)
	}
}

func TestChangeCreation(t *testing.T) {
	ev, err := Change(System, time.Unix(1, 0), "api.create", "api", "api_1", nil, map[string]string{"name": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Before != nil || string(ev.After) != `{"name":"x"}` {
		t.Errorf("Before = %s, After = %s", ev.Before, ev.After)
	}
}
