#!/usr/bin/env python3
"""Live heap of a massif snapshot by part of the controller (docs/benchmarks.md "## Scale").

  massif_summary.py SNAPSHOT [N]

SNAPSHOT: a massif output file, e.g. of a controller run under
`valgrind --tool=massif --vgdb=yes` and snapshotted once idle with
`vgdb --pid=PID detailed_snapshot FILE`. The last detailed tree is read; each allocation is
counted under the first frame of its stack (allocation site outwards) that names a part below,
"other" if none does. With N (the SealedSecrets in the cluster), bytes per SealedSecret too.
"""
import re
import sys

cats = [
 ("SealedSecret store", r"apply_watcher_event|DynamicObject|StoredSealedSecret|reflector::store"),
 ("key usage sets (parse_annotation -> KeyUsage)", r"parse_annotation|KeyUsage|set_key_usage"),
 ("condition_info labels (Family + series set)", r"set_condition"),
 ("Secret cache entries", r"secret_cache"),
 ("spec-change filter map", r"SpecChangeFilter"),
 ("runtime scheduler/runner/queue", r"kube_runtime::scheduler|kube_runtime::controller"),
 ("HTTP/TLS connection buffers", r"hyper::|rustls|h2::|aws_lc"),
 ("tokio runtime", r"tokio::"),
]
def parse(path):
    lines = open(path).read().split("\n")
    i = 0
    # find last heap_tree=detailed
    idx = max(k for k,l in enumerate(lines) if l.startswith("heap_tree=detailed"))
    nodes = lines[idx+1:]
    pos = [0]
    totals = {}
    def node(depth, cat):
        l = nodes[pos[0]]; pos[0] += 1
        m = re.match(r"\s*n(\d+): (\d+) (.*)", l)
        nch, b, desc = int(m.group(1)), int(m.group(2)), m.group(3)
        if cat is None:
            for name, rx in cats:
                if re.search(rx, desc):
                    cat = name; break
        s = 0
        for _ in range(nch):
            s += node(depth+1, cat)
        rem = b - s
        if rem > 0:
            totals[cat or "other"] = totals.get(cat or "other", 0) + rem
        return b
    total = node(0, None)
    return total, totals
total, totals = parse(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
print("heap (useful) %d B" % total)
for k, v in sorted(totals.items(), key=lambda x: -x[1]):
    print("%-50s %10d B  %7.0f B/SS" % (k, v, v / n))
