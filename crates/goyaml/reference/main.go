// Command goyaml-ref produces the reference outputs that crates/goyaml must match byte for byte.
//
// It uses the same libraries, at the same versions, as upstream kubeseal v0.36.6:
// encoding/json (json.Marshal / json.MarshalIndent), sigs.k8s.io/yaml v1.6.0 (JSONToYAML / YAMLToJSON,
// go.yaml.in/yaml/v2 underneath) and k8s.io/apimachinery v0.35.3 (yaml.NewYAMLOrJSONDecoder).
//
// Usage (from this directory):
//
//	go run . fixtures ../tests/fixtures
//	go run . unicode ../src/unicode_tables.rs
//	goyaml-ref serve    (a line protocol for the differential fuzz targets; serve.go)
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "serve" {
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goyaml-ref fixtures DIR | goyaml-ref unicode OUT.rs")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "fixtures":
		err = fixtures(os.Args[2])
	case "unicode":
		err = unicodeTables(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------------------------
// Ordered JSON values: objects keep their key order, numbers keep their text.

type kv struct {
	Key   string
	Value any
}

// ordered is a JSON object with its keys in document order.
type ordered []kv

// asGo says how numbers are marshaled: false keeps the source text (json.Number),
// true converts them as serde_json stores them: literals with '.', 'e' or 'E' and integers out
// of range as float64 ("-0" too, as -0.0), other negative integers as int64, others as uint64.
var asGo bool

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.Key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(convert(e.Value))
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type list []any

func (l list) MarshalJSON() ([]byte, error) {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = convert(v)
	}
	return json.Marshal(out)
}

func convert(v any) any {
	n, ok := v.(json.Number)
	if !ok || !asGo {
		return v
	}
	if !strings.ContainsAny(string(n), ".eE") {
		if strings.HasPrefix(string(n), "-") {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i != 0 {
				return i
			}
		} else if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
			return u
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		panic(err)
	}
	return f
}

func decodeOrdered(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := ordered{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				v, err := decodeOrdered(d)
				if err != nil {
					return nil, err
				}
				o = append(o, kv{k, v})
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			l := list{}
			for d.More() {
				v, err := decodeOrdered(d)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	default:
		return t, nil
	}
}

func parseOrdered(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return decodeOrdered(d)
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

type encodeCase struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

type encodeExpected struct {
	Name      string `json:"name"`
	ValueJSON string `json:"value_json"`
	Pretty    string `json:"pretty"`
	Compact   string `json:"compact"`
	YAML      string `json:"yaml"`
	YAMLError string `json:"yaml_error,omitempty"`
	// YAMLRandom is set when Go's output differs from run to run: go-yaml sorts map keys with a
	// comparison that is not transitive for some key sets (e.g. "08" < "123" < "1e4" < "08"),
	// starting from Go's randomized map iteration order. YAML then holds the lines of the output
	// sorted (the same for every run), to be compared as a set of lines.
	YAMLRandom bool `json:"yaml_random,omitempty"`
}

type decodeCase struct {
	Name     string `json:"name"`
	Input    string `json:"input,omitempty"`
	InputB64 string `json:"input_b64,omitempty"`
}

type decodeExpected struct {
	Name     string   `json:"name"`
	Input    string   `json:"input,omitempty"`
	InputB64 string   `json:"input_b64,omitempty"`
	Docs     []string `json:"docs"`
	Error    string   `json:"error,omitempty"`
}

func fixtures(dir string) error {
	encIn, err := os.ReadFile(filepath.Join(dir, "encode_corpus.json"))
	if err != nil {
		return err
	}
	var enc []encodeCase
	if err := json.Unmarshal(encIn, &enc); err != nil {
		return fmt.Errorf("encode_corpus.json: %w", err)
	}
	enc = append(enc, generatedEncodeCases()...)
	seen := map[string]bool{}
	var encOut []encodeExpected
	for _, c := range enc {
		if seen[c.Name] {
			return fmt.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		v, err := parseOrdered(c.Value)
		if err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
		asGo = false
		src, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
		asGo = true
		pretty, err := json.MarshalIndent(convert(v), "", "  ")
		if err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
		compact, err := json.Marshal(convert(v))
		if err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
		e := encodeExpected{Name: c.Name, ValueJSON: string(src), Pretty: string(pretty) + "\n", Compact: string(compact)}
		y, err := yaml.JSONToYAML(compact)
		if err != nil {
			e.YAMLError = err.Error()
		} else {
			e.YAML = string(y)
			for i := 0; i < 100 && !e.YAMLRandom; i++ {
				again, _ := yaml.JSONToYAML(compact)
				e.YAMLRandom = string(again) != e.YAML
			}
			if e.YAMLRandom {
				lines := strings.Split(strings.TrimSuffix(e.YAML, "\n"), "\n")
				sort.Strings(lines)
				e.YAML = strings.Join(lines, "\n") + "\n"
			}
		}
		encOut = append(encOut, e)
	}
	if err := writeJSON(filepath.Join(dir, "encode_expected.json"), encOut); err != nil {
		return err
	}

	decIn, err := os.ReadFile(filepath.Join(dir, "decode_corpus.json"))
	if err != nil {
		return err
	}
	var dec []decodeCase
	if err := json.Unmarshal(decIn, &dec); err != nil {
		return fmt.Errorf("decode_corpus.json: %w", err)
	}
	var decOut []decodeExpected
	seen = map[string]bool{}
	for _, c := range dec {
		if seen[c.Name] {
			return fmt.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		input := []byte(c.Input)
		if c.InputB64 != "" {
			input, err = base64.StdEncoding.DecodeString(c.InputB64)
			if err != nil {
				return fmt.Errorf("case %s: %w", c.Name, err)
			}
		}
		docs, derr := decodeStream(input)
		e := decodeExpected{Name: c.Name, Input: c.Input, InputB64: c.InputB64, Docs: docs}
		if e.Docs == nil {
			e.Docs = []string{}
		}
		if derr != nil {
			e.Error = derr.Error()
		}
		decOut = append(decOut, e)
	}
	return writeJSON(filepath.Join(dir, "decode_expected.json"), decOut)
}

// decodeStream decodes an input stream exactly as kubeseal's readSecrets does (same decoder,
// same buffer size), into json.RawMessage so that nothing is lost, and canonicalizes every
// document: keys sorted, numbers as int64/uint64/float64 (what the Rust side compares).
// Documents that decode to JSON null (empty documents, comment-only documents) are dropped.
// Unlike readSecrets it stops at the first error instead of skipping the failed document.
func decodeStream(input []byte) ([]string, error) {
	d := kyaml.NewYAMLOrJSONDecoder(bytes.NewReader(input), 4096)
	var docs []string
	for i := 0; i < 10000; i++ {
		var raw json.RawMessage
		err := d.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(raw) == 0 {
			// An empty or comment-only YAML document (or `null`) leaves the target untouched.
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return docs, fmt.Errorf("re-decoding: %w", err)
		}
		if v == nil {
			continue
		}
		out, err := json.Marshal(canon(v))
		if err != nil {
			return docs, err
		}
		docs = append(docs, string(out))
	}
	return docs, fmt.Errorf("too many documents")
}

func canon(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = canon(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = canon(e)
		}
		return v
	case json.Number:
		asGo = true
		return convert(v)
	}
	return v
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// generatedEncodeCases adds systematic cases that are tedious to write by hand: folding of
// long plain / quoted strings at every offset around the 80-column limit, under keys of
// several depths, and floats across formatting boundaries.
func generatedEncodeCases() []encodeCase {
	var out []encodeCase
	add := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		out = append(out, encodeCase{Name: name, Value: b})
	}
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat")
	for shift := 0; shift < 12; shift++ {
		s := strings.Repeat("x", shift) + " " + strings.Join(words, " ")
		add(fmt.Sprintf("gen_fold_plain_%02d", shift), map[string]any{
			"metadata": map[string]any{"annotations": map[string]any{"k" + strings.Repeat("y", shift): s}},
			"list":     []any{s, []any{s}},
			"top":      s,
		})
		q := "yes " + strings.Repeat("z", shift) + " " + strings.Join(words, "  ")
		add(fmt.Sprintf("gen_fold_special_%02d", shift), map[string]any{
			"tab":    "\t" + s,
			"single": "'" + s + " #x",
			"dbl":    q + "\u00e9\U0001F600 end",
			"nl":     s + "\n" + s + " \n",
		})
	}
	floats := []string{"0", "-0", "0.0", "1.0", "1.5", "-1.5", "0.1", "0.000001", "0.0000001", "1e-7", "1.5e-10",
		"123456.5", "1234567.5", "1e20", "1e21", "1.5e300", "1.7976931348623157e308", "5e-324",
		"18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "100000000000000000000", "123456789012345678901234567890",
		"0.1234567890123456789", "3.14159", "2.5e-5", "1e6", "1e5", "999999.9", "1000000.5", "12345678.9"}
	for i, f := range floats {
		out = append(out, encodeCase{Name: fmt.Sprintf("gen_float_%02d", i), Value: json.RawMessage(`{"n":` + f + `,"l":[` + f + `]}`)})
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Unicode tables used by go-yaml's key sorter (unicode.IsLetter / unicode.IsDigit).

func unicodeTables(path string) error {
	var b strings.Builder
	b.WriteString("// Code generated by crates/goyaml/reference (`go run . unicode ...`) from Go's unicode package\n")
	fmt.Fprintf(&b, "// (Unicode %s). DO NOT EDIT.\n\n", unicode.Version)
	ranges := func(name, doc string, f func(rune) bool) {
		fmt.Fprintf(&b, "/// %s\npub(super) const %s: &[(u32, u32)] = &[\n", doc, name)
		start := rune(-1)
		for r := rune(0); r <= unicode.MaxRune+1; r++ {
			in := r <= unicode.MaxRune && f(r)
			if in && start < 0 {
				start = r
			}
			if !in && start >= 0 {
				fmt.Fprintf(&b, "    (0x%X, 0x%X),\n", start, r-1)
				start = -1
			}
		}
		b.WriteString("];\n\n")
	}
	ranges("LETTER", "Inclusive ranges of code points for which Go's `unicode.IsLetter` is true.", unicode.IsLetter)
	ranges("DIGIT", "Inclusive ranges of code points for which Go's `unicode.IsDigit` is true.", unicode.IsDigit)
	ranges("SPACE", "Inclusive ranges of code points for which Go's `unicode.IsSpace` is true.", unicode.IsSpace)
	return os.WriteFile(path, []byte(strings.TrimRight(b.String(), "\n")+"\n"), 0o644)
}
