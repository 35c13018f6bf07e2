"""Writes crates/goyaml/tests/fixtures/encode_corpus.json (see README.md)."""
import json, os, collections
O = collections.OrderedDict
nasty = ["true", "True", "TRUE", "false", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "off", "OFF", "y", "Y", "n", "N",
 "null", "Null", "NULL", "~", "", "123", "-123", "+123", "0123", "08", "0x10", "0X1F", "0o17", "0b101", "-0b101", "1_000", "_1",
 "1.5", "-1.5", ".5", ".5_0", "1.", "1e3", "1E3", "1e+3", "1.5e-3", "1e400", "-1e400", ".inf", ".Inf", "-.inf", "+.inf", ".nan", ".NaN", ".infinity", "inf", "nan", "Infinity",
 "1:20", "-1:20", "1:20:30.5", "1:60", "1:2_0", "190:20:30", "1:", "12:34:56", "0x", "0xg", "+", "-", ".", "..", "...", "---", "--- x", "...x",
 "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.10Z", "2001-12-14 21:59:43.10", "2001-12-14   21:59:43", "2001-13-14", "2001-02-29", "2000-02-29", "2001-1-1", "20011-01-01", "2001-01-01T", "2001-01-01T1:2:3Z", "2001-01-01T24:00:00Z", "2001-01-01T01:02:03+25:00", "2001-01-01T01:02:03+02:00", "2001-01-01 01:02:03,5", "2001-01-01x",
 "<<", " lead", "trail ", " both ", "a: b", "a:b", "a:", "a #b", "a#b", "#x", "- x", "-x", "-", "? x", "?x", ": x", ":x", ",x", "x,y", "[x", "x]", "{x", "x}", "*x", "&x", "!x", "|x", "x|", ">x", "'q'", "q'q", "\"dq\"", "%x", "@x", "`x",
 "multi\nline", "multi\nline\n", "multi\nline\n\n", "\nlead break", "trail space \nx", "x\n y", "\n", "\n\n", " \n", "a\r\nb", "cr\rcr", "tab\there", "\ttab", "tab\t",
 "unicode é ✓", "emoji 😀", "<>&", "a\u2028b", "a\u2029b", "nel\u0085x", "nbsp\u00a0x", "\ufeffbom", "x\ufeff", "ctl\u0001\u0007\u0008\u000b\u000c\u001b", "\u0000nul", "\ue000", "\u00ff", "nel\u0085", "\u0085x", "x \u0085 y", "x\u0085\u0085y", "x\u0085---", "x\u0085 --- y", "a\u0085\nb",
 "http://x:8080/a", "https://example.com/path?q=1&r=2#frag", "key=value", "a,b", "50%", "100 %", "@", "`", "'", "\"", "\\", "\\n", "foo bar", "foo  bar", "foo   ", "  ", " ", "x" * 130,
]
labels = O()
for i, s in enumerate(nasty):
    labels["k%03d" % i] = s
cases = []
def add(name, value): cases.append(O([("name", name), ("value", value)]))
add("nasty_label_values", O([("metadata", O([("labels", labels)]))]))
# each nasty string also as a key, as a list item, and at top level
add("nasty_as_keys", O((s, i) for i, s in enumerate(nasty) if "\u0085" not in s))
add("nasty_in_list", O([("items", nasty)]))
for i, s in enumerate(nasty):
    add("nasty_top_%03d" % i, s)
