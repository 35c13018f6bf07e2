"""Writes crates/goyaml/tests/fixtures/decode_corpus.json (see README.md)."""
import json, os, base64, collections
O = collections.OrderedDict
cases = []
def add(name, s): cases.append(O([("name", name), ("input", s)]))
def addb(name, b): cases.append(O([("name", name), ("input_b64", base64.b64encode(b).decode())]))
add("secret_yaml", """apiVersion: v1
kind: Secret
metadata:
  name: mysecret
  namespace: default
  labels:
    app.kubernetes.io/name: web
  annotations:
    note: "quoted # not comment"
type: Opaque
data:
  password: cGFzc3dvcmQ=   # comment
stringData:
  user: admin
""")
add("scalars_yaml11", """
bools: [true, True, TRUE, false, yes, Yes, YES, no, No, NO, on, On, ON, off, Off, OFF, y, Y, n, N]
nulls: [null, Null, NULL, ~, ]
ints: [0, 1, -1, +1, 0x1F, 0X1f, 0o17, 017, 08, 0b101, -0b101, 1_000, 9223372036854775807, 9223372036854775808, 18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809]
floats: [1.5, -1.5, .5, 1., 1e3, 1E3, 1.5e-3, 1e400, .inf, -.inf, +.inf, 1e21, 0.000001, 1e-7, 123456789.5, 1_0.5, .5_0]
strs: [1:20, 2001-12-14, 2001-12-14T21:59:43.10Z, 2001-12-14 21:59:43.10, "1", '2', abc, <<, 0x, 1e, .e5]
""")
add("escape_slash", r'''a: "x\/y"
''')
add("escape_squote", r'''a: "x\'y"
''')
add("escape_surrogate", r'''a: "\ud83d\ude00"
''')
add("escape_tab", 'a: "x\\\ty"\n')
add("json_consume_short", '{"a": 1} xy')
add("json_consume_ok", '{"a": 1} \nb: 2\n')
add("json_consume_newline_short", '{"a": 1}\n{')
add("nan", "a: .nan\n")
add("inf", "a: .inf\n")
add("map_keys", """
1: int
1.5: float
0.1: f2
1e20: big
true: bool
yes: y
2001-12-14: ts
"q": quoted
0x10: hex
""")
add("null_key", "~: x\n")
add("uint_key", "18446744073709551615: x\n")
add("seq_key", "? [a]\n: x\n")
add("anchors_aliases", """
base: &base
  a: 1
  b: 2
other: *base
list: &l [x, y]
copy: *l
s: &s str
t: *s
""")
add("merge_keys", """
base: &base {a: 1, b: 2}
over: &over {b: 3, c: 4}
m1:
  <<: *base
  b: 20
m2:
  b: 20
  <<: *base
m3:
  <<: [*over, *base]
m4:
  "<<": not merge
m5:
  <<: {x: 1}
""")
add("merge_bad", "a:\n  <<: 1\n")
add("self_alias", "a: &a [*a]\n")
add("unknown_alias", "a: *nope\n")
add("tags", """
a: !!str 123
b: !!int "42"
c: !!float 1
d: !!bool "yes"
e: !!null ""
f: !custom value
g: ! 123
h: !!binary aGVsbG8=
i: !!timestamp 2001-01-01
j: !<tag:yaml.org,2002:str> 7
k: !!str
l: !!map {a: 1}
""")
add("tag_bad_int", "a: !!int abc\n")
add("binary_invalid_utf8", "a: !!binary //79\n")
add("binary_bad", "a: !!binary '***'\n")
add("block_scalars", """
lit: |
  line1
  line2
lit_strip: |-
  a
  b
lit_keep: |+
  a

fold: >
  folded
  text

  para
fold_strip: >-
  x
  y
indent_hint: |2
    indented
quoted_multi: "a
  b\\tc"
single_multi: 'it''s
  here'
plain_multi: plain
  continued
  here
""")
add("escapes", r'''a: "\x41\u00e9\U0001F600\n\t\\\"\0\a\b\e\f\r\v\N\_\L\P\ "
''')
add("multi_docs", """a: 1
---
b: 2
---
# only comment
---

---
c: 3
...
""")
add("leading_separator", "---\na: 1\n---\nb: 2\n")
add("separator_comment", "a: 1\n--- # comment\nb: 2\n---   \nc: 3\n")
add("separator_invalid", "a: 1\n--- x\nb: 2\n")
add("separator_dashes4", "a: 1\n----\nb: 2\n")
add("separator_inside_literal", "a: |\n  x\n---\n  y\n")
add("crlf", "a: 1\r\nb: |\r\n  x\r\n  y\r\n---\r\nc: 2\r\n")
add("empty", "")
add("whitespace_only", "  \n\n  ")
add("comments_only", "# hello\n# world\n")
add("null_doc", "null\n---\n~\n")
add("scalar_doc", "just a string\n")
add("list_doc", "- a\n- b\n")
add("json_object", '{"kind": "Secret", "data": {"a": "b"}, "n": 1.0, "big": 12345678901234567890123, "arr": [1, 2.5, "x", null, true]}')
add("json_stream", '{"a": 1}\n{"b": 2}  {"c": 3}\n')
add("json_stream_ws", '  \n\t {"a": "<&>"}')
add("json_then_yaml", '{"a": 1}\nb: 2\n---\nc: 3\n')
add("json_then_garbage_after_two", '{"a": 1}\n{"b": 2}\nc: 3\n')
add("json_flow_yaml", '{a: 1, b: [x, y]}\n')
add("json_invalid", '{"a": 1,,}')
add("json_trailing", '{"a": 1} xyz')
add("json_unicode_escape", '{"a": "\\u00e9\\ud83d\\ude00\\u2028"}')
add("json_dup_keys", '{"a": 1, "b": 2, "a": 3}')
add("json_nested_empty", '{"a": {}, "b": [], "c": [{}], "d": ""}')
add("json_array_first", '[{"a": 1}]')
add("json_after_nbsp", '\u00a0{"a": 1}')
add("yaml_syntax_error", "a: b: c\n")
add("yaml_bad_indent", "a:\n  b: 1\n c: 2\n")
add("yaml_unclosed_quote", 'a: "abc\n')
add("yaml_tab_indent", "a:\n\tb: 1\n")
add("yaml_second_doc_error", "a: 1\n---\nb: [\n")
add("duplicate_keys", "a: 1\na: 2\nb: 3\n")
add("deep_nesting", "a:\n" + "".join("  " * i + "- b:\n" for i in range(1, 30)) + "  " * 30 + "  c\n")
add("long_lines", "a: " + "x" * 5000 + "\n" + "b: " + " ".join(["word"] * 2000) + "\n")
add("document_end_marker", "a: 1\n...\ngarbage: [\n")
add("explicit_doc_start", "--- \na: 1\n")
add("directive", "%YAML 1.1\n---\na: 1\n")
add("bom", "\ufeffa: 1\n")
add("flow_complex", "a: {b: [1, {c: d}], 'e': \"f\", g: }\n")
add("plain_with_colons", "url: http://x:8080/a\ntime: 12:30\nratio: 1:20\nweird: a:b:c\n")
add("quoted_keys", "'yes': 1\n\"no\": 2\n'123': 3\n")
add("empty_values", "a:\nb: ''\nc: \"\"\nd: []\ne: {}\n")
add("indentless_seq", "a:\n- 1\n- 2\nb:\n  - 3\n")
add("numbers_as_strings_in_data", "stringData:\n  port: 8080\n  enabled: yes\n  ratio: 1.50\n")
addb("invalid_utf8_yaml", b"a: \xff\xfe\n")
addb("invalid_utf8_json", b'{"a": "\xff"}')
addb("control_char_yaml", b"a: b\x01c\n")
addb("del_char_yaml", b"a: b\x7fc\n")
addb("nul_yaml", b"a: b\x00c\n")
add("only_separator", "---\n")
add("separators_only", "---\n---\n---\n")
add("no_trailing_newline", "a: 1\n---\nb: 2")
add("cr_only", "a: 1\rb: 2\r")
add("anchor_on_key", "&k key: value\n*k : again\n")
add("alias_bomb_small", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n")
add("alias_bomb", "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n")
add("nested_flow_in_block", "a:\n  - {b: 1}\n  - [c, d]\n  -\n    e: f\n")
add("plain_multiline_key_value", "key: value with # hash\nother: 'single # x'\n")
add("special_floats_keys", ".inf: a\n-.inf: b\n.nan: c\n")
add("big_float_key", "123456789.0: a\n1e-7: b\n")
add("dash_in_flow", "a: [-, x, -]\nb: {c: -}\n")
add("root_scalar_then_more", "a #b: 0\nc: 1\n")
add("root_flow_then_more", "[a, b] junk\n")
add("block_map_then_brace", "a: 1\n}\n")
add("null_key_overridden", "k:\n  ~: x\nk: 2\n")
add("nan_overridden", "a: .nan\na: 1\n")
add("neg_zero_keys", "-0.0: a\n0: b\nx:\n  0.0: c\n  -0.0: d\n")
add("binary_prefix_sign", "a: 0b-1\nb: 0b+1\nc: -0b-1\nd: 0b\n")
add("many_squote_escapes", 'a: "' + "\\'" * 200 + '"\nb: "x\\\'y\\\'z"\n')
add("json_secret_kubectl", '{\n    "apiVersion": "v1",\n    "data": {\n        "password": "c2VjcmV0"\n    },\n    "kind": "Secret",\n    "metadata": {\n        "creationTimestamp": null,\n        "name": "mysecret"\n    }\n}\n')
add("yaml_secret_kubectl", "apiVersion: v1\ndata:\n  password: c2VjcmV0\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: mysecret\n")
add("multiline_string_data", "stringData:\n  config.yaml: |\n    key: value\n    list:\n      - a\n  script.sh: |-\n    #!/bin/sh\n    echo \"hi\"\n  folded: >\n    one\n    two\n")
add("windows_line_endings_multi", "a: |\r\n  x\r\n\r\n  y\r\n---\r\nb: 'q'\r\n")
add("tab_separated_value", "a:\tb\n")
add("anchor_merge_list", "defaults: &d\n  x: 1\n  y: 2\nitems:\n  - <<: *d\n    y: 3\n  - <<: [*d]\n")
add("explicit_key", "? a\n: 1\n? |\n  multi\n: 2\n")
add("quoted_special_keys", "'': empty\n\"~\": tilde\n'null': n\n")
add("unicode_keys_values", "ключ: значение\n日本: 語\nemoji😀: \"😀\"\n")
# Fuzz findings (kept in fuzz/corpus/goyaml_decode_diff): each kind once as found, once minimal.
def addf(name, path):
    addb(name, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../fuzz/corpus/goyaml_decode_diff", path), "rb").read())
# JSON that fails is read again as YAML from the raw bytes: invalid UTF-8 fails there.
addb("json_then_yaml_invalid_utf8", b'{"a": \xff}')
addf("fuzz_json_then_yaml_invalid_utf8", "crash-467a9e6e3d61f66b9c9febb83a83c9e8f6f2c1ee")
addf("fuzz_json_then_yaml_invalid_utf8_in_string", "crash-72459746f6b85d7350a03d33a9e14e22cac03266")
# A multi-line plain root scalar followed by ':' (the token libyaml scans after the root).
add("root_multiline_plain_then_value", "a\nb: 1\n")
add("root_multiline_plain_then_value_cr", "a:(1\rb: 2\r")
addf("fuzz_root_multiline_plain_then_value", "crash-00b6d557868f66c1a28b589e21ec627e3c38d889")
add("root_plain_then_value_next_line", "a\n: b\n")
# A quoted root scalar followed by content: libyaml stops reading after the next token.
add("root_double_quoted_then_content", '"yes\': 1\n"no": 2\n\'123\': 3\n')
add("root_single_quoted_then_content", "''ys :e2\n\"no\": 2\n")
add("root_quoted_then_key_same_line", '"x"y: z\n')
add("root_quoted_then_comment", '"x"#c\n')
add("quoted_then_content_in_map", 'a: "x"y\n')
add("quoted_then_content_in_flow", '["x"y]\n')
# An invalid byte past what libyaml reads (it decodes its input 512 bytes at a time).
addb("invalid_utf8_after_root_far", b"a\n# c\n{" + b"x" * 600 + b"\xff\n")
addb("invalid_utf8_after_root_near", b"a\n# c\n{" + b"x" * 100 + b"\xff\n")
addf("fuzz_invalid_utf8_after_root", "crash-ce72a4b281cbbeec7ba673e64aaa563285dc9c4b")
# Anchor and alias names: libyaml takes letters, digits, '_' and '-' only.
add("anchor_name_not_alphanumeric", "a: &>x 1\n")
add("anchor_name_on_collection", "a: &x.y [1]\n")
add("alias_name_not_alphanumeric", "a: &x 1\nb: *x.y\n")
add("anchor_names_allowed", "a: &A-b_9 1\nb: *A-b_9\n")
addf("fuzz_json_then_yaml_anchor_name", "crash-b5895d690057a01934387359785e4bbd524beca2")
# What libyaml does not read after the root: a control character there is no error.
addf("fuzz_json_then_yaml_control_after_root", "crash-a9597b26361aa420b125f4f13330c60eb528ae8f")
add("control_char_after_flow_root_far", "{a: 1} x\n" + "b: 2\n" * 200 + "\x01\n")
# In a flow collection libyaml ends a plain scalar at '?' (a key indicator there).
add("flow_plain_with_question_mark", "a: [x, OF?, y]\n")
add("flow_map_plain_with_question_mark", "a: {k: v?w}\n")
add("block_plain_with_question_mark", "a: OF?\nb: [\"?\", '?']\n")
addf("fuzz_flow_plain_with_question_mark", "crash-d48f72c4dc1efe4531f4e55d2313390e319bdd57")
# NEL, LS and PS are line breaks for libyaml (YAML 1.1) in quoted scalars: what go-yaml's emitter
# prints for a string with LS in it ('x\u2028  y') reads back as 'x\u2028y'.
add("quoted_ls_ps_nel_breaks", "a: 'x\u2029  y'\nb: 'x  \u2028  y'\nc: 'x\u2029\u2029 y'\nd: \"x\u2029  y\"\ne: 'x\u2029\n  y'\nf: 'x\u0085  y'\ng: \"x\t\u2028\ty\\u2028\"\nh: \"a\\x41\\N\\_c\u2028  b\"\n")
# After a quoted root: a flow collection has its own simple keys; an unclosed quote fails.
add("root_quoted_then_flow_with_value", '""[{.d0:\n')
add("root_quoted_then_unclosed_quote", "'\\\\'\"\n")
# An anchor name ends where libyaml's letters end, before ':' and the like (not an error).
addf("fuzz_anchor_name_then_colon", "crash-91bd9c51b2cfd16d21b441aa0d04f4ea33370a65")
# After a quoted root (libyaml scans the tokens of its line): a quoted key of a mapping is no
# quoted root; quotes and flow indicators inside a plain scalar start no token; a flow entry ends
# the scan.
add("quoted_key_then_content", "'': ''p\n")
add("quoted_key_then_content_dq", '\n"": ""n\n')
add("root_quoted_then_plain_with_quote", "''\\'\n")
add("root_quoted_then_plain_with_bracket_and_colon", "''\\[:\n")
add("root_quoted_then_plain_with_brace_and_colon", '""C{:\n')
add("root_quoted_then_flow_entry", "'x', 'y\n")
addf("fuzz_quoted_key_then_content", "crash-00094970e69911fb8ae40974f94a1da08f698778")
addf("fuzz_root_quoted_then_plain_with_quote", "crash-091060c52f43dc19534270465a4810e73cb59db1")
# Tags as libyaml scans them (yaml_parser_scan_tag): any URI character, flow indicators ',[]'
# and '!' included, then a blank or a line break.
add("tag_uri_chars", "a: [!, N]\nb: !!! \nc: !:!\nd: !(!\ne: !foo,bar x\nf: [e,!!! ]\ng: [S,!, .]\n")
add("tag_not_followed_by_blank", "c: !<r> {a: !}\n")
add("tag_takes_bracket_in_flow", "[!a]\n")
add("tag_undefined_handle", "a: !a!b x\n")
addf("fuzz_tag_uri_chars", "crash-007c010bb626eb32048b78cf5ce9a9b2b56018be")
addf("fuzz_tag_uri_chars_refused_by_yaml12", "crash-5b8053298c188b7c586df6724334e22a046da883")
# In flow context (yaml_parser_fetch_next_token, yaml_parser_scan_plain_scalar): ':' before a flow
# indicator stays in the plain scalar; ':' or '?' where a token starts is an indicator.
add("flow_plain_colon_before_indicator", "a: [0:, l:]\nb: [a: c:]\nc: {b: [{c: d:}]}\nd: [~:]\ne: [a:b:]\nf: [a'b:]\n")
add("flow_plain_starts_with_colon", "b: [:5]\n")
add("flow_plain_starts_with_question_mark", "a: [?5]\nb: {?5}\nc: [a, ?b: c]\n")
addf("fuzz_flow_plain_colon_before_indicator", "crash-1017d147e95218f2a8372f0e20945c8cf930e4c8")
addf("fuzz_flow_plain_starts_with_colon", "crash-4282a06d72cb84ac755424db1359a04e97d032d3")
addf("fuzz_flow_plain_starts_with_question_mark", "crash-428cda48138dd2eb053f01dcb6a7349e554113f4")
# libyaml does not check the indentation of a quoted scalar's continuation lines (granit 2.1 did).
add("quoted_multiline_less_indented", "a: \"\np\"\ni: '\ne'\nk:\n  l: 'x\n y'\n")
addf("fuzz_quoted_multiline_less_indented", "crash-137b800cade684e76512c2360bfe8a59973c499d")
# granit matches the brackets of the whole text first; libyaml reads a flow root and the token
# after it (JSON that fails is read again as YAML).
add("flow_root_then_bracket", '{""}}')
add("flow_root_then_bracket_key_only", "{a}}")
add("flow_root_then_open_brace", '{"":2"}{')
add("flow_root_then_closing_bracket_next_line", "{a: 1}\n]\n")
add("flow_root_then_unclosed_quote", '{"":d,\na: {}}"')
addf("fuzz_flow_root_then_bracket", "crash-b31824abb32217d9b1ce18fa34456542a03aa29f")
# A multi-line plain scalar in flow context that ends in ':' before a flow indicator.
add("flow_plain_multiline_colon_before_indicator", "[a: t\nt:]\n")
# Simple keys end on the line they start on (yaml_parser_stale_simple_keys), a quoted root on
# several lines is no key; an anchor on a line of its own belongs to the collection.
add("simple_key_quoted_multiline", 'x: 1\n"a\nb": 2\n')
add("simple_key_quoted_multiline_in_sequence", '- "a\n  b": c\n')
add("root_quoted_multiline_then_value", '"\n":')
add("root_quoted_multiline_then_spaced_value", '"a\nb" : c')
add("simple_key_flow_multiline", "[a,\nb]: c\n")
add("explicit_key_quoted_multiline", 'x: 1\n? "a\nb"\n: 2\n')
add("anchor_line_then_mapping", "&x\nk: v\n")
add("anchor_empty_value_then_key", "s: &d\nx:\n")
add("explicit_keys_block_scalar", "? 1\n? |\n i\n:")
add("flow_quoted_key_then_value_next_line", '{"a"\n: 1}')
addf("fuzz_simple_key_quoted_multiline", "crash-16b1177e2127f87326c3a2790575da64dd9b17fd")
addf("fuzz_simple_key_flow_multiline", "crash-c4389dbbd2ab2a6d6b1d2d9aee83ee160ac5f32c")
# Anchors: the token starts at the first '&' of a run; libyaml's name ends before ':?,]}', where the
# next token starts.
add("anchor_double_ampersand", "\no: [s,&&Y]\n")
add("anchor_then_colon_blank", "&e: api\n")
add("anchor_then_colon_blank_in_value", "s: &a:\n")
add("anchor_then_colon_plain", "a: &x:y 1\n")
addf("fuzz_anchor_then_colon_blank", "crash-07c7388b8ef2791030e148d270b0fc584bd14bbc")
# A block scalar on the line after 'key:', as indented as the key, is its value.
add("block_scalar_under_key_same_indent", "  t:\n  |\n   x\n  u: 1\n")
add("block_scalar_under_key_same_indent_empty", "  t:\n  |")
# A '%' at the start of a line after content is a directive libyaml scans: only %YAML and %TAG scan.
add("directive_after_content_invalid", "-\n%%\n")
add("directive_after_content_unknown", "a: 1\n%FOO bar\n")
add("directive_after_content_yaml", "-\n%YAML 1.1\n")
# Go's JSON decoder ends a number or literal where it cannot continue (the next value then fails).
add("json_stream_number_then_letters", '{"":""}1a }')
add("json_stream_literal_then_letters", '{"a":1} truex')
add("json_stream_leading_zero", '{"a":1} 01')
# After a quoted or flow root libyaml scans the next token: a tag, anchor or alias whose name
# does not scan fails there; blanks and ':' before a flow indicator continue a flow plain scalar.
add("root_quoted_then_alias_without_name", "''* x\n")
add("root_quoted_then_alias", "''*x\n")
add("root_quoted_then_undefined_tag_handle", "'' !a!b\n")
add("root_flow_then_bad_tag", "[\n]!<a\n")
add("root_flow_then_bracket_then_bad_tag", '{"":"","":{\n\\}}!"')
add("flow_plain_blank_colon_before_indicator", "s: [2 :]\nt: [2  :, 3]\nu: {a: b :}\nv: [a :b]\n")
add("anchor_name_with_ampersand", "&d&d\n")
add("anchors_in_flow_and_after_blank", "a: [&x 1, &y 2]\nb: &z 3\nc: *x\n")
json.dump(cases, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/fixtures/decode_corpus.json"), "w"), indent=1, ensure_ascii=False)
print(len(cases), "cases")
