// argocd-health runs an Argo CD resource health script (health.lua) the way Argo CD's application
// controller does, so the e2e tests can tell what Argo CD shows for the objects a controller writes.
//
// It follows github.com/argoproj/argo-cd/v3 util/lua/lua.go, (VM).runLuaWithResourceActionParameters
// and (VM).ExecuteHealthLua, on the gopher-lua and gopher-json versions that argo-cd's go.mod
// requires (scripts/tools.sh checks that they are the ones in our go.mod): a state without the
// standard libraries but package, base and table; the object as the `obj` global, decoded from
// JSON the way apimachinery's unstructured decoder does (integers as int64, other numbers as
// float64) and converted by argo-cd's decodeValue; the returned table encoded with gopher-json and
// read back as {status, message}; a status Argo CD does not know becomes Unknown. Argo CD's safe
// `os` subset (os.time, os.date) is not provided: the SealedSecret script calls neither.
//
// Usage:
//
//	argocd-health SCRIPT OBJECT     prints {"status":...,"message":...} for OBJECT (JSON or YAML)
//	argocd-health -test DIR         runs DIR/health.lua against the cases of DIR/health_test.yaml,
//	                                as argo-cd's util/lua/health_test.go TestLuaHealthScript does
//	                                (with the standard libraries open, as there); exit 1 on a mismatch
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
	"sigs.k8s.io/yaml"
)

// HealthStatus is gitops-engine's pkg/health.HealthStatus.
type HealthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// invalidHealthStatus is argo-cd's util/lua message for a status outside the known codes.
const invalidHealthStatus = "Lua returned an invalid health status"

func validStatus(s string) bool {
	switch s {
	case "Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing":
		return true
	}
	return false
}

// readObject reads a YAML or JSON object as apimachinery's unstructured JSON decoder would.
func readObject(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	converted, ok := convertNumbers(obj).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an object", path)
	}
	return converted, nil
}

// convertNumbers is apimachinery's util/json convertMapNumbers/convertSliceNumbers: a json.Number
// becomes int64 if it is one, float64 otherwise.
func convertNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, item := range t {
			t[k] = convertNumbers(item)
		}
		return t
	case []any:
		for i, item := range t {
			t[i] = convertNumbers(item)
		}
		return t
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(t), 64)
		return f
	}
	return v
}

// decodeValue is argo-cd's util/lua decodeValue.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch converted := value.(type) {
	case bool:
		return lua.LBool(converted)
	case float64:
		return lua.LNumber(converted)
	case string:
		return lua.LString(converted)
	case json.Number:
		return lua.LString(converted)
	case int:
		return lua.LNumber(converted)
	case int32:
		return lua.LNumber(converted)
	case int64:
		return lua.LNumber(converted)
	case []any:
		arr := l.CreateTable(len(converted), 0)
		for _, item := range converted {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(converted))
		for key, item := range converted {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	case nil:
		return lua.LNil
	}
	return lua.LNil
}

// health runs script against obj; openLibs as argo-cd's VM.UseOpenLibs (false in the controller).
func health(obj map[string]any, script string, openLibs bool) (*HealthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	defer l.Close()
	for _, pair := range []struct {
		n string
		f lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(pair.f), NRet: 0, Protect: true}, lua.LString(pair.n)); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1*time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", decodeValue(l, obj))
	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}
	if err != nil {
		return nil, err
	}
	ret := l.Get(-1)
	switch ret.Type() {
	case lua.LTTable:
		js, err := luajson.Encode(ret)
		if err != nil {
			return nil, err
		}
		st := &HealthStatus{}
		if err := json.Unmarshal(js, st); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return &HealthStatus{}, nil
			}
			return nil, err
		}
		if !validStatus(st.Status) {
			return &HealthStatus{Status: "Unknown", Message: invalidHealthStatus}, nil
		}
		return st, nil
	case lua.LTNil:
		return nil, nil
	}
	return nil, fmt.Errorf("expect table output from Lua script, not %s", ret.Type().String())
}

type testCases struct {
	Tests []struct {
		InputPath    string        `json:"inputPath"`
		HealthStatus *HealthStatus `json:"healthStatus"`
	} `json:"tests"`
}

func runTests(dir string) error {
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return err
	}
	var cases testCases
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		return err
	}
	if len(cases.Tests) == 0 {
		return fmt.Errorf("%s/health_test.yaml has no tests", dir)
	}
	failed := 0
	for _, c := range cases.Tests {
		obj, err := readObject(filepath.Join(dir, c.InputPath))
		if err != nil {
			return err
		}
		got, err := health(obj, string(script), true)
		if err != nil {
			return fmt.Errorf("%s: %w", c.InputPath, err)
		}
		want, _ := json.Marshal(c.HealthStatus)
		have, _ := json.Marshal(got)
		if !bytes.Equal(want, have) {
			failed++
			fmt.Printf("FAIL %s: want %s, got %s\n", c.InputPath, want, have)
		} else {
			fmt.Printf("ok %s: %s\n", c.InputPath, have)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d cases failed", failed, len(cases.Tests))
	}
	fmt.Printf("%d passed, 0 failed\n", len(cases.Tests))
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 2 && args[0] == "-test" {
		return runTests(args[1])
	}
	if len(args) != 2 {
		return errors.New("usage: argocd-health SCRIPT OBJECT | argocd-health -test DIR")
	}
	script, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	obj, err := readObject(args[1])
	if err != nil {
		return err
	}
	st, err := health(obj, string(script), false)
	if err != nil {
		return err
	}
	out, err := json.Marshal(st)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
