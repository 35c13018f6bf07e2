package main

// serve: the reference as a long-lived subprocess for the differential fuzz target
// fuzz/fuzz_targets/template_diff.rs. One JSON request per line on stdin, one JSON answer per line
// on stdout:
//
//	{"op":"funcs"}                                          -> {"funcs":[names...]}
//	{"op":"render","name":N,"template":T,"data_b64":{k:v}} -> {"output_b64":B} or {"error":E}
//
// A render that takes longer than renderTimeout or writes more than maxOutput bytes answers
// {"skip":true} (Go has no limits of its own; ours stop such templates first); after a timeout the
// stuck goroutine cannot be stopped, so the answer also says {"restart":true} and the process
// exits.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"text/template"
	"time"
)

const (
	renderTimeout = 2 * time.Second
	maxOutput     = 8 << 20
)

var errTooLarge = errors.New("output over the serve limit")

type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxOutput {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

type serveRequest struct {
	Op       string            `json:"op"`
	Name     string            `json:"name"`
	Template string            `json:"template"`
	DataB64  map[string]string `json:"data_b64"`
}

func serveRender(req serveRequest, funcs template.FuncMap) (answer map[string]any) {
	defer func() {
		if r := recover(); r != nil {
			answer = map[string]any{"error": fmt.Sprintf("panic: %v", r)}
		}
	}()
	data := map[string]string{}
	for k, v := range req.DataB64 {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return map[string]any{"error": fmt.Sprintf("bad data_b64 %q: %v", k, err)}
		}
		data[k] = string(b)
	}
	tmpl, err := template.New(req.Name).Funcs(funcs).Parse(req.Template)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var buf limitedBuffer
	if err := tmpl.Execute(&buf, data); err != nil {
		if errors.Is(err, errTooLarge) {
			return map[string]any{"skip": true}
		}
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"output_b64": base64.StdEncoding.EncodeToString(buf.Bytes())}
}

func serve() error {
	funcs := funcMap()
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return nil
		}
		var req serveRequest
		if err := json.Unmarshal(line, &req); err != nil {
			return fmt.Errorf("bad request: %w", err)
		}
		var answer map[string]any
		switch req.Op {
		case "funcs":
			names := make([]string, 0, len(funcs))
			for name := range funcs {
				names = append(names, name)
			}
			// The builtins of text/template are defined too.
			names = append(names, "and", "call", "html", "index", "slice", "js", "len", "not", "or",
				"print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne")
			sort.Strings(names)
			answer = map[string]any{"funcs": names}
		case "render":
			done := make(chan map[string]any, 1)
			go func() { done <- serveRender(req, funcs) }()
			select {
			case answer = <-done:
			case <-time.After(renderTimeout):
				answer = map[string]any{"skip": true, "restart": true}
			}
		default:
			return fmt.Errorf("unknown op %q", req.Op)
		}
		if err := enc.Encode(answer); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		if answer["restart"] == true {
			os.Exit(0)
		}
	}
}
