#!/usr/bin/env python3
"""Random template generator for differential fuzzing against Go.

Usage:
  python3 fuzz.py typed  SEED N > /tmp/fuzz.json   # well-typed Sprig calls, if/range/with
  python3 fuzz.py syntax SEED N > /tmp/fuzz.json   # token soup for lexer/parser
  go run . /tmp/fuzz.json /tmp/fuzz_expected.json
  cd ../.. && TEMPLATE_CORPUS=/tmp/fuzz.json TEMPLATE_EXPECTED=/tmp/fuzz_expected.json \
    cargo test -p gotemplate differential_against_go

Expected noise: Go's random map order (`keys`, `values` are left out here)
and our size/work limits (e.g. `indent` by a huge count) show up as mismatches.
"""
import json
import random
import sys

DATA = {"foo": "bar", "num": "42", "empty": "", "multi": "a\nb\n", "json": "{\"a\":[1,2.5,\"s\"],\"b\":{\"c\":null}}", "sp": " \tx y ", "neg": "-3", "f": "1.5", "u": "héllo wörld", "b64": "aGVsbG8=", "csv": "a,b,,c", "bin": "\u00ff\u0000x"}
# name: (param kinds, variadic kind or None, return kind)
F = {
 "upper":("s",None,"s"),"lower":("s",None,"s"),"title":("s",None,"s"),"untitle":("s",None,"s"),"trim":("s",None,"s"),
 "nospace":("s",None,"s"),"initials":("s",None,"s"),"b64enc":("s",None,"s"),"b64dec":("s",None,"s"),"b32enc":("s",None,"s"),
 "b32dec":("s",None,"s"),"sha256sum":("s",None,"s"),"sha1sum":("s",None,"s"),"adler32sum":("s",None,"s"),"toString":("a",None,"s"),
 "atoi":("s",None,"i"),"int":("a",None,"i"),"int64":("a",None,"a"),"float64":("a",None,"a"),"toJson":("a",None,"s"),"toPrettyJson":("a",None,"s"),
 "toRawJson":("a",None,"s"),"fromJson":("s",None,"a"),"quote":("",'a',"s"),"squote":("","a","s"),"len":("a",None,"i"),"not":("a",None,"a"),
 "empty":("a",None,"a"),"typeOf":("a",None,"s"),"kindOf":("a",None,"s"),"first":("l",None,"a"),"last":("l",None,"a"),"rest":("l",None,"l"),
 "initial":("l",None,"l"),"reverse":("l",None,"l"),"uniq":("l",None,"l"),"compact":("l",None,"l"),
 "sortAlpha":("a",None,"l"),"toStrings":("a",None,"l"),"base":("s",None,"s"),"dir":("s",None,"s"),"clean":("s",None,"s"),"ext":("s",None,"s"),
 "print":("","a","s"),"println":("","a","s"),"html":("","a","s"),"js":("","a","s"),"urlquery":("","a","s"),"cat":("","a","s"),
 "floor":("a",None,"a"),"ceil":("a",None,"a"),"add1":("a",None,"a"),"toDecimal":("a",None,"a"),"deepCopy":("a",None,"a"),"until":("i",None,"l"),
 "seq":("","i","s"),"list":("","a","l"),"dict":("","a","m"),"contains":("ss",None,"a"),"hasPrefix":("ss",None,"a"),"hasSuffix":("ss",None,"a"),
 "trimAll":("ss",None,"s"),"trimPrefix":("ss",None,"s"),"trimSuffix":("ss",None,"s"),"repeat":("is",None,"s"),"indent":("is",None,"s"),
 "nindent":("is",None,"s"),"trunc":("is",None,"s"),"split":("ss",None,"m2"),"splitList":("ss",None,"l"),"join":("sa",None,"s"),
 "default":("a","a","a"),"eq":("a","a","a"),"ne":("aa",None,"a"),"lt":("aa",None,"a"),"le":("aa",None,"a"),"gt":("aa",None,"a"),"ge":("aa",None,"a"),
 "and":("a","a","a"),"or":("a","a","a"),"add":("","a","a"),"sub":("aa",None,"a"),"mul":("a","a","a"),"div":("aa",None,"a"),"mod":("aa",None,"a"),
 "max":("a","a","a"),"min":("a","a","a"),"index":("a","a","a"),"get":("ms",None,"a"),"hasKey":("ms",None,"a"),"append":("la",None,"l"),
 "prepend":("la",None,"l"),"has":("al",None,"a"),"without":("l","a","l"),"slice":("l","i","a"),"concat":("","l","l"),"pick":("m","s","m"),
 "omit":("m","s","m"),"pluck":("s","m","l"),"typeIs":("sa",None,"a"),"kindIs":("sa",None,"a"),"deepEqual":("aa",None,"a"),"abbrev":("is",None,"s"),
 "plural":("ssi",None,"s"),"coalesce":("","a","a"),"all":("","a","a"),"any":("","a","a"),"printf":("s","a","s"),"round":("ai",None,"a"),
 "chunk":("il",None,"l"),"replace":("sss",None,"s"),"substr":("iis",None,"s"),"ternary":("aab",None,"a"),"splitn":("sis",None,"m2"),
 "untilStep":("iii",None,"l"),"set":("msa",None,"m"),"unset":("ms",None,"m"),"dig":("ssam",None,"a"),"abbrevboth":("iis",None,"s"),
}
BYRET = {}
for k,(p,v,r) in F.items(): BYRET.setdefault(r[0], []).append(k)
SLITS = ['"a"','"abc"','""','"x,y,z"','"{\\"k\\":[1,{}]}"','"%s-%d"','"%v|%5.2f"','"%q %x %T"','"héllo"','"a b\\tc"','"/p/../q.txt"','"aGk="',"`raw\\n`",'"\\u2028<&>"','","','"\\n"','"é"','"NBSWY3DP"']
ILITS = ['0','1','2','3','5','-1','-2','10']
ALITS = SLITS + ILITS + ['1.5','0.0','true','false','nil',"'a'",'2.5e3','-0.5']
SFIELDS = [".foo",".num",".empty",".multi",".json",".sp",".neg",".f",".u",".b64",".csv",".bin"]
def arg(kind, d, vars_):
    r = random.random()
    if d > 2 or r < 0.3:
        if kind == 's': return random.choice(SLITS)
        if kind == 'i': return random.choice(ILITS)
        if kind == 'b': return random.choice(['true','false'])
        if kind == 'l': return random.choice(['(list 1 "a" 2)','(splitList "," "a,b,a")','(until 4)','(list)','(list (list 1) (dict "k" "v") nil)'])
        if kind == 'm': return random.choice(['(dict "a" 1 "b" (list 2))','(dict)','(fromJson "{\\"x\\":{\\"y\\":\\"z\\"}}")'])
        return random.choice(ALITS)
    if r < 0.55:
        if kind in 'sa': return random.choice(SFIELDS + ([".missing", "."] if kind == 'a' else []))
    if r < 0.65 and vars_ and kind == 'a': return random.choice(vars_)
    k = kind if kind in 'silm' else random.choice('silma')
    if k == 'b': return random.choice(['(eq 1 1)','(empty "")','true'])
    return "(" + call(random.choice(BYRET.get(k, BYRET['a'])), d+1, vars_) + ")"
