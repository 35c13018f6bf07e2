// Command gotemplate-ref renders a corpus of Go text/template cases with the
// same function map the upstream Sealed Secrets controller uses (Sprig v3's
// GenericFuncMap minus env, expandenv and getHostByName) and writes the
// expected outputs/errors. It is the oracle for the Rust differential tests
// in crates/gotemplate/.
//
// Usage: go run . <corpus.json> <expected.json>
//
//	or gotemplate-ref serve (a line protocol for the differential fuzz target; serve.go)
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"text/template"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

type testCase struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data,omitempty"`
	// DataB64 holds binary values (standard base64); merged over Data.
	DataB64 map[string]string `json:"data_b64,omitempty"`
}

type result struct {
	Name string `json:"name"`
	// Output is set when the output is valid UTF-8, OutputB64 otherwise.
	Output    *string `json:"output,omitempty"`
	OutputB64 *string `json:"output_b64,omitempty"`
	// Error is Go's error message when parsing or execution failed.
	Error string `json:"error,omitempty"`
}

func funcMap() template.FuncMap {
	m := sprig.GenericFuncMap()
	// Same as upstream pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go.
	delete(m, "env")
	delete(m, "expandenv")
	delete(m, "getHostByName")
	return m
}

func render(c testCase, funcs template.FuncMap) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	data := map[string]string{}
	for k, v := range c.Data {
		data[k] = v
	}
	for k, v := range c.DataB64 {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("bad data_b64 %q: %w", k, err)
		}
		data[k] = string(b)
	}
	tmpl, err := template.New(c.Name).Funcs(funcs).Parse(c.Template)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "serve" {
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gotemplate-ref <corpus.json> <expected.json>")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var cases []testCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	funcs := funcMap()
	seen := map[string]bool{}
	results := make([]result, 0, len(cases))
	for _, c := range cases {
		if seen[c.Name] {
			fmt.Fprintf(os.Stderr, "duplicate case name %q\n", c.Name)
			os.Exit(1)
		}
		seen[c.Name] = true
		out, err := render(c, funcs)
		r := result{Name: c.Name}
		if err != nil {
			r.Error = err.Error()
		} else if utf8.Valid(out) {
			s := string(out)
			r.Output = &s
		} else {
			s := base64.StdEncoding.EncodeToString(out)
			r.OutputB64 = &s
		}
		results = append(results, r)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