s200 = "The quick brown fox jumps over the lazy dog while the sealed secrets controller watches every namespace in the cluster and decrypts the ciphertext ok"
s200 = (s200 + " " + s200)[:200]
b64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw==" * 3
b64 = b64[:200]
add("long_sentence", O([("apiVersion", "v1"), ("kind", "Secret"), ("metadata", O([("annotations", O([("description", s200), ("app.kubernetes.io/name", "web"), ("example.com/url", "http://x:8080/a")]))]))]))
add("long_base64", O([("data", O([("tls.crt", b64), ("x", b64 + b64)]))]))
add("sealed_secret_like", O([
  ("kind", "SealedSecret"), ("apiVersion", "bitnami.com/v1alpha1"),
  ("metadata", O([("name", "mysecret"), ("namespace", "default"), ("creationTimestamp", None),
     ("labels", O([("app.kubernetes.io/name", "my-app"), ("app.kubernetes.io/part-of", "x"), ("tier", "1")])),
     ("annotations", O([("sealedsecrets.bitnami.com/cluster-wide", "true"), ("kubectl.kubernetes.io/last-applied-configuration", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\"}\n")]))])),
  ("spec", O([("template", O([("metadata", O([("name", "mysecret"), ("namespace", "default"), ("creationTimestamp", None)])), ("type", "Opaque"), ("data", None)])),
     ("encryptedData", O([("password", "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" * 10), ("user", "AgA" + "x" * 500)]))])),
]))
add("nested_maps", O([("a", O([("b", O([("c", O([("d", "deep")]))]))])), ("z", O())]))
add("list_of_maps", O([("containers", [O([("name", "a"), ("image", "nginx:1.25"), ("ports", [O([("containerPort", 80)]), O([("containerPort", 443), ("protocol", "TCP")])])]), O([("name", "b"), ("args", ["--x", "-y", "- z", ""])])])]))
add("list_of_lists", [[1, 2], [], [[3]], [O()], [O([("a", [])])]])
add("empty_map", O())
add("empty_list", [])
add("null", None)
add("true", True)
add("false", False)
add("int", 42)
add("neg_int", -42)
add("string", "hello")
add("scalars_mixed", O([("n", None), ("t", True), ("f", False), ("i", 0), ("neg", -1), ("big", 9223372036854775807), ("ubig", 18446744073709551615), ("s", "s"), ("e", O()), ("l", [])]))
add("key_sorting", O((k, k) for k in ["b", "a", "B", "A", "a10", "a9", "a09", "a010", "a1b", "a01b", "1", "10", "9", "09", "_", "-", ".", "/", "0", "00", "x/y", "x.y", "x-y", "x_y", "é", "ß", "z", "Z", "ab", "a", "aa", "a.b.c", "a0", "a00", "a000", "1a", "1b", "10a", "app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart", "١٢", "٣", "x١", "x2"] if True))
add("key_sorting_realistic", O((k, k) for k in ["tls.crt", "tls.key", "ca.crt", "password", "username", "key1", "key10", "key2", "key02", "key_2", "key-2", "Key2", "KEY", "a.b", "a-b", "a_b", "a/b", "a", "b1c", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "helm.sh/chart", "x1y2", "x1y10", "x01y", "x001", "v1", "v1beta1", "v1alpha1", "v2", "config.json", ".dockerconfigjson", ".hidden", "_under", "-dash", "ÄÖ", "éclair", "zeta", "日本", "keyé", "keyz"]))
add("key_sorting_nested", O([("z", O([("b", 1), ("a", 2)])), ("y", [O([("d", 1), ("c", 2)])])]))
add("html_escape", O([("<script>", "</script>&amp;"), ("u2028", "\u2028\u2029"), ("ctl", "\u0000\u0001\u001f\b\f\n\r\t\"\\/")]))
add("long_key_129", O([("k" * 129, "v"), ("k" * 128, "w"), ("short", "x")]))
add("long_key_multiline", O([("line1\nline2", "v"), ("k" * 130 + "\nx", "w")]))
add("long_key_map_value", O([("k" * 130, O([("a", 1)])), ("l" * 130, [1, 2]), ("m" * 130, O()), ("n" * 130, [])]))
add("multiline_in_list", ["a\nb", "a\nb\n", ["c\nd\n\n"], O([("k", "x\ny")])])
add("multiline_special", O([("trailing_space", "a \nb"), ("tab", "a\tb\nc"), ("emoji", "😀\nx"), ("leading_space", " a\nb"), ("leading_nl", "\na"), ("only_nl", "\n"), ("crlf", "a\r\nb\r\n"), ("ls", "a\u2028b\nc")]))
add("long_words", O([("k", "x" * 100 + " " + "y" * 100 + " z"), ("d", "\t" + "x" * 100 + " " + "y" * 100), ("s", "#" + "x" * 100 + " " + "y" * 100), ("sp", "a" * 85 + "  " + "b" * 10 + "   c")]))
yaml_fail = ["del\u007f", "c1\u0080", "c1\u009f", "\ufffe", "\uffff", "x\u0085--- y", "x\u0085\u0085... y"]
for i, f in enumerate(yaml_fail):
    add("yaml_fail_value_%02d" % i, O([("a", f)]))
    add("yaml_fail_key_%02d" % i, O([(f, "v")]))
add("yaml_fail_key_nel", O([("a\u0085b", 1)]))
add("yaml_fail_key_nested_nel", O([("x", "y\u0085z"), ("n", O([("a\u0085b", 1)]))]))
for n in (1020, 1021, 1022, 1023, 1024):
    add("long_key_%d" % n, O([("k" * n, 1)]))
add("long_key_escaped", O([("<" * 170, 1)]))
add("long_key_escaped_fail", O([("<" * 171, 1)]))
add("long_key_unicode", O([("\u00e9" * 1022, 1)]))
add("long_key_unicode_fail", O([("\u00e9" * 1023, 1)]))
# Fuzz finding (goyaml_encode_diff): a 227-digit integer, out of range for u64/i64, is a float64;
# Go rounds it correctly (1e+226), as serde_json does only with its float_roundtrip feature.
add("integer_227_digits", O([("a", 10**226 + 3), ("b", [-(10**226 + 3), 10**25 * 9223372068374407])]))
json.dump(cases, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/fixtures/encode_corpus.json"), "w"), indent=1, ensure_ascii=False)
print(len(cases), "cases")
