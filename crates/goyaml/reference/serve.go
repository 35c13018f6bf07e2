package main

// serve: the reference as a long-lived subprocess for the differential fuzz targets
// fuzz/fuzz_targets/goyaml_decode_diff.rs and goyaml_encode_diff.rs. One JSON request per line on
// stdin, one JSON answer per line on stdout:
//
//	{"op":"decode","input_b64":B} -> {"docs":[compact JSON, keys sorted...]} or {"docs":[...],"error":E}
//	{"op":"encode","value":JSON}  -> {"pretty":P,"compact":C,"yaml":Y} or {...,"yaml_error":E},
//	                                 with "yaml_random":true when Go's YAML varies from run to run
//
// The same conversions as the fixtures (decodeStream, and the encode case of fixtures()). A request
// that takes longer than serveTimeout answers {"skip":true,"restart":true} and the process exits
// (a stuck goroutine cannot be stopped).

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"
)

const serveTimeout = 5 * time.Second

type serveRequest struct {
	Op       string `json:"op"`
	InputB64 string `json:"input_b64"`
	Value    string `json:"value"`
}

func serveOne(req serveRequest) (answer map[string]any) {
	defer func() {
		if r := recover(); r != nil {
			answer = map[string]any{"skip": true, "panic": fmt.Sprint(r)}
		}
	}()
	switch req.Op {
	case "decode":
		input, err := base64.StdEncoding.DecodeString(req.InputB64)
		if err != nil {
			return map[string]any{"skip": true}
		}
		docs, derr := decodeStream(input)
		if docs == nil {
			docs = []string{}
		}
		answer = map[string]any{"docs": docs}
		if derr != nil {
			answer["error"] = derr.Error()
		}
		return answer
	case "encode":
		v, err := parseOrdered([]byte(req.Value))
		if err != nil || hasDuplicateKeys(v) {
			// A repeated key: ordered keeps both, serde_json (the Rust side's parser) the last.
			return map[string]any{"skip": true}
		}
		asGo = true
		pretty, err := json.MarshalIndent(convert(v), "", "  ")
		if err != nil {
			return map[string]any{"skip": true}
		}
		compact, err := json.Marshal(convert(v))
		if err != nil {
			return map[string]any{"skip": true}
		}
		answer = map[string]any{"pretty": string(pretty) + "\n", "compact": string(compact)}
		y, err := yaml.JSONToYAML(compact)
		if err != nil {
			answer["yaml_error"] = err.Error()
			return answer
		}
		answer["yaml"] = string(y)
		for i := 0; i < 20; i++ {
			if again, _ := yaml.JSONToYAML(compact); string(again) != string(y) {
				answer["yaml_random"] = true
				break
			}
		}
		return answer
	}
	return map[string]any{"skip": true, "unknown_op": req.Op}
}

func hasDuplicateKeys(v any) bool {
	switch v := v.(type) {
	case ordered:
		seen := map[string]bool{}
		for _, e := range v {
			if seen[e.Key] || hasDuplicateKeys(e.Value) {
				return true
			}
			seen[e.Key] = true
		}
	case list:
		for _, e := range v {
			if hasDuplicateKeys(e) {
				return true
			}
		}
	}
	return false
}

func serve() error {
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
		done := make(chan map[string]any, 1)
		go func() { done <- serveOne(req) }()
		var answer map[string]any
		select {
		case answer = <-done:
		case <-time.After(serveTimeout):
			answer = map[string]any{"skip": true, "restart": true}
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
