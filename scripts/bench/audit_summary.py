#!/usr/bin/env python3
"""Counts the controller's API requests in an audit log (scripts/bench-controller.sh).

  audit_summary.py AUDIT_LOG [FROM_EPOCH_S [TO_EPOCH_S]]

Only requests of system:serviceaccount:kube-system:sealed-secrets-controller that completed
(stage ResponseComplete), received in [FROM, TO]. Prints "verb resource[/sub] code" counts, one per
line, most frequent first, then "total N".
"""
import collections
import datetime
import json
import sys

USER = "system:serviceaccount:kube-system:sealed-secrets-controller"


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main():
    lo = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    hi = float(sys.argv[3]) if len(sys.argv) > 3 else float("inf")
    counts = collections.Counter()
    with open(sys.argv[1]) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("stage") != "ResponseComplete" or e.get("user", {}).get("username") != USER:
                continue
            if not lo <= ts(e["requestReceivedTimestamp"]) <= hi:
                continue
            ref = e.get("objectRef", {})
            res = ref.get("resource", "?") + ("/" + ref["subresource"] if ref.get("subresource") else "")
            counts["%s %s %s" % (e["verb"], res, e.get("responseStatus", {}).get("code", "?"))] += 1
    for k, v in counts.most_common():
        print("%6d %s" % (v, k))
    print("total %d" % sum(counts.values()))


if __name__ == "__main__":
    main()