def call(f, d, vars_):
    p, v, r = F[f]
    args = [arg(k, d, vars_) for k in p]
    if v:
        for _ in range(random.randint(0, 3)): args.append(arg(v, d, vars_))
    return " ".join([f] + args)
def pipeline(vars_):
    p = call(random.choice(list(F)), 0, vars_)
    while random.random() < 0.25:
        f = random.choice([k for k,(pp,v,r) in F.items() if pp and pp[-1] in 'sa'])
        pp, v, r = F[f]
        p += " | " + " ".join([f] + [arg(k, 1, vars_) for k in pp[:-1]])
    return p
def body(d, vars_):
    out = []
    for _ in range(random.randint(1, 3)):
        r = random.random()
        if r < 0.45 or d > 2: out.append("{{ " + pipeline(vars_) + " }}")
        elif r < 0.55:
            v = "$v%d" % len(vars_); out.append("{{ %s := %s }}" % (v, pipeline(vars_))); vars_ = vars_ + [v]
        elif r < 0.7: out.append("{{ if %s }}%s{{ else }}%s{{ end }}" % (pipeline(vars_), body(d+1, vars_), body(d+1, vars_)))
        elif r < 0.85:
            k, v = "$k%d" % d, "$e%d" % d
            out.append("{{ range %s, %s := %s }}[%s]{{ else }}E{{ end }}" % (k, v, pipeline(vars_), body(d+1, vars_ + [k, v])))
        else: out.append("{{ with %s }}<%s>{{ end }}" % (pipeline(vars_), body(d+1, vars_)))
        if random.random() < 0.3: out.append(random.choice([" ", "\n", "-", "x"]))
    return "".join(out)


def typed_cases(seed, n):
    random.seed(seed)
    return [{"name": "fz%d_%d" % (seed, i), "template": body(0, []), "data": DATA} for i in range(n)]


P = ["{{", "}}", "{{- ", " -}}", "{{-", "-}}", " ", "  ", "\n", "\t", ".", "$", "$x", "$y", ":=", "=", "|", "(", ")", "\"a\"", "\"%d\"", "`r`", "'a'", "'\\n'",
     "a", "foo", ".foo", ".bar", ".foo.x", "$.foo", "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil",
     "true", "false", "1", "-1", "+2", "0x1f", "1e2", "2.5", ".5", "1_0", "0b1", "077", "\\", "/*", "*/", "{{/*", "*/}}", "index", "len", "printf",
     "print", "upper", "dict", "list", "eq", "and", "or", "not", ",", "é", "{", "}", "-", "x", "\"t\"", "default", "toJson", "split", "range $i, $v :=",
     "{{ end }}", "{{ else }}", "{{ if true }}", "{{ range . }}", "{{ with .foo }}", "{{ $x := 1 }}", "{{ define \"t\" }}", "{{ template \"t\" }}"]
SDATA = {"foo": "bar", "bar": "", "x": "1"}


def syntax_cases(seed, n):
    random.seed(seed)
    cases = []
    for i in range(n):
        k = random.randint(1, 14)
        cases.append({"name": "sx%d_%d" % (seed, i),
                      "template": "".join(random.choice(P) for _ in range(k)), "data": SDATA})
    return cases


if __name__ == "__main__":
    mode, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cases = typed_cases(seed, n) if mode == "typed" else syntax_cases(seed, n)
    json.dump(cases, sys.stdout, ensure_ascii=False)
