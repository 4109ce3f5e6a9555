package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    api.RateLimit
		wantErr bool
	}{
		{"default:100:1m", api.RateLimit{Name: "default", Limit: 100, Window: api.Duration(time.Minute)}, false},
		{"burst:5:1s", api.RateLimit{Name: "burst", Limit: 5, Window: api.Duration(time.Second)}, false},
		{"default:100", api.RateLimit{}, true},
		{":100:1m", api.RateLimit{}, true},
		{"d:0:1m", api.RateLimit{}, true},
		{"d:-1:1m", api.RateLimit{}, true},
		{"d:x:1m", api.RateLimit{}, true},
		{"d:10:0s", api.RateLimit{}, true},
		{"d:10:60", api.RateLimit{}, true},
		{"a:b:1:1m", api.RateLimit{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseRateLimit(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseRateLimit(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && formatRateLimit(got) == "" {
				t.Errorf("formatRateLimit(%+v) is empty", got)
			}
		})
	}
}

func TestParseRefill(t *testing.T) {
	tests := []struct {
		in      string
		want    api.Refill
		wantErr bool
	}{
		{"1000:24h", api.Refill{Amount: 1000, Interval: api.Duration(24 * time.Hour)}, false},
		{"1:1m30s", api.Refill{Amount: 1, Interval: api.Duration(90 * time.Second)}, false},
		{"1000", api.Refill{}, true},
		{"0:24h", api.Refill{}, true},
		{"x:24h", api.Refill{}, true},
		{"10:forever", api.Refill{}, true},
		{"10:-1h", api.Refill{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseRefill(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseRefill(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSplitCSV(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a,b", []string{"a", "b"}},
		{" a , b ,", []string{"a", "b"}},
		{"", []string{}},
		{",,", []string{}},
		{"invoices:read", []string{"invoices:read"}},
	}
	for _, tt := range tests {
		if got := splitCSV(tt.in); !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("splitCSV(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestCSVFlagRepeats(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var f csvFlag
	fs.Var(&f, "cidr", "")
	if err := fs.Parse([]string{"--cidr", "10.0.0.0/8,192.168.0.0/16", "--cidr", "::1/128"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.0.0/16", "::1/128"}
	if !slices.Equal(f, want) {
		t.Errorf("csvFlag = %q, want %q", f, want)
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		pos     []string
		grace   time.Duration
		wantErr error
	}{
		{"flag after id", []string{"key_1", "--grace", "1h"}, []string{"key_1"}, time.Hour, nil},
		{"flag before id", []string{"-grace=2h", "key_1"}, []string{"key_1"}, 2 * time.Hour, nil},
		{"dash is positional", []string{"-", "--grace", "1h"}, []string{"-"}, time.Hour, nil},
		{"double dash", []string{"--", "--grace"}, []string{"--grace"}, 0, nil},
		{"two ids", []string{"a", "b"}, []string{"a", "b"}, 0, nil},
		{"unknown flag", []string{"a", "--nope"}, nil, 0, errUsage},
		{"bad value", []string{"--grace", "soon"}, nil, 0, errUsage},
		{"help", []string{"-h"}, nil, 0, flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var grace time.Duration
			fs.DurationVar(&grace, "grace", 0, "")
			pos, err := parseArgs(fs, tt.args)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("parseArgs(%q) error = %v, want %v", tt.args, err, tt.wantErr)
			}
			if !slices.Equal(pos, tt.pos) || grace != tt.grace {
				t.Errorf("parseArgs(%q) = %q, grace %v; want %q, grace %v", tt.args, pos, grace, tt.pos, tt.grace)
			}
		})
	}
}

func TestWarnPlainHTTP(t *testing.T) {
	tests := []struct {
		url  string
		warn bool
	}{
		{"http://127.0.0.1:8080", false},
		{"http://localhost:8080", false},
		{"http://[::1]:8080", false},
		{"https://tokend.example.com", false},
		{"http://tokend.example.com", true},
		{"http://10.1.2.3:8080", true},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		warnPlainHTTP(&b, tt.url)
		if got := b.Len() > 0; got != tt.warn {
			t.Errorf("warnPlainHTTP(%q) warned = %v, want %v", tt.url, got, tt.warn)
		}
	}
}
